package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.DesiredState;
import dev.ingot.fleet.Track;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthStatus;
import dev.ingot.site.SiteId;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Plans a rollout: a pure function of (definition, fleet snapshot, devices held by other active rollouts, now).
 * The same input always gives the same plan, ties included.
 *
 * <ol>
 *   <li>Each device is kept or left out with the first reason of {@link Plan.Reason} that applies.</li>
 *   <li>A site with at least one kept device is a candidate; its kept devices go into the same stage together.</li>
 *   <li>The first stage takes N sites (the canary stage, N from the first stage size, normally 1): sites flagged
 *       canary first, then the healthiest. "Healthiest" orders by, in turn: fewest of the site's devices (kept or not)
 *       whose latest report is not healthy or that never reported; most kept devices (more signal); site id.</li>
 *   <li>The other candidates are put in a spread order — by the SHA-256 of "rollout id/site id", then site id — so that
 *       a rollout's early stages are not always the same alphabetical corner of the fleet, yet re-planning the same
 *       rollout gives the same order. Each later stage takes the next sites of that order: N more sites for a count,
 *       or up to ceil(P% × the remaining sites) counted from the start for a share. A stage that would take no site
 *       is dropped, and the stages are numbered from 1 as they remain.</li>
 * </ol>
 */
public final class Planner {
    private Planner() {}

    /**
     * @param heldByOthers the devices that other active (not completed, aborted or rolled back) rollouts hold, with the
     *     rollout holding each ({@link Rollout#held()} of each); the server must read it and insert the new rollout in
     *     one transaction, so that two rollouts planned at once cannot both take a device
     */
    public static Plan plan(RolloutDefinition definition, Fleet fleet, Map<DeviceId, RolloutId> heldByOthers, Instant now) {
        requireNonNull(definition, "definition");
        requireNonNull(fleet, "fleet");
        requireNonNull(heldByOthers, "heldByOthers");
        requireNonNull(now, "now");
        Set<DeviceId> selected = definition.target() instanceof Target.Reboot reboot ? Set.copyOf(reboot.devices()) : null;
        if (selected != null) {
            Set<DeviceId> known = fleet.devices().stream().map(Fleet.Device::id).collect(Collectors.toSet());
            List<String> unknown = selected.stream().filter(id -> !known.contains(id)).map(DeviceId::value).sorted().toList();
            if (!unknown.isEmpty()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "plan the reboot rollout " + definition.id(),
                        "it names devices the fleet does not have: " + String.join(", ", unknown)).withHint("list the fleet's devices with ingot device list");
            }
        }
        Map<SiteId, Fleet.Site> sitesById = new HashMap<>();
        fleet.sites().forEach(site -> sitesById.put(site.id(), site));
        List<Plan.Exclusion> excluded = new ArrayList<>();
        Map<SiteId, List<Plan.Device>> kept = new TreeMap<>(Comparator.comparing(SiteId::value));
        for (Fleet.Device device : fleet.devices()) {
            Fleet.Site site = sitesById.get(device.site());
            Optional<Plan.Exclusion> exclusion = exclusion(definition, site, device, selected, heldByOthers, now);
            if (exclusion.isPresent()) {
                excluded.add(exclusion.get());
            } else {
                DeviceReport report = device.report().orElseThrow();
                kept.computeIfAbsent(site.id(), id -> new ArrayList<>())
                        .add(new Plan.Device(device.id(), site.id(), Target.current(definition.track(), report), report.status()));
            }
        }
        if (kept.isEmpty()) {
            return new Plan(List.of(), excluded, now);
        }
        Map<SiteId, Integer> unwell = new LinkedHashMap<>();
        for (Fleet.Device device : fleet.devices()) {
            boolean healthy = device.report().map(report -> report.status() == HealthStatus.HEALTHY).orElse(false);
            unwell.merge(device.site(), healthy ? 0 : 1, Integer::sum);
        }
        Comparator<SiteId> healthiest = Comparator.<SiteId>comparingInt(site -> sitesById.get(site).canary() ? 0 : 1)
                .thenComparingInt(site -> unwell.getOrDefault(site, 0))
                .thenComparingInt(site -> -kept.get(site).size())
                .thenComparing(SiteId::value);
        List<SiteId> candidates = kept.keySet().stream().sorted(healthiest).toList();
        List<Stages.Size> sizes = definition.stages().sizes();
        int canaryCount = ((Stages.Sites) sizes.getFirst()).count();
        List<SiteId> canaries = candidates.subList(0, Math.min(canaryCount, candidates.size()));
        Map<SiteId, String> spreadKey = new HashMap<>();
        candidates.forEach(site -> spreadKey.put(site, Sha256.of((definition.id() + "/" + site).getBytes(StandardCharsets.UTF_8)).hex()));
        Comparator<SiteId> spread = Comparator.<SiteId, String>comparing(spreadKey::get).thenComparing(SiteId::value);
        List<SiteId> remaining = candidates.subList(canaries.size(), candidates.size()).stream().sorted(spread).toList();

