package dev.ingot.error;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * The one exception type that crosses module boundaries. Messages read
 * "Tried to X but failed because Y", and a hint says what to do about it.
 */
public final class IngotException extends RuntimeException {
    private final ErrorCode code;
    private final String hint;

    private IngotException(ErrorCode code, String message, String hint, Throwable cause) {
        super(requireNonNull(message, "message"), cause);
        this.code = requireNonNull(code, "code");
        this.hint = hint;
    }

    /** "Tried to {@code attempt} but failed because {@code reason}." */
    public static IngotException tried(ErrorCode code, String attempt, String reason) {
        return new IngotException(code, "Tried to " + attempt + " but failed because " + reason, null, null);
    }

    /**
     * An error another Ingot process reported (the control plane answering the CLI), passed on as it was worded:
     * its message already reads "Tried to X but failed because Y".
     */
    public static IngotException relayed(ErrorCode code, String message, String hint) {
        return new IngotException(code, message, hint, null);
    }

    public IngotException withHint(String newHint) {
        IngotException copy = new IngotException(code, getMessage(), newHint, getCause());
        copy.setStackTrace(getStackTrace());
        return copy;
    }

    public IngotException withCause(Throwable cause) {
        IngotException copy = new IngotException(code, getMessage(), hint, cause);
        copy.setStackTrace(getStackTrace());
        return copy;
    }

    public ErrorCode code() {
        return code;
    }

    public Optional<String> hint() {
        return Optional.ofNullable(hint);
    }

    /** The message and the hint on one line, as a person reads it. */
    public String oneLine() {
        return hint == null ? getMessage() : getMessage() + " Hint: " + hint;
    }
}
