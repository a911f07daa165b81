package dev.ingot.sim;

import dev.ingot.boot.Slot;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthConfig;
import dev.ingot.health.HealthEvaluator;
import dev.ingot.health.HealthReport;
import dev.ingot.health.HealthReport.Findings;
import dev.ingot.health.Probed;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.ContainerImage;
import dev.ingot.site.SiteId;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The health probes of a simulated device: findings like those a T4 edge device's probes make, built from the
 * simulation's state and judged by the real {@link HealthEvaluator}, so that the agent and the control plane see
 * the same report structure and the same checks as from a real device.
 */
final class SimulatedHealth {
    private static final long GIB = 1L << 30;
    private static final Instant BUILD_DATE = Instant.parse("2026-11-20T09:30:00Z");

    private SimulatedHealth() {}

    /** What a simulated device is like at the moment of the check. */
    record Device(SiteId site, int index, ImageVersion version, Slot booted, Slot committed, Optional<ContainerImage> container,
            boolean containerRunning, boolean gpuWorks, boolean diskRoom, int securityUpdates, boolean rebootRequired,
            List<ImageVersion> cached, int boots) {}

    static HealthReport report(Instant now, Device device) {
        Probed<List<HealthReport.GpuInfo>> gpus = device.gpuWorks() ? Probed.found(List.of(t4(device.index())))
                : Probed.failed("nvidia-smi exited 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver");
        Findings findings = new Findings(
                Probed.found(device.site()),
                Probed.found(machineId(device.site(), device.index())),
                Probed.found("edge-" + device.site().value().toLowerCase(java.util.Locale.ROOT) + "-" + device.index()),
                Probed.found(new HealthReport.ImageInfo(ImageName.DEFAULT, device.version(), BUILD_DATE)),
                Probed.found(new HealthReport.Slots(Optional.of(device.booted().letter()), Optional.of(device.committed().letter()))),
                Probed.found(Duration.ofHours(1)),
                Probed.found(new HealthReport.DockerInfo("27.3.1", "/var/lib/docker", "overlay2", "nvidia", List.of("nvidia", "runc"),
                        device.containerRunning() ? 1 : 0, 3, List.of())),
                Probed.found(unit(device.containerRunning())),
                device.container().<Probed<HealthReport.ContainerInfo>>map(image -> Probed.found(container(image, device.containerRunning(), now)))
                        .orElseGet(() -> Probed.failed("there is no container named video-ingest")),
                gpus,
                Probed.found(new HealthReport.ClockSync("0A1C2F01", "10.28.47.1", 3, now.minusSeconds(30), 0.0001, 0.0001, 0.0002,
                        -12.5, 0.05, 0.002, 0.001, 64, "Normal")),
                Probed.found(new HealthReport.DiskUsage("/", 100 * GIB, device.diskRoom() ? 41 * GIB : 97 * GIB,
                        device.diskRoom() ? 54 * GIB : 0)),
                Probed.found(new HealthReport.DiskUsage("/var/lib/docker", 400 * GIB, 120 * GIB, 260 * GIB)),
                Probed.found(new HealthReport.MemoryInfo(32 * GIB, 21 * GIB)),
                Probed.found(new HealthReport.Cameras("/etc/edge/video-ingest.env", List.of(
                        new HealthReport.Camera("10.28.47.21", 8554, true, OptionalLong.of(3), Optional.empty())))),
                Probed.found(new HealthReport.Updates(device.securityUpdates(), device.securityUpdates(), now)),
                Probed.found(new HealthReport.Reboot(device.rebootRequired(), device.rebootRequired() ? List.of("linux-image-5.15.0-126-generic")
                        : List.of())),
                Probed.found(new HealthReport.UsbCacheInfo("/media/usb/ingot", true, device.cached().stream()
                        .map(version -> new HealthReport.CachedImage(ImageName.DEFAULT, version)).toList())));
        return HealthReport.of(now, Duration.ofMillis(1), findings, HealthEvaluator.evaluate(findings, HealthConfig.DEFAULTS));
    }

    static HealthReport.UnitState unit(boolean running) {
        return running ? new HealthReport.UnitState("video-ingest.service", "loaded", "active", "running", Optional.of("success"), OptionalLong.of(0))
                : new HealthReport.UnitState("video-ingest.service", "loaded", "activating", "auto-restart", Optional.of("exit-code"), OptionalLong.of(4));
    }

    static HealthReport.ContainerInfo container(ContainerImage image, boolean running, Instant now) {
        return new HealthReport.ContainerInfo("video-ingest", image.toString(), image.repository(), Optional.of(image.tag()), Optional.empty(),
                "sha256:" + "0".repeat(64), running ? "running" : "restarting", running, running ? 0 : 4,
                Optional.of(now.minusSeconds(60)));
    }

    /** A stable machine id per simulated device, 32 hex digits as machine-id(5) has them. */
    static DeviceId machineId(SiteId site, int index) {
        byte[] bytes = new byte[16];
        long a = site.value().hashCode() * 0x9E3779B97F4A7C15L;
        long b = (index + 1) * 0xC2B2AE3D27D4EB4FL;
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (a >>> (8 * i));
            bytes[8 + i] = (byte) (b >>> (8 * i));
        }
        return new DeviceId(HexFormat.of().formatHex(bytes));
    }

    private static HealthReport.GpuInfo t4(int index) {
        return new HealthReport.GpuInfo(0, "GPU-" + String.format("%08x", index) + "-0000-0000-0000-000000000000", "Tesla T4", "535.183.01",
                "00000000:00:1E.0", OptionalLong.of(52), OptionalLong.of(35), OptionalLong.of(20), OptionalLong.of(15360),
                OptionalLong.of(4200), OptionalLong.of(11160), OptionalDouble.of(31.5), OptionalDouble.of(70.0), Optional.of("Enabled"),
                OptionalLong.of(0), OptionalLong.of(0), OptionalLong.of(1590), OptionalLong.of(5000), Optional.of("P0"), OptionalLong.empty(),
                Optional.of("90.04.96.00.02"));
    }
}
