package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.server.TestServer.EnrolledDevice;
import dev.ingot.server.TestServer.Response;
import dev.ingot.testing.HealthReports;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A red team's tries against the control plane, each found to get through once: a header that turns a read into
 * a write, text the database cannot hold (PostgreSQL refuses NUL and enforces column widths that SQLite ignores),
 * and writers racing on one row when nothing but the database orders them (PostgreSQL, or two replicas).
 */
class HostileClientsTest {
    @TempDir
    Path folder;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T10:00:00Z"));

    static java.util.stream.Stream<TestDatabases.Kind> kinds() {
        return TestDatabases.kinds();
    }

    @Test
    void aMethodOverrideHeaderCannotTurnAReadIntoAWrite() {
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock)) {
            server.token("alice", "operator");
            var before = DatabaseSnapshot.of(server.server().database());
            // A proxy, a WAF or a read-only route sees a GET; Javalin would route it as the DELETE the header names.
            Response overridden = server.send(HttpRequest.newBuilder(URI.create(server.url() + "/api/v1/tokens/alice"))
                    .header("X-HTTP-Method-Override", "DELETE").GET(), TestServer.ADMIN_TOKEN);
            assertThat(overridden.status()).as(overridden.body()).isEqualTo(400);
            assertThat(overridden.json().path("error").path("message").asText()).contains("X-HTTP-Method-Override");
            Response posted = server.send(HttpRequest.newBuilder(URI.create(server.url() + "/api/v1/tokens/alice"))
                    .header("X-HTTP-Method-Override", "DELETE").POST(HttpRequest.BodyPublishers.noBody()), TestServer.ADMIN_TOKEN);
            assertThat(posted.status()).isEqualTo(400);
            assertThat(DatabaseSnapshot.of(server.server().database())).isEqualTo(before);
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void controlCharactersInQueriesFiltersAndReasonsAreRefusedWithA4xxOnBothDatabases(TestDatabases.Kind kind) {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock)) {
            EnrolledDevice device = server.enroll("SITE-1");
            TestServer.require(server.post("/api/v1/devices/" + device.id() + "/desired", TestServer.ADMIN_TOKEN, Map.of("container_tag", "2.9.0")), 200);
            String action = server.get("/api/v1/devices/" + device.id(), TestServer.ADMIN_TOKEN).json().path("actions").get(0).path("id").asText();
            String viewer = server.token("wall", "viewer");
            var before = DatabaseSnapshot.of(server.server().database());

            // PostgreSQL refuses a NUL in text outright (a 500 before); SQLite stored it.
            for (String path : List.of("/api/v1/audit?subject=site:a%00b", "/api/v1/devices?tag=a%00b", "/api/v1/sites?tag=a%00b",
                    "/api/v1/devices?tag=NOT%20A%20TAG")) {
                Response response = server.get(path, viewer);
                assertThat(response.status()).as("%s: %s", path, response.body()).isEqualTo(400);
                assertThat(response.json().path("error").path("message").asText()).startsWith("Tried to ");
            }
            Response bulk = server.post("/api/v1/desired", TestServer.ADMIN_TOKEN,
                    Map.of("filter", Map.of("tag", "pilot\u0000"), "change", Map.of("container_tag", "2.9.1")));
            assertThat(bulk.status()).as(bulk.body()).isEqualTo(400);
            // A reason is one line: a NUL breaks PostgreSQL, a newline forges a line in the server's log.
            for (String reason : List.of("disk\u0000full", "disk full\n2026-11-29T10:00:00Z INFO  IngotServer token revoked actor=\"admin\"")) {
                Response response = server.post("/api/v1/device/actions/" + action, device.credential(), Map.of("state", "failed", "reason", reason));
                assertThat(response.status()).as(response.body()).isEqualTo(400);
                assertThat(response.json().path("error").path("message").asText()).contains("one line");
            }
            assertThat(DatabaseSnapshot.of(server.server().database())).isEqualTo(before);
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aReportNamingAVersionOrTagTheInventoryCannotHoldIsRefusedOnBothDatabases(TestDatabases.Kind kind) {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock)) {
            EnrolledDevice device = server.enroll("SITE-1");
            TestServer.require(server.poll(device, null, "v1.4"), 200);
            var before = DatabaseSnapshot.of(server.server().database());
            // The schema bounds neither; PostgreSQL enforces the columns' widths (a 503 for ever before), SQLite stored them whole.
            List<JsonNode> reports = List.of(HealthReports.healthy(device.site(), device.id(), "v1." + "9".repeat(200), "2.8.1"),
                    HealthReports.healthy(device.site(), device.id(), "v1.4", "2." + "8".repeat(200)),
                    HealthReports.healthy(device.site(), device.id(), "v1.4\u0000", "2.8.1"),
                    HealthReports.healthy(device.site(), device.id(), "v1.4", "2.8\u00001"));
            for (JsonNode report : reports) {
                Response response = server.poll(device, null, (com.fasterxml.jackson.databind.node.ObjectNode) report);
                assertThat(response.status()).as(response.body()).isEqualTo(400);
                assertThat(response.json().path("error").path("message").asText()).contains("report");
            }
            assertThat(DatabaseSnapshot.of(server.server().database())).isEqualTo(before);
            TestServer.require(server.poll(device, null, "v1.5"), 200);
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void desiredChangesRacingOnOneDeviceEachGetAGenerationOfTheirOwn(TestDatabases.Kind kind) throws Exception {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock);
                ExecutorService pool = Executors.newFixedThreadPool(8)) {
            EnrolledDevice device = server.enroll("SITE-1");
            int succeeded = 0;
            for (int round = 0; round < 6; round++) {
                List<Callable<Response>> changes = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    String tag = "r" + round + "." + i;
                    changes.add(() -> server.post("/api/v1/devices/" + device.id() + "/desired", TestServer.ADMIN_TOKEN, Map.of("container_tag", tag)));
                }
                for (Response response : race(pool, changes)) {
                    assertThat(response.status()).as(response.body()).isIn(200, 409);
                    succeeded += response.status() == 200 ? 1 : 0;
                }
            }
            JsonNode detail = server.get("/api/v1/devices/" + device.id(), TestServer.ADMIN_TOKEN).json();
            long generation = detail.path("device").path("desired").path("generation").asLong();
            assertThat(generation).as("every acknowledged change raised the generation once").isEqualTo(succeeded);
            List<Long> audited = StreamSupport.stream(server.get("/api/v1/audit?subject=device:" + device.id(), TestServer.ADMIN_TOKEN).json().spliterator(), false)
                    .map(entry -> entry.path("after").path("generation").asLong()).toList();
            assertThat(new HashSet<>(audited)).as("no generation was handed out twice").hasSameSizeAs(audited);
            List<JsonNode> open = StreamSupport.stream(detail.path("actions").spliterator(), false)
                    .filter(action -> action.path("state").asText().equals("pending")).toList();
            assertThat(open).as("one open action per track").hasSize(1);
            assertThat(open.getFirst().path("generation").asLong()).isEqualTo(generation);
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void ofReportsRacingToEndOneActionExactlyOneEndsIt(TestDatabases.Kind kind) throws Exception {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock);
                ExecutorService pool = Executors.newFixedThreadPool(3)) {
            EnrolledDevice device = server.enroll("SITE-1");
            for (int round = 0; round < 10; round++) {
                TestServer.require(server.post("/api/v1/devices/" + device.id() + "/desired", TestServer.ADMIN_TOKEN,
                        Map.of("container_tag", "2.9." + round)), 200);
                String action = server.get("/api/v1/devices/" + device.id(), TestServer.ADMIN_TOKEN).json().path("actions").get(0).path("id").asText();
                TestServer.require(server.post("/api/v1/device/actions/" + action, device.credential(), Map.of("state", "downloading")), 200);
                List<Callable<Response>> endings = List.of(
                        () -> server.post("/api/v1/device/actions/" + action, device.credential(), Map.of("state", "committed")),
                        () -> server.post("/api/v1/device/actions/" + action, device.credential(), Map.of("state", "failed", "reason", "disk full")),
                        () -> server.post("/api/v1/device/actions/" + action, device.credential(), Map.of("state", "rolled_back", "reason", "unhealthy")));
                List<Response> answers = race(pool, endings);
                assertThat(answers).extracting(Response::status).as("round %d: %s", round, answers).containsOnly(200, 409);
                List<Response> won = answers.stream().filter(response -> response.status() == 200).toList();
                assertThat(won).as("round %d", round).hasSize(1);
                JsonNode stored = StreamSupport.stream(server.get("/api/v1/devices/" + device.id(), TestServer.ADMIN_TOKEN).json().path("actions")
                        .spliterator(), false).filter(candidate -> candidate.path("id").asText().equals(action)).findFirst().orElseThrow();
                assertThat(stored.path("state").asText()).isEqualTo(won.getFirst().json().path("state").asText());
                assertThat(stored.path("events").findValuesAsText("state")).as("round %d", round)
                        .containsExactly("pending", "downloading", won.getFirst().json().path("state").asText());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void twoAdminsRevokingEachOtherAtOnceLeaveAnAdmin(TestDatabases.Kind kind) throws Exception {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock);
                ExecutorService pool = Executors.newFixedThreadPool(2)) {
            String survivor = server.token("first", "admin");
            String survivorName = "first";
            TestServer.require(server.delete("/api/v1/tokens/admin", survivor), 200);
            for (int round = 0; round < 10; round++) {
                String otherName = "second-" + round;
                Response created = TestServer.require(server.post("/api/v1/tokens", survivor, Map.of("name", otherName, "role", "admin")), 201);
                String other = created.json().path("token").asText();
                String first = survivor;
                String firstName = survivorName;
                List<Response> answers = race(pool, List.of(() -> server.delete("/api/v1/tokens/" + otherName, first),
                        () -> server.delete("/api/v1/tokens/" + firstName, other)));
                long admins = server.server().database().jdbi().withHandle(handle -> handle.createQuery(
                        "SELECT COUNT(*) FROM operator_tokens WHERE role = 'admin' AND revoked_at IS NULL").mapTo(Long.class).one());
                assertThat(admins).as("round %d: %s", round, answers).isEqualTo(1);
                boolean firstStays = server.get("/api/v1/tokens", first).status() == 200;
                survivor = firstStays ? first : other;
                survivorName = firstStays ? firstName : otherName;
            }
        }
    }

    @Test
    void madeUpEnrollmentTokensAreRefusedWithoutQueueingForTheDatabasesWriters() throws Exception {
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock)) {
            server.addSite("SITE-1");
            var before = DatabaseSnapshot.of(server.server().database());
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            // The enrollment endpoint needs no credential; held here, the SQLite writers' lock stands for the report writer's commit.
            java.util.concurrent.locks.Lock writers = server.server().database().writeLock();
            writers.lock();
            try {
                for (String token : List.of("ingot_enr_never-issued-000000000000000000000000", "not-even-a-token", TestServer.ADMIN_TOKEN)) {
                    String body = "{\"token\": \"" + token + "\", \"device_id\": \"" + server.newDeviceId() + "\", \"site_id\": \"SITE-1\"}";
                    var answer = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/api/v1/device/enroll")).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(java.time.Duration.ofSeconds(5)).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
                    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(401);
                }
            } finally {
                writers.unlock();
            }
            assertThat(DatabaseSnapshot.of(server.server().database())).isEqualTo(before);
            server.enroll("SITE-1");
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void twoReplicasTakingANewLeaseAtOnceGetOneHolderAndNoError(TestDatabases.Kind kind) throws Exception {
        String database = TestDatabases.fresh(kind, folder);
        try (TestServer a = TestServer.start(database, folder, clock);
                TestServer b = TestServer.start(database, folder, clock);
                ExecutorService pool = Executors.newFixedThreadPool(2)) {
            dev.ingot.server.fleet.Leases leasesA = new dev.ingot.server.fleet.Leases(a.server().database(), clock);
            dev.ingot.server.fleet.Leases leasesB = new dev.ingot.server.fleet.Leases(b.server().database(), clock);
            for (int round = 0; round < 20; round++) {
                String name = "rollout-engine-" + round;
                CountDownLatch start = new CountDownLatch(1);
                Future<Boolean> first = pool.submit(() -> {
                    start.await();
                    return leasesA.acquire(name, "replica-a", java.time.Duration.ofSeconds(30));
                });
                Future<Boolean> second = pool.submit(() -> {
                    start.await();
                    return leasesB.acquire(name, "replica-b", java.time.Duration.ofSeconds(30));
                });
                start.countDown();
                // Before: the loser of the first insert failed with the primary key's violation instead of answering false.
                assertThat(List.of(first.get(), second.get())).as("round %d", round).containsExactlyInAnyOrder(true, false);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void operatorsAddingOneSiteOrTokenAtOnceGetOneCreatedAndConflictsNeverA500(TestDatabases.Kind kind) throws Exception {
        try (TestServer server = TestServer.start(TestDatabases.fresh(kind, folder), folder, clock);
                ExecutorService pool = Executors.newFixedThreadPool(6)) {
            for (int round = 0; round < 5; round++) {
                String site = "SITE-" + round;
                String token = "ci-" + round;
                List<Callable<Response>> sites = new ArrayList<>();
                List<Callable<Response>> tokens = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    sites.add(() -> server.post("/api/v1/sites", TestServer.ADMIN_TOKEN, Map.of("id", site)));
                    tokens.add(() -> server.post("/api/v1/tokens", TestServer.ADMIN_TOKEN, Map.of("name", token, "role", "viewer")));
                }
                for (List<Callable<Response>> calls : List.of(sites, tokens)) {
                    List<Integer> statuses = race(pool, calls).stream().map(Response::status).toList();
                    assertThat(statuses).as("round %d", round).containsOnly(201, 409);
                    assertThat(statuses.stream().filter(status -> status == 201).count()).as("round %d", round).isEqualTo(1);
                }
            }
        }
    }

    /** Runs the calls at once (as near as threads allow) and returns their answers in order. */
    private static List<Response> race(ExecutorService pool, List<Callable<Response>> calls) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Response>> futures = new ArrayList<>();
        for (Callable<Response> call : calls) {
            futures.add(pool.submit(() -> {
                start.await();
                return call.call();
            }));
        }
        start.countDown();
        List<Response> answers = new ArrayList<>();
        for (Future<Response> future : futures) {
            answers.add(future.get());
        }
        return answers;
    }
}
