package dev.ingot.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the real tools our files must satisfy (gpg, zstd, sha256sum, bmaptool) from tests. */
public final class Tools {
    private Tools() {}

    /** What a finished process printed and returned. */
    public record Outcome(int exitCode, String output) {
        public Outcome assertSuccess(List<String> command) {
            if (exitCode != 0) {
                throw new AssertionError(String.join(" ", command) + " exited " + exitCode + ":\n" + output);
            }
            return this;
        }
    }

    public static boolean available(String tool) {
        for (String folder : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(folder, tool))) {
                return true;
            }
        }
        return false;
    }

    public static Outcome run(Path workingDirectory, Map<String, String> environment, List<String> command) {
        try {
            ProcessBuilder builder = new ProcessBuilder(command).directory(workingDirectory.toFile()).redirectErrorStream(true);
            builder.environment().putAll(environment);
            Process process = builder.start();
            process.getOutputStream().close();
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(5, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not finish in 5 minutes");
            }
            return new Outcome(process.exitValue(), new String(output, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError("could not run " + command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public static Outcome run(Path workingDirectory, String... command) {
        return run(workingDirectory, Map.of(), List.of(command));
    }

    public static Outcome succeed(Path workingDirectory, String... command) {
        return run(workingDirectory, command).assertSuccess(List.of(command));
    }
}
