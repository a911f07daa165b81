package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.server.TestServer.EnrolledDevice;
import dev.ingot.server.TestServer.Response;
import dev.ingot.testing.HealthReports;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The device API end to end on both databases: enroll, poll, actions and their progress, release downloads. */
class DeviceApiTest {
    @TempDir
    Path folder;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T10:00:00Z"));

    static java.util.stream.Stream<TestDatabases.Kind> kinds() {
        return TestDatabases.kinds();
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aPollStoresTheReportAndAnswersWithTheDesiredStateUntilTheDeviceHoldsItsGeneration(TestDatabases.Kind kind) {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock)) {
            EnrolledDevice device = server.enroll("SITE-2847");

            JsonNode first = TestServer.require(server.poll(device, null, "v1.4"), 200).json();
            assertThat(first.path("changed").asBoolean()).isTrue();
            assertThat(first.path("generation").asLong()).isZero();
            assertThat(first.path("desired").path("image").isNull()).isTrue();
            assertThat(first.path("poll_interval_seconds").asLong()).isBetween(48L, 72L);

            JsonNode again = TestServer.require(server.poll(device, 0L, "v1.4"), 200).json();
            assertThat(again.path("changed").asBoolean()).isFalse();
            assertThat(again.has("desired")).isFalse();

            JsonNode listed = server.get("/api/v1/devices/" + device.id(), TestServer.ADMIN_TOKEN).json();
            assertThat(listed.path("device").path("reported").path("image_version").asText()).isEqualTo("v1.4");
            assertThat(listed.path("device").path("reported").path("status").asText()).isEqualTo("healthy");
            assertThat(listed.path("device").path("last_seen_at").asText()).isEqualTo("2026-11-29T10:00:00Z");
            assertThat(listed.path("latest_report").path("device_id").asText()).isEqualTo(device.id());
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aDesiredChangeOpensOneActionPerTrackThatMovesOnlyForwardsAndNeverLeavesItsEnd(TestDatabases.Kind kind) {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock)) {
            TestReleases.publish(server.store(), folder, "v1.5");
            EnrolledDevice device = server.enroll("SITE-2847");
            server.poll(device, null, "v1.4");

            JsonNode change = TestServer.require(server.post("/api/v1/devices/" + device.id() + "/desired", TestServer.ADMIN_TOKEN,
                    Map.of("image", "v1.5", "container_tag", "2.9.0")), 200).json();
            assertThat(change.path("changed").asInt()).isEqualTo(1);
            assertThat(change.path("devices").get(0).path("after").path("generation").asLong()).isEqualTo(1);

            JsonNode poll = TestServer.require(server.poll(device, 0L, "v1.4"), 200).json();
            assertThat(poll.path("changed").asBoolean()).isTrue();
            assertThat(poll.path("desired").path("image").asText()).isEqualTo("v1.5");
            assertThat(poll.path("desired").path("container_tag").asText()).isEqualTo("2.9.0");
            assertThat(poll.path("actions")).hasSize(2);
            JsonNode reimage = poll.path("actions").get(1);
            assertThat(reimage.path("track").asText()).isEqualTo("reimage");
            assertThat(reimage.path("state").asText()).isEqualTo("pending");
            String action = reimage.path("id").asText();

            for (String state : new String[] {"downloading", "written", "written", "rebooting"}) {
                TestServer.require(server.post("/api/v1/device/actions/" + action, device.credential(), Map.of("state", state)), 200);
            }
            Response backwards = server.post("/api/v1/device/actions/" + action, device.credential(), Map.of("state", "downloading"));
            assertThat(backwards.status()).isEqualTo(409);
            Response noReason = server.post("/api/v1/device/actions/" + action, device.credential(), Map.of("state", "rolled_back"));
            assertThat(noReason.status()).isEqualTo(400);
            TestServer.require(server.post("/api/v1/device/actions/" + action, device.credential(),
                    Map.of("state", "rolled_back", "reason", "unhealthy after boot: docker did not start")), 200);
            Response afterEnd = server.post("/api/v1/device/actions/" + action, device.credential(), Map.of("state", "committed"));
            assertThat(afterEnd.status()).isEqualTo(409);
            assertThat(afterEnd.json().path("error").path("message").asText()).contains("ended already (rolled_back)");

            JsonNode detail = server.get("/api/v1/devices/" + device.id(), TestServer.ADMIN_TOKEN).json();
            JsonNode stored = detail.path("actions").findValues("id").stream().anyMatch(id -> id.asText().equals(action))
                    ? java.util.stream.StreamSupport.stream(detail.path("actions").spliterator(), false)
                            .filter(node -> node.path("id").asText().equals(action)).findFirst().orElseThrow()
                    : null;
            assertThat(stored).isNotNull();
            assertThat(stored.path("state").asText()).isEqualTo("rolled_back");
            assertThat(stored.path("events").findValuesAsText("state"))
                    .containsExactly("pending", "downloading", "written", "rebooting", "rolled_back");

            // The same bad version is never offered again as new work: the poll shows the action as ended.
            JsonNode later = TestServer.require(server.poll(device, 1L, "v1.4"), 200).json();
            assertThat(later.path("changed").asBoolean()).isFalse();
            JsonNode full = TestServer.require(server.poll(device, null, "v1.4"), 200).json();
            assertThat(full.path("actions").findValuesAsText("state")).contains("rolled_back");
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aNewChangeOnATrackClosesTheOpenActionAsSuperseded(TestDatabases.Kind kind) {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock)) {
            EnrolledDevice device = server.enroll("SITE-1");
            String path = "/api/v1/devices/" + device.id() + "/desired";
            TestServer.require(server.post(path, TestServer.ADMIN_TOKEN, Map.of("container_tag", "2.9.0")), 200);
            TestServer.require(server.post(path, TestServer.ADMIN_TOKEN, Map.of("container_tag", "2.9.1")), 200);
            JsonNode same = TestServer.require(server.post(path, TestServer.ADMIN_TOKEN, Map.of("container_tag", "2.9.1")), 200).json();
            assertThat(same.path("changed").asInt()).isZero();

            JsonNode detail = server.get("/api/v1/devices/" + device.id(), TestServer.ADMIN_TOKEN).json();
            assertThat(detail.path("device").path("desired").path("generation").asLong()).isEqualTo(2);
            assertThat(detail.path("actions")).hasSize(2);
            assertThat(detail.path("actions").get(0).path("state").asText()).isEqualTo("pending");
            assertThat(detail.path("actions").get(1).path("state").asText()).isEqualTo("failed");
            assertThat(detail.path("actions").get(1).path("reason").asText()).isEqualTo("superseded by generation 2");
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aDeviceFetchesAPublishedReleaseFromTheServerWithRangeRequests(TestDatabases.Kind kind) throws Exception {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock)) {
            TestReleases.publish(server.store(), folder, "v1.5");
            TestReleases.publish(server.store(), folder, "v1.5.1");
            EnrolledDevice device = server.enroll("SITE-1");

            JsonNode release = TestServer.require(server.get("/api/v1/device/releases/v1.5", device.credential()), 200).json();
            assertThat(release.path("files").findValuesAsText("name")).containsExactlyInAnyOrder("edge-golden-v1.5.img.zst",
                    "edge-golden-v1.5.img.bmap", "edge-golden-v1.5.sha256", "edge-golden-v1.5.manifest.json", "edge-golden-v1.5.manifest.json.asc");
            JsonNode payload = java.util.stream.StreamSupport.stream(release.path("files").spliterator(), false)
                    .filter(file -> file.path("name").asText().endsWith(".img.zst")).findFirst().orElseThrow();
            byte[] whole = Files.readAllBytes(server.store().resolve("golden-images/edge-golden-v1.5.img.zst"));
            assertThat(payload.path("size").asLong()).isEqualTo(whole.length);

            Response full = server.get(payload.path("url").asText(), device.credential());
            assertThat(full.status()).isEqualTo(200);
            java.net.http.HttpResponse<byte[]> part = java.net.http.HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(server.url() + payload.path("url").asText())).header("Authorization", "Bearer " + device.credential())
                            .header("Range", "bytes=100-1099").timeout(Duration.ofSeconds(10)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            assertThat(part.statusCode()).isEqualTo(206);
            assertThat(part.body()).isEqualTo(java.util.Arrays.copyOfRange(whole, 100, 1100));
            assertThat(part.headers().firstValue("Content-Range")).hasValue("bytes 100-1099/" + whole.length);

            assertThat(server.get("/api/v1/device/releases/v1.5/files/edge-golden-v1.5.1.img.zst", device.credential()).status()).isEqualTo(404);
            assertThat(server.get("/api/v1/device/releases/v1.9", device.credential()).status()).isEqualTo(404);
            assertThat(server.get(payload.path("url").asText(), null).status()).isEqualTo(401);
            assertThat(server.get(payload.path("url").asText(), TestServer.ADMIN_TOKEN).status()).isEqualTo(401);
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void historyKeepsChangesAndIsBoundedPerDevice(TestDatabases.Kind kind) {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock,
                config -> new ServerConfig(config.host(), config.port(), config.tls(), config.plainHttp(), config.database(), config.databaseUser(),
                        config.databasePassword(), config.databasePool(), config.store(), config.keyring(), config.adminToken(),
                        config.pollPolicy(), 3, config.offlineAfter(), config.workingDirectory(), config.presignedDownloads()))) {
            EnrolledDevice device = server.enroll("SITE-1");
            server.poll(device, null, "v1.4");
            server.poll(device, 0L, "v1.4");
            clock.advance(Duration.ofMinutes(16));
            server.poll(device, 0L, "v1.4");
            for (int i = 0; i < 4; i++) {
                server.poll(device, 0L, HealthReports.report("SITE-1", device.id(), i % 2 == 0 ? "degraded" : "healthy", "v1.4", "2.8.1"));
            }
            JsonNode history = TestServer.require(server.get("/api/v1/devices/" + device.id() + "/reports", TestServer.ADMIN_TOKEN), 200).json();
            assertThat(history).hasSize(3);
            assertThat(history.findValues("seq").stream().map(JsonNode::asLong)).containsExactly(6L, 5L, 4L);
            assertThat(history.get(0).path("report").path("status").asText()).isEqualTo("healthy");
        }
    }
}
