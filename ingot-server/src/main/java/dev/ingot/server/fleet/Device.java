package dev.ingot.server.fleet;

import static java.util.Objects.requireNonNull;

import dev.ingot.fleet.DesiredState;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthStatus;
import dev.ingot.site.SiteId;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A device as the inventory keeps it: who it is, when it was last heard from, what it reported, what it should run, and
 * whether an operator revoked its credential or removed it from the fleet ({@link DeviceLifecycle}).
 */
public record Device(DeviceId id, SiteId site, Instant enrolledAt, Optional<Instant> lastSeen, Reported reported, DesiredState desired,
        Instant desiredUpdatedAt, String desiredUpdatedBy, Optional<Instant> revokedAt, Optional<Instant> removedAt) {
    public Device {
        requireNonNull(id, "id");
        requireNonNull(site, "site");
        requireNonNull(enrolledAt, "enrolledAt");
        requireNonNull(lastSeen, "lastSeen");
        requireNonNull(reported, "reported");
        requireNonNull(desired, "desired");
        requireNonNull(desiredUpdatedAt, "desiredUpdatedAt");
        requireNonNull(desiredUpdatedBy, "desiredUpdatedBy");
        requireNonNull(revokedAt, "revokedAt");
        requireNonNull(removedAt, "removedAt");
    }

    /** The summary of the latest report (empty before the first one): enough to list and filter without reading reports. */
    public record Reported(Optional<HealthStatus> status, Optional<String> imageVersion, Optional<String> containerTag,
            Optional<String> slotBooted, Optional<Boolean> rebootRequired, OptionalLong securityUpdates, Optional<Instant> checkedAt) {
        public Reported {
            requireNonNull(status, "status");
            requireNonNull(imageVersion, "imageVersion");
            requireNonNull(containerTag, "containerTag");
            requireNonNull(slotBooted, "slotBooted");
            requireNonNull(rebootRequired, "rebootRequired");
            requireNonNull(securityUpdates, "securityUpdates");
            requireNonNull(checkedAt, "checkedAt");
        }

        public static Reported none() {
            return new Reported(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                    OptionalLong.empty(), Optional.empty());
        }
    }
}
