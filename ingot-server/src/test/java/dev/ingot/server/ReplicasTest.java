package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.server.TestServer.EnrolledDevice;
import dev.ingot.server.fleet.Leases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two replicas behind one load balancer share one PostgreSQL and nothing else. */
class ReplicasTest {
    @TempDir
    Path folder;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T10:00:00Z"));

    @Test
    void twoReplicasOnOnePostgresqlServeTheSameFleetWhicheverOneARequestReaches() throws Exception {
        String database = TestDatabases.fresh(TestDatabases.Kind.POSTGRESQL, folder);
        Path first = Files.createDirectories(folder.resolve("a"));
        Path second = Files.createDirectories(folder.resolve("b"));
        try (TestServer a = TestServer.start(database, first, clock); TestServer b = TestServer.start(database, second, clock)) {
            // Enrolled through A with a token made on B; a second use of the token on A is refused.
            b.addSite("SITE-1");
            String token = b.enrollmentToken("SITE-1");
            String id = a.newDeviceId();
            String credential = TestServer.require(a.post("/api/v1/device/enroll", null, Map.of("token", token, "device_id", id, "site_id", "SITE-1")),
                    201).json().path("credential").asText();
            assertThat(b.post("/api/v1/device/enroll", null, Map.of("token", token, "device_id", b.newDeviceId(), "site_id", "SITE-1")).status())
                    .isEqualTo(401);
            // A known device re-enrolls through either replica only with a token made for it (on the other one).
            assertThat(b.post("/api/v1/device/enroll", null, Map.of("token", b.enrollmentToken("SITE-1"), "device_id", id, "site_id", "SITE-1"))
                    .status()).isEqualTo(409);
            String forIt = TestServer.require(a.post("/api/v1/devices/" + id + "/enrollment-tokens", TestServer.ADMIN_TOKEN, Map.of()), 201).json()
                    .path("token").asText();
            credential = TestServer.require(b.post("/api/v1/device/enroll", null, Map.of("token", forIt, "device_id", id, "site_id", "SITE-1")), 201)
                    .json().path("credential").asText();
            EnrolledDevice device = new EnrolledDevice(id, "SITE-1", credential);

            // Polls alternate between replicas; a change made on one is in the next answer of the other.
            TestServer.require(a.poll(device, null, "v1.4"), 200);
            String operator = a.token("alice", "operator");
            TestServer.require(b.post("/api/v1/devices/" + id + "/desired", operator, Map.of("container_tag", "2.9.0")), 200);
            JsonNode answer = TestServer.require(a.poll(device, 0L, "v1.4"), 200).json();
            assertThat(answer.path("changed").asBoolean()).isTrue();
            assertThat(answer.path("desired").path("container_tag").asText()).isEqualTo("2.9.0");
            String action = answer.path("actions").get(0).path("id").asText();
            TestServer.require(b.post("/api/v1/device/actions/" + action, credential, Map.of("state", "downloading")), 200);
            TestServer.require(a.post("/api/v1/device/actions/" + action, credential, Map.of("state", "committed")), 200);
            assertThat(b.post("/api/v1/device/actions/" + action, credential, Map.of("state", "downloading")).status()).isEqualTo(409);

            JsonNode seen = b.get("/api/v1/devices/" + id, TestServer.ADMIN_TOKEN).json();
            assertThat(seen.path("device").path("reported").path("image_version").asText()).isEqualTo("v1.4");
            assertThat(seen.path("actions").get(0).path("state").asText()).isEqualTo("committed");
            assertThat(a.get("/api/v1/audit", operator).json().findValuesAsText("action")).contains("device.set", "token.create");

            // One lease holder among replicas; when it stops renewing, the other takes over (the engine's own lease: RolloutKillTest).
            Leases leasesA = new Leases(a.server().database(), clock);
            Leases leasesB = new Leases(b.server().database(), clock);
            assertThat(leasesA.acquire("replicas-test", "replica-a", Duration.ofSeconds(30))).isTrue();
            assertThat(leasesB.acquire("replicas-test", "replica-b", Duration.ofSeconds(30))).isFalse();
            clock.advance(Duration.ofSeconds(20));
            assertThat(leasesA.acquire("replicas-test", "replica-a", Duration.ofSeconds(30))).isTrue();
            clock.advance(Duration.ofSeconds(29));
            assertThat(leasesB.acquire("replicas-test", "replica-b", Duration.ofSeconds(30))).isFalse();
            clock.advance(Duration.ofSeconds(2));
            assertThat(leasesB.acquire("replicas-test", "replica-b", Duration.ofSeconds(30))).isTrue();
            assertThat(leasesA.acquire("replicas-test", "replica-a", Duration.ofSeconds(30))).isFalse();
        }
    }
}
