package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.server.rollout.RolloutDriver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The rollout engine killed with {@code kill -9} (the server in a child JVM, as in {@link DurabilityTest}) at random
 * moments while a rollout runs, on the real clock with a step every 100 ms: after each restart the rollout carries on
 * from its stored state, and at its end every device was written exactly once (one generation, one action) and runs
 * the new version. With two replicas on one PostgreSQL, killing the engine's leader hands the rollout to the other.
 */
class RolloutKillTest {
    private static final long STEP_MILLIS = 100;

    @TempDir
    Path folder;

    static java.util.stream.Stream<TestDatabases.Kind> kinds() {
        return TestDatabases.kinds();
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aRolloutKilledAtRandomMomentsResumesWithoutSkippingOrRepeatingADevice(TestDatabases.Kind kind) throws Exception {
        String database = TestDatabases.fresh(kind, folder);
        TestReleases.publish(folder.resolve("store"), folder, "v1.4");
        TestReleases.publish(folder.resolve("store"), folder, "v1.5");
        AtomicReference<String> url = new AtomicReference<>();
        Process server = start(database, "run-0", url);
        Random random = new Random(14);
        int kills = 0;
        try {
            ApiClient api = new ApiClient(url::get, 3);
            HttpFleet fleet = new HttpFleet(api).sites(20, "v1.4", "2.8.1");
            String id = TestServer.require(api.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, Map.of("track", "reimage", "version", "v1.5",
                    "soak", "1s", "stages", "1,10%,25%,50%,100%")), 201).json().path("id").asText();
            long nextKill = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300 + random.nextInt(700));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
            String state = "planned";
            JsonNode seen = null;
            while (!state.equals("completed") && System.nanoTime() < deadline) {
                if (System.nanoTime() > nextKill && kills < 5) {
                    server.destroyForcibly().waitFor(); // SIGKILL, wherever the engine was in its step
                    kills++;
                    server = start(database, "run-" + kills, url);
                    nextKill = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300 + random.nextInt(1500));
                }
                JsonNode now;
                try {
                    fleet.pollAll();
                    now = TestServer.require(api.get("/api/v1/rollouts/" + id, TestServer.ADMIN_TOKEN), 200).json();
                } catch (UncheckedIOException | AssertionError e) {
                    // the server was being killed; the devices poll again
                    Thread.sleep(50);
                    continue;
                }
                if (seen != null) {
                    assertCarriesOn(seen, now, kills);
                }
                seen = now;
                state = now.path("state").asText();
                Thread.sleep(50);
            }
            JsonNode done = TestServer.require(api.get("/api/v1/rollouts/" + id, TestServer.ADMIN_TOKEN), 200).json();
            assertThat(done.path("state").asText()).as(done.toPrettyString()).isEqualTo("completed");
            assertThat(kills).as("killed while the rollout ran").isGreaterThanOrEqualTo(3);
            for (HttpFleet.Device device : fleet.devices) {
                JsonNode detail = api.get("/api/v1/devices/" + device.id(), TestServer.ADMIN_TOKEN).json();
                assertThat(detail.path("device").path("desired").path("generation").asLong()).as("%s written once", device.site()).isEqualTo(1);
                assertThat(detail.path("actions")).as("%s: one action", device.site()).hasSize(1);
                assertThat(detail.path("device").path("reported").path("image_version").asText()).isEqualTo("v1.5");
            }
            int succeeded = 0;
            for (JsonNode stage : done.path("stages")) {
                succeeded += stage.path("counts").path("succeeded").asInt();
            }
            assertThat(succeeded).isEqualTo(20);
            List<String> started = new ArrayList<>();
            done.path("timeline").forEach(entry -> {
                if (entry.path("event").asText().equals("stage-started")) {
                    started.add(entry.path("detail").asText().split(" ")[1]);
                }
            });
            assertThat(started).as("each stage started once, in order").containsExactly("1", "2", "3", "4", "5");
            assertThat(done.path("timeline").findValuesAsText("event")).as("no device failed, timed out or was written twice")
                    .noneMatch(event -> event.startsWith("device-"));
        } finally {
            server.destroyForcibly().waitFor();
        }
    }

    /**
     * What a client read once stays true after any kill: the rollout's revision never goes back and its timeline only
     * grows, so a restarted engine carries on from the state it stored instead of redoing or losing a step.
     */
    private static void assertCarriesOn(JsonNode before, JsonNode after, int kills) {
        assertThat(after.path("revision").asLong()).as("revision after %d kills", kills).isGreaterThanOrEqualTo(before.path("revision").asLong());
        List<JsonNode> earlier = new ArrayList<>();
        before.path("timeline").forEach(earlier::add);
        List<JsonNode> later = new ArrayList<>();
        after.path("timeline").forEach(later::add);
        assertThat(later).as("the timeline after %d kills begins with the one read before", kills).startsWith(earlier.toArray(JsonNode[]::new));
        if (after.path("revision").asLong() == before.path("revision").asLong()) {
            // "fleet" is the fleet's versions as the devices report them now, not the rollout's state.
            assertThat((JsonNode) ((ObjectNode) after.deepCopy()).without("fleet")).as("revision %d read twice", after.path("revision").asLong())
                    .isEqualTo((JsonNode) ((ObjectNode) before.deepCopy()).without("fleet"));
        }
    }

    @Test
    void killingTheEnginesLeaderHandsTheRolloutToTheOtherReplica() throws Exception {
        String database = TestDatabases.fresh(TestDatabases.Kind.POSTGRESQL, folder);
        TestReleases.publish(folder.resolve("store"), folder, "v1.4");
        TestReleases.publish(folder.resolve("store"), folder, "v1.5");
        AtomicReference<String> urlA = new AtomicReference<>();
        AtomicReference<String> urlB = new AtomicReference<>();
        Process a = start(database, "a", urlA);
        Process b = start(database, "b", urlB);
        try {
            AtomicReference<String> serving = new AtomicReference<>(urlA.get());
            ApiClient api = new ApiClient(serving::get, 5);
            HttpFleet fleet = new HttpFleet(api).sites(10, "v1.4", "2.8.1");
            String id = TestServer.require(api.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, Map.of("track", "reimage", "version", "v1.5",
                    "soak", "1s")), 201).json().path("id").asText();
            String first = awaitHolder(database, Optional.empty());
            Process leader = first.contains("/" + a.pid() + "/") ? a : b;
            Process other = leader == a ? b : a;
            assertThat(first).contains("/" + leader.pid() + "/");
            // Let the leader start the rollout, then kill it where it stands.
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (api.get("/api/v1/rollouts/" + id, TestServer.ADMIN_TOKEN).json().path("current_stage").asInt() < 2 && System.nanoTime() < until) {
                fleet.pollAll();
                Thread.sleep(50);
            }
            leader.destroyForcibly().waitFor();
            serving.set(other == a ? urlA.get() : urlB.get());
            String second = awaitHolder(database, Optional.of(first));
            assertThat(second).as("the surviving replica holds the lease").contains("/" + other.pid() + "/");

            String state = "";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!state.equals("completed") && System.nanoTime() < deadline) {
                fleet.pollAll();
                state = api.get("/api/v1/rollouts/" + id, TestServer.ADMIN_TOKEN).json().path("state").asText();
                Thread.sleep(50);
            }
            assertThat(state).isEqualTo("completed");
            assertThat(fleet.on("v1.5")).isEqualTo(10);
            for (HttpFleet.Device device : fleet.devices) {
                assertThat(api.get("/api/v1/devices/" + device.id(), TestServer.ADMIN_TOKEN).json().path("device").path("desired").path("generation")
                        .asLong()).isEqualTo(1);
            }
        } finally {
            a.destroyForcibly().waitFor();
            b.destroyForcibly().waitFor();
        }
    }

    /** The lease's holder, once it is one other than {@code not}. */
    private static String awaitHolder(String database, Optional<String> not) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try (Connection connection = DriverManager.getConnection(database); Statement statement = connection.createStatement();
                    ResultSet rows = statement.executeQuery("SELECT holder, expires_at FROM leases WHERE name = '" + RolloutDriver.LEASE + "'")) {
                if (rows.next() && rows.getLong("expires_at") > System.currentTimeMillis() && !Optional.of(rows.getString("holder")).equals(not)) {
                    return rows.getString("holder");
                }
            } catch (SQLException e) {
                // not created yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no replica took the rollout engine's lease");
    }

    private Process start(String database, String name, AtomicReference<String> url) throws IOException, InterruptedException {
        ServerProcess.Child child = ServerProcess.spawn(folder, database, name, String.valueOf(STEP_MILLIS));
        url.set(child.url());
        return child.process();
    }
}
