package dev.ingot.rollout;

import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.DesiredState;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthStatus;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.SiteId;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A fleet in memory, one device per site, that does what the server and the agents will do for the rollout engine:
 * it makes desired-state writes (a new generation each, skipping a write key it already made, as the server must),
 * and each tick every device takes up a new generation the way the agent does (pending, downloading, then committed
 * or failed or fallen back), reports, and tells its action's state for the generation the rollout's latest write
 * made. A site can be told to misbehave on one target value: fail, fall back, hang, or turn unhealthy after committing.
 */
final class SimulatedFleet {
    enum Behaviour {
        GOOD,
        FAIL,
        FALL_BACK,
        HANG,
        UNHEALTHY_LATER
    }

    static final class Device {
        final DeviceId id;
        final SiteId site;
        ImageVersion image;
        String tag;
        HealthStatus health = HealthStatus.HEALTHY;
        DesiredState desired;
        DesiredState seen;
        long handled;
        ActionState action;
        String reason;
        boolean rebootRequired;
        int reboots;
        int ticksSinceCommit = -1;
        Instant lastSeen;
        Instant reportAt;
        Target pending;

        Device(DeviceId id, SiteId site, ImageVersion image, String tag, Instant now) {
            this.id = id;
            this.site = site;
            this.image = image;
            this.tag = tag;
            this.desired = DesiredState.initial().withImage(image).withContainerTag(tag);
            this.seen = desired;
            this.handled = desired.generation();
            this.lastSeen = now;
            this.reportAt = now;
        }

        DeviceReport report() {
            return new DeviceReport(reportAt, health, Optional.of(image), Optional.of(tag), rebootRequired);
        }
    }

    private final Map<DeviceId, Device> devices = new LinkedHashMap<>();
    private final Map<SiteId, Boolean> canary = new HashMap<>();
    private final Map<SiteId, Set<String>> tags = new HashMap<>();
    private final Map<SiteId, Behaviour> behaviours = new HashMap<>();
    private Target badTarget;
    private final Map<String, Long> madeKeys = new HashMap<>();
    private final Map<DeviceId, Long> rolloutGeneration = new HashMap<>();
    private final List<DesiredStateWrite> made = new ArrayList<>();
    private int skippedDuplicates;

    SimulatedFleet(int sites, ImageVersion image, String tag, Instant now) {
        for (int index = 1; index <= sites; index++) {
            SiteId site = new SiteId(String.format("SITE-%04d", index));
            DeviceId id = deviceId(index);
            devices.put(id, new Device(id, site, image, tag, now));
            canary.put(site, false);
            tags.put(site, Set.of(index % 2 == 0 ? "region:eu-west" : "region:us-east"));
        }
    }

    static DeviceId deviceId(int index) {
        return new DeviceId(String.format("%032x", 0xabc000L + index));
    }

    static SiteId site(int index) {
        return new SiteId(String.format("SITE-%04d", index));
    }

    SimulatedFleet canary(SiteId site) {
        canary.put(site, true);
        return this;
    }

    /** The sites in {@code sites} misbehave when asked to go to {@code target}; every other change works. */
    SimulatedFleet misbehave(Target target, Behaviour behaviour, Collection<SiteId> sites) {
        badTarget = target;
        sites.forEach(site -> behaviours.put(site, behaviour));
        return this;
    }

    Device device(DeviceId id) {
        return devices.get(id);
    }

    Collection<Device> devices() {
        return devices.values();
    }

    Fleet snapshot() {
        List<Fleet.Site> sites = canary.keySet().stream().map(site -> new Fleet.Site(site, canary.get(site), new TreeSet<>(tags.get(site))))
                .toList();
        List<Fleet.Device> list = devices.values().stream().map(device -> new Fleet.Device(device.id, device.site, Optional.of(device.lastSeen),
                Optional.of(device.report()), device.desired)).toList();
        return new Fleet(sites, list);
    }

    /** Makes the writes as the server must: a new generation each, a key already made skipped. */
    void make(List<DesiredStateWrite> writes) {
        for (DesiredStateWrite write : writes) {
            if (madeKeys.containsKey(write.key())) {
                skippedDuplicates++;
                continue;
            }
            Device device = devices.get(write.device());
            device.desired = write.applyTo(device.desired);
            madeKeys.put(write.key(), device.desired.generation());
            rolloutGeneration.put(write.device(), device.desired.generation());
            made.add(write);
        }
    }

