package dev.ingot.error;

/**
 * What kind of failure an {@link IngotException} reports. One contract for every front end:
 * the CLI maps it to an exit code, the HTTP API to a status.
 */
public enum ErrorCode {
    /** A check ran and found a problem: a digest mismatch, a bad signature, an unhealthy device. */
    CHECK_FAILED(1, 422),
    /** The request itself is wrong: a malformed version, a missing file, a bad option. */
    BAD_INPUT(2, 400),
    /** The request carries no credential, or one nobody issued (a wrong, revoked or used token). */
    UNAUTHENTICATED(2, 401),
    /** The credential is good but may not do this: a viewer writing, a device touching another device's records. */
    FORBIDDEN(2, 403),
    /** The request names something that does not exist. */
    NOT_FOUND(2, 404),
    /** The world is not in the state the request needs: the version is already published, a concurrent update won. */
    CONFLICT(3, 409),
    /** Something the request needs cannot be reached: a store, a parameter source, a disk. */
    UNAVAILABLE(3, 503),
    /** A bug in Ingot. */
    INTERNAL(4, 500);

    private final int exitCode;
    private final int httpStatus;

    ErrorCode(int exitCode, int httpStatus) {
        this.exitCode = exitCode;
        this.httpStatus = httpStatus;
    }

    public int exitCode() {
        return exitCode;
    }

    public int httpStatus() {
        return httpStatus;
    }
}
