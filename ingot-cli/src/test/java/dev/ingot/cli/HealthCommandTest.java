package dev.ingot.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.health.ChronyTracking;
import dev.ingot.health.DockerJson;
import dev.ingot.health.HealthReportJson;
import dev.ingot.health.NvidiaSmi;
import dev.ingot.health.SystemctlShow;
import dev.ingot.testing.CloudWatchServer;
import dev.ingot.testing.FakeTools;
import dev.ingot.testing.Fixtures;
import dev.ingot.testing.JsonSchemas;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `ingot health` end to end: a device root in a folder, fake tools on PATH, CloudWatch on loopback through the real SDK. */
class HealthCommandTest {
    private static CloudWatchServer cloudWatch;

    @TempDir
    Path folder;

    private Path root;
    private FakeTools tools;
    private ServerSocket camera;

    @BeforeAll
    static void startCloudWatch() {
        cloudWatch = CloudWatchServer.start();
        // The SDK's default chain reads these system properties (what AWS_ACCESS_KEY_ID etc. are on a device).
        System.setProperty("aws.accessKeyId", "device-key");
        System.setProperty("aws.secretAccessKey", "device-secret");
        System.setProperty("aws.region", "us-east-1");
    }

    @AfterAll
    static void stopCloudWatch() {
        cloudWatch.close();
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
        System.clearProperty("aws.region");
    }

    @BeforeEach
    void aHealthyDevice() throws IOException {
        cloudWatch.clear();
        root = folder.resolve("device");
        camera = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        write("etc/edge/site-id", "SITE-2847\n");
        write("etc/machine-id", "3d1219c7c4c5404aaa1f6d2a48adfda4\n");
        write("proc/sys/kernel/hostname", "edge-site-2847\n");
        write("etc/edge/image-version", "IMAGE_NAME=edge-golden\nIMAGE_VERSION=v1.4\nBUILD_DATE=2026-11-20T09:30:00Z\n");
        write("proc/cmdline", "BOOT_IMAGE=/vmlinuz ro quiet\n");
        write("proc/uptime", "356400.12 1400000.00\n");
        write("proc/meminfo", "MemTotal:       32768000 kB\nMemAvailable:   21000000 kB\n");
        write("etc/edge/video-ingest.env", "CAMERA_IPS=127.0.0.1\nCAMERA_RTSP_PORT=" + camera.getLocalPort() + "\n");
        write("var/lib/update-notifier/updates-available", "\n0 updates can be applied immediately.\n\n");
        Files.createDirectories(root.resolve("var/lib/docker"));
        tools = FakeTools.in(folder.resolve("tools"))
                .answer("nvidia-smi", NvidiaSmi.arguments(), Fixtures.recording("written/nvidia-smi-t4"))
                .answer("docker", List.of("info", "--format", "{{json .}}"), Fixtures.recording("written/docker-info"))
                .answer("docker", List.of("inspect", "--type", "container", "video-ingest"), Fixtures.recording("written/docker-inspect-running"))
                .answer("systemctl", List.of("show", "video-ingest.service", "--property=LoadState,ActiveState,SubState,Result,NRestarts"),
                        Fixtures.recording("written/systemctl-show-active"))
                .answer("chronyc", List.of("-c", "tracking"), Fixtures.recording("written/chronyc-tracking-synchronised"));
        cacheKnownGoodImage();
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

    /** The site's USB cache as `ingot image pull` fills it. */
    private void cacheKnownGoodImage() throws IOException {
        CommandRunner ingot = new CommandRunner(folder);
        TestKeys.RELEASE.secretKey(folder.resolve("keys"));
        TestKeys.RELEASE.publicKey(folder.resolve("keys"));
        SparseImages.create(folder.resolve("v1.4.img"), 1L << 20, 14, new SparseImages.Region(0, 8192));
        assertThat(ingot.run("image", "publish", "v1.4.img", "--version", "v1.4", "--key", "keys/release.asc").exitCode()).isZero();
        assertThat(ingot.run("image", "pull", "v1.4", "--to", root.resolve("media/usb/ingot").toString(), "--keyring",
                "keys/release.pub.asc").exitCode()).isZero();
    }

    private CommandRunner.Run health(String... args) {
        List<String> arguments = new ArrayList<>(List.of("health", "--root", root.toString()));
        arguments.addAll(List.of(args));
        return new CommandRunner(folder, Map.of("PATH", tools.path())).run(arguments.toArray(String[]::new));
    }

    @Test
    void aHealthyDeviceExitsZeroWithAReportThatSatisfiesTheSchema() {
        CommandRunner.Run run = health("--json");

        assertThat(run.exitCode()).as(run.toString()).isZero();
        JsonNode report = run.json();
        assertThat(JsonSchemas.problems(HealthReportJson.schema(), report)).isEmpty();
        assertThat(report.get("status").asText()).isEqualTo("healthy");
        assertThat(report.get("site_id").asText()).isEqualTo("SITE-2847");
        assertThat(report.get("image").get("version").asText()).isEqualTo("v1.4");
        assertThat(report.get("video_ingest").get("container").get("tag").asText()).isEqualTo("2.8.1");
        assertThat(report.get("gpus").get(0).get("name").asText()).isEqualTo("Tesla T4");
        assertThat(report.get("usb_cache").get("images").get(0).get("version").asText()).isEqualTo("v1.4");
        assertThat(report.get("slot").get("present").asBoolean()).isFalse();
        assertThat(report.get("publish").isNull()).isTrue();
        assertThat(run.out()).startsWith("{\n  \"cameras\" : {");
    }

    @Test
    void aRootThatDoesNotExistIsBadInputNotAnUnhealthyDevice() {
        CommandRunner.Run run = new CommandRunner(folder).run("health", "--root", "no-such-root");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("that folder does not exist");
    }

    @Test
    void theHumanReportIsATableOfChecks() {
        CommandRunner.Run run = health();

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).startsWith("SITE-2847 · edge-site-2847 · edge-golden v1.4 · video-ingest 2.8.1: HEALTHY\n")
                .contains("  ok    gpu_temperature *        GPU 0 at 52 °C\n")
                .contains("  -     ab_slot                  not present: no ingot.slot= on the kernel command line and no committed slot\n")
                .contains("(* critical: its failure makes the device unhealthy; checked in ");
    }

