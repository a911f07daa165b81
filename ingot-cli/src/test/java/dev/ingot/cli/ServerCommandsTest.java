package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ingot.server.IngotServer;
import dev.ingot.server.ServerConfig;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.HealthReports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator commands against a real control plane on loopback, as a user types them. */
class ServerCommandsTest {
    private static final String ADMIN = "ingot_op_cli-test-admin-0123456789abcdefghijklmnopq";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path folder;

    private IngotServer server;

    @BeforeEach
    void start() throws Exception {
        Path store = Files.createDirectories(folder.resolve("store"));
        server = IngotServer.start(ServerConfig.defaults("127.0.0.1", 0, "sqlite:" + folder.resolve("ingot.db"), new FolderStore(store), folder)
                .withAdminToken(Optional.of(ADMIN)), CommandRunner.CLOCK, new Random(3));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private CommandRunner as(String token) {
        return new CommandRunner(folder, token == null ? Map.of("INGOT_SERVER", server.url()) : Map.of("INGOT_SERVER", server.url(), "INGOT_TOKEN", token));
    }

    @Test
    void anOperatorAddsASiteEnrollsADeviceAndChangesWhatItShouldRun() throws Exception {
        CommandRunner admin = as(ADMIN);
        CommandRunner.Run added = admin.run("site", "add", "SITE-2847", "--name", "Harbour gate 3", "--tag", "pilot", "--canary");
        assertThat(added.exitCode()).as(added.toString()).isZero();
        assertThat(added.out()).contains("Added site SITE-2847 (canary)");
        assertThat(admin.run("site", "add", "SITE-2847").exitCode()).isEqualTo(3);

        CommandRunner.Run enroll = admin.run("site", "enroll", "SITE-2847", "--expires", "2h", "--out", "site.token");
        assertThat(enroll.exitCode()).as(enroll.toString()).isZero();
        Path tokenFile = folder.resolve("site.token");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile))).isEqualTo("rw-------");
        assertThat(enroll.out()).doesNotContain("ingot_enr_");
        String device = "3d1219c7c4c5404aaa1f6d2a48adfda4";
        JsonNode enrolled = post("/api/v1/device/enroll", null, Map.of("token", Files.readString(tokenFile).strip(), "device_id", device,
                "site_id", "SITE-2847"));
        post("/api/v1/device/poll", enrolled.path("credential").asText(), Map.of("report", HealthReports.healthy("SITE-2847", device, "v1.4", "2.8.1")));

        CommandRunner.Run list = admin.run("device", "list", "--tag", "pilot", "--status", "healthy", "--seen-within", "1h");
        assertThat(list.exitCode()).as(list.toString()).isZero();
        assertThat(list.out()).contains(device).contains("SITE-2847").contains("v1.4").contains("2.8.1");
        JsonNode listed = admin.run("device", "list", "--version", "v1.3", "--json").json();
        assertThat(listed).isEmpty();

        CommandRunner.Run dryRun = admin.run("device", "set", "--site", "SITE-2847", "--container-tag", "2026.11.3", "--dry-run");
        assertThat(dryRun.out()).contains("Would change 1 device(s) (nothing changed)");
        CommandRunner.Run set = admin.run("device", "set", "--site", "SITE-2847", "--container-tag", "2026.11.3", "--json");
        assertThat(set.exitCode()).as(set.toString()).isZero();
        assertThat(set.json().path("changed").asInt()).isEqualTo(1);
        CommandRunner.Run reboot = admin.run("device", "set", device, "--reboot", "patch-2026-11");
        assertThat(reboot.out()).contains("Changed 1 of 1").contains("generation 2");

        CommandRunner.Run show = admin.run("device", "show", device);
        assertThat(show.exitCode()).as(show.toString()).isZero();
        assertThat(show.out()).contains("container   2.8.1 → 2026.11.3 desired").contains("requested: patch-2026-11").contains("pending");
        assertThat(admin.run("site", "show", "SITE-2847", "--json").json().path("devices").get(0).path("id").asText()).isEqualTo(device);
        assertThat(admin.run("site", "list", "--json").json().findValuesAsText("id")).containsExactly("SITE-2847");
    }

    @Test
    void anOperatorRevokesAndRemovesADeviceAndLetsItBackWithATokenMadeForItAndAViewerCannot() throws Exception {
        CommandRunner admin = as(ADMIN);
        admin.run("site", "add", "SITE-2847");
        String device = "3d1219c7c4c5404aaa1f6d2a48adfda4";
        String siteToken = admin.run("site", "enroll", "SITE-2847", "--json").json().path("token").asText();
        JsonNode enrolled = post("/api/v1/device/enroll", null, Map.of("token", siteToken, "device_id", device, "site_id", "SITE-2847"));
        post("/api/v1/device/poll", enrolled.path("credential").asText(), Map.of("report", HealthReports.healthy("SITE-2847", device, "v1.4", "2.8.1")));
        String viewer = admin.run("token", "create", "--name", "wall", "--role", "viewer", "--json").json().path("token").asText();
        for (String[] write : new String[][] {{"device", "revoke", device}, {"device", "remove", device}, {"device", "reenroll", device}}) {
            CommandRunner.Run refused = as(viewer).run(write);
            assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(2);
            assertThat(refused.err()).contains("is a viewer and this needs operator");
        }

        CommandRunner.Run revoked = admin.run("device", "revoke", device);
        assertThat(revoked.exitCode()).as(revoked.toString()).isZero();
        assertThat(revoked.out()).contains("Revoked the credential of " + device).contains("ingot device reenroll " + device);
        assertThat(admin.run("device", "revoke", device).out()).contains("was revoked already");
        assertThat(admin.run("device", "show", device).out()).contains("credential  revoked ");
        CommandRunner.Run removed = admin.run("device", "remove", device, "--json");
        assertThat(removed.exitCode()).as(removed.toString()).isZero();
        assertThat(removed.json().path("device").path("removed_at").asText()).isNotEmpty();
        assertThat(admin.run("device", "list", "--json").json()).isEmpty();
        assertThat(admin.run("device", "show", device).out()).contains("removed     ");
        assertThat(admin.run("device", "remove", "00000000000000000000000000000000").exitCode()).as("no such device").isEqualTo(2);

        CommandRunner.Run reenroll = admin.run("device", "reenroll", device, "--expires", "1h", "--out", "device.token");
        assertThat(reenroll.exitCode()).as(reenroll.toString()).isZero();
        assertThat(reenroll.out()).contains("Wrote the re-enrollment token for " + device).doesNotContain("ingot_enr_");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(folder.resolve("device.token")))).isEqualTo("rw-------");
        assertThat(admin.run("device", "reenroll", device, "--out", "device.token").exitCode()).as("never over a file").isEqualTo(2);
        JsonNode back = post("/api/v1/device/enroll", null, Map.of("token", Files.readString(folder.resolve("device.token")).strip(),
                "device_id", device, "site_id", "SITE-2847"));
        assertThat(back.path("reenrolled").asBoolean()).isTrue();
        assertThat(admin.run("device", "list", "--json").json().findValuesAsText("id")).containsExactly(device);
        assertThat(admin.run("device", "reenroll", "--help").out()).contains("Examples:").contains("a site's token enrolls new");
    }

    @Test
    void tokensAreMadeListedAndRevokedAndTheRolesHold() {
        CommandRunner admin = as(ADMIN);
        CommandRunner.Run created = admin.run("token", "create", "--name", "wall", "--role", "viewer", "--json");
        assertThat(created.exitCode()).as(created.toString()).isZero();
        String viewer = created.json().path("token").asText();
        assertThat(viewer).startsWith("ingot_op_");

        CommandRunner.Run refused = as(viewer).run("site", "add", "SITE-1");
        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.err()).contains("is a viewer and this needs operator");
        assertThat(as(viewer).run("site", "list").exitCode()).isZero();

        assertThat(admin.run("token", "list").out()).contains("wall").contains("viewer");
        assertThat(admin.run("token", "revoke", "wall").exitCode()).isZero();
        CommandRunner.Run revoked = as(viewer).run("site", "list", "--json");
        assertThat(revoked.exitCode()).isEqualTo(2);
        assertThat(revoked.json().path("error").path("code").asText()).isEqualTo("UNAUTHENTICATED");
        assertThat(admin.run("token", "revoke", "admin").exitCode()).as("the last admin token stays").isEqualTo(3);
    }

    @Test
    void missingWrongAndUnreachableServersGiveOneLineAndTheirExitCode() {
        CommandRunner.Run noToken = as(null).run("site", "list");
        assertThat(noToken.exitCode()).isEqualTo(2);
        assertThat(noToken.err()).contains("no operator token is set").contains("INGOT_TOKEN");
        assertThat(as("ingot_op_wrong-wrong-wrong-wrong-wrong-wrong-wrong").run("site", "list").exitCode()).isEqualTo(2);

        CommandRunner down = new CommandRunner(folder, Map.of("INGOT_SERVER", "http://127.0.0.1:1", "INGOT_TOKEN", ADMIN));
        CommandRunner.Run unreachable = down.run("device", "list");
        assertThat(unreachable.exitCode()).isEqualTo(3);
        assertThat(unreachable.err()).contains("nothing answers there");
        assertThat(as(ADMIN).run("device", "set", "--container-tag", "2.9").exitCode()).as("no device and no filter").isEqualTo(2);
        assertThat(as(ADMIN).run("device", "set", "3d1219c7c4c5404aaa1f6d2a48adfda4", "--container-tag", "latest").exitCode()).isEqualTo(2);
        assertThat(as(ADMIN).run("device", "show", "3d1219c7c4c5404aaa1f6d2a48adfda4").exitCode()).isEqualTo(2);
        assertThat(as(ADMIN).run("site", "enroll", "SITE-1", "--expires", "forever").exitCode()).isEqualTo(2);
        assertThat(as(ADMIN).run("site", "list", "--server", "ftp://example").exitCode()).isEqualTo(2);
    }

    @Test
    void theServerRefusesPlainHttpOffLoopbackAndHalfATlsPair() {
        CommandRunner runner = new CommandRunner(folder);
        CommandRunner.Run plain = runner.run("server", "--bind", "0.0.0.0", "--port", "0", "--db", "sqlite:" + folder.resolve("other.db"));
        assertThat(plain.exitCode()).isEqualTo(2);
        assertThat(plain.err()).contains("serve plain HTTP on 0.0.0.0").contains("--plain-http");
        CommandRunner.Run half = runner.run("server", "--tls-cert", "cert.pem");
        assertThat(half.exitCode()).isEqualTo(2);
        assertThat(half.err()).contains("--tls-cert and --tls-key go together");
        assertThat(runner.run("server", "--port", "0", "--rollout-interval", "0s").err()).contains("--rollout-interval is from 1s to 1h");
        CommandRunner.Run badDb = runner.run("server", "--port", "0", "--db", "mysql://nope");
        assertThat(badDb.exitCode()).isEqualTo(2);
        assertThat(runner.run("server", "--help").out()).contains("Examples:").contains("--plain-http").contains("--presigned-downloads");
        CommandRunner.Run presignFolder = runner.run("server", "--port", "0", "--db", "sqlite:" + folder.resolve("presign.db"),
                "--presigned-downloads", "15m");
        assertThat(presignFolder.exitCode()).as(presignFolder.toString()).isEqualTo(2);
        assertThat(presignFolder.err()).contains("that store makes no presigned URLs").contains("--store s3://");
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
