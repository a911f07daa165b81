package dev.ingot.health;

import dev.ingot.health.HealthReport.CachedImage;
import dev.ingot.health.HealthReport.Camera;
import dev.ingot.health.HealthReport.Cameras;
import dev.ingot.health.HealthReport.DiskUsage;
import dev.ingot.health.HealthReport.Findings;
import dev.ingot.health.HealthReport.MemoryInfo;
import dev.ingot.health.HealthReport.Reboot;
import dev.ingot.health.HealthReport.Slots;
import dev.ingot.health.HealthReport.Updates;
import dev.ingot.health.HealthReport.UsbCacheInfo;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.testing.Fixtures;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** A healthy T4 device's findings, parsed from the fixtures as the probes would, to change one part at a time. */
final class SampleFindings {
    static final Instant CHECKED_AT = Instant.parse("2026-11-26T01:00:00Z");
    static final long GIB = 1L << 30;

    private SampleFindings() {}

    static Findings healthy() {
        return new Findings(
                EdgeFiles.siteId("SITE-2847\n"),
                DeviceId.fromMachineIdFile("3d1219c7c4c5404aaa1f6d2a48adfda4\n"),
                Probed.found("edge-site-2847"),
                EdgeFiles.imageVersion(dev.ingot.image.Manifest.imageVersionFile(ImageName.DEFAULT, ImageVersion.parse("v1.4"),
                        Instant.parse("2026-11-20T09:30:00Z"))),
                Probed.found(new Slots(Optional.of("a"), Optional.of("a"))),
                Probed.found(Duration.ofSeconds(356_400)),
                DockerJson.parseInfo(Fixtures.recording("written/docker-info").stdout()),
                SystemctlShow.parse("video-ingest.service", Fixtures.recording("written/systemctl-show-active").stdout()),
                DockerJson.parseInspect(Fixtures.recording("written/docker-inspect-running").stdout(), "video-ingest"),
                NvidiaSmi.parse(Fixtures.recording("written/nvidia-smi-t4").stdout()),
                ChronyTracking.parse(Fixtures.recording("written/chronyc-tracking-synchronised").stdout()),
                Probed.found(new DiskUsage("/", 100 * GIB, 41 * GIB, 54 * GIB)),
                Probed.found(new DiskUsage("/var/lib/docker", 400 * GIB, 120 * GIB, 260 * GIB)),
                Probed.found(new MemoryInfo(32 * GIB, 21 * GIB)),
                Probed.found(new Cameras("/etc/edge/video-ingest.env", List.of(
                        new Camera("10.28.47.21", 8554, true, OptionalLong.of(3), Optional.empty()),
                        new Camera("10.28.47.22", 8554, true, OptionalLong.of(4), Optional.empty())))),
                UpdateNotifier.parse("\n0 updates can be applied immediately.\n\n", Instant.parse("2026-11-26T00:17:12Z")),
                Probed.found(new Reboot(false, List.of())),
                Probed.found(new UsbCacheInfo("/media/usb/ingot", true, List.of(
                        new CachedImage(ImageName.DEFAULT, ImageVersion.parse("v1.4")),
                        new CachedImage(ImageName.DEFAULT, ImageVersion.parse("v1.3"))))));
    }

    static HealthReport report(Findings findings) {
        return HealthReport.of(CHECKED_AT, Duration.ofMillis(312), findings, HealthEvaluator.evaluate(findings, HealthConfig.DEFAULTS));
    }

    /** Findings where every probe failed, as on a host with nothing of a device (nothing readable, no tool). */
    static Findings nothing() {
        return new Findings(Probed.failed("/etc/edge/site-id does not exist"), Probed.failed("/etc/machine-id does not exist"),
                Probed.failed("/proc/sys/kernel/hostname does not exist"), Probed.failed("/etc/edge/image-version does not exist"),
                Probed.failed("the probe did not finish within 1500 ms"), Probed.failed("/proc/uptime does not exist"),
                Probed.failed("docker is not installed (not found on PATH)"), Probed.failed("systemctl is not installed (not found on PATH)"),
                Probed.failed("docker is not installed (not found on PATH)"), Probed.failed("nvidia-smi is not installed (not found on PATH)"),
                Probed.failed("chronyc is not installed (not found on PATH)"), Probed.failed("/ cannot be read"),
                Probed.failed("/var/lib/docker does not exist (is Docker installed?)"), Probed.failed("/proc/meminfo does not exist"),
                Probed.failed("/etc/edge/video-ingest.env does not exist"), Probed.failed("not counted here"),
                Probed.failed("the probe did not finish within 1500 ms"), Probed.failed("/media/usb/ingot cannot be listed"));
    }
}
