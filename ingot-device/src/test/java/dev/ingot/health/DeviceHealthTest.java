package dev.ingot.health;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.image.ImageName;
import dev.ingot.image.ImageScanner;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.Manifest;
import dev.ingot.image.Publisher;
import dev.ingot.progress.Progress;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.FakeTools;
import dev.ingot.testing.Fixtures;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The probes together, on a device root built in a temporary folder and with fake tools on PATH that serve
 * recorded and documented outputs, including their failures: a missing binary, a non-zero exit, garbage, a hang.
 */
class DeviceHealthTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-26T01:00:00Z"), ZoneOffset.UTC);
    private static final HealthConfig QUICK = new HealthConfig(Duration.ofMillis(400), HealthConfig.DEFAULTS.gpu(),
            HealthConfig.DEFAULTS.clock(), HealthConfig.DEFAULTS.disk(), HealthConfig.DEFAULTS.memory(), HealthConfig.DEFAULTS.cameras(),
            HealthConfig.DEFAULTS.updates(), HealthConfig.DEFAULTS.usbCache(), HealthConfig.DEFAULTS.videoIngest());

    @TempDir
    Path folder;

    private Path root;
    private FakeTools tools;
    private ServerSocket camera;

    @BeforeEach
    void aHealthyDevice() throws IOException {
        root = folder.resolve("root");
        camera = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        write("etc/edge/site-id", "SITE-2847\n");
        write("etc/machine-id", "3d1219c7c4c5404aaa1f6d2a48adfda4\n");
        write("proc/sys/kernel/hostname", "edge-site-2847\n");
        write("etc/edge/image-version", Manifest.imageVersionFile(ImageName.DEFAULT, ImageVersion.parse("v1.4"),
                Instant.parse("2026-11-20T09:30:00Z")));
        write("proc/cmdline", "BOOT_IMAGE=/vmlinuz-5.15.0-126-generic root=LABEL=root-a ro quiet ingot.slot=a\n");
        String grubenv = "# GRUB Environment Block\nsaved_entry=ingot-a\n";
        write("boot/efi/EFI/ubuntu/grubenv", grubenv + "#".repeat(1024 - grubenv.length()));
        write("proc/uptime", "356400.12 1400000.00\n");
        write("proc/meminfo", "MemTotal:       32768000 kB\nMemFree:         1000000 kB\nMemAvailable:   21000000 kB\n");
        write("etc/edge/video-ingest.env", "SITE_ID=SITE-2847\nCAMERA_IPS=127.0.0.1\nCAMERA_RTSP_PORT=" + camera.getLocalPort()
                + "\nAPI_KEY=sk-live-7d1c0ffee-do-not-print\n");
        write("var/lib/update-notifier/updates-available", "\n0 updates can be applied immediately.\n\n");
        Files.createDirectories(root.resolve("var/lib/docker"));
        cacheReleases("v1.3", "v1.4");
        tools = FakeTools.in(folder.resolve("tools"))
                .answer("nvidia-smi", NvidiaSmi.arguments(), Fixtures.recording("written/nvidia-smi-t4"))
                .answer("docker", DockerJson.INFO_ARGUMENTS, Fixtures.recording("written/docker-info"))
                .answer("docker", DockerJson.inspectArguments("video-ingest"), Fixtures.recording("written/docker-inspect-running"))
                .answer("systemctl", SystemctlShow.arguments("video-ingest.service"), Fixtures.recording("written/systemctl-show-active"))
                .answer("chronyc", ChronyTracking.ARGUMENTS, Fixtures.recording("written/chronyc-tracking-synchronised"));
    }

    @AfterEach
    void closeCamera() throws IOException {
        camera.close();
    }

    private void write(String path, String content) throws IOException {
        Path file = root.resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content, UTF_8);
    }

    /** Real releases, published with the test key; the USB cache holds their files as `ingot image pull` leaves them. */
    private void cacheReleases(String... versions) throws IOException {
        FolderStore store = new FolderStore(folder.resolve("store"));
        SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        Path usb = Files.createDirectories(root.resolve("media/usb/ingot"));
        for (String version : versions) {
            Path image = SparseImages.create(folder.resolve(version + ".img"), 1L << 20, version.hashCode(), new SparseImages.Region(0, 8192));
            new Publisher(store, key, CLOCK, Progress.NONE).publish(new Publisher.Request(image, ImageName.DEFAULT, ImageVersion.parse(version),
                    Optional.empty(), false, Optional.empty(), new ImageScanner.Compression(3, 1), ImageScanner.DEFAULT_BLOCK_SIZE));
            String manifest = "edge-golden-" + version + ".manifest.json";
            Files.copy(folder.resolve("store/golden-images/" + manifest), usb.resolve(manifest));
        }
    }

    private HealthReport check(HealthConfig config) {
        long started = System.nanoTime();
        HealthReport report = new DeviceHealth(root, config, new ToolRunner(Map.of("PATH", tools.path())), CLOCK).check();
        System.out.printf("health check: %d ms wall, took_ms %d, status %s%n", (System.nanoTime() - started) / 1_000_000,
                report.took().toMillis(), report.status().json());
        return report;
    }

    private static Check check(HealthReport report, String name) {
        return report.checks().stream().filter(check -> check.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void aHealthyDeviceReadsItsFilesAndToolsAndPassesEveryCheck() {
        HealthReport report = check(HealthConfig.DEFAULTS);

        assertThat(report.checks()).allSatisfy(check -> assertThat(check.status()).as(check.toString()).isEqualTo(Check.Status.OK));
        assertThat(report.status()).isEqualTo(HealthStatus.HEALTHY);
        HealthReport.Findings findings = report.findings();
        assertThat(findings.site().found().orElseThrow().value()).isEqualTo("SITE-2847");
        assertThat(findings.device().found().orElseThrow().value()).isEqualTo("3d1219c7c4c5404aaa1f6d2a48adfda4");
        assertThat(findings.hostname().found()).hasValue("edge-site-2847");
        assertThat(findings.image().found().orElseThrow().version().toString()).isEqualTo("v1.4");
        assertThat(findings.slot().found()).hasValue(new HealthReport.Slots(Optional.of("a"), Optional.of("a")));
        assertThat(findings.uptime().found()).hasValue(Duration.ofMillis(356_400_120));
        assertThat(findings.videoIngestContainer().found().orElseThrow().tag()).hasValue("2.8.1");
        assertThat(findings.gpus().found().orElseThrow()).extracting(HealthReport.GpuInfo::name).containsExactly("Tesla T4");
        assertThat(findings.cameras().found().orElseThrow().reachable()).isEqualTo(1);
        assertThat(findings.updates().found().orElseThrow().pending()).isZero();
        assertThat(findings.usbCache().found().orElseThrow().images()).extracting(image -> image.version().toString())
                .containsExactly("v1.4", "v1.3");
        assertThat(findings.diskDocker().found().orElseThrow().path()).isEqualTo("/var/lib/docker");
        assertThat(new String(HealthReportJson.write(report), UTF_8)).doesNotContain("sk-live");
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"recorded/nvidia-h100", "recorded/nvidia-h200"})
    void theRealNvidiaSmiOutputsRecordedOnGpuHostsPassTheGpuChecks(String recording) {
        tools.answer("nvidia-smi", NvidiaSmi.arguments(), Fixtures.text(recording + "/query-gpu-csv-noheader-nounits.txt"));

        HealthReport report = check(HealthConfig.DEFAULTS);

        assertThat(check(report, "gpu").reason()).startsWith("1 GPU(s): NVIDIA H").endsWith("(driver 580.159.04)");
        assertThat(check(report, "gpu_temperature").status()).isEqualTo(Check.Status.OK);
        assertThat(check(report, "gpu_ecc").status()).isEqualTo(Check.Status.OK);
        assertThat(report.status()).isEqualTo(HealthStatus.HEALTHY);
    }

    @Test
    void aMissingBinaryFailsItsChecksAndNothingElse() {
        tools = FakeTools.in(folder.resolve("fewer-tools"))
                .answer("docker", DockerJson.INFO_ARGUMENTS, Fixtures.recording("written/docker-info"))
                .answer("docker", DockerJson.inspectArguments("video-ingest"), Fixtures.recording("written/docker-inspect-running"))
                .answer("systemctl", SystemctlShow.arguments("video-ingest.service"), Fixtures.recording("written/systemctl-show-active"));

        HealthReport report = check(HealthConfig.DEFAULTS);

        assertThat(check(report, "gpu")).isEqualTo(Check.fail("gpu", true, "nvidia-smi is not installed (not found on PATH)"));
        assertThat(check(report, "clock")).isEqualTo(Check.fail("clock", false, "chronyc is not installed (not found on PATH)"));
        assertThat(check(report, "docker").status()).isEqualTo(Check.Status.OK);
        assertThat(report.status()).isEqualTo(HealthStatus.UNHEALTHY);
    }

    @Test
    void aToolsNonZeroExitIsReportedWithWhatItSaid() {
        tools = FakeTools.in(folder.resolve("no-driver"))
                .answer("nvidia-smi", NvidiaSmi.arguments(), Fixtures.recording("written/nvidia-smi-no-driver"));

        HealthReport report = check(HealthConfig.DEFAULTS);

        assertThat(check(report, "gpu").reason()).isEqualTo("nvidia-smi --query-gpu=index,uuid,name,driver_version,pci.bus_id,temper… --format=csv,noheader,nounits"
                + " exited 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA"
                + " driver is installed and running.");
    }

    @Test
    void garbageOutputIsReportedAsUnreadable() {
        tools = FakeTools.in(folder.resolve("garbage"))
                .always("chronyc", "\u0000\u0001 segfault at 0000 ip 00007f\n", 0)
                .always("nvidia-smi", "0, GPU-x, Tesla T4\n", 0)
                .always("docker", "<html>502 Bad Gateway</html>\n", 0);

        HealthReport report = check(HealthConfig.DEFAULTS);

        assertThat(check(report, "clock").reason()).startsWith("chronyc printed 1 value where 14 were expected");
        assertThat(check(report, "gpu").reason()).isEqualTo("nvidia-smi printed a line of 3 values where 21 were asked for: '0, GPU-x, Tesla T4'");
        assertThat(check(report, "docker").reason()).isEqualTo("docker info printed something that is not JSON: '<html>502 Bad Gateway</html>'");
        assertThat(check(report, "video_ingest_container").reason()).startsWith("docker inspect printed something that is not JSON");
    }

    // The @Timeout guards against a regression that hangs the build; it is no performance bound (bench/health.sh measures).
    @Test
    @Timeout(60)
    void hungToolsAreKilledAtTheProbeTimeoutAndTheReportIsComplete() {
        tools = FakeTools.in(folder.resolve("hung")).hang("nvidia-smi").hang("docker")
                .answer("systemctl", SystemctlShow.arguments("video-ingest.service"), Fixtures.recording("written/systemctl-show-active"))
                .answer("chronyc", ChronyTracking.ARGUMENTS, Fixtures.recording("written/chronyc-tracking-synchronised"));

        HealthReport report = check(QUICK);

        assertThat(check(report, "gpu").reason()).endsWith("did not finish within 400 ms and was killed");
        assertThat(check(report, "docker").reason()).isEqualTo("docker info --format '{{json .}}' did not finish within 400 ms and was killed");
        assertThat(check(report, "video_ingest_container").reason()).endsWith("did not finish within 400 ms and was killed");
        assertThat(check(report, "video_ingest_unit").status()).isEqualTo(Check.Status.OK);
        assertThat(check(report, "clock").status()).isEqualTo(Check.Status.OK);
        assertThat(report.checks()).extracting(Check::name).containsExactlyElementsOf(HealthEvaluator.NAMES);
    }

    /**
     * The report's time bound with every tool hung for an hour: at least the probe timeout (the probes really waited for
     * their tools), and at most the timeout and the deadline's grace plus a generous allowance for a loaded machine —
     * structurally far from the hour a report that waited for its tools would take. Two timeouts, so the bound is seen to
     * follow the configured one. (bench/health.sh measures the real margin.)
     */
    @ParameterizedTest
    @ValueSource(ints = {300, 1200})
    @Timeout(120)
    void everyToolHungCostsTheReportTheProbeTimeoutNotTheHang(int timeoutMillis) {
        tools = FakeTools.in(folder.resolve("hung")).hang("nvidia-smi").hang("docker").hang("systemctl").hang("chronyc");
        Duration timeout = Duration.ofMillis(timeoutMillis);
        HealthConfig config = new HealthConfig(timeout, HealthConfig.DEFAULTS.gpu(), HealthConfig.DEFAULTS.clock(), HealthConfig.DEFAULTS.disk(),
                HealthConfig.DEFAULTS.memory(), HealthConfig.DEFAULTS.cameras(), HealthConfig.DEFAULTS.updates(), HealthConfig.DEFAULTS.usbCache(),
                HealthConfig.DEFAULTS.videoIngest());

        HealthReport report = check(config);

        Duration allowanceForALoadedMachine = Duration.ofSeconds(20);
        assertThat(report.took()).isGreaterThanOrEqualTo(timeout)
                .isLessThan(timeout.plus(DeviceHealth.DEADLINE_GRACE).plus(allowanceForALoadedMachine));
        assertThat(List.of(check(report, "gpu"), check(report, "docker"), check(report, "clock"), check(report, "video_ingest_unit")))
                // Killed by ToolRunner at the timeout, or, where the kill took longer than the grace, left behind at the deadline.
                .allSatisfy(hung -> assertThat(hung.reason()).contains("did not finish within " + timeoutMillis + " ms"));
        assertThat(report.checks()).extracting(Check::name).containsExactlyElementsOf(HealthEvaluator.NAMES);
    }

    @Test
    @Timeout(60)
    void aFileReadThatNeverReturnsIsLeftBehindAtTheDeadline() throws IOException {
        Path siteId = root.resolve("etc/edge/site-id");
        Files.delete(siteId);
        // A FIFO with no writer: opening it blocks forever, as a read on a dead NFS or USB mount would.
        Tools.succeed(folder, "mkfifo", siteId.toString());

        HealthReport report = check(QUICK);

        assertThat(report.findings().site().failure()).hasValue("the probe did not finish within 400 ms");
        assertThat(check(report, "identity").reason()).isEqualTo("the probe did not finish within 400 ms");
        assertThat(check(report, "gpu").status()).isEqualTo(Check.Status.OK);
        // Release the probe left behind: a writer that opens and closes the FIFO gives it end-of-file.
        Tools.run(folder, "timeout", "5", "sh", "-c", ": > '" + siteId + "'");
    }

    @Test
    void theRealRecordingsOfAHostWithoutDaemonsAreQuotedInTheReasons() {
        tools = FakeTools.in(folder.resolve("debian"))
                .answer("docker", DockerJson.INFO_ARGUMENTS, Fixtures.recording("recorded/debian12-no-gpu/docker-info"))
                .answer("docker", DockerJson.inspectArguments("video-ingest"), Fixtures.recording("recorded/debian12-no-gpu/docker-inspect"))
                .answer("systemctl", SystemctlShow.arguments("video-ingest.service"), Fixtures.recording("recorded/debian12-no-gpu/systemctl-show"))
                .answer("chronyc", ChronyTracking.ARGUMENTS, Fixtures.recording("recorded/debian12-no-gpu/chronyc-no-daemon"));

        HealthReport report = check(HealthConfig.DEFAULTS);

        assertThat(check(report, "docker").reason()).isEqualTo("docker info --format '{{json .}}' exited 1: Cannot connect to the Docker daemon"
                + " at unix:///var/run/docker.sock. Is the docker daemon running?");
        assertThat(check(report, "video_ingest_container").reason()).startsWith("docker inspect --type container video-ingest exited 1: Cannot connect");
        assertThat(check(report, "video_ingest_unit").reason()).isEqualTo("systemctl show video-ingest.service"
                + " --property=LoadState,ActiveState,SubState,Result,NRestarts exited 1: System has not been booted with systemd as init system"
                + " (PID 1). Can't operate.");
        assertThat(check(report, "clock").reason()).isEqualTo("chronyc -c tracking exited 1: 506 Cannot talk to daemon");
    }

    @Test
    void aMissingUnitAndAMissingContainerAreSaidSo() {
        tools = FakeTools.in(folder.resolve("missing"))
                .answer("systemctl", SystemctlShow.arguments("video-ingest.service"), Fixtures.recording("written/systemctl-show-not-found"))
                .answer("docker", DockerJson.inspectArguments("video-ingest"), Fixtures.recording("written/docker-inspect-missing"));

        HealthReport report = check(HealthConfig.DEFAULTS);

        assertThat(check(report, "video_ingest_unit").reason()).isEqualTo("video-ingest.service is inactive (dead), unit not-found");
        assertThat(check(report, "video_ingest_container").reason()).isEqualTo("there is no container named video-ingest");
    }

    @Test
    void aDeviceStillOnAnImageBuiltByTheOldRunbookReportsThatImagesVersion() throws IOException {
        write("etc/edge/image-version", "v1.3 2026-08-02\n");

        HealthReport report = check(HealthConfig.DEFAULTS);

        assertThat(check(report, "image")).isEqualTo(Check.ok("image", false, "edge-golden v1.3 built 2026-08-02T00:00:00Z"));
        assertThat(report.findings().image().found().orElseThrow().version()).isEqualTo(ImageVersion.parse("v1.3"));
    }

    @Test
    void missingDeviceFilesFailTheirChecksWithThePath() throws IOException {
        Files.delete(root.resolve("etc/edge/image-version"));
        Files.delete(root.resolve("etc/edge/video-ingest.env"));
        Files.delete(root.resolve("boot/efi/EFI/ubuntu/grubenv"));
        Files.writeString(root.resolve("proc/cmdline"), "BOOT_IMAGE=/vmlinuz ro\n");
        Files.delete(root.resolve("var/lib/docker"));
        write("var/run/reboot-required", "*** System restart required ***\n");
        write("var/run/reboot-required.pkgs", "linux-image-5.15.0-127-generic\nlinux-base\n");

        HealthReport report = check(HealthConfig.DEFAULTS);

        assertThat(check(report, "image").reason()).isEqualTo(root.resolve("etc/edge/image-version") + " does not exist");
        assertThat(check(report, "cameras").reason()).isEqualTo(root.resolve("etc/edge/video-ingest.env") + " does not exist");
        assertThat(check(report, "ab_slot").status()).isEqualTo(Check.Status.SKIP);
        assertThat(check(report, "disk_docker").reason()).isEqualTo(root.resolve("var/lib/docker") + " does not exist (is Docker installed?)");
        assertThat(check(report, "reboot_required")).isEqualTo(Check.warn("reboot_required", false,
                "a reboot is required by linux-image-5.15.0-127-generic, linux-base (reboots are operator-started rollouts)"));
    }
}