    @Test
    void aDegradedDeviceExitsOneAndSaysWhy() throws IOException {
        camera.close();

        CommandRunner.Run run = health();

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
        assertThat(run.out()).contains(": DEGRADED\n").contains("  FAIL  cameras                  0 of 1 camera(s) reachable: 127.0.0.1:");
    }

    @Test
    void theNumbersArePublishedToCloudWatchWithTheSiteAsDimension() {
        CommandRunner.Run run = health("--json", "--publish", "cloudwatch", "--endpoint-url", cloudWatch.endpoint().toString());

        assertThat(run.exitCode()).as(run.toString()).isZero();
        JsonNode publish = run.json().get("publish");
        assertThat(publish.get("ok").asBoolean()).as(publish.toString()).isTrue();
        assertThat(publish.get("requests").asInt()).isEqualTo(1);
        List<CloudWatchServer.Request> sent = cloudWatch.accepted("PutMetricData");
        assertThat(sent).hasSize(1);
        JsonNode body = sent.getFirst().body();
        assertThat(body.get("Namespace").asText()).isEqualTo("Edge/Health");
        assertThat(body.get("MetricData").size()).isEqualTo(publish.get("metrics").asInt()).isEqualTo(22);
        assertThat(body.get("MetricData")).allSatisfy(datum -> {
            assertThat(datum.get("Dimensions").get(0).get("Name").asText()).isEqualTo("SiteId");
            assertThat(datum.get("Dimensions").get(0).get("Value").asText()).isEqualTo("SITE-2847");
        });
        assertThat(body.get("MetricData")).anySatisfy(datum -> {
            assertThat(datum.get("MetricName").asText()).isEqualTo("GpuTemperature");
            assertThat(datum.get("Value").asDouble()).isEqualTo(52.0);
        });
    }

    @Test
    void aFailedPublishIsNotedAndChangesNeitherTheChecksNorTheExitCode() throws IOException {
        camera.close();
        CommandRunner.Run unpublished = health("--json");
        cloudWatch.failNext(10, new CloudWatchServer.Failure(500, "InternalServiceError", "Internal failure"));

        CommandRunner.Run published = health("--json", "--publish", "cloudwatch", "--endpoint-url", cloudWatch.endpoint().toString());

        assertThat(published.exitCode()).as(published.toString()).isEqualTo(unpublished.exitCode()).isEqualTo(1);
        JsonNode report = published.json();
        // Names, verdicts and criticality, not reasons: the disk checks quote the build host's live free space, which
        // other work on the machine moves between the two runs.
        assertThat(verdicts(report.get("checks"))).isEqualTo(verdicts(unpublished.json().get("checks")));
        assertThat(report.get("status")).isEqualTo(unpublished.json().get("status"));
        assertThat(report.get("publish").get("ok").asBoolean()).isFalse();
        assertThat(report.get("publish").get("error").asText())
                .startsWith("Tried to send 22 metrics of site SITE-2847 to CloudWatch namespace Edge/Health")
                .contains("answered HTTP 500 InternalServiceError: Internal failure");
        assertThat(JsonSchemas.problems(HealthReportJson.schema(), report)).isEmpty();
        assertThat(cloudWatch.requests()).hasSize(3);
    }

