package dev.ingot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;

/** Runs whole {@code ingot} commands in-process, as a user would type them, with captured output. */
final class CommandRunner {
    /** After the committed test keys were made, so signatures are never older than their key. */
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-26T00:20:00Z"), ZoneOffset.UTC);

    private final Path workingDirectory;
    private final Map<String, String> environment;

    CommandRunner(Path workingDirectory, Map<String, String> environment) {
        this.workingDirectory = workingDirectory;
        this.environment = environment;
    }

    CommandRunner(Path workingDirectory) {
        this(workingDirectory, Map.of());
    }

    record Run(int exitCode, String out, String err) {
        JsonNode json() {
            try {
                return Ingot.JSON.readTree(out);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + out, e);
            }
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- out:\n" + out + "--- err:\n" + err;
        }
    }

    Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CliContext context = new CliContext(new PrintWriter(out, true), new PrintWriter(err, true), environment, CLOCK,
                workingDirectory, false);
        int exitCode = Ingot.newCommandLine(context).execute(args);
        return new Run(exitCode, out.toString(), err.toString());
    }
}
