package dev.ingot.sim;

import static java.util.Objects.requireNonNull;

import dev.ingot.agent.AgentHost;
import dev.ingot.agent.AgentState;
import dev.ingot.agent.AgentStateJson;
import dev.ingot.agent.CacheKeeper;
import dev.ingot.agent.ControlPlane.ReleaseDownload;
import dev.ingot.agent.HealthProbe;
import dev.ingot.agent.SlotPayload;
import dev.ingot.agent.SlotPayloadFetcher;
import dev.ingot.agent.SlotWriter;
import dev.ingot.agent.StateStore;
import dev.ingot.agent.TagOverride;
import dev.ingot.boot.BootControl;
import dev.ingot.boot.BootState;
import dev.ingot.boot.GrubMenu;
import dev.ingot.boot.Slot;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.HealthReport;
import dev.ingot.health.Probed;
import dev.ingot.image.ImageVersion;
import dev.ingot.progress.Progress;
import dev.ingot.provision.HostCommands;
import dev.ingot.registry.RegistryCredentials;
import dev.ingot.site.ContainerImage;
import dev.ingot.site.FirewallRules;
import dev.ingot.site.SiteId;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * One simulated device, in memory: two root slots, GRUB's environment and the real boot decision of the
 * golden image's grub.cfg ({@link GrubMenu#boot}), a data partition holding the agent's state file, docker and
 * systemd playing the video-ingest unit, and health probes whose findings go through the real
 * {@code HealthEvaluator}. No process and no file per device, so that one process holds thousands.
 *
 * <p>Every durable operation (a saved state, a slot chunk, a bootloader change, a reboot) is counted, and
 * {@link #cutPowerBefore} makes the n-th one throw {@link PowerCut} before it takes effect: after it, {@link #boot}
 * starts the device again from what was durable. A slot being written is unusable until its last chunk is read back.
 */
public final class SimulatedHost {
    /** Chunks per slot payload: each is a durable write and a possible power cut. */
    static final int CHUNKS = 8;
    static final long PAYLOAD_SIZE = 8L << 20;
    static final int LOG_KEPT = 200;

    /**
     * What fetching a slot payload does before the simulated payload is made: nothing by default; in the fleet
     * simulation, a real download of the release's signed manifest through the control plane. Its failure is the
     * fetch's ({@code UNAVAILABLE}: tried again).
     */
    @FunctionalInterface
    public interface Download {
        void fetch(ReleaseDownload release);
    }

    private final SiteId site;
    private final int index;
    private final Clock clock;
    private final ContainerImage siteImage;
    private final Set<SimulatedFailure> failures;
    private final ImageVersion factoryVersion;

    private final Map<Slot, SlotContent> slots = new EnumMap<>(Slot.class);
    private final Map<String, String> grubEnv = new LinkedHashMap<>();
    /** The environment block is damaged: GRUB's load_env reads no variable from it, and only a fresh block replaces it. */
    private boolean grubEnvDamaged;
    private byte[] stateFile;
    private Optional<String> tagOverride = Optional.empty();
    private final Set<String> pulledTags = new HashSet<>();
    private final Set<String> registryTags = new HashSet<>();
    private final List<ImageVersion> usbCache = new ArrayList<>();
    private final Set<ImageVersion> panicking = new HashSet<>();
    private final Set<ImageVersion> gpuBrokenOn = new HashSet<>();

    private Slot booted = Slot.A;
    private int boots;
    private boolean up;
    private boolean bricked;
    private boolean rebootRequested;
    private Optional<String> runningTag = Optional.empty();
    private boolean rebootRequired;
    private int securityUpdates;
    private int fetchFailures;

    private int operations;
    private OptionalInt cutBefore = OptionalInt.empty();
    /** The latest durable operations, for a failing test's message; bounded, so that a long simulation holds little. */
    private final java.util.ArrayDeque<String> log = new java.util.ArrayDeque<>();
    private boolean everyTag;
    private Download download = release -> { };

    /** What a slot holds: a version, and whether all of it was written and read back. */
    public record SlotContent(Optional<ImageVersion> version, boolean complete, long written) {
        public static SlotContent empty() {
            return new SlotContent(Optional.empty(), false, 0);
        }

        public boolean bootable() {
            return version.isPresent() && complete;
        }
    }

    /**
     * A device as flashed: {@code factoryVersion} in slot a (committed), slot b empty, running {@code siteImage}'s tag.
     *
     * @param index distinguishes devices (their machine ids)
     */
    public SimulatedHost(SiteId site, int index, Clock clock, ImageVersion factoryVersion, ContainerImage siteImage,
            Set<SimulatedFailure> failures) {
        this.site = requireNonNull(site, "site");
        this.index = index;
        this.clock = requireNonNull(clock, "clock");
        this.factoryVersion = requireNonNull(factoryVersion, "factoryVersion");
        this.siteImage = requireNonNull(siteImage, "siteImage");
        this.failures = failures.isEmpty() ? EnumSet.noneOf(SimulatedFailure.class) : EnumSet.copyOf(failures);
        slots.put(Slot.A, new SlotContent(Optional.of(factoryVersion), true, PAYLOAD_SIZE));
        slots.put(Slot.B, SlotContent.empty());
        grubEnv.put(GrubMenu.SAVED_ENTRY, Slot.A.grubEntry());
        registryTags.add(siteImage.tag());
        pulledTags.add(siteImage.tag());
        boot();
    }

    // ---- what tests and the simulation control ----

    /** The n-th durable operation from now (1 = the next) loses power before it takes effect. */
    public SimulatedHost cutPowerBefore(int operation) {
        cutBefore = OptionalInt.of(operations + operation);
        return this;
    }

    /** The GRUB environment block gets damaged (a bad sector, a stray write to the ESP): GRUB reads nothing from it. */
    public SimulatedHost damageGrubEnv() {
        grubEnvDamaged = true;
        grubEnv.clear();
        note("GRUB ENVIRONMENT DAMAGED");
        return this;
    }

    /** Power goes off now, between two operations. */
    public SimulatedHost powerOff() {
        up = false;
        note("POWER OFF");
        return this;
    }

    /** Boots so far, the first included (a kernel that panicked counts). */
    public int boots() {
        return boots;
    }

    /** Durable operations so far. */
    public int operations() {
        return operations;
    }

    /** What the latest durable operations were, in order (for a failing test's message), at most {@value #LOG_KEPT}. */
    public List<String> operationLog() {
        return List.copyOf(log);
    }

    /** The registry has every tag anyone asks for (the fleet simulation: a rollout names tags nobody told the device of). */
    public SimulatedHost everyTagPublished() {
        everyTag = true;
        return this;
    }

    /** Fetching a slot payload runs {@code download} first (the agent process of the current boot sets it). */
    public SimulatedHost downloadWith(Download download) {
        this.download = requireNonNull(download, "download");
        return this;
    }

    /** The registry has this tag of video-ingest. */
    public SimulatedHost publishTag(String tag) {
        registryTags.add(tag);
        return this;
    }

    /** This version's kernel panics during boot (panic=30 reboots; the next boot is the default slot's). */
    /** This version boots and runs, but its GPU driver is broken: the health check fails. */
    public SimulatedHost gpuBrokenOn(ImageVersion version) {
        gpuBrokenOn.add(version);
        return this;
    }

    public SimulatedHost panicsOn(ImageVersion version) {
        panicking.add(version);
        return this;
    }

    /** The next {@code count} fetches of a slot payload cannot reach the source. */
    public SimulatedHost failFetches(int count) {
        fetchFailures = count;
        return this;
    }

    /** unattended-upgrades installed security updates; one of them needs a reboot. */
    public SimulatedHost securityUpdatesInstalled(int count, boolean needsReboot) {
        securityUpdates = count;
        rebootRequired = needsReboot;
        return this;
    }

    /**
     * Starts the device: GRUB picks a slot as the golden image's grub.cfg does (one-shot first, cleared as it is
     * read; a slot that cannot load falls back to the default in the same boot), a kernel that panics reboots into
     * the default, and video-ingest starts with the configured tag.
     */
    public void boot() {
        up = true;
        rebootRequested = false;
        for (int attempt = 0; attempt < 4; attempt++) {
            GrubMenu.Boot result = GrubMenu.boot(grubEnv, slot -> slots.get(slot).bootable());
            grubEnv.clear();
            grubEnv.putAll(result.env());
            if (result.booted().isEmpty()) {
                bricked = true;
                up = false;
                return;
            }
            booted = result.booted().get();
            boots++;
            if (!panicking.contains(slots.get(booted).version().orElseThrow())) {
                break;
            }
        }
        rebootRequired = false;
        startContainer();
    }

    public boolean up() {
        return up;
    }

    /** Whether no slot could boot: the one thing that must never happen. */
    public boolean bricked() {
        return bricked;
    }

    /** The agent asked for a reboot ({@code systemctl reboot}). */
    public boolean rebootRequested() {
        return rebootRequested;
    }

    public Slot booted() {
        return booted;
    }

    /** The version the booted slot holds. */
    public ImageVersion runningVersion() {
        return slots.get(booted).version().orElseThrow();
    }

    public Slot committed() {
        return GrubMenu.entry(grubEnv.get(GrubMenu.SAVED_ENTRY)).orElse(Slot.A);
    }

    public SlotContent slot(Slot slot) {
        return slots.get(slot);
    }

    public Map<String, String> grubEnv() {
        return Map.copyOf(grubEnv);
    }

    public Optional<String> runningTag() {
        return runningTag;
    }

    public List<ImageVersion> usbCache() {
        return List.copyOf(usbCache);
    }

    public SiteId site() {
        return site;
    }

    /** The parts the agent acts through. */
    public AgentHost agentHost() {
        return new AgentHost(new Boot(), new Commands(), this::healthReport, new Fetcher(), new Writer(), new Tags(), new Cache(), new Store());
    }

    /**
     * The parts the agent acts through, with a real fetcher and writer (the streaming flash engine on a disk file): the
     * simulated bootloader boots the slot once the real writer finished it, and never one it failed to finish.
     */
    public AgentHost agentHost(SlotPayloadFetcher fetcher, SlotWriter writer) {
        SlotWriter recorded = (payload, slot, resumeFrom, checkpoint, progress) -> {
            if (slot == booted) {
                throw new IllegalStateException("the agent asked to write the running slot " + slot);
            }
            operation("write " + payload.version() + " into slot " + slot + " (" + payload.describe() + ")");
            slots.put(slot, new SlotContent(Optional.of(payload.version()), false, 0));
            writer.write(payload, slot, resumeFrom, checkpoint, progress);
            slots.put(slot, new SlotContent(Optional.of(payload.version()), true, payload.size()));
        };
        return new AgentHost(new Boot(), new Commands(), this::healthReport, fetcher, recorded, new Tags(), new Cache(), new Store());
    }

    // ---- the device's parts ----

    private void operation(String what) {
        if (!up) {
            throw new IllegalStateException("the device is off; boot it first (" + what + ")");
        }
        operations++;
        if (cutBefore.isPresent() && operations == cutBefore.getAsInt()) {
            cutBefore = OptionalInt.empty();
            up = false;
            note("POWER CUT before " + what);
            throw new PowerCut(what);
        }
        note(what);
    }

    private void note(String what) {
        if (log.size() == LOG_KEPT) {
            log.removeFirst();
        }
        log.addLast(what);
    }

    private String configuredTag() {
        return tagOverride.orElse(siteImage.tag());
    }

    private void startContainer() {
        String tag = configuredTag();
        runningTag = pulledTags.contains(tag) ? Optional.of(tag) : Optional.empty();
    }

    private boolean containerCrashLoops() {
        return runningTag.isEmpty() || failures.contains(SimulatedFailure.CONTAINER) && !runningTag.get().equals(siteImage.tag());
    }

    HealthReport healthReport() {
        ImageVersion version = runningVersion();
        boolean gpuBroken = failures.contains(SimulatedFailure.REIMAGE) && !version.equals(factoryVersion) || gpuBrokenOn.contains(version);
        return SimulatedHealth.report(clock.instant(), new SimulatedHealth.Device(site, index, version, booted, committed(),
                runningTag.map(tag -> new ContainerImage(siteImage.repository(), tag, Optional.empty())), !containerCrashLoops(),
                !gpuBroken, !failures.contains(SimulatedFailure.HEALTH), securityUpdates, rebootRequired, List.copyOf(usbCache), boots));
    }

    private final class Boot implements BootControl {
        @Override
        public BootState state() {
            return new BootState(booted, site + "-" + index + "-boot-" + boots, committed(),
                    GrubMenu.entry(grubEnv.get(GrubMenu.NEXT_ENTRY)), grubEnvDamaged ? Optional.of("the block has no signature")
                    : Optional.empty());
        }

        /** grub-editenv starts from a fresh block when the old one is damaged (GrubBootControl). */
        private void edited() {
            grubEnvDamaged = false;
        }

        @Override
        public void bootOnce(Slot slot) {
            operation("grub-editenv set next_entry=" + slot.grubEntry());
            grubEnv.put(GrubMenu.NEXT_ENTRY, slot.grubEntry());
            edited();
        }

        @Override
        public void cancelOnce() {
            if (GrubMenu.entry(grubEnv.get(GrubMenu.NEXT_ENTRY)).isPresent()) {
                operation("grub-editenv unset next_entry");
                grubEnv.remove(GrubMenu.NEXT_ENTRY);
                edited();
            }
        }

        @Override
        public void commit(Slot slot) {
            if (!grubEnvDamaged && committed() == slot && GrubMenu.entry(grubEnv.get(GrubMenu.NEXT_ENTRY)).isEmpty()) {
                return;
            }
            operation("grub-editenv set saved_entry=" + slot.grubEntry());
            grubEnv.put(GrubMenu.SAVED_ENTRY, slot.grubEntry());
            grubEnv.remove(GrubMenu.NEXT_ENTRY);
            edited();
        }
    }

    private record Payload(ImageVersion version) implements SlotPayload {
        @Override
        public long size() {
            return PAYLOAD_SIZE;
        }

        @Override
        public String describe() {
            return "simulated slot payload " + version;
        }
    }

    private final class Fetcher implements SlotPayloadFetcher {
        @Override
        public SlotPayload fetch(ReleaseDownload release, Progress progress) {
            if (fetchFailures > 0) {
                fetchFailures--;
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "download the slot payload of " + release.version(),
                        "the connection was reset (simulated)");
            }
            download.fetch(release);
            return new Payload(release.version());
        }
    }

    private final class Writer implements SlotWriter {
        @Override
        public void write(SlotPayload payload, Slot slot, long resumeFrom, Checkpoint checkpoint, Progress progress) {
            if (slot == booted) {
                throw new IllegalStateException("the agent asked to write the running slot " + slot);
            }
            SlotContent content = slots.get(slot);
            long chunk = PAYLOAD_SIZE / CHUNKS;
            long position = content.version().equals(Optional.of(payload.version())) ? Math.min(resumeFrom, content.written()) : 0;
            if (position == 0) {
                slots.put(slot, new SlotContent(Optional.of(payload.version()), false, 0));
            }
            while (position < PAYLOAD_SIZE) {
                operation("write " + payload.version() + " chunk " + (position / chunk + 1) + "/" + CHUNKS + " into slot " + slot);
                position += chunk;
                slots.put(slot, new SlotContent(Optional.of(payload.version()), false, position));
                checkpoint.reached(position);
            }
            slots.put(slot, new SlotContent(Optional.of(payload.version()), true, position));
        }
    }

    private final class Commands implements HostCommands {
        @Override
        public void reloadUnits() {}

        @Override
        public void restartUnit(String unit, boolean wait) {
            startContainer();
        }

        @Override
        public void enableUnit(String unit, boolean start) {}

        @Override
        public void loadFirewallRules(FirewallRules.Family family, Path rules) {}

        @Override
        public Probed<HealthReport.UnitState> unitState(String unit) {
            return Probed.found(SimulatedHealth.unit(!containerCrashLoops()));
        }

        @Override
        public void registryLogin(RegistryCredentials credentials) {}

        @Override
        public void pullImage(String reference) {
            ContainerImage image = ContainerImage.parse(reference);
            if (!everyTag && !registryTags.contains(image.tag())) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "run 'docker pull " + reference + "'",
                        "it exited 1: manifest for " + reference + " not found: manifest unknown");
            }
            pulledTags.add(image.tag());
        }

        @Override
        public Probed<HealthReport.ContainerInfo> inspectContainer(String name) {
            return runningTag.<Probed<HealthReport.ContainerInfo>>map(tag -> Probed.found(SimulatedHealth.container(
                    new ContainerImage(siteImage.repository(), tag, Optional.empty()), !containerCrashLoops(), clock.instant())))
                    .orElseGet(() -> Probed.failed("there is no container named " + name));
        }

        @Override
        public void reboot() {
            operation("systemctl reboot");
            rebootRequested = true;
        }
    }

    private final class Tags implements TagOverride {
        @Override
        public Optional<String> current() {
            return tagOverride;
        }

        @Override
        public void set(Optional<String> tag) {
            operation("write the tag override " + tag.orElse("(none)"));
            tagOverride = tag;
        }
    }

    private final class Cache implements CacheKeeper {
        @Override
        public List<ImageVersion> cached() {
            return usbCache.stream().sorted(java.util.Comparator.reverseOrder()).toList(); // newest first, as UsbCacheKeeper lists it
        }

        @Override
        public void keep(List<ImageVersion> versions) {
            note("usb cache keep " + versions);
            usbCache.clear();
            usbCache.addAll(versions);
        }
    }

    /** The data partition: the state file's bytes, replaced whole (the real store renames a new file over it). */
    private final class Store implements StateStore {
        @Override
        public AgentState load() {
            return stateFile == null ? AgentState.initial() : AgentStateJson.parse(stateFile, "the simulated data partition");
        }

        @Override
        public void save(AgentState state) {
            byte[] bytes = AgentStateJson.write(state);
            operation("save the agent state" + state.action().map(action -> " (" + action.track().json() + " "
                    + action.target() + ")").orElse(""));
            stateFile = bytes;
        }
    }
}
