package dev.ingot.health;

import static java.util.Objects.requireNonNull;

import java.util.Locale;

/**
 * One verdict of the report: a stable name (docs/health-report.md lists them), a status and why. A
 * critical check that fails makes the device unhealthy; any other failure or warning makes it degraded.
 */
public record Check(String name, Status status, boolean critical, String reason) {
    public enum Status {
        OK,
        WARN,
        FAIL,
        /** Not evaluated here (nothing to check, or the data is not on this host); never changes the status. */
        SKIP;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Check {
        requireNonNull(name, "name");
        requireNonNull(status, "status");
        requireNonNull(reason, "reason");
    }

    public static Check ok(String name, boolean critical, String reason) {
        return new Check(name, Status.OK, critical, reason);
    }

    public static Check warn(String name, boolean critical, String reason) {
        return new Check(name, Status.WARN, critical, reason);
    }

    public static Check fail(String name, boolean critical, String reason) {
        return new Check(name, Status.FAIL, critical, reason);
    }

    public static Check skip(String name, boolean critical, String reason) {
        return new Check(name, Status.SKIP, critical, reason);
    }
}
