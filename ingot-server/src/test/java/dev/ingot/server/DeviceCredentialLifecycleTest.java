package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.server.TestServer.EnrolledDevice;
import dev.ingot.server.TestServer.Response;
import dev.ingot.server.rollout.RolloutSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A device's credential after its first enrollment, on both databases: a known machine id re-enrolls only with a token made
 * for it (never with a stranger's, another site's or a used token), a device rotates its credential without ever being
 * locked out, and an operator revokes a device or removes it from the fleet, audited, a viewer refused.
 */
class DeviceCredentialLifecycleTest {
    @TempDir
    Path folder;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T10:00:00Z"));

    static java.util.stream.Stream<TestDatabases.Kind> kinds() {
        return TestDatabases.kinds();
    }

    private static Response enroll(TestServer server, String token, String device, String site) {
        return server.post("/api/v1/device/enroll", null, Map.of("token", token, "device_id", device, "site_id", site));
    }

    private static String reenrollToken(TestServer server, String device, String by) {
        return TestServer.require(server.post("/api/v1/devices/" + device + "/enrollment-tokens", by, Map.of()), 201).json().path("token").asText();
    }

    private static JsonNode detail(TestServer server, String device) {
        return TestServer.require(server.get("/api/v1/devices/" + device, TestServer.ADMIN_TOKEN), 200).json();
    }

