package dev.ingot.site;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * A value the parameter store keeps encrypted (an SSM SecureString). It never shows itself: {@link #toString}
 * is a mask, so a secret that slips into a log line, an error or a diff reads {@value #MASK}. Only
 * {@link #reveal} gives the value, for the one file that needs it.
 */
public final class Secret {
    /** What a secret looks like wherever it is shown. */
    public static final String MASK = "********";

    private final String value;

    private Secret(String value) {
        this.value = requireNonNull(value, "value");
    }

    public static Secret of(String value) {
        return new Secret(value);
    }

    /** The value itself: for rendering the file that holds it, nothing else. */
    public String reveal() {
        return value;
    }

    @Override
    public boolean equals(Object other) {
        // Constant time: comparing secrets must not tell how much of them matched.
        return other instanceof Secret that && MessageDigest.isEqual(value.getBytes(StandardCharsets.UTF_8),
                that.value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public int hashCode() {
        return 0; // a hash would reveal something about the value, and secrets are never map keys
    }

    @Override
    public String toString() {
        return MASK;
    }
}
