package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.fleet.ActionState;
import dev.ingot.health.DeviceId;
import java.util.Optional;

/**
 * What the server knows of one device the rollout watches: the state of the device's action for the rollout's
 * latest write to it (the generation that write made; none until the device picked it up), the reason the device
 * gave with a failed or rolled-back action, and its latest report. The server must never hand over the action of an
 * older generation: a stale "committed" would count as success.
 */
public record DeviceProgress(DeviceId device, Optional<ActionState> action, Optional<String> reason, Optional<DeviceReport> report) {
    public DeviceProgress {
        requireNonNull(device, "device");
        requireNonNull(action, "action");
        requireNonNull(reason, "reason");
        requireNonNull(report, "report");
    }
}
