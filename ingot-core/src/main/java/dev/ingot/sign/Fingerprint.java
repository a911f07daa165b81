package dev.ingot.sign;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/** An OpenPGP key fingerprint (RFC 4880 §12.2: 40 hex digits for a v4 key; 64 for v6), uppercase as gpg prints it. */
public record Fingerprint(String hex) {
    private static final Pattern FORMAT = Pattern.compile("[0-9A-F]{40}|[0-9A-F]{64}");

    public Fingerprint {
        requireNonNull(hex, "hex");
        if (!FORMAT.matcher(hex).matches()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the key fingerprint '" + hex + "'",
                    "a fingerprint is 40 (or 64) hex digits");
        }
    }

    public static Fingerprint parse(String text) {
        return new Fingerprint(text.replace(" ", "").toUpperCase(Locale.ROOT));
    }

    public static Fingerprint of(byte[] fingerprint) {
        return new Fingerprint(HexFormat.of().withUpperCase().formatHex(fingerprint));
    }

    /** The last 16 hex digits: the long key id gpg shows. */
    public String keyId() {
        return hex.substring(hex.length() - 16);
    }

    @Override
    public String toString() {
        return hex;
    }
}
