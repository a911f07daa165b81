package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.server.TestServer.EnrolledDevice;
import dev.ingot.server.TestServer.Response;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An attacker's tries: no token, a wrong token, another device's credential, a viewer writing, a used or expired
 * enrollment token, a token in the query string. Each is refused and changes nothing.
 */
class AuthTest {
    @TempDir
    Path folder;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T10:00:00Z"));

    static java.util.stream.Stream<TestDatabases.Kind> kinds() {
        return TestDatabases.kinds();
    }

    @Test
    void everyOperatorEndpointRefusesAMissingAWrongAndARevokedTokenAndChangesNothing() {
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock)) {
            EnrolledDevice device = server.enroll("SITE-1");
            String revoked = server.token("old-laptop", "admin");
            TestServer.require(server.delete("/api/v1/tokens/old-laptop", TestServer.ADMIN_TOKEN), 200);
            var before = DatabaseSnapshot.of(server.server().database());
            List<String> wrongTokens = new ArrayList<>(List.of("ingot_op_guessed-token-that-nobody-issued-0000000000", "", "Basic YWRtaW46YWRtaW4=",
                    revoked, device.credential()));
            wrongTokens.add(null);
            for (String token : wrongTokens) {
                for (Response response : operatorWrites(server, device, token)) {
                    assertThat(response.status()).as("%s with token %s", response.body(), token).isEqualTo(401);
                    assertThat(response.json().path("error").path("code").asText()).isEqualTo("UNAUTHENTICATED");
                }
                assertThat(server.get("/api/v1/devices", token).status()).isEqualTo(401);
                assertThat(server.get("/api/v1/audit", token).status()).isEqualTo(401);
            }
            assertThat(DatabaseSnapshot.of(server.server().database())).isEqualTo(before);
        }
    }

    @Test
    void aViewerReadsEverythingButChangesNothingAndAnOperatorManagesNoTokens() {
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock)) {
            EnrolledDevice device = server.enroll("SITE-1");
            String viewer = server.token("wall-screen", "viewer");
            String operator = server.token("alice", "operator");
            var before = DatabaseSnapshot.of(server.server().database());
            for (Response response : operatorWrites(server, device, viewer)) {
                assertThat(response.status()).as(response.body()).isEqualTo(403);
                assertThat(response.json().path("error").path("message").asText()).contains("is a viewer");
            }
            assertThat(server.post("/api/v1/tokens", operator, Map.of("name", "mine", "role", "admin")).status()).isEqualTo(403);
            assertThat(server.delete("/api/v1/tokens/wall-screen", operator).status()).isEqualTo(403);
            assertThat(server.get("/api/v1/tokens", operator).status()).isEqualTo(403);
            assertThat(DatabaseSnapshot.of(server.server().database())).isEqualTo(before);

            assertThat(server.get("/api/v1/devices", viewer).status()).isEqualTo(200);
            assertThat(server.get("/api/v1/devices/" + device.id(), viewer).status()).isEqualTo(200);
            assertThat(server.get("/api/v1/sites/SITE-1", viewer).status()).isEqualTo(200);
            assertThat(server.get("/api/v1/audit", viewer).status()).isEqualTo(200);
            assertThat(server.get("/api/v1/images", viewer).status()).isEqualTo(200);
        }
    }

    @Test
    void aDeviceReachesOnlyItsOwnRecords() {
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock)) {
            EnrolledDevice mine = server.enroll("SITE-1");
            EnrolledDevice other = server.enroll("SITE-2");
            TestServer.require(server.post("/api/v1/devices/" + other.id() + "/desired", TestServer.ADMIN_TOKEN, Map.of("container_tag", "2.9.0")), 200);
            String othersAction = server.get("/api/v1/devices/" + other.id(), TestServer.ADMIN_TOKEN).json().path("actions").get(0).path("id").asText();
            server.poll(other, null, "v1.4");
            var before = DatabaseSnapshot.of(server.server().database());

            // A report that claims to be another device, or another site, is refused.
            Response impostor = server.poll(mine, null, dev.ingot.testing.HealthReports.healthy("SITE-2", other.id(), "v1.4", "2.8.1"));
            assertThat(impostor.status()).isEqualTo(403);
            assertThat(impostor.json().path("error").path("message").asText()).contains("reports only for itself");
            Response otherSite = server.poll(mine, null, dev.ingot.testing.HealthReports.healthy("SITE-2", mine.id(), "v1.4", "2.8.1"));
            assertThat(otherSite.status()).isEqualTo(403);
            // Another device's action reads as absent.
            Response progress = server.post("/api/v1/device/actions/" + othersAction, mine.credential(), Map.of("state", "failed", "reason", "x"));
            assertThat(progress.status()).isEqualTo(404);
            // A device credential opens no operator endpoint, and an operator token no device endpoint.
            assertThat(server.get("/api/v1/devices/" + other.id(), mine.credential()).status()).isEqualTo(401);
            assertThat(server.post("/api/v1/device/poll", TestServer.ADMIN_TOKEN, Map.of("report", Map.of())).status()).isEqualTo(401);
            assertThat(DatabaseSnapshot.of(server.server().database())).isEqualTo(before);

            // Its own poll answers only its own state.
            JsonNode answer = TestServer.require(server.poll(mine, null, "v1.4"), 200).json();
            assertThat(answer.path("actions")).isEmpty();
            assertThat(answer.path("desired").path("container_tag").isNull()).isTrue();
        }
    }

    @Test
    void aTokenInTheQueryStringIsNeverRead() {
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock)) {
            EnrolledDevice device = server.enroll("SITE-1");
            assertThat(server.get("/api/v1/devices?token=" + TestServer.ADMIN_TOKEN, null).status()).isEqualTo(401);
            assertThat(server.get("/api/v1/devices?access_token=" + TestServer.ADMIN_TOKEN, null).status()).isEqualTo(401);
            assertThat(server.get("/api/v1/device/releases/v1.4?access_token=" + device.credential(), null).status()).isEqualTo(401);
            Response bad = server.send(HttpRequest.newBuilder(URI.create(server.url() + "/api/v1/devices")).header("Cookie",
                    "ingot_session=" + TestServer.ADMIN_TOKEN).GET(), null);
            assertThat(bad.status()).as("the API takes the bearer header only; the dashboard's cookie opens no API call (no CSRF)").isEqualTo(401);
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void anEnrollmentTokenEnrollsOneDeviceOnceBeforeItExpires(TestDatabases.Kind kind) {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock)) {
            server.addSite("SITE-1");
            server.addSite("SITE-2");
            String token = server.enrollmentToken("SITE-1");
            String first = server.newDeviceId();
            TestServer.require(server.post("/api/v1/device/enroll", null, Map.of("token", token, "device_id", first, "site_id", "SITE-1")), 201);
            var before = DatabaseSnapshot.of(server.server().database());

            Response reused = server.post("/api/v1/device/enroll", null, Map.of("token", token, "device_id", server.newDeviceId(), "site_id", "SITE-1"));
            assertThat(reused.status()).isEqualTo(401);
            assertThat(reused.json().path("error").path("message").asText()).contains("used already");

            String expiring = server.enrollmentToken("SITE-1");
            clock.advance(Duration.ofHours(2));
            Response expired = server.post("/api/v1/device/enroll", null, Map.of("token", expiring, "device_id", server.newDeviceId(), "site_id", "SITE-1"));
            assertThat(expired.status()).isEqualTo(401);
            assertThat(expired.json().path("error").path("message").asText()).contains("expired");

            String forSite2 = server.enrollmentToken("SITE-2");
            before = DatabaseSnapshot.of(server.server().database());
            Response wrongSite = server.post("/api/v1/device/enroll", null, Map.of("token", forSite2, "device_id", server.newDeviceId(), "site_id", "SITE-1"));
            assertThat(wrongSite.status()).isEqualTo(403);
            Response unknown = server.post("/api/v1/device/enroll", null,
                    Map.of("token", "ingot_enr_never-issued-000000000000000000000000", "device_id", server.newDeviceId(), "site_id", "SITE-1"));
            assertThat(unknown.status()).isEqualTo(401);
            assertThat(DatabaseSnapshot.of(server.server().database())).as("a refused enrollment uses no token").isEqualTo(before);
            TestServer.require(server.post("/api/v1/device/enroll", null, Map.of("token", forSite2, "device_id", server.newDeviceId(), "site_id", "SITE-2")), 201);
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void ofDevicesRacingWithOneEnrollmentTokenExactlyOneWins(TestDatabases.Kind kind) throws Exception {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock);
                ExecutorService pool = Executors.newFixedThreadPool(8)) {
            server.addSite("SITE-1");
            for (int round = 0; round < 10; round++) {
                String token = server.enrollmentToken("SITE-1");
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Response>> tries = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    String device = server.newDeviceId();
                    tries.add(pool.submit(() -> {
                        start.await();
                        return server.post("/api/v1/device/enroll", null, Map.of("token", token, "device_id", device, "site_id", "SITE-1"));
                    }));
                }
                start.countDown();
                List<Integer> statuses = new ArrayList<>();
                for (Future<Response> attempt : tries) {
                    statuses.add(attempt.get().status());
                }
                assertThat(statuses).as("round %d", round).containsOnly(201, 401);
                assertThat(statuses.stream().filter(status -> status == 201).count()).as("round %d", round).isEqualTo(1);
            }
            assertThat(server.get("/api/v1/devices", TestServer.ADMIN_TOKEN).json()).hasSize(10);
        }
    }

    @Test
    void everyOperatorWriteIsAuditedWithWhoWhatBeforeAndAfterButNeverASecret() {
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock)) {
            String alice = server.token("alice", "operator");
            TestServer.require(server.post("/api/v1/sites", alice, Map.of("id", "SITE-9", "name", "Harbour", "tags", List.of("pilot"))), 201);
            String enrollment = TestServer.require(server.post("/api/v1/sites/SITE-9/enrollment-tokens", alice, Map.of()), 201).json()
                    .path("token").asText();
            String device = server.newDeviceId();
            TestServer.require(server.post("/api/v1/device/enroll", null, Map.of("token", enrollment, "device_id", device, "site_id", "SITE-9")), 201);
            TestServer.require(server.post("/api/v1/devices/" + device + "/desired", alice, Map.of("container_tag", "2.9.0")), 200);
            TestServer.require(server.delete("/api/v1/tokens/alice", TestServer.ADMIN_TOKEN), 200);

            Response audit = TestServer.require(server.get("/api/v1/audit", TestServer.ADMIN_TOKEN), 200);
            JsonNode entries = audit.json();
            assertThat(entries.findValuesAsText("action")).containsExactly("token.revoke", "device.set", "site.enroll", "site.add", "token.create",
                    "token.create");
            JsonNode set = entries.get(1);
            assertThat(set.path("actor").asText()).isEqualTo("alice");
            assertThat(set.path("subject").asText()).isEqualTo("device:" + device);
            assertThat(set.path("before").path("container_tag").isNull()).isTrue();
            assertThat(set.path("after").path("container_tag").asText()).isEqualTo("2.9.0");
            assertThat(set.path("after").path("generation").asLong()).isEqualTo(1);
            assertThat(audit.body()).doesNotContain(enrollment).doesNotContain("ingot_op_").doesNotContain("ingot_enr_");
        }
    }

    /** One write per operator endpoint, each of which would change something if allowed. */
    private static List<Response> operatorWrites(TestServer server, EnrolledDevice device, String token) {
        return List.of(
                server.post("/api/v1/sites", token, Map.of("id", "SITE-666")),
                server.post("/api/v1/sites/SITE-1/enrollment-tokens", token, Map.of()),
                server.post("/api/v1/devices/" + device.id() + "/desired", token, Map.of("container_tag", "6.6.6")),
                server.post("/api/v1/desired", token, Map.of("filter", Map.of("site", "SITE-1"), "change", Map.of("container_tag", "6.6.6"))),
                server.post("/api/v1/tokens", token, Map.of("name", "backdoor", "role", "admin")),
                server.delete("/api/v1/tokens/admin", token));
    }
}