    List<DesiredStateWrite> made() {
        return List.copyOf(made);
    }

    int skippedDuplicates() {
        return skippedDuplicates;
    }

    Set<DeviceId> touched() {
        Set<DeviceId> touched = new HashSet<>();
        made.forEach(write -> touched.add(write.device()));
        return touched;
    }

    /** One poll of every device: each takes up or carries on with its newest generation, then reports. */
    void tick(Instant now) {
        for (Device device : devices.values()) {
            device.lastSeen = now;
            device.reportAt = now;
            if (device.ticksSinceCommit >= 0 && ++device.ticksSinceCommit >= 3 && device.pending == null
                    && behaviourFor(device, badTarget == null ? null : currentTarget(device, badTarget)) == Behaviour.UNHEALTHY_LATER) {
                device.health = HealthStatus.UNHEALTHY;
            }
            if (device.desired.generation() > device.handled) {
                device.handled = device.desired.generation();
                device.pending = wanted(device.seen, device.desired, device.id);
                device.seen = device.desired;
                device.action = ActionState.PENDING;
                device.reason = null;
                if (device.pending.equals(currentTarget(device, device.pending))) {
                    // Already there (a write-back to the version it never left): the agent has nothing to do and says so.
                    device.action = ActionState.COMMITTED;
                    device.pending = null;
                }
                continue;
            }
            if (device.pending == null || device.action.terminal()) {
                continue;
            }
            Behaviour behaviour = behaviourFor(device, device.pending);
            if (device.action == ActionState.PENDING) {
                device.action = ActionState.DOWNLOADING;
                continue;
            }
            switch (behaviour) {
                case GOOD, UNHEALTHY_LATER -> {
                    switch (device.pending) {
                        case Target.Image image -> device.image = image.version();
                        case Target.ContainerTag tag -> device.tag = tag.tag();
                        case Target.Reboot reboot -> {
                            device.reboots++;
                            device.rebootRequired = false;
                        }
                    }
                    device.action = ActionState.COMMITTED;
                    device.ticksSinceCommit = 0;
                }
                case FAIL -> {
                    device.action = ActionState.FAILED;
                    device.reason = "the payload did not verify";
                }
                case FALL_BACK -> {
                    device.action = ActionState.ROLLED_BACK;
                    device.reason = "video-ingest did not start; fell back";
                }
                case HANG -> { }
            }
            if (device.action.terminal()) {
                device.pending = null;
            }
        }
    }

    Map<DeviceId, DeviceProgress> progress(Collection<DeviceId> watched) {
        Map<DeviceId, DeviceProgress> progress = new HashMap<>();
        for (DeviceId id : watched) {
            Device device = devices.get(id);
            Long generation = rolloutGeneration.get(id);
            boolean current = generation != null && device.handled == generation && device.action != null;
            progress.put(id, new DeviceProgress(id, current ? Optional.of(device.action) : Optional.empty(),
                    current ? Optional.ofNullable(device.reason) : Optional.empty(), Optional.of(device.report())));
        }
        return progress;
    }

    void setRebootRequired(DeviceId id) {
        devices.get(id).rebootRequired = true;
    }

    private Behaviour behaviourFor(Device device, Target target) {
        return target != null && target.equals(badTarget) ? behaviours.getOrDefault(device.site, Behaviour.GOOD) : Behaviour.GOOD;
    }

    /** What the device runs on the track of {@code like}; a reboot is never "already there". */
    private static Target currentTarget(Device device, Target like) {
        return switch (like) {
            case Target.Image image -> new Target.Image(device.image);
            case Target.ContainerTag tag -> new Target.ContainerTag(device.tag);
            case Target.Reboot reboot -> new Target.Reboot(List.of(device.id), true);
        };
    }

    /** The change between two desired states, as the agent tells it: the field that differs. */
    private static Target wanted(DesiredState before, DesiredState after, DeviceId id) {
        if (!after.image().equals(before.image())) {
            return new Target.Image(after.image().orElseThrow());
        }
        if (!after.containerTag().equals(before.containerTag())) {
            return new Target.ContainerTag(after.containerTag().orElseThrow());
        }
        return new Target.Reboot(List.of(id), false);
    }
}
