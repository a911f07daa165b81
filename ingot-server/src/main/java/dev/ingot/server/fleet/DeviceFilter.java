package dev.ingot.server.fleet;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.DeviceId;
import dev.ingot.site.SiteId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which devices a list or a desired-state change is about. Every part is optional; the parts that are given
 * must all match. {@code status} {@code unknown} means "never reported".
 */
public record DeviceFilter(Optional<DeviceId> device, Optional<SiteId> site, Optional<String> imageVersion, Optional<String> status,
        Optional<String> tag, Optional<Duration> seenWithin, Optional<Duration> notSeenWithin) {
    private static final List<String> STATUSES = List.of("healthy", "degraded", "unhealthy", "unknown");

    public DeviceFilter {
        requireNonNull(device, "device");
        requireNonNull(site, "site");
        requireNonNull(imageVersion, "imageVersion");
        requireNonNull(status, "status");
        requireNonNull(tag, "tag");
        requireNonNull(seenWithin, "seenWithin");
        requireNonNull(notSeenWithin, "notSeenWithin");
        tag.ifPresent(value -> Sites.checkTag(value, "filter devices by the tag '" + value + "'"));
        status.ifPresent(value -> {
            if (!STATUSES.contains(value)) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "filter devices by status '" + value + "'",
                        "a status is one of " + String.join(", ", STATUSES));
            }
        });
    }

    public static DeviceFilter all() {
        return new DeviceFilter(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty());
    }

    public static DeviceFilter of(DeviceId device) {
        return new DeviceFilter(Optional.of(device), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty());
    }

    public boolean matchesEverything() {
        return device.isEmpty() && site.isEmpty() && imageVersion.isEmpty() && status.isEmpty() && tag.isEmpty() && seenWithin.isEmpty()
                && notSeenWithin.isEmpty();
    }

    /** A SQL condition on {@code d} (devices) and its bind values; it never matches a removed device. */
    record Sql(String where, Map<String, Object> binds) {}

    Sql sql(Instant now) {
        List<String> conditions = new ArrayList<>();
        conditions.add(Devices.IN_FLEET);
        Map<String, Object> binds = new LinkedHashMap<>();
        device.ifPresent(id -> {
            conditions.add("d.id = :device");
            binds.put("device", id.value());
        });
        site.ifPresent(id -> {
            conditions.add("d.site_id = :site");
            binds.put("site", id.value());
        });
        imageVersion.ifPresent(version -> {
            conditions.add("d.image_version = :version");
            binds.put("version", version);
        });
        status.ifPresent(value -> {
            if (value.equals("unknown")) {
                conditions.add("d.status IS NULL");
            } else {
                conditions.add("d.status = :status");
                binds.put("status", value);
            }
        });
        tag.ifPresent(value -> {
            conditions.add("EXISTS (SELECT 1 FROM site_tags t WHERE t.site_id = d.site_id AND t.tag = :tag)");
            binds.put("tag", value);
        });
        seenWithin.ifPresent(within -> {
            conditions.add("d.last_seen_at >= :seenSince");
            binds.put("seenSince", now.minus(within).toEpochMilli());
        });
        notSeenWithin.ifPresent(within -> {
            conditions.add("(d.last_seen_at IS NULL OR d.last_seen_at < :notSeenSince)");
            binds.put("notSeenSince", now.minus(within).toEpochMilli());
        });
        return new Sql(" WHERE " + String.join(" AND ", conditions), binds);
    }
}
