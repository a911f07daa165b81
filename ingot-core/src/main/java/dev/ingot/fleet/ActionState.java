package dev.ingot.fleet;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Where one attempt by a device to reach a desired generation on one track stands (DESIGN.md: pending →
 * downloading → written → rebooting → committed, or failed / rolled back with a reason). Not every track
 * passes every state: a container update goes pending → downloading → committed, a reboot pending →
 * rebooting → committed. The agent persists a state before it acts on it; the server stores every
 * transition it is told of and refuses one that goes backwards.
 */
public enum ActionState {
    PENDING,
    DOWNLOADING,
    WRITTEN,
    REBOOTING,
    COMMITTED,
    FAILED,
    ROLLED_BACK;

    public String json() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ActionState parse(String text) {
        return Arrays.stream(values()).filter(state -> state.json().equals(text)).findFirst()
                .orElseThrow(() -> IngotException.tried(ErrorCode.BAD_INPUT, "read the action state '" + text + "'",
                        "a state is one of pending, downloading, written, rebooting, committed, failed, rolled_back"));
    }

    /** Whether the attempt is over: committed, failed or rolled back. A terminal state never changes again. */
    public boolean terminal() {
        return this == COMMITTED || this == FAILED || this == ROLLED_BACK;
    }

    /** Whether the attempt reached its generation. A device that fell back to its old slot has not, whatever it runs now. */
    public boolean succeeded() {
        return this == COMMITTED;
    }

    /**
     * Whether a report may move an action from this state to {@code next}: forwards only, and never out of a
     * terminal state (a fall-back after a commit is a new action, not a rewrite of the old one). Reporting the
     * same state again is allowed, so that a retried report is harmless.
     */
    public boolean mayMoveTo(ActionState next) {
        if (next == this) {
            return true;
        }
        if (terminal()) {
            return false;
        }
        return switch (next) {
            case PENDING -> false;
            case DOWNLOADING, WRITTEN, REBOOTING, COMMITTED -> next.ordinal() > ordinal();
            case FAILED, ROLLED_BACK -> true;
        };
    }

    /** The terminal states. */
    public static Set<ActionState> terminalStates() {
        return EnumSet.of(COMMITTED, FAILED, ROLLED_BACK);
    }
}
