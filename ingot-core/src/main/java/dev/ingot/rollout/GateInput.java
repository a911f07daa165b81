package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.site.SiteId;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The stage a gate judges ({@link Gate#evaluate}): the rollout and target, the stage's number and sites, each of its
 * devices as planned with its run and its latest progress, the failure limit, and when the soak began (a report
 * older than that says nothing about the soak).
 */
public record GateInput(RolloutId rollout, Target target, int stage, List<SiteId> sites, List<Device> devices, MaxFailures maxFailures,
        Instant soakStartedAt) {
    public record Device(Plan.Device planned, DeviceRun run, Optional<DeviceProgress> progress) {
        public Device {
            requireNonNull(planned, "planned");
            requireNonNull(run, "run");
            requireNonNull(progress, "progress");
        }
    }

    public GateInput {
        requireNonNull(rollout, "rollout");
        requireNonNull(target, "target");
        sites = List.copyOf(requireNonNull(sites, "sites"));
        devices = List.copyOf(requireNonNull(devices, "devices"));
        requireNonNull(maxFailures, "maxFailures");
        requireNonNull(soakStartedAt, "soakStartedAt");
    }
}
