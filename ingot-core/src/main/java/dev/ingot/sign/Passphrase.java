package dev.ingot.sign;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** Where a key's passphrase comes from: a file (first line), or the INGOT_KEY_PASSPHRASE variable. Never an argument: those show in ps. */
public final class Passphrase {
    public static final String ENVIRONMENT_VARIABLE = "INGOT_KEY_PASSPHRASE";

    private Passphrase() {}

    public static Optional<char[]> resolve(Optional<Path> file, Map<String, String> environment) {
        if (file.isPresent()) {
            try {
                String content = Files.readString(file.get(), StandardCharsets.UTF_8);
                int newline = content.indexOf('\n');
                String firstLine = newline < 0 ? content : content.substring(0, newline);
                return Optional.of(firstLine.stripTrailing().toCharArray());
            } catch (IOException e) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "read the passphrase file " + file.get(),
                        e instanceof java.nio.file.NoSuchFileException ? "it does not exist" : String.valueOf(e.getMessage()));
            }
        }
        String fromEnvironment = environment.get(ENVIRONMENT_VARIABLE);
        return fromEnvironment == null || fromEnvironment.isEmpty() ? Optional.empty() : Optional.of(fromEnvironment.toCharArray());
    }
}
