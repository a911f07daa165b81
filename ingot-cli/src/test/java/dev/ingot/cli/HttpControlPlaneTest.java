package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.agent.ControlPlane.ActionReport;
import dev.ingot.agent.ControlPlane.Enrollment;
import dev.ingot.agent.ControlPlane.EnrollmentRequest;
import dev.ingot.agent.ControlPlane.PollAnswer;
import dev.ingot.agent.ControlPlane.ReleaseDownload;
import dev.ingot.agent.HttpControlPlane;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.Track;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthReport;
import dev.ingot.image.ImageVersion;
import dev.ingot.progress.Progress;
import dev.ingot.sim.ManualClock;
import dev.ingot.sim.SimulatedHost;
import dev.ingot.site.ContainerImage;
import dev.ingot.site.Secret;
import dev.ingot.site.SiteId;
import dev.ingot.store.FolderStore;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's HTTP client against the real control plane (IngotServer on SQLite, in this process), call by call. */
class HttpControlPlaneTest {
    private static final SiteId SITE = new SiteId("SITE-2847");
    private static final ImageVersion V15 = ImageVersion.parse("v1.5");

    @TempDir
    Path folder;

    private LiveControlPlane server;
    private SimulatedHost host;
    private HealthReport report;
    private DeviceId machineId;

