package dev.ingot.health;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ingot.cache.UsbCache;
import dev.ingot.health.EdgeFiles.CameraAddress;
import dev.ingot.health.HealthReport.CachedImage;
import dev.ingot.health.HealthReport.Cameras;
import dev.ingot.health.HealthReport.DiskUsage;
import dev.ingot.health.HealthReport.Findings;
import dev.ingot.health.HealthReport.Reboot;
import dev.ingot.health.HealthReport.Slots;
import dev.ingot.health.HealthReport.UsbCacheInfo;
import dev.ingot.site.SiteId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The health check on a device: every probe at once, each on its own virtual thread, all bounded by the
 * probe timeout. A probe still running at the deadline is reported as timed out and left behind: a hung
 * {@code nvidia-smi} or a stuck mount can delay the report by the timeout, never hang it. Files are read
 * under {@code root} (the running system is {@code /}); tools run on this host through {@link ToolRunner}.
 */
public final class DeviceHealth {
    /** Beyond the probe timeout: tools are killed at the timeout, and this leaves them time to say so. */
    static final Duration DEADLINE_GRACE = Duration.ofMillis(200);
    private static final String DOCKER_DAEMON_CONFIG = "/etc/docker/daemon.json";
    private static final String DOCKER_DEFAULT_ROOT = "/var/lib/docker";

    private final Path root;
    private final HealthConfig config;
    private final ToolRunner tools;
    private final Clock clock;

    public DeviceHealth(Path root, HealthConfig config, ToolRunner tools, Clock clock) {
        this.root = requireNonNull(root, "root");
        this.config = requireNonNull(config, "config");
        this.tools = requireNonNull(tools, "tools");
        this.clock = requireNonNull(clock, "clock");
    }

    public HealthReport check() {
        Instant checkedAt = clock.instant();
        long started = System.nanoTime();
        Duration timeout = config.probeTimeout();
        long deadline = started + timeout.plus(DEADLINE_GRACE).toNanos();
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        try {
            Future<Probed<SiteId>> site = executor.submit(() -> read(EdgeFiles.SITE_ID).flatMap(EdgeFiles::siteId));
            Future<Probed<DeviceId>> device = executor.submit(() -> read(EdgeFiles.MACHINE_ID).flatMap(DeviceId::fromMachineIdFile));
            Future<Probed<String>> hostname = executor.submit(() -> read(ProcFiles.HOSTNAME).map(String::strip));
            Future<Probed<HealthReport.ImageInfo>> image = executor.submit(() -> read(EdgeFiles.IMAGE_VERSION).flatMap(EdgeFiles::imageVersion));
            Future<Probed<Slots>> slot = executor.submit(this::slots);
            Future<Probed<Duration>> uptime = executor.submit(() -> read(ProcFiles.UPTIME).flatMap(ProcFiles::uptime));
            Future<Probed<HealthReport.DockerInfo>> docker = executor.submit(() -> tool("docker", DockerJson.INFO_ARGUMENTS)
                    .flatMap(DockerJson::parseInfo));
            String unit = config.videoIngest().unit();
            Future<Probed<HealthReport.UnitState>> videoIngestUnit = executor.submit(() -> unitState(tools, config.probeTimeout(), unit));
            String container = config.videoIngest().container();
            Future<Probed<HealthReport.ContainerInfo>> videoIngestContainer = executor.submit(() -> containerInspect(tools,
                    config.probeTimeout(), container));
            Future<Probed<List<HealthReport.GpuInfo>>> gpus = executor.submit(() -> tool("nvidia-smi", NvidiaSmi.arguments())
                    .flatMap(NvidiaSmi::parse));
            Future<Probed<HealthReport.ClockSync>> clockSync = executor.submit(() -> tool("chronyc", ChronyTracking.ARGUMENTS)
                    .flatMap(ChronyTracking::parse));
            Future<Probed<DiskUsage>> diskRoot = executor.submit(() -> disk("/"));
            Future<Probed<DiskUsage>> diskDocker = executor.submit(() -> disk(dockerRoot()));
            Future<Probed<HealthReport.MemoryInfo>> memory = executor.submit(() -> read(ProcFiles.MEMINFO).flatMap(ProcFiles::memory));
            Future<Probed<Cameras>> cameras = executor.submit(() -> cameras(timeout));
            Future<Probed<HealthReport.Updates>> updates = executor.submit(this::updates);
            Future<Probed<Reboot>> reboot = executor.submit(this::reboot);
            Future<Probed<UsbCacheInfo>> usbCache = executor.submit(this::usbCache);

            Findings findings = new Findings(await(site, deadline), await(device, deadline), await(hostname, deadline),
                    await(image, deadline), await(slot, deadline), await(uptime, deadline), await(docker, deadline),
                    await(videoIngestUnit, deadline), await(videoIngestContainer, deadline), await(gpus, deadline),
                    await(clockSync, deadline), await(diskRoot, deadline), await(diskDocker, deadline), await(memory, deadline),
                    await(cameras, deadline), await(updates, deadline), await(reboot, deadline), await(usbCache, deadline));
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            return HealthReport.of(checkedAt, took, findings, HealthEvaluator.evaluate(findings, config));
        } finally {
            // Interrupts what is still running and does not wait for it (close() would).
            executor.shutdownNow();
        }
    }

