package dev.ingot.server.auth;

import dev.ingot.digest.Sha256;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Bearer secrets: 256 random bits, base64url, behind a prefix that says what the token is for (so a secret
 * scanner, a log reader or a person can tell an operator token from a device credential). Only the SHA-256 of
 * a token is stored: it is high-entropy, so a slow password hash would add nothing but cost on every poll.
 */
public final class Tokens {
    public static final String OPERATOR_PREFIX = "ingot_op_";
    public static final String DEVICE_PREFIX = "ingot_dev_";
    public static final String ENROLLMENT_PREFIX = "ingot_enr_";

    private static final SecureRandom RANDOM = new SecureRandom();

    private Tokens() {}

    public static String newToken(String prefix) {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** The stored form of a token: the hex SHA-256 of its UTF-8 bytes. */
    public static String hash(String token) {
        return Sha256.of(token.getBytes(StandardCharsets.UTF_8)).hex();
    }

    /**
     * Whether a presented token matches a stored hash, compared in constant time. Lookups go by the hash (an
     * index), so this is the second line: the comparison never leaks how much of a hash matched.
     */
    public static boolean matches(String token, String storedHash) {
        return MessageDigest.isEqual(hash(token).getBytes(StandardCharsets.US_ASCII), storedHash.getBytes(StandardCharsets.US_ASCII));
    }
}