    @BeforeEach
    void start() {
        server = LiveControlPlane.start(folder, Duration.ofSeconds(60));
        server.addSite(SITE.value());
        host = new SimulatedHost(SITE, 1, new ManualClock(Instant.now()), ImageVersion.parse("v1.4"),
                ContainerImage.parse("registry.example.net/video-ingest:2.8.1"), Set.of());
        report = host.agentHost().health().check();
        machineId = report.findings().device().found().orElseThrow();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpControlPlane client() {
        return new HttpControlPlane(URI.create(server.url()), HttpControlPlane.client(Optional.empty(), "--cacert", Optional.empty()));
    }

    private Enrollment enroll(HttpControlPlane client) {
        return client.enroll(new EnrollmentRequest(SITE, Secret.of(server.enrollmentToken(SITE.value())), machineId));
    }

    private static ErrorCode code(Runnable call) {
        try {
            call.run();
        } catch (IngotException e) {
            return e.code();
        }
        throw new AssertionError("the call succeeded");
    }

    @Test
    void aDeviceEnrollsWithItsSitesOneTimeTokenAndPollsWithTheGenerationItHolds() {
        HttpControlPlane client = client();
        String token = server.enrollmentToken(SITE.value());

        Enrollment enrollment = client.enroll(new EnrollmentRequest(SITE, Secret.of(token), machineId));
        PollAnswer first = client.poll(enrollment.credential(), report, -1);
        PollAnswer again = client.poll(enrollment.credential(), report, first.desired().orElseThrow().generation());

        assertThat(enrollment.deviceId()).isEqualTo(machineId.value());
        assertThat(enrollment.credential().reveal()).startsWith("ingot_dev_");
        assertThat(first.desired()).hasValueSatisfying(desired -> assertThat(desired.generation()).isZero());
        assertThat(first.interval()).isBetween(Duration.ofSeconds(48), Duration.ofSeconds(72));
        assertThat(first.jitter()).as("the server spreads the interval itself").isZero();
        assertThat(again.desired()).as("unchanged").isEmpty();
        JsonNode stored = server.device(machineId.value());
        assertThat(stored.path("device").path("reported").path("image_version").asText()).isEqualTo("v1.4");
        assertThat(code(() -> client.enroll(new EnrollmentRequest(SITE, Secret.of(token), machineId))))
                .as("a used token").isEqualTo(ErrorCode.UNAUTHENTICATED);
    }

    @Test
    void refusalsBecomeTheAgentsCodes() {
        HttpControlPlane client = client();
        server.addSite("SITE-0001");
        String otherSitesToken = server.enrollmentToken("SITE-0001");
        Enrollment enrollment = enroll(client);
        server.enrollmentToken(SITE.value());

        assertThat(code(() -> client.enroll(new EnrollmentRequest(SITE, Secret.of(otherSitesToken), machineId))))
                .as("another site's token").isEqualTo(ErrorCode.FORBIDDEN);
        assertThat(code(() -> client.poll(Secret.of("ingot_dev_nobody-issued-this-one-0123456789abcdef"), report, -1)))
                .as("a credential nobody issued").isEqualTo(ErrorCode.UNAUTHENTICATED);
        SimulatedHost other = new SimulatedHost(SITE, 2, new ManualClock(Instant.now()), ImageVersion.parse("v1.4"),
                ContainerImage.parse("registry.example.net/video-ingest:2.8.1"), Set.of());
        assertThat(code(() -> client.poll(enrollment.credential(), other.agentHost().health().check(), -1)))
                .as("a report about another device").isEqualTo(ErrorCode.FORBIDDEN);
        assertThat(code(() -> client.release(enrollment.credential(), ImageVersion.parse("v9.9")))).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(code(() -> client.report(enrollment.credential(), new ActionReport(Track.REIMAGE, 1, "v1.5", ActionState.DOWNLOADING,
                Optional.empty(), Instant.now())))).as("before any poll listed the actions").isEqualTo(ErrorCode.UNAVAILABLE);
    }

    @Test
    void anUnreachableControlPlaneIsUnavailableAndPlainHttpOffLoopbackIsRefused() throws IOException {
        int port;
        try (var socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        HttpControlPlane nobody = new HttpControlPlane(URI.create("http://127.0.0.1:" + port),
                HttpControlPlane.client(Optional.empty(), "--cacert", Optional.empty()));

        assertThat(code(() -> nobody.enroll(new EnrollmentRequest(SITE, Secret.of("ingot_enr_x"), machineId)))).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThatThrownBy(() -> new HttpControlPlane(URI.create("http://ingot.example.net"), HttpControlPlane.client(Optional.empty(),
                "--cacert", Optional.empty()))).isInstanceOf(IngotException.class).hasMessageContaining("plain http://");
        Path notPem = Files.writeString(folder.resolve("ca.pem"), "not a certificate\n");
        assertThatThrownBy(() -> HttpControlPlane.client(Optional.of(notPem), "--cacert", Optional.empty()))
                .isInstanceOf(IngotException.class).hasMessageContaining(notPem.toString());
    }

    /** A self-signed certificate for 127.0.0.1 and its key, made with the real openssl; the test is skipped without it. */
    private dev.ingot.server.ServerConfig.Tls selfSigned() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.ingot.testing.Tools.available("openssl"), "openssl is not installed");
        Path cert = folder.resolve("tls/cert.pem");
        Path key = folder.resolve("tls/key.pem");
        Files.createDirectories(cert.getParent());
        dev.ingot.testing.Tools.succeed(folder, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
        return new dev.ingot.server.ServerConfig.Tls(cert, key);
    }

    @Test
    void aSitesControlPlaneCaParameterIsProvisionedAndTheAgentTrustsItThroughAgentJson() throws Exception {
        dev.ingot.server.ServerConfig.Tls tls = selfSigned();
        try (LiveControlPlane https = LiveControlPlane.start(folder.resolve("https"), Duration.ofSeconds(60), Optional.of(tls))) {
            https.addSite(SITE.value());
            Map<String, String> parameters = new java.util.TreeMap<>(dev.ingot.testing.SiteTrees.typical());
            parameters.put("control_plane_url", https.url());
            parameters.put("enrollment_token", https.enrollmentToken(SITE.value()));
            parameters.put("control_plane_ca", Files.readString(tls.certificate()));
            dev.ingot.testing.SiteTrees.write(folder.resolve("params"), SITE.value(), parameters, dev.ingot.testing.SiteTrees.typicalSecure());
            Files.createDirectories(folder.resolve("root"));

            CommandRunner.Run provision = new CommandRunner(folder, Map.of())
                    .run("provision", "--site", SITE.value(), "--params", "dir:params", "--root", "root");
            Path root = folder.resolve("root");
            dev.ingot.agent.AgentSettings settings = dev.ingot.agent.AgentSettings.load(root);
            Path ca = settings.controlPlaneCaFile(root).orElseThrow();
            HttpControlPlane agent = new HttpControlPlane(settings.config().controlPlaneUrl().orElseThrow(),
                    HttpControlPlane.client(Optional.of(ca), "control_plane_ca_file in agent.json", Optional.empty()));
            Enrollment enrollment = agent.enroll(new EnrollmentRequest(SITE, settings.token().get().orElseThrow(), machineId));

            assertThat(provision.exitCode()).as(provision.err()).isZero();
            assertThat(ca).isEqualTo(root.resolve("etc/ingot/control-plane-ca.pem"));
            assertThat(Files.readString(ca)).isEqualTo(Files.readString(tls.certificate()).strip() + "\n");
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(ca))).isEqualTo("rw-r--r--");
            assertThat(agent.poll(enrollment.credential(), report, -1).desired()).isPresent();
        }
    }

    @Test
    void overHttpsTheClientTrustsThePrivateCaItIsGivenAndNothingElse() throws Exception {
        dev.ingot.server.ServerConfig.Tls tls = selfSigned();
        Path cert = tls.certificate();
        try (LiveControlPlane https = LiveControlPlane.start(folder.resolve("https"), Duration.ofSeconds(60),
                Optional.of(tls))) {
            https.addSite(SITE.value());
            URI url = URI.create(https.url());
            HttpControlPlane trusting = new HttpControlPlane(url, HttpControlPlane.client(Optional.of(cert), "--cacert", Optional.empty()));
            HttpControlPlane stranger = new HttpControlPlane(url, HttpControlPlane.client(Optional.empty(), "--cacert", Optional.empty()));

            Enrollment enrollment = trusting.enroll(new EnrollmentRequest(SITE, Secret.of(https.enrollmentToken(SITE.value())), machineId));
            PollAnswer answer = trusting.poll(enrollment.credential(), report, -1);
            Secret token = Secret.of(https.enrollmentToken(SITE.value()));

            assertThat(url.getScheme()).isEqualTo("https");
            assertThat(answer.desired()).isPresent();
            assertThatThrownBy(() -> stranger.enroll(new EnrollmentRequest(SITE, token, machineId))).isInstanceOfSatisfying(IngotException.class,
                    e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                        assertThat(e.oneLine()).contains("talk TLS to " + url, "control_plane_ca_file");
                    });
        }
    }

    @Test
    void theDesiredImageComesWithItsDownloadsAndProgressReachesTheActionUntilItEnds() {
        server.publish("v1.5");
        HttpControlPlane client = client();
        Enrollment enrollment = enroll(client);
        client.poll(enrollment.credential(), report, -1);
        server.desire(machineId.value(), Map.of("image", "v1.5"));

        PollAnswer answer = client.poll(enrollment.credential(), report, 0);
        long generation = answer.desired().orElseThrow().generation();
        ReleaseDownload download = answer.downloads().get(V15);
        client.report(enrollment.credential(), new ActionReport(Track.REIMAGE, generation, "v1.5", ActionState.DOWNLOADING, Optional.empty(),
                Instant.now()));
        client.report(enrollment.credential(), new ActionReport(Track.REIMAGE, generation, "v1.5", ActionState.DOWNLOADING, Optional.empty(),
                Instant.now()));
        client.report(enrollment.credential(), new ActionReport(Track.REIMAGE, generation, "v1.5", ActionState.ROLLED_BACK,
                Optional.of("slot b was not healthy within 10 min:\nnvidia-smi failed " + "x".repeat(2000)), Instant.now()));
        PollAnswer later = client.poll(enrollment.credential(), report, generation);

        assertThat(answer.desired().orElseThrow().image()).contains(V15);
        assertThat(download.files()).containsKeys("edge-golden-v1.5.manifest.json", "edge-golden-v1.5.manifest.json.asc",
                "edge-golden-v1.5.img.zst", "edge-golden-v1.5.img.bmap");
        assertThat(download.files().get("edge-golden-v1.5.manifest.json").toString())
                .isEqualTo(server.url() + "/api/v1/device/releases/v1.5/files/edge-golden-v1.5.manifest.json");
        assertThat(later.downloads()).as("kept while the desired image stays").containsKey(V15);
        JsonNode action = server.action(machineId.value(), "reimage");
        assertThat(action.path("state").asText()).isEqualTo("rolled_back");
        assertThat(action.path("reason").asText()).startsWith("slot b was not healthy within 10 min: nvidia-smi failed").hasSize(1000);
        assertThat(action.path("events").findValuesAsText("state")).containsExactly("pending", "downloading", "rolled_back");
        assertThat(code(() -> client.report(enrollment.credential(), new ActionReport(Track.REIMAGE, generation, "v1.5",
                ActionState.COMMITTED, Optional.empty(), Instant.now())))).as("it ended already (409)").isEqualTo(ErrorCode.CONFLICT);
    }

    @Test
    void aReportAboutAnActionTheControlPlaneSupersededIsAConflict() {
        HttpControlPlane client = client();
        Enrollment enrollment = enroll(client);
        client.poll(enrollment.credential(), report, -1);
        server.desire(machineId.value(), Map.of("container_tag", "2.9.0"));
        long first = client.poll(enrollment.credential(), report, 0).desired().orElseThrow().generation();
        server.desire(machineId.value(), Map.of("container_tag", "2.9.1"));
        client.poll(enrollment.credential(), report, first);

        assertThat(code(() -> client.report(enrollment.credential(), new ActionReport(Track.CONTAINER, first, "2.9.0", ActionState.FAILED,
                Optional.of("superseded by generation 2 before anything was switched"), Instant.now())))).isEqualTo(ErrorCode.CONFLICT);
        assertThat(server.action(machineId.value(), "container").path("target").asText()).isEqualTo("2.9.1");
        assertThat(server.action(machineId.value(), "container").path("state").asText()).isEqualTo("pending");
    }

    @Test
    void releaseFilesComeWholeOrFromAByteAndAChangedFileStartsOver() throws IOException {
        server.publish("v1.5");
        HttpControlPlane client = client();
        Enrollment enrollment = enroll(client);
        client.poll(enrollment.credential(), report, -1);
        server.desire(machineId.value(), Map.of("image", "v1.5"));
        URI url = client.poll(enrollment.credential(), report, 0).downloads().get(V15).files().get("edge-golden-v1.5.img.zst");
        byte[] stored = Files.readAllBytes(server.store().resolve("golden-images/edge-golden-v1.5.img.zst"));
        Secret credential = enrollment.credential();

        Path file = folder.resolve("download.zst");
        HttpControlPlane.Fetched whole = client.fetchFile(credential, url, file, Optional.empty());
        Files.write(file, Arrays.copyOf(stored, 1000));
        HttpControlPlane.Fetched resumed = client.fetchFile(credential, url, file, whole.etag());
        byte[] resumedBytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(stored, 1000));
        HttpControlPlane.Fetched changed = client.fetchFile(credential, url, file, Optional.of("\"another-file\""));

        assertThat(whole.resumed()).isFalse();
        assertThat(whole.etag()).isPresent();
        assertThat(resumed.resumed()).isTrue();
        assertThat(resumedBytes).isEqualTo(stored);
        assertThat(changed.resumed()).as("If-Range: another ETag brings the whole file").isFalse();
        assertThat(Files.readAllBytes(file)).isEqualTo(stored);
        try (HttpControlPlane.Download tail = client.download(credential, url, stored.length - 10, whole.etag())) {
            assertThat(tail.offset()).isEqualTo(stored.length - 10);
            assertThat(tail.size()).isEqualTo(stored.length);
            assertThat(tail.body().readAllBytes()).isEqualTo(Arrays.copyOfRange(stored, stored.length - 10, stored.length));
        }
        assertThat(code(() -> client.download(credential, url, stored.length + 5, Optional.empty()))).as("416").isEqualTo(ErrorCode.BAD_INPUT);
        assertThat(code(() -> client.download(Secret.of("ingot_dev_wrong-wrong-wrong-wrong-wrong-wrong"), url, 0, Optional.empty())))
                .isEqualTo(ErrorCode.UNAUTHENTICATED);
    }

    @Test
    void withPresignedDownloadsTheAgentFetchesAndResumesStraightFromS3WithoutStoreCredentials() throws Exception {
        server.close();
        try (dev.ingot.testing.S3Server s3 = dev.ingot.testing.S3Server.start();
                dev.ingot.aws.S3Store bucket = new dev.ingot.aws.S3Store(new dev.ingot.aws.S3Location(s3.bucket(), "prod"), Optional.of(s3.endpoint()),
                        software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                                software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(s3.accessKey(), s3.secretKey())),
                        software.amazon.awssdk.regions.Region.US_EAST_1)) {
            server = LiveControlPlane.on(folder.resolve("s3-server"), bucket, Optional.of(Duration.ofMinutes(15)));
            server.addSite(SITE.value());
            server.publish("v1.5");
            FolderStore published = new FolderStore(server.store());
            published.list("golden-images/").forEach(key -> bucket.put(key, published.pathOf(key), Progress.NONE));
            HttpControlPlane client = client();
            Enrollment enrollment = enroll(client);
            client.poll(enrollment.credential(), report, -1);
            server.desire(machineId.value(), Map.of("image", "v1.5"));
            ReleaseDownload download = client.poll(enrollment.credential(), report, 0).downloads().get(V15);
            assertThat(download.expiresAt()).as("presigned URLs expire").isPresent();
            URI url = download.files().get("edge-golden-v1.5.img.zst");
            assertThat(url.toString()).as("a presigned S3 URL, not the control plane's").startsWith(s3.endpoint() + "/").contains("X-Amz-Signature=");
            byte[] stored = Files.readAllBytes(server.store().resolve("golden-images/edge-golden-v1.5.img.zst"));

            Path file = folder.resolve("from-s3.zst");
            HttpControlPlane.Fetched whole = client.fetchFile(enrollment.credential(), url, file, Optional.empty());
            Files.write(file, Arrays.copyOf(stored, 4096));
            HttpControlPlane.Fetched resumed = client.fetchFile(enrollment.credential(), url, file, whole.etag());
            assertThat(whole.etag()).isPresent();
            assertThat(resumed.resumed()).isTrue();
            assertThat(Files.readAllBytes(file)).isEqualTo(stored);
        }
    }
}