    private <T> Probed<T> await(Future<Probed<T>> future, long deadline) {
        try {
            return future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            return Probed.failed("the probe did not finish within " + config.probeTimeout().toMillis() + " ms");
        } catch (ExecutionException e) {
            return Probed.failed("the probe failed: " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Probed.failed("the probe was interrupted");
        }
    }

    /** {@code absolute} (a path on the device, like /etc/edge/site-id) under the root. */
    Path path(String absolute) {
        return root.resolve(absolute.substring(1));
    }

    private Probed<String> read(String absolute) {
        Path file = path(absolute);
        try {
            return Probed.found(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Probed.failed(file + " does not exist");
        } catch (AccessDeniedException e) {
            return Probed.failed(file + " cannot be read (permission denied; the health check runs as root)");
        } catch (IOException e) {
            return Probed.failed(file + " cannot be read: " + e.getMessage());
        }
    }

    private Probed<String> tool(String tool, List<String> arguments) {
        return ToolRunner.output(tools.run(config.probeTimeout(), tool, arguments), ToolRunner.display(tool, arguments));
    }

    /** A unit's state from {@code systemctl show}: the health probe's, and the container update's. */
    public static Probed<HealthReport.UnitState> unitState(ToolRunner tools, Duration timeout, String unit) {
        List<String> arguments = SystemctlShow.arguments(unit);
        return ToolRunner.output(tools.run(timeout, "systemctl", arguments), ToolRunner.display("systemctl", arguments))
                .flatMap(output -> SystemctlShow.parse(unit, output));
    }

    /**
     * A container from {@code docker inspect}: the health probe's, and the container update's. docker exits 1 both
     * for "no such container" and for "no daemon" (printing {@code []} either way): stderr tells them apart, so a
     * missing container is reported as such.
     */
    public static Probed<HealthReport.ContainerInfo> containerInspect(ToolRunner tools, Duration timeout, String container) {
        List<String> arguments = DockerJson.inspectArguments(container);
        ToolRunner.Outcome outcome = tools.run(timeout, "docker", arguments);
        if (outcome instanceof ToolRunner.Outcome.Exited exited && exited.exitCode() != 0 && exited.stderr().contains("No such container")) {
            return Probed.failed("there is no container named " + container);
        }
        return ToolRunner.output(outcome, ToolRunner.display("docker", arguments)).flatMap(output -> DockerJson.parseInspect(output, container));
    }

    private Probed<Slots> slots() {
        Optional<String> booted = read(EdgeFiles.KERNEL_COMMAND_LINE).found().flatMap(EdgeFiles::bootedSlot);
        Optional<String> committed = read(EdgeFiles.COMMITTED_SLOT).found().flatMap(EdgeFiles::committedSlot);
        return Probed.found(new Slots(booted, committed));
    }

    /** Docker's data root: {@code data-root} of daemon.json (dockerd(8)), else /var/lib/docker. */
    private String dockerRoot() {
        return read(DOCKER_DAEMON_CONFIG).found().flatMap(text -> {
            try {
                JsonNode node = new ObjectMapper().readTree(text).path("data-root");
                return node.isTextual() && node.asText().startsWith("/") ? Optional.of(node.asText()) : Optional.empty();
            } catch (IOException e) {
                return Optional.empty();
            }
        }).orElse(DOCKER_DEFAULT_ROOT);
    }

    private Probed<DiskUsage> disk(String absolute) {
        Path folder = absolute.equals("/") ? root : path(absolute);
        if (!Files.isDirectory(folder)) {
            return Probed.failed(folder + " does not exist" + (absolute.equals("/") ? "" : " (is Docker installed?)"));
        }
        try {
            FileStore store = Files.getFileStore(folder);
            long total = store.getTotalSpace();
            long free = store.getUnallocatedSpace();
            return Probed.found(new DiskUsage(absolute, total, total - free, store.getUsableSpace()));
        } catch (IOException e) {
            return Probed.failed("the file system of " + folder + " cannot be read: " + e.getMessage());
        }
    }

    private Probed<Cameras> cameras(Duration budget) {
        Probed<List<CameraAddress>> configured;
        String source;
        if (!config.cameras().addresses().isEmpty()) {
            source = "health config";
            configured = Probed.found(config.cameras().addresses().stream()
                    .map(address -> CameraProbe.parse(address, EdgeFiles.RTSP_DEFAULT_PORT)).toList());
        } else {
            source = path(EdgeFiles.VIDEO_INGEST_ENV).toString();
            configured = read(EdgeFiles.VIDEO_INGEST_ENV).flatMap(EdgeFiles::cameras);
        }
        return configured.map(addresses -> new Cameras(source,
                CameraProbe.probe(addresses, config.cameras().connectTimeout(), config.cameras().parallelism(), budget)));
    }

    private Probed<HealthReport.Updates> updates() {
        Path file = path(UpdateNotifier.UPDATES_AVAILABLE);
        try {
            Instant countedAt = Files.getLastModifiedTime(file).toInstant();
            return UpdateNotifier.parse(Files.readString(file, StandardCharsets.UTF_8), countedAt);
        } catch (NoSuchFileException e) {
            return Probed.failed("not counted here: " + file + " does not exist (update-notifier-common counts pending updates on Ubuntu)");
        } catch (IOException e) {
            return Probed.failed(file + " cannot be read: " + e.getMessage());
        }
    }

    private Probed<Reboot> reboot() {
        if (!Files.exists(path(UpdateNotifier.REBOOT_REQUIRED))) {
            return Probed.found(new Reboot(false, List.of()));
        }
        List<String> packages = read(UpdateNotifier.REBOOT_REQUIRED_PACKAGES).found()
                .map(text -> text.lines().map(String::strip).filter(line -> !line.isEmpty()).distinct().toList())
                .orElse(List.of());
        return Probed.found(new Reboot(true, packages));
    }

    private Probed<UsbCacheInfo> usbCache() {
        String dir = config.usbCache().dir();
        Path folder = dir.startsWith("/") ? path(dir) : root.resolve(dir);
        if (!Files.isDirectory(folder)) {
            return Probed.found(new UsbCacheInfo(folder.toString(), false, List.of()));
        }
        try {
            return Probed.found(new UsbCacheInfo(folder.toString(), true, UsbCache.releasesIn(folder).stream()
                    .map(release -> new CachedImage(release.name(), release.version()))
                    .sorted(Comparator.comparing(CachedImage::version).reversed()).toList()));
        } catch (RuntimeException e) {
            return Probed.failed(folder + " cannot be listed: " + e.getMessage());
        }
    }

}
