package dev.ingot.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Outputs of real tools, recorded ({@code fixtures/recorded/…}) or written from their documented formats
 * ({@code fixtures/written/…}); each folder's README says which command made which file. A recording is
 * {@code NAME.stdout}, {@code NAME.stderr} and {@code NAME.exit} ("exit N"), the last two only when there is
 * something to say.
 */
public final class Fixtures {
    private static final String ROOT = "/dev/ingot/testing/fixtures/";

    private Fixtures() {}

    /** What a tool printed and returned once. */
    public record Recording(String stdout, String stderr, int exitCode) {
        public static Recording of(String stdout) {
            return new Recording(stdout, "", 0);
        }

        public static Recording failing(String stderr, int exitCode) {
            return new Recording("", stderr, exitCode);
        }
    }

    /** A whole fixture file, e.g. {@code recorded/nvidia-h200/query-gpu-csv-noheader-nounits.txt}. */
    public static String text(String path) {
        return optionalText(path).orElseThrow(() -> new IllegalArgumentException("no fixture " + ROOT + path));
    }

    /** The recording {@code NAME}, e.g. {@code written/nvidia-smi-t4}. */
    public static Recording recording(String name) {
        String stdout = optionalText(name + ".stdout").orElse("");
        String stderr = optionalText(name + ".stderr").orElse("");
        if (stdout.isEmpty() && stderr.isEmpty() && optionalText(name + ".exit").isEmpty()) {
            throw new IllegalArgumentException("no recording " + ROOT + name + ".{stdout,stderr,exit}");
        }
        int exitCode = optionalText(name + ".exit").map(text -> Integer.parseInt(text.strip().replaceFirst("^exit ", ""))).orElse(0);
        return new Recording(stdout, stderr, exitCode);
    }

    private static Optional<String> optionalText(String path) {
        try (InputStream in = Fixtures.class.getResourceAsStream(ROOT + path)) {
            return in == null ? Optional.empty() : Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
