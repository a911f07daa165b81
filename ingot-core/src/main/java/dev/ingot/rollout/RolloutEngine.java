package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.health.DeviceId;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * One step of a rollout with its gates asked: the glue between what the server reads and {@link RolloutMachine#decide}.
 * Gates are asked only while a stage soaks, and a gate that throws counts as failing, with what it threw as the
 * reason (a gate should judge what it can and say so; an exception is a bug or an outage, not a pass).
 */
public final class RolloutEngine {
    private final RolloutMachine machine;
    private final Function<GateSpec, Gate> gates;

    /** {@code gates} makes the gate for a spec: {@link HealthGate} for health, the server's CloudWatch gate for cloudwatch. */
    public RolloutEngine(RolloutMachine machine, Function<GateSpec, Gate> gates) {
        this.machine = requireNonNull(machine, "machine");
        this.gates = requireNonNull(gates, "gates");
    }

    /**
     * @param progress the progress of the rollout's {@link Rollout#watched()} devices
     * @param commands operator commands given since the last step, oldest first
     */
    public Decision step(Rollout rollout, Map<DeviceId, DeviceProgress> progress, List<OperatorCommand> commands, Instant now) {
        List<GateResult> results = new ArrayList<>();
        Optional<GateInput> input = rollout.gateInput(progress);
        if (input.isPresent()) {
            for (GateSpec spec : rollout.definition().gates()) {
                results.add(ask(gates.apply(spec), spec, input.get(), now));
            }
        }
        return machine.decide(rollout, new Observation(progress, results, commands), now);
    }

    private static GateResult ask(Gate gate, GateSpec spec, GateInput input, Instant now) {
        try {
            GateResult result = gate.evaluate(input, now);
            return result.gate().equals(spec.text()) ? result : new GateResult(spec.text(), result.verdict(), result.reason(), result.at());
        } catch (RuntimeException e) {
            return GateResult.fail(spec.text(), "the gate could not be evaluated: " + e.getMessage(), now);
        }
    }
}
