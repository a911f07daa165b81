package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The times a stage went through its phases, and the latest result of each gate for it.
 *
 * @param startedAt when its first desired-state write was made
 * @param soakStartedAt when every device had been decided and the soak began (again, after an operator resumed a halted soak)
 * @param endedAt when it passed its gates, or failed
 * @param passed whether it passed (only with {@code endedAt})
 */
public record StageRun(int number, Optional<Instant> startedAt, Optional<Instant> soakStartedAt, Optional<Instant> endedAt,
        boolean passed, List<GateResult> gates) {
    public StageRun {
        requireNonNull(startedAt, "startedAt");
        requireNonNull(soakStartedAt, "soakStartedAt");
        requireNonNull(endedAt, "endedAt");
        gates = List.copyOf(requireNonNull(gates, "gates"));
    }

    static StageRun notStarted(int number) {
        return new StageRun(number, Optional.empty(), Optional.empty(), Optional.empty(), false, List.of());
    }

    StageRun started(Instant at) {
        return new StageRun(number, Optional.of(at), soakStartedAt, endedAt, passed, gates);
    }

    StageRun soaking(Instant at) {
        return new StageRun(number, startedAt, Optional.of(at), endedAt, passed, List.of());
    }

    StageRun ended(Instant at, boolean hasPassed) {
        return new StageRun(number, startedAt, soakStartedAt, Optional.of(at), hasPassed, gates);
    }

    StageRun reopened() {
        return new StageRun(number, startedAt, soakStartedAt, Optional.empty(), false, gates);
    }

    StageRun withGates(List<GateResult> results) {
        return new StageRun(number, startedAt, soakStartedAt, endedAt, passed, results);
    }
}
