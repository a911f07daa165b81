package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthStatus;
import dev.ingot.site.SiteId;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Which devices a rollout changes, stage by stage, fixed when it starts; and which it leaves out, each with its
 * reason. {@link Planner} makes it; {@code --dry-run} shows it before anything changes.
 */
public record Plan(List<Stage> stages, List<Exclusion> excluded, Instant plannedAt) {
    public Plan {
        stages = List.copyOf(requireNonNull(stages, "stages"));
        excluded = List.copyOf(requireNonNull(excluded, "excluded"));
        requireNonNull(plannedAt, "plannedAt");
    }

    /**
     * One stage: its number (from 1), the size it was planned from, its sites (sorted) and devices (sorted by id).
     */
    public record Stage(int number, Stages.Size size, List<SiteId> sites, List<Device> devices) {
        public Stage {
            requireNonNull(size, "size");
            sites = List.copyOf(requireNonNull(sites, "sites"));
            devices = List.copyOf(requireNonNull(devices, "devices"));
        }
    }

    /**
     * A device as planned: its site, what it ran on the rollout's track at plan time (what a rollback returns it to;
     * none on the reboot track) and its health then, which it must not fall below on the target.
     */
    public record Device(DeviceId id, SiteId site, Optional<Target> previous, HealthStatus baseline) {
        public Device {
            requireNonNull(id, "id");
            requireNonNull(site, "site");
            requireNonNull(previous, "previous");
            requireNonNull(baseline, "baseline");
        }
    }

    /** A device the rollout leaves alone, and why. */
    public record Exclusion(DeviceId device, SiteId site, Reason reason, String detail) {
        public Exclusion {
            requireNonNull(device, "device");
            requireNonNull(site, "site");
            requireNonNull(reason, "reason");
            requireNonNull(detail, "detail");
        }
    }

    /** Why a device is left out, in the order the planner asks: the first that applies is the one listed. */
    public enum Reason {
        /** Its site does not match {@code --sites}. */
        NOT_IN_FILTER,
        /** Reboot track: the operator did not name it. */
        NOT_SELECTED,
        /** Another active rollout holds it. */
        HELD,
        /** It never sent a report. */
        NEVER_REPORTED,
        /** Not heard from within the offline threshold. */
        OFFLINE,
        /** It already runs the target. */
        ALREADY_ON_TARGET,
        /** Reboot track with "only if reboot-required": it does not need one. */
        NO_REBOOT_REQUIRED,
        /** Its latest report says unhealthy. */
        UNHEALTHY,
        /** Its desired state on this track already differs from what it runs: a change is on its way. */
        CHANGE_PENDING,
        /** It reports no version or tag on this track, so a rollback would have nothing to return it to. */
        UNKNOWN_CURRENT;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Reason parse(String text) {
            return Stream.of(values()).filter(reason -> reason.json().equals(text)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no exclusion reason '" + text + "'"));
        }
    }

    public boolean isEmpty() {
        return stages.isEmpty();
    }

    public Stage stage(int number) {
        return stages.get(number - 1);
    }

    public Stream<Device> devices() {
        return stages.stream().flatMap(stage -> stage.devices().stream());
    }

    public Optional<Device> device(DeviceId id) {
        return devices().filter(device -> device.id().equals(id)).findFirst();
    }

    /** How many devices were left out for each reason. */
    public Map<Reason, Integer> excludedByReason() {
        Map<Reason, Integer> counts = new EnumMap<>(Reason.class);
        excluded.forEach(exclusion -> counts.merge(exclusion.reason(), 1, Integer::sum));
        return counts;
    }
}
