package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.rollout.Gate;
import dev.ingot.rollout.GateInput;
import dev.ingot.rollout.GateResult;
import dev.ingot.server.fleet.Leases;
import dev.ingot.server.rollout.RolloutDriver;
import dev.ingot.server.rollout.RolloutSettings;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Attacks on the rollout engine's safety promises from outside (issue 14's red team): replicas that pause or lose
 * their lease mid-step, operators who click at the same moment, hostile text on the dashboard. Each test is one
 * attack that found something, kept so that it stays fixed.
 */
class RolloutRedTeamTest {
    @TempDir
    Path folder;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T08:00:00Z"));

    static java.util.stream.Stream<TestDatabases.Kind> kinds() {
        return TestDatabases.kinds();
    }

    private TestServer server(String database, String name, RolloutSettings settings) throws Exception {
        Path home = Files.createDirectories(folder.resolve(name));
        TestServer server = TestServer.start(database, home, clock, UnaryOperator.identity(), settings);
        TestReleases.publish(server.store(), home, "v1.4");
        TestReleases.publish(server.store(), home, "v1.5");
        return server;
    }

    private static JsonNode status(TestServer server, String id) {
        return TestServer.require(server.get("/api/v1/rollouts/" + id, TestServer.ADMIN_TOKEN), 200).json();
    }

    private static long writes(TestServer server) {
        return server.server().database().jdbi().withHandle(handle -> handle.createQuery("SELECT COUNT(*) FROM rollout_writes").mapTo(Long.class).one());
    }

    /** A CloudWatch gate that passes, and that, once told to, stops its caller inside the step until let go (a leader paused mid-step). */
    private static final class PausingGate implements Gate {
        final AtomicBoolean pauseNext = new AtomicBoolean();
        final CountDownLatch paused = new CountDownLatch(1);
        final CountDownLatch wake = new CountDownLatch(1);

        @Override
        public String name() {
            return "cloudwatch:edge-health-";
        }

        @Override
        public GateResult evaluate(GateInput stage, Instant now) {
            if (pauseNext.getAndSet(false)) {
                paused.countDown();
                try {
                    wake.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return GateResult.pass(name(), "all OK", now);
        }
    }

    @Test
    void aLeaderPausedMidStepWhoseLeaseWasTakenStoresNothingWhenItWakesSoTheCanaryThatTurnedBadHaltsTheRollout() throws Exception {
        String database = TestDatabases.fresh(TestDatabases.Kind.POSTGRESQL, folder);
        PausingGate gateA = new PausingGate();
        RolloutSettings settingsA = RolloutSettings.manual().withCloudWatch(spec -> gateA);
        RolloutSettings settingsB = RolloutSettings.manual().withCloudWatch(spec -> new PausingGate());
        try (TestServer a = server(database, "a", settingsA); TestServer b = server(database, "b", settingsB)) {
            HttpFleet fleet = new HttpFleet(a).sites(6, "v1.4", "2.8.1");
            String id = TestServer.require(a.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, Map.of("track", "reimage", "version", "v1.5",
                    "soak", "10m", "stages", "1,100%", "gates", List.of("health", "cloudwatch:edge-health-"))), 201).json().path("id").asText();
            RolloutDriver leaderA = a.server().rollouts().driver();
            for (int round = 0; round < 5; round++) {
                assertThat(leaderA.tick()).isTrue();
                fleet.pollAll();
                clock.advance(Duration.ofMinutes(1));
            }
            JsonNode soaking = status(a, id);
            assertThat(soaking.path("stages").get(0).path("state").asText()).as(soaking.toPrettyString()).isEqualTo("soaking");
            HttpFleet.Device canary = fleet.device(soaking.path("stages").get(0).path("sites").get(0).asText());
            clock.advance(Duration.ofMinutes(10));

            // A reads the soaking rollout (the canary healthy), passes the health gate, and is paused inside its CloudWatch call.
            gateA.pauseNext.set(true);
            try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
                Future<Boolean> stepOfA = pool.submit(leaderA::tick);
                assertThat(gateA.paused.await(30, TimeUnit.SECONDS)).isTrue();
                // Meanwhile the canary turns unhealthy, A's lease runs out and B takes it, about to step the rollout itself.
                canary.status = "unhealthy";
                canary.poll();
                clock.advance(Duration.ofMinutes(1));
                assertThat(new Leases(b.server().database(), clock).acquire(RolloutDriver.LEASE, b.server().rollouts().driver().holder(),
                        Duration.ofSeconds(30))).isTrue();
                long before = writes(a);
                gateA.wake.countDown();
                stepOfA.get(60, TimeUnit.SECONDS);
                assertThat(writes(a)).as("the paused leader, no longer holding the lease, wrote no device of stage 2").isEqualTo(before);
            }
            assertThat(b.server().rollouts().driver().tick()).isTrue();
            JsonNode halted = status(b, id);
            assertThat(halted.path("state").asText()).as(halted.toPrettyString()).isEqualTo("halted");
            assertThat(halted.path("summary").asText()).contains("the gate health failed");
            assertThat(writes(b)).as("only the canary was ever written").isEqualTo(1);
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void operatorsPausingAndAbortingOneRolloutAtTheSameMomentGetAnAnswerEachAndNever500(TestDatabases.Kind kind) throws Exception {
        try (TestServer server = server(TestDatabases.fresh(kind, folder), "server", RolloutSettings.manual())) {
            new HttpFleet(server).sites(4, "v1.4", "2.8.1");
            String alice = server.token("alice", "operator");
            String bob = server.token("bob", "operator");
            for (int attempt = 0; attempt < 20; attempt++) {
                String id = TestServer.require(server.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, Map.of("track", "reimage", "version", "v1.5",
                        "id", "race-" + attempt)), 201).json().path("id").asText();
                List<Callable<TestServer.Response>> clicks = new ArrayList<>();
                for (String token : List.of(alice, bob)) {
                    for (String command : List.of("pause", "abort")) {
                        clicks.add(() -> server.post("/api/v1/rollouts/" + id + "/" + command, token, Map.of()));
                    }
                }
                List<TestServer.Response> answers = new ArrayList<>();
                try (ExecutorService pool = Executors.newFixedThreadPool(clicks.size())) {
                    for (Future<TestServer.Response> answer : pool.invokeAll(clicks)) {
                        answers.add(answer.get());
                    }
                }
                assertThat(answers).allSatisfy(answer -> assertThat(answer.status()).as(answer.body()).isIn(200, 202, 409));
                server.server().rollouts().driver().tick();
                JsonNode after = status(server, id);
                assertThat(after.path("state").asText()).as(answers.stream().map(answer -> answer.status() + " "
                        + answer.json().path("error").path("message").asText()).toList().toString()).isEqualTo("aborted");
                long queued = answers.stream().filter(answer -> answer.status() == 202).count();
                long audited = server.get("/api/v1/audit?subject=rollout:" + id, TestServer.ADMIN_TOKEN).json().findValuesAsText("action").stream()
                        .filter("rollout.command"::equals).count();
                assertThat(audited).as("every command taken was audited, and only those").isEqualTo(queued);
            }
        }
    }

