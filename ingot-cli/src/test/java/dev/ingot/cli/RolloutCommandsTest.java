package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ingot.server.IngotServer;
import dev.ingot.server.ServerConfig;
import dev.ingot.server.rollout.RolloutSettings;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.HealthReports;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ingot rollout …} as an operator types it, against a real control plane whose engine steps every 100 ms. */
class RolloutCommandsTest {
    private static final String ADMIN = "ingot_op_cli-test-admin-0123456789abcdefghijklmnopq";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path folder;

    private IngotServer server;
    private CommandRunner admin;

    @BeforeEach
    void start() throws Exception {
        TestKeys.RELEASE.secretKey(folder.resolve("keys"));
        SparseImages.typical(folder.resolve("edge.img"));
        CommandRunner publisher = new CommandRunner(folder);
        CommandRunner.Run published = publisher.run("image", "publish", "edge.img", "--version", "v1.5", "--key", "keys/release.asc");
        assertThat(published.exitCode()).as(published.toString()).isZero();
        Path store = folder.resolve("store");
        server = IngotServer.start(ServerConfig.defaults("127.0.0.1", 0, "sqlite:" + folder.resolve("ingot.db"), new FolderStore(store), folder)
                .withAdminToken(Optional.of(ADMIN)), CommandRunner.CLOCK, new Random(3), RolloutSettings.every(Duration.ofMillis(100)));
        admin = new CommandRunner(folder, Map.of("INGOT_SERVER", server.url(), "INGOT_TOKEN", ADMIN));
        for (int index = 1; index <= 5; index++) {
            String site = "SITE-000" + index;
            assertThat(admin.run("site", "add", site).exitCode()).isZero();
            String token = admin.run("site", "enroll", site, "--json").json().path("token").asText();
            String device = String.format("%032x", index);
            JsonNode enrolled = post("/api/v1/device/enroll", null, Map.of("token", token, "device_id", device, "site_id", site));
            post("/api/v1/device/poll", enrolled.path("credential").asText(), Map.of("report", HealthReports.healthy(site, device, "v1.4", "2.8.1")));
        }
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void anOperatorPlansStartsFollowsPausesResumesAndAbortsARollout() {
        CommandRunner.Run plan = admin.run("rollout", "start", "v1.5", "--track", "reimage", "--stages", "1,50%,100%", "--dry-run");
        assertThat(plan.exitCode()).as(plan.toString()).isZero();
        assertThat(plan.out()).contains("Plan for v1.5 (reimage)").contains("dry run, nothing changed").contains("STAGE").contains("5 devices planned");
        assertThat(admin.run("rollout", "list").out()).contains("No rollout yet.");

        CommandRunner.Run started = admin.run("rollout", "start", "v1.5", "--track", "reimage", "--soak", "1h", "--json");
        assertThat(started.exitCode()).as(started.toString()).isZero();
        String id = started.json().path("id").asText();
        assertThat(id).startsWith("r-20261126-0020-");

        CommandRunner.Run status = admin.run("rollout", "status", id);
        assertThat(status.exitCode()).as(status.toString()).isZero();
        assertThat(status.out()).contains("rollout " + id + ": v1.5 (reimage)").contains("stage  size").contains("timeline:")
                .contains("fleet versions: v1.4 5");

        CommandRunner.Run paused = admin.run("rollout", "pause", id, "--note", "change freeze");
        assertThat(paused.exitCode()).as(paused.toString()).isZero();
        assertThat(paused.out()).contains("Paused rollout " + id + ": now paused");
        CommandRunner.Run twice = admin.run("rollout", "pause", id, "--json");
        assertThat(twice.exitCode()).isEqualTo(3);
        assertThat(twice.json().path("error").path("message").asText()).contains("it is already paused");
        assertThat(admin.run("rollout", "resume", id).out()).contains("Resumed rollout " + id + ": now running");
        assertThat(admin.run("rollout", "list", "--active").out()).contains(id).contains("running").contains("1/4");

        assertThat(admin.run("rollout", "abort", id, "--note", "wrong version").exitCode()).isZero();
        CommandRunner.Run waited = admin.run("rollout", "status", id, "--wait", "--interval", "1s");
        assertThat(waited.exitCode()).as("an aborted rollout is not a success").isEqualTo(1);
        assertThat(waited.err()).contains("aborted").contains("wrong version");
        assertThat(admin.run("rollout", "list", "--json").json().get(0).path("state").asText()).isEqualTo("aborted");
    }

    @Test
    void anOperatorRollsARolloutBackAndOnlyTheDevicesItWroteAreWrittenBack() throws Exception {
        String id = admin.run("rollout", "start", "v1.5", "--soak", "1h", "--json").json().path("id").asText();
        JsonNode running = admin.run("rollout", "status", id, "--json").json();
        for (int round = 0; round < 100 && running.path("stages").get(0).path("counts").path("in_progress").asInt() == 0; round++) {
            Thread.sleep(100); // the engine (every 100 ms) writes the canary
            running = admin.run("rollout", "status", id, "--json").json();
        }
        String canary = running.path("stages").get(0).path("sites").get(0).asText();
        assertThat(desired(canary).path("image").asText()).isEqualTo("v1.5");

        CommandRunner.Run rolledBack = admin.run("rollout", "rollback", id, "--note", "GPU driver regression");
        assertThat(rolledBack.exitCode()).as(rolledBack.toString()).isZero();
        assertThat(rolledBack.out()).contains("Rolling back rollout " + id + ": now rolling back");
        for (int index = 1; index <= 5; index++) {
            String site = "SITE-000" + index;
            JsonNode desired = desired(site);
            assertThat(desired.path("image").asText(null)).as(site).isEqualTo(site.equals(canary) ? "v1.4" : null);
            assertThat(desired.path("generation").asLong()).as("%s: written and written back, or never", site).isEqualTo(site.equals(canary) ? 2 : 0);
        }
        CommandRunner.Run again = admin.run("rollout", "rollback", id);
        assertThat(again.exitCode()).as(again.toString()).isEqualTo(3);
        assertThat(again.err().strip().lines()).hasSize(1);
        assertThat(admin.run("rollout", "status", id).out()).contains("rollback-started").contains("GPU driver regression");
    }

    /** A site's one device's desired state, as {@code ingot device list --site} shows it. */
    private JsonNode desired(String site) {
        return admin.run("device", "list", "--site", site, "--json").json().get(0).path("desired");
    }

    @Test
    void badInputAndRefusalsGiveOneLineAndTheirExitCode() {
        CommandRunner viewerRunner = new CommandRunner(folder, Map.of("INGOT_SERVER", server.url(), "INGOT_TOKEN",
                admin.run("token", "create", "--name", "wall", "--role", "viewer", "--json").json().path("token").asText()));
        assertThat(admin.run("rollout", "start", "--track", "reimage").exitCode()).isEqualTo(2);
        assertThat(admin.run("rollout", "start", "v1.5", "--track", "container").exitCode()).isEqualTo(2);
        CommandRunner.Run unpublished = admin.run("rollout", "start", "v9.9", "--track", "reimage");
        assertThat(unpublished.exitCode()).isEqualTo(2);
        assertThat(unpublished.err()).contains("the store has no published release v9.9");
        assertThat(admin.run("rollout", "start", "v1.5", "--stages", "10%,100%").err()).contains("the first stage is the canary stage");
        assertThat(admin.run("rollout", "start", "v1.5", "--soak", "soon").exitCode()).isEqualTo(2);
        assertThat(admin.run("rollout", "start", "--track", "container", "--tag", "latest").exitCode()).isEqualTo(2);
        assertThat(admin.run("rollout", "start", "--track", "reboot").err()).contains("no device is named");
        assertThat(admin.run("rollout", "start", "--track", "reboot", "--devices", "00000000000000000000000000000099").err())
                .contains("names devices the fleet does not have");
        assertThat(admin.run("rollout", "status", "r-nope").exitCode()).isEqualTo(2);
        assertThat(admin.run("rollout", "status", "NOT AN ID").exitCode()).isEqualTo(2);
        CommandRunner.Run forbidden = viewerRunner.run("rollout", "start", "v1.5");
        assertThat(forbidden.exitCode()).isEqualTo(2);
        assertThat(forbidden.err()).contains("is a viewer and this needs operator");
        assertThat(admin.run("rollout", "list").out()).as("nothing was started by any of these").contains("No rollout yet.");

        assertThat(admin.run("rollout", "start", "v1.5", "--sites", "SITE-0001").exitCode()).isZero();
        CommandRunner.Run nothingLeft = admin.run("rollout", "start", "v1.5", "--sites", "SITE-0001");
        assertThat(nothingLeft.exitCode()).as("a rollout started twice finds its devices held").isEqualTo(3);
        assertThat(nothingLeft.err()).contains("no device is eligible").contains("1 held");

        CommandRunner.Run help = admin.run("rollout", "start", "--help");
        assertThat(help.out()).contains("Examples:").contains("--track container --tag 2026.11.3").contains("--only-if-reboot-required")
                .contains("--stages 1,10%,50%,100%").contains("--max-failures 5% --on-failure").doesNotContain("%%");
        assertThat(admin.run("rollout", "--help").out()).contains("pause").contains("rollback").contains("then 10%, 50% and 100% of the rest");
    }

    private JsonNode post(String path, String token, Object body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.url() + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response = HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isBetween(200, 201);
        return JSON.readTree(response.body());
    }
}
