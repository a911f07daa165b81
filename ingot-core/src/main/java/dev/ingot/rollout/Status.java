package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Locale;

/**
 * Where a rollout stands. Completed, aborted and rolled back are final: nothing changes a final rollout again, and
 * it holds no device any more.
 */
public sealed interface Status {
    /** The name shown by {@code ingot rollout status} and stored as JSON: {@code running}, {@code halted}, … */
    String name();

    default boolean terminal() {
        return this instanceof Completed || this instanceof Aborted || this instanceof RolledBack;
    }

    /** What a running stage is doing. */
    enum Phase {
        /** Writing the stage's devices' desired state, a batch per step. */
        APPLYING,
        /** Every device written; waiting until each has succeeded or failed. */
        WAITING,
        /** Every device decided; the gates watch the stage for the soak. */
        SOAKING;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Phase parse(String text) {
            return valueOf(text.toUpperCase(Locale.ROOT));
        }
    }

    /** Made and stored, nothing written yet; the engine's next step starts stage 1. */
    record Planned() implements Status {
        @Override
        public String name() {
            return "planned";
        }
    }

    record Running(int stage, Phase phase, Instant since) implements Status {
        public Running {
            requireNonNull(phase, "phase");
            requireNonNull(since, "since");
        }

        @Override
        public String name() {
            return "running";
        }
    }

    /**
     * Stopped by an operator; nothing new is written, while devices already written carry on and are still watched.
     * {@code resumeTo} is the planned or running status it goes back to.
     */
    record Paused(Status resumeTo, Instant since, String actor) implements Status {
        public Paused {
            requireNonNull(resumeTo, "resumeTo");
            requireNonNull(since, "since");
            requireNonNull(actor, "actor");
            if (!(resumeTo instanceof Planned || resumeTo instanceof Running)) {
                throw new IllegalArgumentException("only a planned or running rollout pauses, not a " + resumeTo.name() + " one");
            }
        }

        @Override
        public String name() {
            return "paused";
        }
    }

    /** Stopped by a failure under the halt policy, waiting for an operator; the stage and phase it stopped in. */
    record Halted(int stage, Phase phase, String reason, Instant since) implements Status {
        public Halted {
            requireNonNull(phase, "phase");
            requireNonNull(reason, "reason");
            requireNonNull(since, "since");
        }

        @Override
        public String name() {
            return "halted";
        }
    }

    /** Writing devices back to their previous version or tag, and waiting until they report it. */
    record RollingBack(String reason, Instant since) implements Status {
        public RollingBack {
            requireNonNull(reason, "reason");
            requireNonNull(since, "since");
        }

        @Override
        public String name() {
            return "rolling_back";
        }
    }

    record RolledBack(Instant at) implements Status {
        public RolledBack {
            requireNonNull(at, "at");
        }

        @Override
        public String name() {
            return "rolled_back";
        }
    }

    record Aborted(Instant at, String actor) implements Status {
        public Aborted {
            requireNonNull(at, "at");
            requireNonNull(actor, "actor");
        }

        @Override
        public String name() {
            return "aborted";
        }
    }

    record Completed(Instant at) implements Status {
        public Completed {
            requireNonNull(at, "at");
        }

        @Override
        public String name() {
            return "completed";
        }
    }

    /** One line for a person and the timeline: {@code running stage 2 (soaking)}. */
    default String describe() {
        return switch (this) {
            case Planned planned -> "planned";
            case Running running -> "running stage " + running.stage() + " (" + running.phase().json() + ")";
            case Paused paused -> "paused (" + paused.resumeTo().describe() + ")";
            case Halted halted -> "halted in stage " + halted.stage() + " (" + halted.phase().json() + ")";
            case RollingBack rollingBack -> "rolling back";
            case RolledBack rolledBack -> "rolled back";
            case Aborted aborted -> "aborted";
            case Completed completed -> "completed";
        };
    }
}
