package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.health.DeviceId;
import java.util.List;
import java.util.Map;

/**
 * Everything a step of the engine takes from outside the rollout: the progress of the devices it watches
 * ({@link Rollout#watched()}), the gates' results (only while a stage soaks; otherwise ignored), and the operator
 * commands given since the last step, oldest first.
 */
public record Observation(Map<DeviceId, DeviceProgress> progress, List<GateResult> gates, List<OperatorCommand> commands) {
    public static final Observation NOTHING = new Observation(Map.of(), List.of(), List.of());

    public Observation {
        progress = Map.copyOf(requireNonNull(progress, "progress"));
        gates = List.copyOf(requireNonNull(gates, "gates"));
        commands = List.copyOf(requireNonNull(commands, "commands"));
    }

    public static Observation commands(OperatorCommand... commands) {
        return new Observation(Map.of(), List.of(), List.of(commands));
    }
}