    private static List<String> listed(TestServer server) {
        List<String> ids = new ArrayList<>();
        TestServer.require(server.get("/api/v1/devices", TestServer.ADMIN_TOKEN), 200).json().forEach(device -> ids.add(device.path("id").asText()));
        return ids;
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aKnownDeviceReenrollsOnlyWithATokenAnOperatorMadeForItNeverWithAStrangersAnotherSitesOrAUsedToken(TestDatabases.Kind kind) {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock)) {
            server.addSite("SITE-1");
            server.addSite("SITE-2");
            String original = server.enrollmentToken("SITE-1");
            String victim = server.newDeviceId();
            String credential = TestServer.require(enroll(server, original, victim, "SITE-1"), 201).json().path("credential").asText();
            EnrolledDevice device = new EnrolledDevice(victim, "SITE-1", credential);
            TestServer.require(server.poll(device, null, "v1.4"), 200);
            TestServer.require(server.post("/api/v1/devices/" + victim + "/desired", TestServer.ADMIN_TOKEN, Map.of("container_tag", "2.9.0")), 200);
            String strangers = server.enrollmentToken("SITE-1");
            String otherSites = server.enrollmentToken("SITE-2");
            String forAnother = TestServer.require(server.post("/api/v1/sites/SITE-1/enrollment-tokens", TestServer.ADMIN_TOKEN,
                    Map.of("device_id", server.newDeviceId())), 201).json().path("token").asText();
            var before = DatabaseSnapshot.of(server.server().database());

            Response stranger = enroll(server, strangers, victim, "SITE-1");
            assertThat(stranger.status()).as(stranger.body()).isEqualTo(409);
            assertThat(stranger.json().path("error").path("message").asText())
                    .contains("is enrolled already (since 2026-11-29T10:00:00Z)").contains("a site's token enrolls new devices only");
            assertThat(stranger.json().path("error").path("hint").asText()).contains("ingot device reenroll " + victim)
                    .contains("POST /api/v1/device/credential");
            Response otherSiteAsItsOwn = enroll(server, otherSites, victim, "SITE-2");
            assertThat(otherSiteAsItsOwn.status()).isEqualTo(409);
            assertThat(otherSiteAsItsOwn.json().path("error").path("message").asText()).contains("it is enrolled at SITE-1");
            assertThat(enroll(server, otherSites, victim, "SITE-1").status()).as("another site's token").isEqualTo(403);
            Response boundElsewhere = enroll(server, forAnother, victim, "SITE-1");
            assertThat(boundElsewhere.status()).isEqualTo(403);
            assertThat(boundElsewhere.json().path("error").path("message").asText()).contains("made for another device");
            Response used = enroll(server, original, victim, "SITE-1");
            assertThat(used.status()).isEqualTo(401);
            assertThat(used.json().path("error").path("message").asText()).contains("used already");
            assertThat(DatabaseSnapshot.of(server.server().database())).as("no takeover, no token used").isEqualTo(before);
            assertThat(server.poll(device, 1L, "v1.4").status()).as("the device keeps its credential").isEqualTo(200);

            String viewer = server.token("wall", "viewer");
            assertThat(server.post("/api/v1/devices/" + victim + "/enrollment-tokens", viewer, Map.of()).status()).isEqualTo(403);
            assertThat(server.post("/api/v1/devices/" + server.newDeviceId() + "/enrollment-tokens", TestServer.ADMIN_TOKEN, Map.of()).status())
                    .isEqualTo(404);
            JsonNode made = TestServer.require(server.post("/api/v1/devices/" + victim + "/enrollment-tokens", TestServer.ADMIN_TOKEN,
                    Map.of("expires_in_seconds", 600)), 201).json();
            assertThat(made.path("site_id").asText()).isEqualTo("SITE-1");
            assertThat(made.path("device_id").asText()).isEqualTo(victim);
            assertThat(made.path("expires_at").asText()).isEqualTo("2026-11-29T10:10:00Z");
            assertThat(enroll(server, made.path("token").asText(), server.newDeviceId(), "SITE-1").status()).as("only for its device").isEqualTo(403);

            JsonNode again = TestServer.require(enroll(server, made.path("token").asText(), victim, "SITE-1"), 201).json();
            assertThat(again.path("reenrolled").asBoolean()).isTrue();
            assertThat(server.poll(device, 1L, "v1.4").status()).as("the old credential stops at once").isEqualTo(401);
            EnrolledDevice back = new EnrolledDevice(victim, "SITE-1", again.path("credential").asText());
            JsonNode answer = TestServer.require(server.poll(back, null, "v1.4"), 200).json();
            assertThat(answer.path("desired").path("container_tag").asText()).as("its desired state stays").isEqualTo("2.9.0");
            assertThat(enroll(server, made.path("token").asText(), victim, "SITE-1").status()).as("once").isEqualTo(401);

            JsonNode audit = TestServer.require(server.get("/api/v1/audit?subject=device:" + victim, TestServer.ADMIN_TOKEN), 200).json();
            assertThat(audit.findValuesAsText("action")).containsExactly("device.reenrolled", "device.reenroll", "device.set");
            assertThat(audit.get(0).path("actor").asText()).isEqualTo("device:" + victim);
            assertThat(audit.get(1).path("actor").asText()).isEqualTo("admin");
            assertThat(audit.toString()).doesNotContain("ingot_enr_").doesNotContain("ingot_dev_");
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aDeviceRotatesItsCredentialAndTheOldOneWorksUntilTheNewOneIsFirstUsedSoALostAnswerLocksNothingOut(TestDatabases.Kind kind) {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock)) {
            EnrolledDevice device = server.enroll("SITE-1");
            EnrolledDevice other = server.enroll("SITE-1");

            JsonNode lost = TestServer.require(server.post("/api/v1/device/credential", device.credential(), Map.of()), 201).json();
            assertThat(lost.path("device_id").asText()).isEqualTo(device.id());
            assertThat(lost.path("credential").asText()).startsWith("ingot_dev_").isNotEqualTo(device.credential());
            assertThat(server.poll(device, null, "v1.4").status()).as("the answer was lost: the old one still works").isEqualTo(200);

            String next = TestServer.require(server.post("/api/v1/device/credential", device.credential(), Map.of()), 201).json()
                    .path("credential").asText();
            EnrolledDevice superseded = new EnrolledDevice(device.id(), device.site(), lost.path("credential").asText());
            assertThat(server.poll(superseded, null, "v1.4").status()).as("only the newest waiting credential counts").isEqualTo(401);
            EnrolledDevice rotated = new EnrolledDevice(device.id(), device.site(), next);
            assertThat(server.poll(rotated, null, "v1.4").status()).isEqualTo(200);
            assertThat(server.poll(device, null, "v1.4").status()).as("its first use ended the old one").isEqualTo(401);
            assertThat(server.poll(rotated, 0L, "v1.4").status()).isEqualTo(200);
            assertThat(server.poll(other, null, "v1.4").status()).as("another device is untouched").isEqualTo(200);

            var before = DatabaseSnapshot.of(server.server().database());
            assertThat(server.post("/api/v1/device/credential", null, Map.of()).status()).isEqualTo(401);
            assertThat(server.post("/api/v1/device/credential", device.credential(), Map.of()).status()).isEqualTo(401);
            assertThat(server.post("/api/v1/device/credential", TestServer.ADMIN_TOKEN, Map.of()).status()).isEqualTo(401);
            Response unknownField = server.post("/api/v1/device/credential", rotated.credential(), Map.of("keep_old", true));
            assertThat(unknownField.status()).isEqualTo(400);
            assertThat(unknownField.json().path("error").path("message").asText()).contains("'keep_old' is not one this endpoint takes");
            assertThat(DatabaseSnapshot.of(server.server().database())).isEqualTo(before);
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aRevokedDevicesNextRequestsAre401AndNothingItSendsIsStoredUntilAnOperatorLetsItReenroll(TestDatabases.Kind kind) {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock)) {
            TestReleases.publish(server.store(), folder, "v1.5");
            EnrolledDevice device = server.enroll("SITE-1");
            EnrolledDevice neighbour = server.enroll("SITE-1");
            TestServer.require(server.poll(device, null, "v1.4"), 200);
            TestServer.require(server.post("/api/v1/devices/" + device.id() + "/desired", TestServer.ADMIN_TOKEN, Map.of("image", "v1.5")), 200);
            String action = detail(server, device.id()).path("actions").get(0).path("id").asText();
            String waiting = reenrollToken(server, device.id(), TestServer.ADMIN_TOKEN);
            String viewer = server.token("wall", "viewer");
            var unrevoked = DatabaseSnapshot.of(server.server().database());
            assertThat(server.post("/api/v1/devices/" + device.id() + "/revoke", viewer, Map.of()).status()).isEqualTo(403);
            assertThat(DatabaseSnapshot.of(server.server().database())).isEqualTo(unrevoked);

            JsonNode revoked = TestServer.require(server.post("/api/v1/devices/" + device.id() + "/revoke", TestServer.ADMIN_TOKEN, Map.of()), 200).json();
            assertThat(revoked.path("changed").asBoolean()).isTrue();
            assertThat(revoked.path("device").path("revoked_at").asText()).isEqualTo("2026-11-29T10:00:00Z");
            var before = DatabaseSnapshot.of(server.server().database());
            clock.advance(Duration.ofMinutes(1));
            Response poll = server.poll(device, null, "v1.4");
            assertThat(poll.status()).isEqualTo(401);
            assertThat(poll.json().path("error").path("message").asText()).contains("the device's credential was revoked");
            assertThat(poll.json().path("error").path("hint").asText()).contains("ingot device reenroll " + device.id());
            assertThat(server.post("/api/v1/device/actions/" + action, device.credential(), Map.of("state", "downloading")).status()).isEqualTo(401);
            assertThat(server.get("/api/v1/device/releases/v1.5", device.credential()).status()).isEqualTo(401);
            assertThat(server.get("/api/v1/device/releases/v1.5/files/edge-golden-v1.5.manifest.json", device.credential()).status()).isEqualTo(401);
            assertThat(server.post("/api/v1/device/credential", device.credential(), Map.of()).status()).isEqualTo(401);
            assertThat(enroll(server, waiting, device.id(), "SITE-1").status()).as("revoking voided the token made before").isEqualTo(401);
            assertThat(DatabaseSnapshot.of(server.server().database())).as("nothing it sent is stored").isEqualTo(before);
            JsonNode again = TestServer.require(server.post("/api/v1/devices/" + device.id() + "/revoke", TestServer.ADMIN_TOKEN, Map.of()), 200).json();
            assertThat(again.path("changed").asBoolean()).isFalse();
            assertThat(DatabaseSnapshot.of(server.server().database())).as("a repeat changes and audits nothing").isEqualTo(before);
            assertThat(listed(server)).as("a revoked device stays in the fleet's lists").contains(device.id());
            assertThat(server.poll(neighbour, null, "v1.4").status()).isEqualTo(200);

            String fresh = reenrollToken(server, device.id(), TestServer.ADMIN_TOKEN);
            String credential = TestServer.require(enroll(server, fresh, device.id(), "SITE-1"), 201).json().path("credential").asText();
            EnrolledDevice back = new EnrolledDevice(device.id(), device.site(), credential);
            JsonNode answer = TestServer.require(server.poll(back, null, "v1.4"), 200).json();
            assertThat(answer.path("desired").path("image").asText()).isEqualTo("v1.5");
            TestServer.require(server.post("/api/v1/device/actions/" + action, credential, Map.of("state", "downloading")), 200);
            assertThat(detail(server, device.id()).path("device").path("revoked_at").isNull()).isTrue();
            JsonNode audit = TestServer.require(server.get("/api/v1/audit?subject=device:" + device.id(), TestServer.ADMIN_TOKEN), 200).json();
            assertThat(audit.findValuesAsText("action")).containsExactly("device.reenrolled", "device.reenroll", "device.revoke", "device.reenroll",
                    "device.set");
            assertThat(audit.get(2).path("after").path("reenrollment_tokens_voided").asInt()).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aRemovedDeviceLeavesEveryFleetViewKeepsItsHistoryAndComesBackOnlyThroughReenroll(TestDatabases.Kind kind) {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock)) {
            EnrolledDevice gone = server.enroll("SITE-1");
            EnrolledDevice stays = server.enroll("SITE-1");
            TestServer.require(server.poll(gone, null, "v1.4"), 200);
            TestServer.require(server.poll(stays, null, "v1.4"), 200);
            String viewer = server.token("wall", "viewer");
            assertThat(server.delete("/api/v1/devices/" + gone.id(), viewer).status()).isEqualTo(403);
            assertThat(server.delete("/api/v1/devices/" + server.newDeviceId(), TestServer.ADMIN_TOKEN).status()).isEqualTo(404);
            assertThat(server.delete("/api/v1/devices/not-a-machine-id", TestServer.ADMIN_TOKEN).status()).isEqualTo(400);

            JsonNode removed = TestServer.require(server.delete("/api/v1/devices/" + gone.id(), TestServer.ADMIN_TOKEN), 200).json();
            assertThat(removed.path("changed").asBoolean()).isTrue();
            assertThat(removed.path("device").path("removed_at").asText()).isEqualTo("2026-11-29T10:00:00Z");
            assertThat(removed.path("device").path("revoked_at").asText()).isEqualTo("2026-11-29T10:00:00Z");

            assertThat(listed(server)).containsExactly(stays.id());
            assertThat(server.get("/api/v1/sites/SITE-1", viewer).json().path("devices").findValuesAsText("id")).containsExactly(stays.id());
            assertThat(server.get("/metrics", null).body()).contains("ingot_devices{image_version=\"v1.4\",status=\"healthy\"} 1.0");
            JsonNode kept = detail(server, gone.id());
            assertThat(kept.path("device").path("removed_at").asText()).isEqualTo("2026-11-29T10:00:00Z");
            assertThat(kept.path("latest_report").path("device_id").asText()).as("its history stays").isEqualTo(gone.id());
            assertThat(server.post("/api/v1/devices/" + gone.id() + "/desired", TestServer.ADMIN_TOKEN, Map.of("container_tag", "2.9.0")).status())
                    .isEqualTo(404);
            assertThat(server.post("/api/v1/desired", TestServer.ADMIN_TOKEN, Map.of("filter", Map.of("site", "SITE-1"),
                    "change", Map.of("container_tag", "2.9.0"))).json().path("matched").asInt()).isEqualTo(1);
            assertThat(server.poll(gone, null, "v1.4").status()).isEqualTo(401);
            Response bySiteToken = enroll(server, server.enrollmentToken("SITE-1"), gone.id(), "SITE-1");
            assertThat(bySiteToken.status()).isEqualTo(409);
            assertThat(bySiteToken.json().path("error").path("message").asText()).contains("was enrolled (since 2026-11-29T10:00:00Z) and removed");
            assertThat(server.delete("/api/v1/devices/" + gone.id(), TestServer.ADMIN_TOKEN).json().path("changed").asBoolean()).isFalse();

            String credential = TestServer.require(enroll(server, reenrollToken(server, gone.id(), TestServer.ADMIN_TOKEN), gone.id(), "SITE-1"), 201)
                    .json().path("credential").asText();
            TestServer.require(server.poll(new EnrolledDevice(gone.id(), "SITE-1", credential), null, "v1.4"), 200);
            assertThat(listed(server)).containsExactlyInAnyOrder(gone.id(), stays.id());
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aDeviceAnActiveRolloutHoldsIsNotRemovedButRevokedAndRemovedOnceTheRolloutEnded(TestDatabases.Kind kind) {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock, UnaryOperator.identity(),
                RolloutSettings.manual())) {
            HttpFleet fleet = new HttpFleet(server).sites(3, "v1.4", "2.8.1");
            String rollout = TestServer.require(server.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, Map.of("track", "container", "tag", "2.9.0")),
                    201).json().path("id").asText();
            String held = fleet.device("SITE-0002").id();

            Response refused = server.delete("/api/v1/devices/" + held, TestServer.ADMIN_TOKEN);
            assertThat(refused.status()).isEqualTo(409);
            assertThat(refused.json().path("error").path("message").asText()).contains("the active rollout " + rollout + " holds it");
            assertThat(refused.json().path("error").path("hint").asText()).contains("ingot device revoke " + held);
            TestServer.require(server.post("/api/v1/devices/" + held + "/revoke", TestServer.ADMIN_TOKEN, Map.of()), 200);

            assertThat(server.post("/api/v1/rollouts/" + rollout + "/abort", TestServer.ADMIN_TOKEN, Map.of()).status()).isIn(200, 202);
            server.server().rollouts().driver().tick();
            TestServer.require(server.delete("/api/v1/devices/" + held, TestServer.ADMIN_TOKEN), 200);
            assertThat(listed(server)).doesNotContain(held).hasSize(2);
        }
    }
}
