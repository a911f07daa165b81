package dev.ingot.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.health.HealthReport.Camera;
import dev.ingot.health.HealthReport.Cameras;
import dev.ingot.health.HealthReport.DiskUsage;
import dev.ingot.health.HealthReport.Findings;
import dev.ingot.health.HealthReport.Slots;
import dev.ingot.testing.Fixtures;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class HealthEvaluatorTest {
    private static List<Check> evaluate(Findings findings) {
        return HealthEvaluator.evaluate(findings, HealthConfig.DEFAULTS);
    }

    private static Check check(List<Check> checks, String name) {
        return checks.stream().filter(check -> check.name().equals(name)).findFirst().orElseThrow();
    }


    @Test
    void aHealthyT4DevicePassesEveryCheckInTheDocumentedOrder() {
        List<Check> checks = evaluate(SampleFindings.healthy());

        assertThat(checks).extracting(Check::name).containsExactlyElementsOf(HealthEvaluator.NAMES);
        assertThat(checks).allSatisfy(check -> assertThat(check.status()).as(check.toString()).isEqualTo(Check.Status.OK));
        assertThat(HealthStatus.rollUp(checks)).isEqualTo(HealthStatus.HEALTHY);
        assertThat(check(checks, "image").reason()).isEqualTo("edge-golden v1.4 built 2026-11-20T09:30:00Z");
        assertThat(check(checks, "video_ingest_container").reason())
                .isEqualTo("container video-ingest runs 123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest:2.8.1");
        assertThat(check(checks, "gpu").reason()).isEqualTo("1 GPU(s): Tesla T4 (driver 535.216.03)");
        assertThat(check(checks, "clock").reason()).isEqualTo("offset 0.022 ms, stratum 3, reference 0A1C2F01 (10.28.47.1), leap status Normal");
    }

    @Test
    void aHotT4WithUncorrectedEccErrorsIsUnhealthyAndItsFullMemoryOnlyWarns() {
        Findings findings = SampleFindings.healthy();
        findings = new Findings(findings.site(), findings.device(), findings.hostname(), findings.image(), findings.slot(), findings.uptime(),
                findings.docker(), findings.videoIngestUnit(), findings.videoIngestContainer(),
                NvidiaSmi.parse(Fixtures.recording("written/nvidia-smi-t4-hot").stdout()), findings.clock(), findings.diskRoot(),
                findings.diskDocker(), findings.memory(), findings.cameras(), findings.updates(), findings.reboot(), findings.usbCache());

        List<Check> checks = evaluate(findings);

        assertThat(check(checks, "gpu_temperature")).isEqualTo(Check.fail("gpu_temperature", true, "GPU 0 at 91 °C, at or above 90 °C"));
        assertThat(check(checks, "gpu_ecc")).isEqualTo(Check.fail("gpu_ecc", true,
                "GPU 0: 2 uncorrected ECC error(s) since the driver loaded (the GPU needs a reset)"));
        assertThat(check(checks, "gpu_memory").status()).isEqualTo(Check.Status.WARN);
        assertThat(check(checks, "gpu_memory").reason()).isEqualTo("GPU 0 memory 97% used (14902 of 15360 MiB), at or above 95%");
        assertThat(HealthStatus.rollUp(checks)).isEqualTo(HealthStatus.UNHEALTHY);
    }

    @Test
    void aSecondT4WithoutEccOrReadingsIsJudgedOnWhatItReports() {
        Findings base = SampleFindings.healthy();
        Findings findings = new Findings(base.site(), base.device(), base.hostname(), base.image(), base.slot(), base.uptime(), base.docker(),
                base.videoIngestUnit(), base.videoIngestContainer(), NvidiaSmi.parse(Fixtures.recording("written/nvidia-smi-two-t4").stdout()),
                base.clock(), base.diskRoot(), base.diskDocker(), base.memory(), base.cameras(), base.updates(), base.reboot(), base.usbCache());

        List<Check> checks = evaluate(findings);

        assertThat(check(checks, "gpu").reason()).isEqualTo("2 GPU(s): Tesla T4 (driver 535.216.03), Tesla T4 (driver 535.216.03)");
        assertThat(check(checks, "gpu_temperature").reason()).isEqualTo("GPU 0 at 48 °C, GPU 1 at 46 °C");
        assertThat(check(checks, "gpu_ecc").reason()).isEqualTo("GPU 0: 0 uncorrected ECC error(s) since the driver loaded");
        assertThat(HealthStatus.rollUp(checks)).isEqualTo(HealthStatus.HEALTHY);
    }

    @Test
    void aHostWithNothingOfADeviceIsUnhealthyAndEveryCheckSaysWhy() {
        List<Check> checks = evaluate(SampleFindings.nothing());

        assertThat(checks).extracting(Check::name).containsExactlyElementsOf(HealthEvaluator.NAMES);
        assertThat(checks).allSatisfy(check -> assertThat(check.reason()).isNotBlank());
        assertThat(check(checks, "gpu")).isEqualTo(Check.fail("gpu", true, "nvidia-smi is not installed (not found on PATH)"));
        assertThat(check(checks, "gpu_temperature").status()).isEqualTo(Check.Status.SKIP);
        assertThat(check(checks, "docker")).isEqualTo(Check.fail("docker", true, "docker is not installed (not found on PATH)"));
        assertThat(check(checks, "security_updates").status()).isEqualTo(Check.Status.SKIP);
        assertThat(HealthStatus.rollUp(checks)).isEqualTo(HealthStatus.UNHEALTHY);
    }

    @Test
    void onlyNonCriticalTroubleIsDegraded() {
        Findings base = SampleFindings.healthy();
        Findings findings = new Findings(base.site(), base.device(), base.hostname(), base.image(),
                Probed.found(new Slots(Optional.of("b"), Optional.of("a"))), base.uptime(), base.docker(), base.videoIngestUnit(),
                base.videoIngestContainer(), base.gpus(), ChronyTracking.parse(Fixtures.recording(
                        "recorded/debian12-no-gpu/chronyc-tracking-local").stdout()), base.diskRoot(), base.diskDocker(), base.memory(),
                Probed.found(new Cameras("/etc/edge/video-ingest.env", List.of(
                        new Camera("10.28.47.21", 8554, true, OptionalLong.of(3), Optional.empty()),
                        new Camera("10.28.47.22", 8554, false, OptionalLong.empty(), Optional.of("connection refused"))))),
                base.updates(), Probed.found(new HealthReport.Reboot(true, List.of("linux-image-5.15.0-127-generic"))), base.usbCache());

        List<Check> checks = evaluate(findings);

        assertThat(check(checks, "ab_slot").reason()).isEqualTo("booted slot b but slot a is committed (an update awaits its commit, or the device fell back)");
        assertThat(check(checks, "clock").status()).isEqualTo(Check.Status.WARN);
        assertThat(check(checks, "clock").reason()).startsWith("chronyd follows only the local clock");
        assertThat(check(checks, "cameras")).isEqualTo(Check.warn("cameras", false,
                "1 of 2 camera(s) reachable: 10.28.47.22:8554 connection refused"));
        assertThat(check(checks, "reboot_required").reason()).startsWith("a reboot is required by linux-image-5.15.0-127-generic");
        assertThat(HealthStatus.rollUp(checks)).isEqualTo(HealthStatus.DEGRADED);
    }

    @Test
    void diskThresholdsWarnThenFailAsDfCountsUse() {
        Findings base = SampleFindings.healthy();
        long gib = SampleFindings.GIB;
        Findings nearlyFull = new Findings(base.site(), base.device(), base.hostname(), base.image(), base.slot(), base.uptime(), base.docker(),
                base.videoIngestUnit(), base.videoIngestContainer(), base.gpus(), base.clock(),
                Probed.found(new DiskUsage("/", 100 * gib, 91 * gib, 4 * gib)), Probed.found(new DiskUsage("/var/lib/docker", 100 * gib,
                        86 * gib, 14 * gib)), base.memory(), base.cameras(), base.updates(), base.reboot(), base.usbCache());

        List<Check> checks = evaluate(nearlyFull);

        assertThat(check(checks, "disk_root")).isEqualTo(Check.fail("disk_root", true, "/ 95.8% used, 4.0 GiB available, at or above 95%"));
        assertThat(check(checks, "disk_docker").status()).isEqualTo(Check.Status.WARN);
        assertThat(HealthStatus.rollUp(checks)).isEqualTo(HealthStatus.UNHEALTHY);
    }

    @Test
    void theRollUpIgnoresSkippedChecks() {
        assertThat(HealthStatus.rollUp(List.of(Check.ok("a", true, "fine"), Check.skip("b", true, "n/a")))).isEqualTo(HealthStatus.HEALTHY);
        assertThat(HealthStatus.rollUp(List.of(Check.fail("a", false, "x")))).isEqualTo(HealthStatus.DEGRADED);
        assertThat(HealthStatus.rollUp(List.of(Check.warn("a", true, "x")))).isEqualTo(HealthStatus.DEGRADED);
        assertThat(HealthStatus.rollUp(List.of(Check.warn("a", false, "x"), Check.fail("b", true, "y")))).isEqualTo(HealthStatus.UNHEALTHY);
    }
}
