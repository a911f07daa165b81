package dev.ingot.health;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs the host's tools (nvidia-smi, docker, systemctl, chronyc) for the health probes, each with a
 * deadline: a tool still running at its deadline is killed, with every process it started, and the
 * caller gets {@link Outcome.TimedOut} at once, never waiting on the stuck process or its pipes. The
 * environment (PATH included) is the constructor's, not the JVM's, so tests put fakes first on PATH
 * without touching the JVM; the tool is looked up on that PATH here, because the JDK would search the
 * JVM's own. {@code LC_ALL=C} is always set: the outputs are parsed.
 */
public final class ToolRunner {
    /** Kept of each stream; tools that print more are cut (a report never needs more). */
    static final int OUTPUT_LIMIT = 1 << 20;
    /** After a kill, how long to wait for the pipes' last bytes before giving up on them. */
    private static final Duration DRAIN_GRACE = Duration.ofMillis(100);

    private final Map<String, String> environment;

    public ToolRunner(Map<String, String> environment) {
        Map<String, String> copy = new HashMap<>(requireNonNull(environment, "environment"));
        copy.put("LC_ALL", "C");
        this.environment = Map.copyOf(copy);
    }

    /** How a run ended. */
    public sealed interface Outcome {
        /** The tool exited by itself. */
        record Exited(int exitCode, String stdout, String stderr) implements Outcome {}

        /** No executable of that name on PATH. */
        record NotFound(String tool, String path) implements Outcome {}

        /** It ran past its deadline and was killed; what it printed until then. */
        record TimedOut(Duration timeout, String stdout) implements Outcome {}

        /** It was found but could not be started (not executable, bad interpreter). */
        record FailedToStart(String reason) implements Outcome {}
    }

    /** The command as a person would type it, for reasons: arguments with spaces in single quotes, long ones cut. */
    public static String display(String tool, List<String> arguments) {
        StringBuilder text = new StringBuilder(tool);
        for (String argument : arguments) {
            // A long field list says nothing to a reader: its start is enough to recognise the command.
            String shown = argument.length() > 64 ? argument.substring(0, 60) + "…" : argument;
            text.append(' ').append(shown.matches("[A-Za-z0-9_./:=,@+…-]+") ? shown : "'" + shown.replace("'", "'\\''") + "'");
        }
        return text.toString();
    }

    public Outcome run(Duration timeout, String tool, List<String> arguments) {
        return run(timeout, tool, arguments, Optional.empty());
    }

    /**
     * As {@link #run(Duration, String, List)}, with {@code input} written to the tool's standard input (a secret that
     * must not appear in its arguments, like {@code docker login --password-stdin}); without it the tool reads /dev/null.
     */
    public Outcome run(Duration timeout, String tool, List<String> arguments, Optional<byte[]> input) {
        requireNonNull(timeout, "timeout");
        requireNonNull(input, "input");
        requireNonNull(tool, "tool");
        String path = environment.getOrDefault("PATH", "");
        Optional<Path> executable = find(tool, path);
        if (executable.isEmpty()) {
            return new Outcome.NotFound(tool, path);
        }
        List<String> command = new ArrayList<>();
        command.add(executable.get().toString());
        command.addAll(arguments);
        ProcessBuilder builder = new ProcessBuilder(command);
        if (input.isEmpty()) {
            builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        builder.environment().clear();
        builder.environment().putAll(environment);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            return new Outcome.FailedToStart(String.valueOf(e.getMessage()));
        }
        if (input.isPresent()) {
            // Small (a password): it fits the pipe's buffer, so writing it cannot block on a tool that does not read.
            try (var stdin = process.getOutputStream()) {
                stdin.write(input.get());
            } catch (IOException e) {
                // The tool exited without reading it; its exit code says why.
            }
        }
        Capture stdout = Capture.of(process.getInputStream(), tool + "-stdout");
        Capture stderr = Capture.of(process.getErrorStream(), tool + "-stderr");
        try {
            if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                kill(process);
                stdout.await(DRAIN_GRACE);
                return new Outcome.TimedOut(timeout, stdout.text());
            }
            // The tool exited; a child it left behind may still hold the pipes: give them a moment, not forever.
            stdout.await(DRAIN_GRACE.multipliedBy(5));
            stderr.await(DRAIN_GRACE.multipliedBy(5));
            return new Outcome.Exited(process.exitValue(), stdout.text(), stderr.text());
        } catch (InterruptedException e) {
            kill(process);
            Thread.currentThread().interrupt();
            return new Outcome.TimedOut(timeout, stdout.text());
        }
    }

    /** The tool's children first (they would outlive it and keep its output open), then the tool. */
    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        closeQuietly(process.getInputStream());
        closeQuietly(process.getErrorStream());
    }

    private static void closeQuietly(InputStream stream) {
        try {
            stream.close();
        } catch (IOException e) {
            // the process is gone; nothing to tell
        }
    }

    /** {@code tool} on the colon-separated {@code path} (not the JVM's: the JDK looks a command up on its own PATH). */
    public static Optional<Path> find(String tool, String path) {
        if (tool.contains("/")) {
            return Files.exists(Path.of(tool)) ? Optional.of(Path.of(tool)) : Optional.empty();
        }
        for (String folder : path.split(":")) {
            if (folder.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(folder, tool);
            if (Files.isRegularFile(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** Reads one stream on its own virtual thread, keeping at most {@link #OUTPUT_LIMIT} bytes. */
    private static final class Capture {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread thread;

        private Capture(InputStream stream, String name) {
            this.thread = Thread.ofVirtual().name(name).start(() -> drain(stream));
        }

        static Capture of(InputStream stream, String name) {
            return new Capture(stream, name);
        }

        private void drain(InputStream stream) {
            byte[] buffer = new byte[8192];
            try (stream) {
                int read;
                while ((read = stream.read(buffer)) >= 0) {
                    synchronized (bytes) {
                        bytes.write(buffer, 0, Math.max(0, Math.min(read, OUTPUT_LIMIT - bytes.size())));
                    }
                }
            } catch (IOException e) {
                // closed after a kill: keep what arrived
            }
        }

        void await(Duration grace) throws InterruptedException {
            thread.join(grace);
        }

        String text() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }

    /** The tool's output when it exited 0; otherwise why not, in a person's words, for the report. */
    public static Probed<String> output(Outcome outcome, String command) {
        return switch (outcome) {
            case Outcome.Exited exited when exited.exitCode() == 0 -> Probed.found(exited.stdout());
            case Outcome.Exited exited -> Probed.failed(command + " exited " + exited.exitCode() + firstLine(exited.stderr(), exited.stdout()));
            case Outcome.NotFound notFound -> Probed.failed(notFound.tool() + " is not installed (not found on PATH)");
            case Outcome.TimedOut timedOut -> Probed.failed(command + " did not finish within " + timedOut.timeout().toMillis()
                    + " ms and was killed");
            case Outcome.FailedToStart failed -> Probed.failed(command + " could not be started: " + failed.reason());
        };
    }

    private static String firstLine(String stderr, String stdout) {
        String text = stderr.isBlank() ? stdout : stderr;
        return text.lines().map(String::strip).filter(line -> !line.isEmpty()).findFirst()
                .map(line -> ": " + (line.length() > 200 ? line.substring(0, 200) + "…" : line)).orElse("");
    }
}
