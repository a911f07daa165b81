package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.agent.AgentState.Action;
import dev.ingot.fleet.ActionState;
import java.time.Duration;
import java.util.Optional;

/** What one step of an action came to; the agent persists what it says before anything else happens. */
sealed interface StepResult {
    /** The next step: persist it, then take it. */
    record Next(Action action) implements StepResult {
        public Next {
            requireNonNull(action, "action");
        }
    }

    /** Nothing to do before {@code delay} has passed; the action stays where it is. */
    record Wait(Duration delay) implements StepResult {
        public Wait {
            requireNonNull(delay, "delay");
        }
    }

    /** Persist {@code action}, tell the control plane what can be told, then reboot the device. */
    record Reboot(Action action) implements StepResult {
        public Reboot {
            requireNonNull(action, "action");
        }
    }

    /** The action is over. */
    record Done(ActionState state, Optional<String> reason) implements StepResult {
        public Done {
            requireNonNull(state, "state");
            requireNonNull(reason, "reason");
            if (!state.terminal()) {
                throw new IllegalArgumentException("an action ends committed, failed or rolled back, not " + state);
            }
        }

        static Done committed(String note) {
            return new Done(ActionState.COMMITTED, Optional.of(note));
        }

        static Done failed(String reason) {
            return new Done(ActionState.FAILED, Optional.of(reason));
        }

        static Done rolledBack(String reason) {
            return new Done(ActionState.ROLLED_BACK, Optional.of(reason));
        }
    }
}
