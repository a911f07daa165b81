package dev.ingot.cli;

import static java.util.Objects.requireNonNull;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * What every command may touch of the outside world: its output streams, the environment, the
 * clock, the working directory, and whether stderr is a terminal (for progress bars). Tests build
 * their own; {@link #system} is the real one.
 */
public record CliContext(PrintWriter out, PrintWriter err, Map<String, String> environment, Clock clock,
        Path workingDirectory, boolean interactive) {

    public CliContext {
        requireNonNull(out, "out");
        requireNonNull(err, "err");
        environment = Map.copyOf(environment);
        requireNonNull(clock, "clock");
        requireNonNull(workingDirectory, "workingDirectory");
    }

    public static CliContext system(PrintWriter out, PrintWriter err) {
        return new CliContext(out, err, System.getenv(), Clock.systemUTC(), Path.of("").toAbsolutePath(),
                System.console() != null && System.getenv("INGOT_NO_PROGRESS") == null);
    }

    /** A path as the user wrote it, relative to the working directory. */
    public Path resolve(Path path) {
        return workingDirectory.resolve(path).normalize();
    }
}
