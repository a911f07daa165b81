package dev.ingot.server.fleet;

import static java.util.Objects.requireNonNull;

import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.Track;
import dev.ingot.health.DeviceId;
import java.time.Instant;
import java.util.Optional;

/**
 * One attempt by a device to reach a generation on one track. {@code target} is what the track moves to: an
 * image version, a container tag, or a reboot request id.
 */
public record Action(String id, DeviceId device, Track track, long generation, String target, ActionState state, Optional<String> reason,
        Instant createdAt, Instant updatedAt, String createdBy) {
    public Action {
        requireNonNull(id, "id");
        requireNonNull(device, "device");
        requireNonNull(track, "track");
        requireNonNull(target, "target");
        requireNonNull(state, "state");
        requireNonNull(reason, "reason");
        requireNonNull(createdAt, "createdAt");
        requireNonNull(updatedAt, "updatedAt");
        requireNonNull(createdBy, "createdBy");
    }

    /** One transition as the server stored it. */
    public record Event(long seq, ActionState state, Optional<String> reason, Instant at) {}
}