    @Test
    void hostileNotesOnTheRolloutViewAreTextUnderTheCspAndAStrangerWithoutASessionSeesNothing() throws Exception {
        try (TestServer server = server(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), "server", RolloutSettings.manual())) {
            new HttpFleet(server).sites(3, "v1.4", "2.8.1");
            String id = TestServer.require(server.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, Map.of("track", "reimage", "version", "v1.5",
                    "sites", "SITE-000?,!tag:x", "id", "hostile")), 201).json().path("id").asText();
            String payload = "\"><img src=x onerror=alert(1)><script>alert(2)</script>'";
            TestServer.require(server.post("/api/v1/rollouts/" + id + "/pause", TestServer.ADMIN_TOKEN, Map.of("note", payload)), 202);
            server.server().rollouts().driver().tick();

            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> login = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/ui/login"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("token=" + URLEncoder.encode(server.token("wall", "viewer"), StandardCharsets.UTF_8)))
                    .build(), HttpResponse.BodyHandlers.ofString());
            String cookie = login.headers().allValues("Set-Cookie").stream().filter(value -> value.startsWith("ingot_session=")).findFirst()
                    .orElseThrow();
            cookie = cookie.substring(0, cookie.indexOf(';'));
            for (String path : List.of("/ui/rollouts/" + id, "/ui/rollouts/" + id + "/live")) {
                HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(server.url() + path)).header("Cookie", cookie).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(page.statusCode()).isEqualTo(200);
                assertThat(page.body()).as(path).contains("&lt;script&gt;alert(2)&lt;/script&gt;").doesNotContain("<script>alert")
                        .doesNotContain("<img src=x");
                assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow()).as(path).doesNotContain("unsafe-inline")
                        .doesNotContain("unsafe-eval");
            }
            for (String path : List.of("/ui/rollouts/" + id, "/ui/rollouts/" + id + "/live", "/ui/rollouts/no-such-rollout/live", "/ui/rollouts")) {
                HttpResponse<String> stranger = http.send(HttpRequest.newBuilder(URI.create(server.url() + path)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(stranger.statusCode()).as(path).isIn(302, 401);
                assertThat(stranger.body()).as(path).doesNotContain("v1.5").doesNotContain("alert");
            }
        }
    }

    @Test
    void aDeviceThatNoLongerNeedsItsRebootWhenItsStageComesIsNotRebootedAndTheTimelineSaysSo() throws Exception {
        try (TestServer server = server(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), "server", RolloutSettings.manual())) {
            HttpFleet fleet = new HttpFleet(server).sites(2, "v1.4", "2.8.1");
            fleet.devices.forEach(device -> device.rebootRequired = true);
            fleet.pollAll();
            String id = TestServer.require(server.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, Map.of("track", "reboot", "devices",
                    fleet.devices.stream().map(HttpFleet.Device::id).toList(), "only_if_reboot_required", true, "soak", "5m", "stages", "1,100%")),
                    201).json().path("id").asText();
            HttpFleet.Device later = fleet.device(status(server, id).path("stages").get(1).path("sites").get(0).asText());
            later.rebootRequired = false; // it rebooted by itself (a power cut) while the canary soaked
            for (int round = 0; round < 30 && !status(server, id).path("state").asText().equals("completed"); round++) {
                server.server().rollouts().driver().tick();
                fleet.pollAll();
                clock.advance(Duration.ofMinutes(1));
            }
            JsonNode done = status(server, id);
            assertThat(done.path("state").asText()).isEqualTo("completed");
            assertThat(later.reboots).as("its own reboot since the plan was enough").isZero();
            assertThat(fleet.devices.stream().filter(device -> device != later).toList()).allSatisfy(device -> assertThat(device.reboots).isEqualTo(1));
            assertThat(done.path("timeline").findValuesAsText("event")).contains("device-skipped");
            assertThat(writes(server)).as("no desired-state write for it").isEqualTo(1);
        }
    }
}
