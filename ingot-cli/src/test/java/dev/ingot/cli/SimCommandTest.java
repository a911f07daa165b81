package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `ingot sim` against the real control plane in this process (SQLite, one-second polls): the devices enroll through
 * the operator API, take a re-image and a container tag set by an operator, and a failing site falls back and says so.
 */
class SimCommandTest {
    @TempDir
    Path folder;

    private LiveControlPlane server;

    @BeforeEach
    void start() {
        server = LiveControlPlane.start(folder, Duration.ofSeconds(1)).publish("v1.5");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private CommandRunner ingot() {
        return new CommandRunner(folder, Map.of("INGOT_SERVER", server.url(), "INGOT_TOKEN", LiveControlPlane.ADMIN));
    }

    /** Runs the command on its own thread until {@code done} holds (or two minutes pass), then stops it as Ctrl-C would not: by interrupt. */
    private CommandRunner.Run runUntil(BooleanSupplier done, String... args) throws InterruptedException {
        AtomicReference<CommandRunner.Run> result = new AtomicReference<>();
        Thread sim = Thread.ofPlatform().start(() -> result.set(ingot().run(args)));
        Instant limit = Instant.now().plus(Duration.ofMinutes(2));
        while (sim.isAlive() && !done.getAsBoolean() && Instant.now().isBefore(limit)) {
            Thread.sleep(250);
        }
        sim.interrupt();
        sim.join(Duration.ofMinutes(1));
        return result.get();
    }

    private List<String> devices() {
        List<String> ids = new ArrayList<>();
        server.ok(server.get("/api/v1/devices?limit=1000")).forEach(device -> ids.add(device.path("id").asText()));
        return ids;
    }

    private boolean ended(String device, String track) {
        String state = server.action(device, track).path("state").asText();
        return state.equals("committed") || state.equals("failed") || state.equals("rolled_back");
    }

    @Test
    void aSimulatedFleetEnrollsTakesAnImageAndATagAndAFailingSiteFallsBack() throws InterruptedException {
        List<String> seen = new ArrayList<>();
        CommandRunner.Run run = runUntil(() -> {
            List<String> devices = devices();
            if (devices.size() == 6 && seen.isEmpty()) {
                seen.addAll(devices);
                for (String device : devices) {
                    server.desire(device, Map.of("image", "v1.5", "container_tag", "2.9.0"));
                }
            }
            return !seen.isEmpty() && seen.stream().allMatch(device -> ended(device, "reimage") && ended(device, "container"));
        }, "sim", "--devices", "6", "--sites", "3", "--fail", "SITE-0002=reimage", "--ramp-up", "1s", "--boot-time", "1s",
                "--commit-window", "4s", "--every", "2s", "--json");

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(seen).hasSize(6);
        Map<String, String> outcomes = new java.util.TreeMap<>();
        for (String device : seen) {
            JsonNode detail = server.device(device);
            String site = detail.path("device").path("site_id").asText();
            outcomes.merge(site + " " + server.action(device, "reimage").path("state").asText() + " on "
                    + detail.path("device").path("reported").path("image_version").asText(), "x", String::concat);
            assertThat(server.action(device, "container").path("state").asText()).as(device).isEqualTo("committed");
            if (site.equals("SITE-0002")) {
                assertThat(server.action(device, "reimage").path("reason").asText()).contains("was not healthy within", "slot a booted again");
            }
        }
        assertThat(outcomes).containsOnlyKeys("SITE-0001 committed on v1.5", "SITE-0002 rolled_back on v1.4", "SITE-0003 committed on v1.5");
        List<JsonNode> lines = run.out().lines().map(SimCommandTest::json).toList();
        assertThat(lines).first().satisfies(line -> assertThat(line.path("type").asText()).isEqualTo("status"));
        JsonNode summary = lines.getLast();
        assertThat(summary.path("type").asText()).isEqualTo("summary");
        assertThat(summary.path("enrolled").asInt()).isEqualTo(6);
        assertThat(summary.path("outcomes").path("committed").asLong()).isEqualTo(10);
        assertThat(summary.path("outcomes").path("rolled_back").asLong()).isEqualTo(2);
        assertThat(summary.path("downloads").asLong()).as("each device fetched v1.5's manifest").isGreaterThanOrEqualTo(6);
        assertThat(summary.path("versions").path("v1.5").asInt()).isEqualTo(4);
        assertThat(summary.path("poll_failures").asLong()).isZero();
    }

    @Test
    void aFailureAtASiteOutsideTheFleetOrOfAnUnknownKindIsBadInputAndAddsNothing() {
        CommandRunner.Run outside = ingot().run("sim", "--devices", "4", "--sites", "2", "--fail", "SITE-0009=reimage", "--duration", "1s");
        CommandRunner.Run unknown = ingot().run("sim", "--devices", "4", "--fail", "SITE-0001=melt", "--duration", "1s");
        CommandRunner.Run noServer = new CommandRunner(folder, Map.of("INGOT_SERVER", "http://127.0.0.1:1", "INGOT_TOKEN", LiveControlPlane.ADMIN))
                .run("sim", "--devices", "2", "--duration", "1s");

        assertThat(outside.exitCode()).isEqualTo(2);
        assertThat(outside.err()).contains("SITE-0009", "SITE-0001 to SITE-0002");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.err()).contains("reimage, container, health");
        assertThat(noServer.exitCode()).isEqualTo(3);
        assertThat(server.ok(server.get("/api/v1/sites"))).isEmpty();
    }

    private static JsonNode json(String line) {
        try {
            return Ingot.JSON.readTree(line);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + line, e);
        }
    }
}
