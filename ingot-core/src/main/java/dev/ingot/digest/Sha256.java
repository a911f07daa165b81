package dev.ingot.digest;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** A SHA-256 digest (FIPS 180-4), written as 64 lowercase hex digits as {@code sha256sum} prints it. */
public final class Sha256 implements Comparable<Sha256> {
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");
    private final String hex;

    private Sha256(String hex) {
        this.hex = hex;
    }

    public static Sha256 fromHex(String hex) {
        requireNonNull(hex, "hex");
        String normalized = hex.strip().toLowerCase(java.util.Locale.ROOT);
        if (!HEX.matcher(normalized).matches()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read a SHA-256 digest",
                    "'" + abbreviate(hex) + "' is not 64 hex digits");
        }
        return new Sha256(normalized);
    }

    public static Sha256 fromBytes(byte[] digest) {
        if (digest.length != 32) {
            throw new IllegalArgumentException("a SHA-256 digest has 32 bytes, not " + digest.length);
        }
        return new Sha256(HexFormat.of().formatHex(digest));
    }

    public static Sha256 of(byte[] content) {
        return fromBytes(newDigest().digest(content));
    }

    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    public String hex() {
        return hex;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Sha256 that && hex.equals(that.hex);
    }

    @Override
    public int hashCode() {
        return hex.hashCode();
    }

    @Override
    public int compareTo(Sha256 other) {
        return hex.compareTo(other.hex);
    }

    @Override
    public String toString() {
        return hex;
    }

    private static String abbreviate(String text) {
        return text.length() > 20 ? text.substring(0, 20) + "…" : text;
    }
}