    @Test
    void withoutASiteIdNothingIsPublishedAndTheReportSaysWhy() throws IOException {
        Files.delete(root.resolve("etc/edge/site-id"));

        CommandRunner.Run run = health("--json", "--publish", "cloudwatch", "--endpoint-url", cloudWatch.endpoint().toString());

        assertThat(run.json().get("publish").get("error").asText()).startsWith("not published: the metrics' SiteId dimension needs the site id");
        assertThat(cloudWatch.requests()).isEmpty();
    }

    @Test
    void anUnreachableCloudWatchIsNotedInTheHumanReportToo() {
        CommandRunner.Run run = health("--publish", "cloudwatch", "--endpoint-url", "http://127.0.0.1:1");

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).contains("Not published: Tried to send 22 metrics of site SITE-2847")
                .contains("nothing accepted a connection at http://127.0.0.1:1");
    }

    @Test
    void aBadConfigIsBadInput() throws IOException {
        Files.writeString(folder.resolve("health.json"), "{\"gpu\": {\"temperature_warn_c\": \"hot\"}}");

        CommandRunner.Run run = health("--config", "health.json");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("Tried to read the health config " + folder.resolve("health.json")
                + " but failed because gpu.temperature_warn_c is \"hot\", not a whole number from 0 to 200");
    }

    @Test
    void theDevicesOwnConfigIsReadUnderTheRoot() throws IOException {
        write("etc/ingot/health.json", "{\"gpu\": {\"temperature_warn_c\": 50, \"temperature_fail_c\": 60}}");

        CommandRunner.Run run = health();

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).contains(": DEGRADED\n").contains("  WARN  gpu_temperature *        GPU 0 at 52 °C, at or above 50 °C\n");
    }

    @Test
    void theStandardAlarmsAreShownAndOnlyAppliedWhenAsked() {
        CommandRunner ingot = new CommandRunner(folder);

        CommandRunner.Run shown = ingot.run("health", "alarms", "--site", "SITE-2847", "--endpoint-url", cloudWatch.endpoint().toString());
        assertThat(shown.exitCode()).as(shown.toString()).isZero();
        assertThat(shown.out()).startsWith("Would apply (use --apply) 8 alarms on Edge/Health, SiteId=SITE-2847:\n")
                .contains("edge-health-SITE-2847-gpu-temperature");
        assertThat(cloudWatch.requests()).isEmpty();

        CommandRunner.Run applied = ingot.run("health", "alarms", "--apply", "--site", "SITE-2847", "--json", "--endpoint-url",
                cloudWatch.endpoint().toString(), "--alarm-action", "arn:aws:sns:us-east-1:123456789012:edge-alarms");
        assertThat(applied.exitCode()).as(applied.toString()).isZero();
        assertThat(applied.json().get("applied").asBoolean()).isTrue();
        assertThat(cloudWatch.accepted("PutMetricAlarm")).extracting(request -> request.body().get("AlarmName").asText())
                .hasSize(8).allSatisfy(name -> assertThat(name).startsWith("edge-health-SITE-2847-"));
        Set<String> metrics = Set.copyOf(cloudWatch.accepted("PutMetricAlarm").stream().map(request -> request.body().get("MetricName").asText())
                .toList());
        assertThat(metrics).contains("HealthStatus", "GpuTemperature", "VideoIngestActive");
    }

    @Test
    void aBadSiteIdForAlarmsIsBadInput() {
        CommandRunner.Run run = new CommandRunner(folder).run("health", "alarms", "--site", "../etc", "--apply");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("Tried to read the site id '../etc'");
    }

    private static List<String> verdicts(JsonNode checks) {
        List<String> verdicts = new ArrayList<>();
        checks.forEach(check -> verdicts.add(check.get("name").asText() + " " + check.get("status").asText() + " critical="
                + check.get("critical").asBoolean()));
        return verdicts;
    }
}
