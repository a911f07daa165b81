package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.Track;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Everything an operator decides when starting a rollout ({@code ingot rollout start}); fixed for its life.
 *
 * @param id the rollout's id, made by the server
 * @param target what the devices get; the track follows from it
 * @param stages the stage sizes ({@code --stages}, default {@code 1,10%,50%,100%})
 * @param soak how long a stage is watched, once all its devices have succeeded, before the next may start ({@code --soak})
 * @param gates what must pass during and at the end of each soak ({@code --gate}, default {@code health})
 * @param failurePolicy halt and wait for an operator, or roll the failed stage back ({@code --on-failure})
 * @param maxFailures failed devices a stage tolerates ({@code --max-failures}, default none)
 * @param sites which sites the rollout may touch ({@code --sites}, default all)
 * @param deviceDeadline how long after its desired state was written a device has to commit and report healthy on
 *     the target; after that it counts as failed
 * @param offlineAfter a device not heard from for this long is offline and left out of the plan
 * @param gateTimeout how long past the soak's end a gate may keep answering "wait" before that counts as a failure
 * @param createdBy who started it (the operator token's name)
 * @param createdAt when
 */
public record RolloutDefinition(RolloutId id, Target target, Stages stages, Duration soak, List<GateSpec> gates,
        FailurePolicy failurePolicy, MaxFailures maxFailures, SiteFilter sites, Duration deviceDeadline, Duration offlineAfter,
        Duration gateTimeout, String createdBy, Instant createdAt) {
    public static final Duration DEFAULT_SOAK = Duration.ofMinutes(30);
    public static final Duration DEFAULT_DEVICE_DEADLINE = Duration.ofMinutes(30);
    /** Ten missed polls of the agent's one-minute interval. */
    public static final Duration DEFAULT_OFFLINE_AFTER = Duration.ofMinutes(10);
    public static final Duration DEFAULT_GATE_TIMEOUT = Duration.ofMinutes(15);

    public RolloutDefinition {
        requireNonNull(id, "id");
        requireNonNull(target, "target");
        requireNonNull(stages, "stages");
        requireNonNull(soak, "soak");
        gates = List.copyOf(requireNonNull(gates, "gates"));
        requireNonNull(failurePolicy, "failurePolicy");
        requireNonNull(maxFailures, "maxFailures");
        requireNonNull(sites, "sites");
        requireNonNull(deviceDeadline, "deviceDeadline");
        requireNonNull(offlineAfter, "offlineAfter");
        requireNonNull(gateTimeout, "gateTimeout");
        requireNonNull(createdBy, "createdBy");
        requireNonNull(createdAt, "createdAt");
        for (Duration duration : List.of(soak, deviceDeadline, offlineAfter, gateTimeout)) {
            if (duration.isNegative() || duration.isZero()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "define the rollout " + id, "a duration (" + duration + ") is not positive");
            }
        }
        if (gates.stream().map(GateSpec::text).distinct().count() != gates.size()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "define the rollout " + id, "a gate is named twice");
        }
        if (target.track() == Track.REBOOT && failurePolicy == FailurePolicy.ROLLBACK) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "define the reboot rollout " + id, "a reboot cannot be rolled back")
                    .withHint("use --on-failure halt for the reboot track");
        }
    }

    /** A definition with every default: stages 1,10%,50%,100%, a 30-minute soak, the health gate, halt on failure, no failure allowed. */
    public static RolloutDefinition withDefaults(RolloutId id, Target target, String createdBy, Instant createdAt) {
        return new RolloutDefinition(id, target, Stages.DEFAULT, DEFAULT_SOAK, List.of(new GateSpec.Health()), FailurePolicy.HALT,
                MaxFailures.NONE, SiteFilter.ALL, DEFAULT_DEVICE_DEADLINE, DEFAULT_OFFLINE_AFTER, DEFAULT_GATE_TIMEOUT, createdBy, createdAt);
    }

    public Track track() {
        return target.track();
    }

    public RolloutDefinition withStages(Stages newStages) {
        return new RolloutDefinition(id, target, newStages, soak, gates, failurePolicy, maxFailures, sites, deviceDeadline, offlineAfter,
                gateTimeout, createdBy, createdAt);
    }

    public RolloutDefinition withSoak(Duration newSoak) {
        return new RolloutDefinition(id, target, stages, newSoak, gates, failurePolicy, maxFailures, sites, deviceDeadline, offlineAfter,
                gateTimeout, createdBy, createdAt);
    }

    public RolloutDefinition withGates(List<GateSpec> newGates) {
        return new RolloutDefinition(id, target, stages, soak, newGates, failurePolicy, maxFailures, sites, deviceDeadline, offlineAfter,
                gateTimeout, createdBy, createdAt);
    }

    public RolloutDefinition withFailurePolicy(FailurePolicy newPolicy) {
        return new RolloutDefinition(id, target, stages, soak, gates, newPolicy, maxFailures, sites, deviceDeadline, offlineAfter,
                gateTimeout, createdBy, createdAt);
    }

    public RolloutDefinition withMaxFailures(MaxFailures newMaxFailures) {
        return new RolloutDefinition(id, target, stages, soak, gates, failurePolicy, newMaxFailures, sites, deviceDeadline, offlineAfter,
                gateTimeout, createdBy, createdAt);
    }

    public RolloutDefinition withSites(SiteFilter newSites) {
        return new RolloutDefinition(id, target, stages, soak, gates, failurePolicy, maxFailures, newSites, deviceDeadline, offlineAfter,
                gateTimeout, createdBy, createdAt);
    }

    public RolloutDefinition withDeviceDeadline(Duration newDeadline) {
        return new RolloutDefinition(id, target, stages, soak, gates, failurePolicy, maxFailures, sites, newDeadline, offlineAfter,
                gateTimeout, createdBy, createdAt);
    }

    public RolloutDefinition withOfflineAfter(Duration newOfflineAfter) {
        return new RolloutDefinition(id, target, stages, soak, gates, failurePolicy, maxFailures, sites, deviceDeadline, newOfflineAfter,
                gateTimeout, createdBy, createdAt);
    }

    public RolloutDefinition withGateTimeout(Duration newGateTimeout) {
        return new RolloutDefinition(id, target, stages, soak, gates, failurePolicy, maxFailures, sites, deviceDeadline, offlineAfter,
                newGateTimeout, createdBy, createdAt);
    }
}