        List<Plan.Stage> stages = new ArrayList<>();
        addStage(stages, sizes.getFirst(), canaries, kept);
        int taken = 0;
        for (Stages.Size size : sizes.subList(1, sizes.size())) {
            int upTo = switch (size) {
                case Stages.Sites sites -> Math.min(remaining.size(), taken + sites.count());
                case Stages.Percent percent -> Math.max(taken, (int) Math.ceilDiv((long) percent.percent() * remaining.size(), 100));
            };
            addStage(stages, size, remaining.subList(taken, upTo), kept);
            taken = upTo;
        }
        return new Plan(stages, excluded, now);
    }

    private static void addStage(List<Plan.Stage> stages, Stages.Size size, List<SiteId> sites, Map<SiteId, List<Plan.Device>> kept) {
        if (sites.isEmpty()) {
            return;
        }
        List<SiteId> sorted = sites.stream().sorted(Comparator.comparing(SiteId::value)).toList();
        List<Plan.Device> devices = sorted.stream().flatMap(site -> kept.get(site).stream())
                .sorted(Comparator.comparing(device -> device.id().value())).toList();
        stages.add(new Plan.Stage(stages.size() + 1, size, sorted, devices));
    }

    private static Optional<Plan.Exclusion> exclusion(RolloutDefinition definition, Fleet.Site site, Fleet.Device device,
            Set<DeviceId> selected, Map<DeviceId, RolloutId> heldByOthers, Instant now) {
        Target target = definition.target();
        if (!definition.sites().matches(site.id(), site.tags())) {
            return excluded(device, Plan.Reason.NOT_IN_FILTER, "the site " + site.id() + " does not match --sites " + definition.sites().text());
        }
        if (selected != null && !selected.contains(device.id())) {
            return excluded(device, Plan.Reason.NOT_SELECTED, "not named for this reboot");
        }
        RolloutId holder = heldByOthers.get(device.id());
        if (holder != null && !holder.equals(definition.id())) {
            return excluded(device, Plan.Reason.HELD, "held by the active rollout " + holder);
        }
        if (device.report().isEmpty()) {
            return excluded(device, Plan.Reason.NEVER_REPORTED, "no report yet");
        }
        DeviceReport report = device.report().get();
        if (device.lastSeen().isEmpty() || Duration.between(device.lastSeen().get(), now).compareTo(definition.offlineAfter()) > 0) {
            return excluded(device, Plan.Reason.OFFLINE, device.lastSeen().map(seen -> "last seen " + seen + ", "
                    + DurationText.format(Duration.between(seen, now)) + " ago").orElse("never seen"));
        }
        DesiredState desired = device.desired();
        switch (target) {
            case Target.Image image -> {
                if (image.reachedBy(report)) {
                    return excluded(device, Plan.Reason.ALREADY_ON_TARGET, "runs " + report.image().orElseThrow());
                }
            }
            case Target.ContainerTag tag -> {
                if (tag.reachedBy(report)) {
                    return excluded(device, Plan.Reason.ALREADY_ON_TARGET, "runs video-ingest " + tag.tag());
                }
            }
            case Target.Reboot reboot -> {
                if (desired.rebootRequest().filter(definition.id().value()::equals).isPresent()) {
                    return excluded(device, Plan.Reason.ALREADY_ON_TARGET, "already asked to reboot by this rollout");
                }
                if (reboot.onlyIfRebootRequired() && !report.rebootRequired()) {
                    return excluded(device, Plan.Reason.NO_REBOOT_REQUIRED, "its latest report needs no reboot");
                }
            }
        }
        if (report.status() == HealthStatus.UNHEALTHY) {
            return excluded(device, Plan.Reason.UNHEALTHY, "its latest report (" + report.at() + ") says unhealthy");
        }
        Optional<String> pending = switch (target) {
            case Target.Image image -> desired.image().filter(wanted -> report.image().filter(wanted::sameReleaseAs).isEmpty())
                    .map(wanted -> "its desired image is " + wanted + " but it runs " + report.image().map(Object::toString).orElse("nothing known"));
            case Target.ContainerTag tag -> desired.containerTag().filter(wanted -> report.containerTag().filter(wanted::equals).isEmpty())
                    .map(wanted -> "its desired tag is " + wanted + " but it runs " + report.containerTag().orElse("nothing known"));
            case Target.Reboot reboot -> Optional.empty();
        };
        if (pending.isPresent()) {
            return excluded(device, Plan.Reason.CHANGE_PENDING, pending.get());
        }
        if (target.track() != Track.REBOOT && Target.current(target.track(), report).isEmpty()) {
            return excluded(device, Plan.Reason.UNKNOWN_CURRENT, "its report names no " + (target instanceof Target.Image
                    ? "image version" : "fixed video-ingest tag") + ", so a rollback could not return it to one");
        }
        return Optional.empty();
    }

    private static Optional<Plan.Exclusion> excluded(Fleet.Device device, Plan.Reason reason, String detail) {
        return Optional.of(new Plan.Exclusion(device.id(), device.site(), reason, detail));
    }
}
