package dev.ingot.site;

import static java.util.Objects.requireNonNull;

import java.util.SortedMap;

/**
 * Where a site's parameters come from: AWS SSM Parameter Store, or a folder tree with the same paths.
 * Adapters implement it; {@link SiteParameters} turns what it reads into a {@link SiteConfig}.
 */
public interface ParameterSource extends AutoCloseable {

    /**
     * One parameter: its name relative to the path that was read ({@code ntp_server},
     * {@code video_ingest_env/LOG_LEVEL}), its value, and whether the store keeps it encrypted (a
     * SecureString). A secure parameter's value never shows in {@link #toString}.
     */
    record Parameter(String name, String value, boolean secure) {
        public Parameter {
            requireNonNull(name, "name");
            requireNonNull(value, "value");
        }

        /** The value as logs and errors may show it: masked when secure. */
        public String shown() {
            return secure ? Secret.MASK : value;
        }

        @Override
        public String toString() {
            return name + "=" + shown();
        }
    }

    /**
     * Every parameter under {@code path} (absolute, ending in '/': {@code /edge/SITE-2847/}), at any depth,
     * by name relative to it, secure values decrypted. An empty map when nothing is there.
     *
     * @throws dev.ingot.error.IngotException {@code UNAVAILABLE} when the source cannot be read
     */
    SortedMap<String, Parameter> readAll(String path);

    /** The source as a user names it: {@code ssm:} or {@code dir:/etc/ingot/params}. */
    String describe();

    @Override
    default void close() {}
}
