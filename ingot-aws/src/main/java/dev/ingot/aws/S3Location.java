package dev.ingot.aws;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;

/**
 * A bucket and a key prefix, as a user writes them: {@code s3://bucket/prefix}. The prefix has no
 * leading or trailing '/' and may be empty; keys of the store live under {@code prefix + "/"}.
 */
public record S3Location(String bucket, String prefix) {
    private static final String SCHEME = "s3://";

    public S3Location {
        requireNonNull(bucket, "bucket");
        requireNonNull(prefix, "prefix");
        if (bucket.isEmpty() || bucket.contains("/")) {
            throw new IllegalArgumentException("a bucket name is not empty and has no '/': '" + bucket + "'");
        }
        if (prefix.startsWith("/") || prefix.endsWith("/")) {
            throw new IllegalArgumentException("a prefix has no leading or trailing '/': '" + prefix + "'");
        }
    }

    /** Reads {@code s3://bucket} or {@code s3://bucket/some/prefix/}; slashes around the prefix are dropped. */
    public static S3Location parse(String location) {
        requireNonNull(location, "location");
        if (!location.startsWith(SCHEME)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the store address '" + location + "'",
                    "it does not start with " + SCHEME).withHint("write it as s3://bucket/prefix");
        }
        String rest = location.substring(SCHEME.length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String prefix = slash < 0 ? "" : trimSlashes(rest.substring(slash + 1));
        if (bucket.isEmpty()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the store address '" + location + "'",
                    "it names no bucket").withHint("write it as s3://bucket/prefix");
        }
        if (prefix.contains("//")) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the store address '" + location + "'",
                    "its prefix has an empty segment ('//')").withHint("write it as s3://bucket/prefix");
        }
        return new S3Location(bucket, prefix);
    }

    /** The object key that holds a store key: {@code prefix/key}, or the key itself under an empty prefix. */
    public String objectKey(String key) {
        return prefix.isEmpty() ? key : prefix + "/" + key;
    }

    /** The store key of an object key under this location's prefix. */
    public String storeKey(String objectKey) {
        return objectKey.substring(keyBase().length());
    }

    /** What every object key of the store starts with: {@code prefix/}, or nothing. */
    public String keyBase() {
        return prefix.isEmpty() ? "" : prefix + "/";
    }

    @Override
    public String toString() {
        return prefix.isEmpty() ? SCHEME + bucket : SCHEME + bucket + "/" + prefix;
    }

    private static String trimSlashes(String text) {
        int start = 0;
        int end = text.length();
        while (start < end && text.charAt(start) == '/') {
            start++;
        }
        while (end > start && text.charAt(end - 1) == '/') {
            end--;
        }
        return text.substring(start, end);
    }
}
