package dev.ingot.server.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.rollout.Gate;
import dev.ingot.rollout.GateSpec;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/**
 * How the server drives rollouts.
 *
 * @param stepInterval how often the leader steps every active rollout (and asks the gates of a soaking stage)
 * @param leaseTtl how long the engine's lease lasts without renewal: a replica that dies is replaced after at most this
 * @param loop whether a background thread steps the rollouts; off, a test steps them by hand ({@link RolloutDriver#tick})
 * @param cloudWatch makes the gate of a {@code cloudwatch:PREFIX} spec (ingot-aws's CloudWatchAlarmGate, wired by the
 *     command line); empty: such a gate is refused when a rollout starts
 * @param commandWait how long an operator command waits for the engine to take it before the API answers "queued"
 */
public record RolloutSettings(Duration stepInterval, Duration leaseTtl, boolean loop, Optional<Function<GateSpec.CloudWatch, Gate>> cloudWatch,
        Duration commandWait) {
    public static final Duration DEFAULT_STEP_INTERVAL = Duration.ofSeconds(10);

    public RolloutSettings {
        requireNonNull(stepInterval, "stepInterval");
        requireNonNull(leaseTtl, "leaseTtl");
        requireNonNull(cloudWatch, "cloudWatch");
        requireNonNull(commandWait, "commandWait");
        if (stepInterval.isNegative() || stepInterval.isZero() || leaseTtl.compareTo(stepInterval) <= 0) {
            throw new IllegalArgumentException("a positive step interval shorter than the lease");
        }
    }

    /** Every 10 s, a 30 s lease, no CloudWatch gate. */
    public static RolloutSettings defaults() {
        return every(DEFAULT_STEP_INTERVAL);
    }

    /** A step every {@code interval}, the lease three intervals long (at least 3 s). */
    public static RolloutSettings every(Duration interval) {
        Duration lease = interval.multipliedBy(3).compareTo(Duration.ofSeconds(3)) < 0 ? Duration.ofSeconds(3) : interval.multipliedBy(3);
        return new RolloutSettings(interval, lease, true, Optional.empty(), Duration.ofSeconds(5));
    }

    /** No background loop: a test steps the rollouts itself, on its own clock. */
    public static RolloutSettings manual() {
        return new RolloutSettings(DEFAULT_STEP_INTERVAL, Duration.ofSeconds(30), false, Optional.empty(), Duration.ZERO);
    }

    public RolloutSettings withCloudWatch(Function<GateSpec.CloudWatch, Gate> gates) {
        return new RolloutSettings(stepInterval, leaseTtl, loop, Optional.of(gates), commandWait);
    }

    public RolloutSettings withLeaseTtl(Duration ttl) {
        return new RolloutSettings(stepInterval, ttl, loop, cloudWatch, commandWait);
    }
}
