package dev.ingot.testing;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Small honest programs that stand in for host tools we cannot have here (nvidia-smi, docker, systemctl,
 * chronyc): shell scripts in a folder of their own, put on the PATH given to the code under test. A fake
 * answers the exact arguments it was told about with a recorded output and exit code, and any other
 * arguments with exit 64 and a message, so a test also proves the command line; a later answer to the same
 * arguments replaces the earlier one. The folder holds nothing else: a tool not faked is missing, whatever
 * the machine has installed. Every call is recorded ({@link #calls}), and {@link #script} lets a fake act on
 * files (a fake systemctl that starts what a unit's configuration names, a fake docker that shows it).
 */
public final class FakeTools {
    /** Exit code of a fake asked with arguments nobody told it about (sysexits.h EX_USAGE). */
    public static final int UNEXPECTED_ARGUMENTS = 64;

    private final Path bin;
    private final Path data;
    /** Per tool, its answers by the arguments they match ({@link #ANY} for any); a later answer replaces an earlier one. */
    private final Map<String, Map<String, String>> branches = new LinkedHashMap<>();
    private static final String ANY = "\u0000any";
    private static final String CALLS = "calls.log";
    private int files;

    private FakeTools(Path folder) {
        this.bin = folder.resolve("bin");
        this.data = folder.resolve("data");
        try {
            Files.createDirectories(bin);
            Files.createDirectories(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Fakes in {@code folder}/bin (their outputs in {@code folder}/data). */
    public static FakeTools in(Path folder) {
        return new FakeTools(requireNonNull(folder, "folder"));
    }

    /** The folder to put on PATH, alone: {@code Map.of("PATH", tools.path())}. */
    public String path() {
        return bin.toString();
    }

    /** {@code tool ARGUMENTS} prints the recording and exits with its code. */
    public FakeTools answer(String tool, List<String> arguments, Fixtures.Recording recording) {
        Path stdout = write(recording.stdout());
        Path stderr = write(recording.stderr());
        add(tool, String.join(" ", arguments), "if [ \"$*\" = " + quote(String.join(" ", arguments)) + " ]; then\n"
                + "  /bin/cat " + quote(stdout.toString()) + "\n"
                + "  /bin/cat " + quote(stderr.toString()) + " >&2\n"
                + "  exit " + recording.exitCode() + "\n"
                + "fi\n");
        return this;
    }

    /**
     * {@code tool ARGUMENTS} runs {@code body}, POSIX shell, with its standard input still open (a fake that reads a
     * password from stdin can keep it). Its last command's exit code is the fake's.
     */
    public FakeTools script(String tool, List<String> arguments, String body) {
        add(tool, String.join(" ", arguments), "if [ \"$*\" = " + quote(String.join(" ", arguments)) + " ]; then\n"
                + body.strip() + "\n"
                + "  exit $?\n"
                + "fi\n");
        return this;
    }

    /** Every call made to the fakes so far, in order, as {@code TOOL ARGUMENTS}. */
    public List<String> calls() {
        Path log = data.resolve(CALLS);
        try {
            return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The folder where the fakes keep their data: a script may read and write files here. */
    public Path data() {
        return data;
    }

    /** {@code tool ARGUMENTS} prints {@code stdout} and exits 0. */
    public FakeTools answer(String tool, List<String> arguments, String stdout) {
        return answer(tool, arguments, Fixtures.Recording.of(stdout));
    }

    /**
     * {@code tool}, whatever its arguments, prints a line and then hangs in a child process that keeps
     * its output open, as a tool stuck in the kernel (a wedged GPU driver) does.
     */
    public FakeTools hang(String tool) {
        add(tool, ANY, "echo 'started'\n/bin/sleep 3600\nexit 0\n");
        return this;
    }

    /** {@code tool}, whatever its arguments, prints {@code text} and exits {@code exitCode}. */
    public FakeTools always(String tool, String text, int exitCode) {
        Path stdout = write(text);
        add(tool, ANY, "/bin/cat " + quote(stdout.toString()) + "\nexit " + exitCode + "\n");
        return this;
    }

    /** A file named like the tool but not executable: found on PATH, cannot run. */
    public FakeTools notExecutable(String tool) {
        try {
            Files.writeString(bin.resolve(tool), "#!/bin/sh\nexit 0\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    private void add(String tool, String arguments, String branch) {
        Map<String, String> answers = branches.computeIfAbsent(tool, name -> new LinkedHashMap<>());
        answers.remove(arguments);
        answers.put(arguments, branch);
        StringBuilder script = new StringBuilder("#!/bin/sh\n# A fake " + tool + " written by dev.ingot.testing.FakeTools.\n"
                + "printf '%s\\n' " + quote(tool) + "\" $*\" >> " + quote(data.resolve(CALLS).toString()) + "\n");
        // Exact arguments first, then the catch-all, so a catch-all never hides a specific answer.
        answers.forEach((key, text) -> {
            if (!key.equals(ANY)) {
                script.append(text);
            }
        });
        if (answers.containsKey(ANY)) {
            script.append(answers.get(ANY));
        }
        script.append("echo \"fake ").append(tool).append(": unexpected arguments: $*\" >&2\nexit ").append(UNEXPECTED_ARGUMENTS).append('\n');
        Path file = bin.resolve(tool);
        try {
            Files.writeString(file, script, StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path write(String text) {
        Path file = data.resolve("output-" + files++);
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** POSIX sh single quotes: nothing inside is special; a quote is closed, escaped and reopened. */
    static String quote(String text) {
        return "'" + text.replace("'", "'\\''") + "'";
    }
}
