package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * What the rollout did to one device and what came of it. A device has a run from the moment its desired state
 * was written; the run records that write, so that a restarted engine never writes it twice.
 *
 * @param writtenAt when the rollout's desired-state write for it was made (its deadline counts from here)
 * @param outcome how its attempt ended, or that it has not yet
 * @param reason why it failed, in a person's words
 * @param decidedAt when the outcome was decided
 * @param accepted whether an operator resumed past this failure (it then no longer counts against the stage)
 * @param revert where putting it back stands (none unless the rollout rolls back)
 * @param revertWrittenAt when the write back to its previous version or tag was made
 * @param revertReason why putting it back failed
 */
public record DeviceRun(int stage, Instant writtenAt, Outcome outcome, Optional<String> reason, Optional<Instant> decidedAt,
        boolean accepted, Revert revert, Optional<Instant> revertWrittenAt, Optional<String> revertReason) {
    public DeviceRun {
        requireNonNull(writtenAt, "writtenAt");
        requireNonNull(outcome, "outcome");
        requireNonNull(reason, "reason");
        requireNonNull(decidedAt, "decidedAt");
        requireNonNull(revert, "revert");
        requireNonNull(revertWrittenAt, "revertWrittenAt");
        requireNonNull(revertReason, "revertReason");
    }

    public enum Outcome {
        /** Written; neither succeeded nor failed yet. */
        IN_PROGRESS,
        /** Committed, and reported healthy (no worse than at plan time) on the target. */
        SUCCEEDED,
        /** The device reported its action failed. */
        FAILED,
        /** The device fell back to what it ran before (its own A/B fall-back or container revert). */
        ROLLED_BACK,
        /** Not succeeded within the per-device deadline. */
        TIMED_OUT;

        public boolean failure() {
            return this == FAILED || this == ROLLED_BACK || this == TIMED_OUT;
        }

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Outcome parse(String text) {
            return valueOf(text.toUpperCase(Locale.ROOT));
        }
    }

    public enum Revert {
        NONE,
        /** To be written back (the rollout is rolling back and has not reached it yet). */
        TO_WRITE,
        IN_PROGRESS,
        /** Reports its previous version or tag again. */
        REVERTED,
        FAILED,
        TIMED_OUT;

        public boolean done() {
            return this == REVERTED || this == FAILED || this == TIMED_OUT;
        }

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Revert parse(String text) {
            return valueOf(text.toUpperCase(Locale.ROOT));
        }
    }

    static DeviceRun written(int stage, Instant at) {
        return new DeviceRun(stage, at, Outcome.IN_PROGRESS, Optional.empty(), Optional.empty(), false, Revert.NONE, Optional.empty(),
                Optional.empty());
    }

    /** A failure that counts against its stage: failed, rolled back or timed out, and not accepted by an operator. */
    public boolean countsAsFailure() {
        return outcome.failure() && !accepted;
    }

    DeviceRun decided(Outcome newOutcome, Optional<String> why, Instant at) {
        return new DeviceRun(stage, writtenAt, newOutcome, why, Optional.of(at), accepted, revert, revertWrittenAt, revertReason);
    }

    DeviceRun accept() {
        return new DeviceRun(stage, writtenAt, outcome, reason, decidedAt, true, revert, revertWrittenAt, revertReason);
    }

    DeviceRun reverting(Revert newRevert, Optional<Instant> writtenBackAt, Optional<String> why) {
        return new DeviceRun(stage, writtenAt, outcome, reason, decidedAt, accepted, newRevert, writtenBackAt, why);
    }
}
