package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.rollout.GateResult;
import dev.ingot.rollout.GateSpec;
import dev.ingot.server.HttpFleet.Behaviour;
import dev.ingot.server.rollout.RolloutSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The rollout engine inside a real server on its database (SQLite and PostgreSQL), stepped by hand on the test's
 * clock, with devices that speak the real device API ({@link HttpFleet}) and an operator on the real operator API.
 */
class RolloutServerTest {
    @TempDir
    Path folder;

    private int servers;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T08:00:00Z"));

    static java.util.stream.Stream<TestDatabases.Kind> kinds() {
        return TestDatabases.kinds();
    }

    private TestServer server(TestDatabases.Kind kind) {
        return server(kind, RolloutSettings.manual());
    }

    private TestServer server(TestDatabases.Kind kind, RolloutSettings settings) {
        Path home = folder.resolve("server-" + servers++);
        TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), home, clock, UnaryOperator.identity(), settings);
        TestReleases.publish(server.store(), home, "v1.4");
        TestReleases.publish(server.store(), home, "v1.5");
        return server;
    }

    private static JsonNode start(TestServer server, Map<String, Object> request) {
        return TestServer.require(server.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, request), 201).json();
    }

    private static JsonNode status(TestServer server, String id) {
        return TestServer.require(server.get("/api/v1/rollouts/" + id, TestServer.ADMIN_TOKEN), 200).json();
    }

    /** Rounds of: the engine steps, every device polls and works, the engine steps again, a minute passes; until one of {@code states}. */
    private JsonNode run(TestServer server, HttpFleet fleet, String id, int rounds, String... states) {
        JsonNode status = status(server, id);
        for (int round = 0; round < rounds && !List.of(states).contains(status.path("state").asText()); round++) {
            server.server().rollouts().driver().tick();
            fleet.pollAll();
            server.server().rollouts().driver().tick();
            clock.advance(Duration.ofMinutes(1));
            status = status(server, id);
        }
        assertThat(status.path("state").asText()).as(status.toPrettyString()).isIn((Object[]) states);
        return status;
    }

    private static long generation(TestServer server, HttpFleet.Device device) {
        return TestServer.require(server.get("/api/v1/devices/" + device.id(), TestServer.ADMIN_TOKEN), 200).json()
                .path("device").path("desired").path("generation").asLong();
    }

    private static String desiredImage(TestServer server, HttpFleet.Device device) {
        return TestServer.require(server.get("/api/v1/devices/" + device.id(), TestServer.ADMIN_TOKEN), 200).json()
                .path("device").path("desired").path("image").asText(null);
    }

    private static List<String> sitesOf(JsonNode status, int stage) {
        List<String> sites = new ArrayList<>();
        status.path("stages").get(stage - 1).path("sites").forEach(site -> sites.add(site.asText()));
        return sites;
    }

    private static long writes(TestServer server) {
        return server.server().database().jdbi().withHandle(handle -> handle.createQuery("SELECT COUNT(*) FROM rollout_writes").mapTo(Long.class).one());
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aGoodVersionReachesEveryDeviceStageByStageEachWrittenOnceAfterADryRunThatChangedNothing(TestDatabases.Kind kind) {
        try (TestServer server = server(kind)) {
            HttpFleet fleet = new HttpFleet(server).sites(20, "v1.4", "2.8.1");
            String viewer = server.token("wall", "viewer");

            JsonNode plan = TestServer.require(server.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN,
                    Map.of("id", "v15-everywhere", "track", "reimage", "version", "v1.5", "soak", "10m", "dry_run", true)), 200).json();
            List<Integer> sizes = new ArrayList<>();
            plan.path("plan").path("stages").forEach(stage -> sizes.add(stage.path("devices").size()));
            assertThat(sizes).containsExactly(1, 2, 8, 9);
            assertThat(server.get("/api/v1/rollouts", viewer).json()).as("a dry run stores nothing").isEmpty();
            assertThat(fleet.devices).allSatisfy(device -> assertThat(generation(server, device)).isZero());

            JsonNode started = start(server, Map.of("id", "v15-everywhere", "track", "reimage", "version", "v1.5", "soak", "10m"));
            String id = started.path("id").asText();
            assertThat(id).isEqualTo("v15-everywhere");
            assertThat(started.path("state").asText()).isEqualTo("planned");
            for (int stage = 0; stage < 4; stage++) {
                assertThat(started.path("stages").get(stage).path("sites")).as("the dry run with the same id planned stage %d", stage + 1)
                        .isEqualTo(plan.path("plan").path("stages").get(stage).path("sites"));
            }
            assertThat(server.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, Map.of("id", id, "track", "container", "tag", "2.9.0")).status())
                    .as("an id is taken once").isEqualTo(409);
            assertThat(server.post("/api/v1/rollouts/" + id + "/pause", viewer, Map.of()).status()).as("a viewer reads, never writes").isEqualTo(403);
            assertThat(server.post("/api/v1/rollouts", viewer, Map.of("track", "reimage", "version", "v1.5")).status()).isEqualTo(403);

            JsonNode done = run(server, fleet, id, 200, "completed");
            assertThat(fleet.on("v1.5")).isEqualTo(20);
            assertThat(fleet.devices).allSatisfy(device -> assertThat(generation(server, device)).as("written once").isEqualTo(1));
            assertThat(writes(server)).isEqualTo(20);
            assertThat(done.path("fleet").path("versions").path("v1.5").asInt()).isEqualTo(20);
            List<Instant> soaks = new ArrayList<>();
            done.path("stages").forEach(stage -> {
                assertThat(stage.path("state").asText()).isEqualTo("passed");
                assertThat(stage.path("gates").get(0).path("verdict").asText()).isEqualTo("pass");
                soaks.add(Instant.parse(stage.path("soak_ends_at").asText()));
            });
            for (int stage = 1; stage < soaks.size(); stage++) {
                Instant started2 = Instant.parse(done.path("stages").get(stage).path("started_at").asText());
                assertThat(started2).as("stage %d starts after the soak before it", stage + 1).isAfterOrEqualTo(soaks.get(stage - 1));
            }
            List<String> audited = server.get("/api/v1/audit?subject=rollout:" + id, viewer).json().findValuesAsText("action");
            assertThat(audited).contains("rollout.created", "rollout.stage-started", "rollout.soak-started", "rollout.stage-passed", "rollout.completed");
            assertThat(server.get("/api/v1/rollouts?state=active", viewer).json()).isEmpty();
            long holds = server.server().database().jdbi().withHandle(handle -> handle.createQuery("SELECT COUNT(*) FROM rollout_holds")
                    .mapTo(Long.class).one());
            assertThat(holds).as("a final rollout holds no device").isZero();
        }
    }

    @Test
    void aBadCanaryHaltsTheRolloutWithOnlyTheCanaryTouchedAndTheOperatorRollsItBack() {
        try (TestServer server = server(TestDatabases.Kind.SQLITE)) {
            HttpFleet fleet = new HttpFleet(server).sites(20, "v1.4", "2.8.1");
            String id = start(server, Map.of("track", "reimage", "version", "v1.5", "soak", "10m")).path("id").asText();
            String canary = sitesOf(status(server, id), 1).getFirst();
            fleet.device(canary).on("reimage", Behaviour.ROLL_BACK);

            JsonNode halted = run(server, fleet, id, 60, "halted");
            assertThat(halted.path("summary").asText()).contains("rolled itself back").contains("video-ingest did not start");
            assertThat(halted.path("stages").get(0).path("state").asText()).isEqualTo("failed");
            for (HttpFleet.Device device : fleet.devices) {
                assertThat(generation(server, device)).as(device.site()).isEqualTo(device.site().equals(canary) ? 1 : 0);
            }
            for (int round = 0; round < 30; round++) {
                server.server().rollouts().driver().tick();
                fleet.pollAll();
                clock.advance(Duration.ofMinutes(5));
            }
            assertThat(writes(server)).as("a halted rollout writes nothing more, however long it waits").isEqualTo(1);

            TestServer.require(server.post("/api/v1/rollouts/" + id + "/rollback", TestServer.ADMIN_TOKEN, Map.of("note", "bad driver")), 202);
            JsonNode rolledBack = run(server, fleet, id, 30, "rolled_back");
            assertThat(desiredImage(server, fleet.device(canary))).isEqualTo("v1.4");
            assertThat(rolledBack.findValuesAsText("event")).contains("halted", "rollback-started", "rolled-back");
            assertThat(rolledBack.path("timeline").findValuesAsText("detail")).anyMatch(detail -> detail.contains("bad driver"));
        }
    }

    @Test
    void aFailureInTheTenPercentStageRollsThatStageBackAndLeavesTheRestUntouched() {
        try (TestServer server = server(TestDatabases.Kind.SQLITE)) {
            HttpFleet fleet = new HttpFleet(server).sites(50, "v1.4", "2.8.1");
            String id = start(server, Map.of("track", "reimage", "version", "v1.5", "soak", "10m", "on_failure", "rollback")).path("id").asText();
            JsonNode planned = status(server, id);
            List<String> canary = sitesOf(planned, 1);
            List<String> second = sitesOf(planned, 2);
            assertThat(second).hasSize(5);
            fleet.device(second.get(2)).on("reimage", Behaviour.FAIL);

            JsonNode rolledBack = run(server, fleet, id, 100, "rolled_back");
            assertThat(rolledBack.path("stages").get(1).path("state").asText()).isEqualTo("failed");
            assertThat(rolledBack.path("stages").get(1).path("counts").path("reverted").asInt()).isEqualTo(5);
            for (HttpFleet.Device device : fleet.devices) {
                if (canary.contains(device.site())) {
                    assertThat(device.version).isEqualTo("v1.5");
                    assertThat(generation(server, device)).isEqualTo(1);
                } else if (second.contains(device.site())) {
                    assertThat(device.version).as(device.site()).isEqualTo("v1.4");
                    assertThat(desiredImage(server, device)).isEqualTo("v1.4");
                    assertThat(generation(server, device)).as("written and written back").isEqualTo(2);
                } else {
                    assertThat(generation(server, device)).as(device.site() + " untouched").isZero();
                }
            }
            assertThat(fleet.on("v1.5")).isEqualTo(1);
        }
    }

    @Test
    void theContainerTrackReachesEveryDeviceAndADirectChangeOfAHeldDeviceOnThatTrackIsRefused() {
        try (TestServer server = server(TestDatabases.Kind.SQLITE)) {
            HttpFleet fleet = new HttpFleet(server).sites(12, "v1.4", "2.8.1");
            String id = start(server, Map.of("track", "container", "tag", "2026.11.3", "soak", "5m")).path("id").asText();
            HttpFleet.Device held = fleet.devices.get(5);

            TestServer.Response refused = server.post("/api/v1/devices/" + held.id() + "/desired", TestServer.ADMIN_TOKEN,
                    Map.of("container_tag", "2.9.9"));
            assertThat(refused.status()).isEqualTo(409);
            assertThat(refused.json().path("error").path("message").asText()).contains("held by an active rollout on that track").contains(id);
            assertThat(server.post("/api/v1/desired", TestServer.ADMIN_TOKEN, Map.of("filter", Map.of("version", "v1.4"),
                    "change", Map.of("container_tag", "2.9.9"))).status()).as("a filter matching held devices is refused whole").isEqualTo(409);
            assertThat(generation(server, fleet.devices.get(0))).isZero();
            TestServer.require(server.post("/api/v1/devices/" + held.id() + "/desired", TestServer.ADMIN_TOKEN,
                    Map.of("known_good", List.of("v1.4"))), 200);

            run(server, fleet, id, 100, "completed");
            assertThat(fleet.onTag("2026.11.3")).isEqualTo(12);
            TestServer.require(server.post("/api/v1/devices/" + held.id() + "/desired", TestServer.ADMIN_TOKEN,
                    Map.of("container_tag", "2.9.9")), 200);
        }
    }

    @Test
    void theRebootTrackRebootsOnlyTheSelectedDevicesThatStillNeedIt() {
        try (TestServer server = server(TestDatabases.Kind.SQLITE)) {
            HttpFleet fleet = new HttpFleet(server).sites(10, "v1.4", "2.8.1");
            for (int index : List.of(1, 3, 4, 8)) {
                fleet.devices.get(index).rebootRequired = true;
            }
            fleet.pollAll();
            List<String> selected = List.of(fleet.devices.get(1).id(), fleet.devices.get(3).id(), fleet.devices.get(6).id());
            JsonNode started = start(server, Map.of("track", "reboot", "devices", selected, "only_if_reboot_required", true, "soak", "5m",
                    "stages", "1,100%"));
            assertThat(started.path("excluded").path("not_selected").asInt()).isEqualTo(7);
            assertThat(started.path("excluded").path("no_reboot_required").asInt()).isEqualTo(1);
            assertThat(server.post("/api/v1/rollouts/" + started.path("id").asText() + "/rollback", TestServer.ADMIN_TOKEN, Map.of()).status())
                    .as("a reboot cannot be rolled back").isEqualTo(409);

            run(server, fleet, started.path("id").asText(), 60, "completed");
            for (int index = 0; index < fleet.devices.size(); index++) {
                assertThat(fleet.devices.get(index).reboots).as("device %d", index).isEqualTo(index == 1 || index == 3 ? 1 : 0);
            }
            assertThat(fleet.devices.get(8).rebootRequired).as("needs one, but nobody selected it").isTrue();
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void twoRolloutsStartedAtOnceNeverHoldOneDeviceAndAStartRepeatedFindsNothingLeft(TestDatabases.Kind kind) throws Exception {
        try (TestServer server = server(kind)) {
            new HttpFleet(server).sites(30, "v1.4", "2.8.1");
            List<Callable<TestServer.Response>> starts = List.of(
                    () -> server.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, Map.of("track", "reimage", "version", "v1.5")),
                    () -> server.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, Map.of("track", "container", "tag", "2026.11.3")),
                    () -> server.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, Map.of("track", "reimage", "version", "v1.5", "sites", "SITE-000*")));
            List<TestServer.Response> answers = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(starts.size())) {
                for (Future<TestServer.Response> answer : pool.invokeAll(starts)) {
                    answers.add(answer.get());
                }
            }
            assertThat(answers).allSatisfy(answer -> assertThat(answer.status()).as(answer.body()).isIn(201, 409));
            assertThat(answers).anySatisfy(answer -> assertThat(answer.status()).isEqualTo(201));
            Set<String> held = new HashSet<>();
            int total = 0;
            for (TestServer.Response answer : answers) {
                if (answer.status() == 201) {
                    for (JsonNode stage : answer.json().path("stages")) {
                        total += stage.path("devices").asInt();
                    }
                }
            }
            server.server().database().jdbi().useHandle(handle -> handle.createQuery("SELECT device_id FROM rollout_holds").mapTo(String.class)
                    .forEach(held::add));
            assertThat(held).hasSize(total).hasSizeLessThanOrEqualTo(30);

            TestServer.Response again = server.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, Map.of("track", "reimage", "version", "v1.5"));
            assertThat(again.status()).isEqualTo(409);
            assertThat(again.json().path("error").path("message").asText()).contains("no device is eligible").contains("held");
        }
    }

    @Test
    void aDeviceWhoseOnlyCommittedActionIsOfAnOlderGenerationTimesOutInsteadOfSucceeding() {
        try (TestServer server = server(TestDatabases.Kind.SQLITE)) {
            HttpFleet fleet = new HttpFleet(server).sites(1, "v1.4", "2.8.1");
            HttpFleet.Device device = fleet.devices.getFirst();
            TestServer.require(server.post("/api/v1/devices/" + device.id() + "/desired", TestServer.ADMIN_TOKEN, Map.of("image", "v1.4")), 200);
            fleet.pollAll();
            fleet.pollAll();
            assertThat(server.get("/api/v1/devices/" + device.id(), TestServer.ADMIN_TOKEN).json().path("actions").get(0).path("state").asText())
                    .isEqualTo("committed");
            device.on("reimage", Behaviour.HANG);
            String id = start(server, Map.of("track", "reimage", "version", "v1.5", "device_deadline", "20m")).path("id").asText();

            JsonNode halted = run(server, fleet, id, 40, "halted");
            assertThat(halted.path("stages").get(0).path("failures").get(0).asText()).contains("timed_out").contains("not committed")
                    .contains("its action is pending");
            assertThat(Instant.parse(halted.path("timeline").get(halted.path("timeline").size() - 1).path("at").asText()))
                    .isAfterOrEqualTo(Instant.parse("2026-11-30T08:20:00Z"));
        }
    }

    @Test
    void aGateThatThrowsOrCannotBeMadeFailsTheStageInsteadOfStoppingTheEngine() {
        RolloutSettings settings = RolloutSettings.manual().withCloudWatch(spec -> {
            if (spec.prefix().equals("unmakeable-")) {
                throw new IllegalStateException("no AWS region is configured");
            }
            return new dev.ingot.rollout.Gate() {
                @Override
                public String name() {
                    return spec.text();
                }

                @Override
                public GateResult evaluate(dev.ingot.rollout.GateInput stage, Instant now) {
                    throw new IllegalStateException("DescribeAlarms: connection reset");
                }
            };
        });
        try (TestServer server = server(TestDatabases.Kind.SQLITE, settings)) {
            HttpFleet fleet = new HttpFleet(server).sites(4, "v1.4", "2.8.1");
            String throwing = start(server, Map.of("track", "reimage", "version", "v1.5", "soak", "10m", "sites", "SITE-0001,SITE-0002",
                    "gates", List.of("health", "cloudwatch:edge-health-"))).path("id").asText();
            String unmakeable = start(server, Map.of("track", "container", "tag", "2026.11.3", "soak", "10m", "sites", "SITE-0003,SITE-0004",
                    "gates", List.of("cloudwatch:unmakeable-"))).path("id").asText();
            assertThat(run(server, fleet, throwing, 30, "halted").path("summary").asText())
                    .contains("the gate cloudwatch:edge-health- failed: the gate could not be evaluated: DescribeAlarms: connection reset");
            assertThat(run(server, fleet, unmakeable, 30, "halted").path("summary").asText())
                    .contains("the gate cloudwatch:unmakeable- failed: the gate could not be made").contains("no AWS region is configured");
        }
        try (TestServer plain = server(TestDatabases.Kind.SQLITE)) {
            new HttpFleet(plain).sites(1, "v1.4", "2.8.1");
            TestServer.Response refused = plain.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, Map.of("track", "reimage", "version", "v1.5",
                    "gates", List.of("cloudwatch:edge-health-")));
            assertThat(refused.status()).isEqualTo(400);
            assertThat(refused.json().path("error").path("message").asText()).contains("without CloudWatch gates");
            assertThat(GateSpec.parse("cloudwatch:edge-health-")).isInstanceOf(GateSpec.CloudWatch.class);
        }
    }

    @Test
    void aStepWhoseTransactionFailsHalfwayStoresNothingAndTheNextStepWritesEachDeviceOnce() {
        try (TestServer server = server(TestDatabases.Kind.SQLITE)) {
            HttpFleet fleet = new HttpFleet(server).sites(20, "v1.4", "2.8.1");
            String id = start(server, Map.of("track", "reimage", "version", "v1.5", "soak", "5m")).path("id").asText();
            JsonNode planned = status(server, id);
            String victim = fleet.device(sitesOf(planned, 3).get(4)).id();
            // The database fails the desired-state write of one device of stage 3, after the rollout's own row was updated in the same transaction.
            server.server().database().jdbi().useHandle(handle -> handle.execute("CREATE TRIGGER fail_one BEFORE UPDATE ON desired_states "
                    + "WHEN NEW.device_id = '" + victim + "' BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"));
            for (int round = 0; round < 40; round++) {
                server.server().rollouts().driver().tick();
                fleet.pollAll();
                clock.advance(Duration.ofMinutes(1));
            }
            // The step that passes stage 2 also starts stage 3 and writes its devices: it cannot commit, so stage 2 stays soaking.
            JsonNode stuck = status(server, id);
            assertThat(stuck.path("current_stage").asInt()).isEqualTo(2);
            assertThat(stuck.path("stages").get(1).path("state").asText()).isEqualTo("soaking");
            long revision = stuck.path("revision").asLong();
            long writes = writes(server);
            int audited = server.get("/api/v1/audit?subject=rollout:" + id, TestServer.ADMIN_TOKEN).json().size();
            for (int round = 0; round < 5; round++) {
                server.server().rollouts().driver().tick();
                clock.advance(Duration.ofMinutes(1));
            }
            JsonNode after = status(server, id);
            assertThat(after.path("revision").asLong()).as("the failed step stored no state").isEqualTo(revision);
            assertThat(writes(server)).as("and no write").isEqualTo(writes);
            assertThat(server.get("/api/v1/audit?subject=rollout:" + id, TestServer.ADMIN_TOKEN).json().size()).as("and no audit entry").isEqualTo(audited);
            assertThat(sitesOf(planned, 3).stream().map(site -> generation(server, fleet.device(site)))).containsOnly(0L);

            server.server().database().jdbi().useHandle(handle -> handle.execute("DROP TRIGGER fail_one"));
            run(server, fleet, id, 100, "completed");
            assertThat(fleet.devices).allSatisfy(device -> assertThat(generation(server, device)).isEqualTo(1));
            assertThat(writes(server)).isEqualTo(20);
        }
    }

    @Test
    void operatorCommandsAreTakenInOrderRefusedWhenTheStateSaysNoAndAPausedRolloutWritesNothing() {
        try (TestServer server = server(TestDatabases.Kind.SQLITE)) {
            HttpFleet fleet = new HttpFleet(server).sites(20, "v1.4", "2.8.1");
            String operator = server.token("alice", "operator");
            String id = start(server, Map.of("track", "reimage", "version", "v1.5", "soak", "5m")).path("id").asText();
            assertThat(server.post("/api/v1/rollouts/" + id + "/resume", operator, Map.of()).status()).as("not paused").isEqualTo(409);
            assertThat(server.post("/api/v1/rollouts/" + id + "/rollback", operator, Map.of()).status()).as("nothing written").isEqualTo(409);
            run(server, fleet, id, 30, "running");
            TestServer.Response paused = server.post("/api/v1/rollouts/" + id + "/pause", operator, Map.of("note", "change freeze"));
            assertThat(paused.status()).as(paused.body()).isEqualTo(202);
            assertThat(paused.json().path("queued").asBoolean()).isTrue();
            TestServer.Response twice = server.post("/api/v1/rollouts/" + id + "/pause", operator, Map.of());
            assertThat(twice.status()).isEqualTo(409);
            assertThat(twice.json().path("error").path("message").asText()).contains("already waiting");
            TestServer.require(server.post("/api/v1/rollouts/" + id + "/resume", operator, Map.of()), 202);
            server.server().rollouts().driver().tick();
            JsonNode resumed = status(server, id);
            assertThat(resumed.path("state").asText()).isEqualTo("running");
            List<String> events = resumed.findValuesAsText("event");
            assertThat(events.subList(events.indexOf("paused"), events.size())).startsWith("paused", "resumed");

            TestServer.require(server.post("/api/v1/rollouts/" + id + "/pause", operator, Map.of()), 202);
            server.server().rollouts().driver().tick();
            assertThat(status(server, id).path("state").asText()).isEqualTo("paused");
            long writes = writes(server);
            for (int round = 0; round < 60; round++) {
                server.server().rollouts().driver().tick();
                fleet.pollAll();
                clock.advance(Duration.ofMinutes(2));
            }
            assertThat(writes(server)).as("a paused rollout writes nothing new").isEqualTo(writes);
            assertThat(server.post("/api/v1/rollouts/" + id + "/pause", operator, Map.of()).status()).isEqualTo(409);
            TestServer.require(server.post("/api/v1/rollouts/" + id + "/abort", operator, Map.of()), 202);
            server.server().rollouts().driver().tick();
            assertThat(status(server, id).path("state").asText()).isEqualTo("aborted");
            TestServer.Response final_ = server.post("/api/v1/rollouts/" + id + "/resume", operator, Map.of());
            assertThat(final_.status()).isEqualTo(409);
            assertThat(final_.json().path("error").path("message").asText()).contains("nothing changes it any more");
            Map<String, Long> byActor = new HashMap<>();
            server.get("/api/v1/audit?subject=rollout:" + id, operator).json()
                    .forEach(entry -> byActor.merge(entry.path("actor").asText(), 1L, Long::sum));
            assertThat(byActor).containsKeys("alice", "engine", "admin");
        }
    }
}
