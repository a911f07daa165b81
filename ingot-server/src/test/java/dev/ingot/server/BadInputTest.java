package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.server.TestServer.EnrolledDevice;
import dev.ingot.server.TestServer.Response;
import dev.ingot.server.http.ApiJson;
import dev.ingot.testing.HealthReports;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input to every endpoint that takes a body: malformed JSON, oversized bodies, unknown fields, wrong types,
 * missing fields, and health reports that break their schema. Always a 4xx with a message, never a 5xx, and
 * nothing in the database changes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputTest {
    @TempDir
    static Path folder;

    private TestServer server;
    private EnrolledDevice device;
    private String action;

    @BeforeAll
    void start() {
        server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder,
                new MutableClock(Instant.parse("2026-11-29T10:00:00Z")));
        device = server.enroll("SITE-1");
        TestServer.require(server.post("/api/v1/devices/" + device.id() + "/desired", TestServer.ADMIN_TOKEN, Map.of("container_tag", "2.9.0")), 200);
        action = server.get("/api/v1/devices/" + device.id(), TestServer.ADMIN_TOKEN).json().path("actions").get(0).path("id").asText();
        TestServer.require(server.poll(device, null, "v1.4"), 200);
    }

    @AfterAll
    void stop() {
        server.close();
    }

    private record Endpoint(String path, String credential) {}

    private List<Endpoint> endpoints() {
        return List.of(new Endpoint("/api/v1/device/enroll", null), new Endpoint("/api/v1/device/poll", device.credential()),
                new Endpoint("/api/v1/device/actions/" + action, device.credential()), new Endpoint("/api/v1/sites", TestServer.ADMIN_TOKEN),
                new Endpoint("/api/v1/sites/SITE-1/enrollment-tokens", TestServer.ADMIN_TOKEN),
                new Endpoint("/api/v1/devices/" + device.id() + "/desired", TestServer.ADMIN_TOKEN),
                new Endpoint("/api/v1/desired", TestServer.ADMIN_TOKEN), new Endpoint("/api/v1/tokens", TestServer.ADMIN_TOKEN),
                new Endpoint("/api/v1/device/credential", device.credential()),
                new Endpoint("/api/v1/devices/" + device.id() + "/revoke", TestServer.ADMIN_TOKEN),
                new Endpoint("/api/v1/devices/" + device.id() + "/enrollment-tokens", TestServer.ADMIN_TOKEN));
    }

    @Test
    void malformedOversizedUnknownAndMistypedBodiesAreRefusedWithAMessageAndChangeNothing() {
        var before = DatabaseSnapshot.of(server.server().database());
        String huge = "{\"name\": \"" + "x".repeat(300_000) + "\"}";
        List<String> bodies = List.of("", "{", "not json", "[]", "null", "42", "\"text\"", "{\"id\": \"SITE-1\"} trailing", "{\"a\":1,\"a\":2}",
                "{\"unknown_field\": true}", "{\"token\": 7, \"device_id\": [], \"site_id\": {}}", "{\"generation\": \"5\", \"report\": {}}",
                "{\"generation\": 1.5, \"report\": {}}", "{\"state\": 3}", "{\"state\": \"teleported\"}", "{\"id\": \"../../etc\"}",
                "{\"expires_in_seconds\": -5}", "{\"device_id\": \"not-hex\"}", "{\"expires_in_seconds\": 99999999999}", "{\"image\": \"latest\"}", "{\"container_tag\": \"latest\"}",
                "{\"container_tag\": \"bad tag\"}", "{\"reboot_request\": \"\"}", "{\"known_good\": [\"v1.9\"]}", "{\"image\": \"v9.9\"}",
                "{\"filter\": {}, \"change\": {\"container_tag\": \"2.9.9\"}}", "{\"filter\": {\"status\": \"sleepy\"}, \"change\": {}}",
                "{\"filter\": {\"seen_within\": \"forever\"}, \"change\": {\"container_tag\": \"2.9.9\"}}", "{\"name\": \"bad name!\", \"role\": \"viewer\"}",
                "{\"name\": \"ok\", \"role\": \"root\"}", "[" .repeat(100) + "]".repeat(100), huge);
        for (Endpoint endpoint : endpoints()) {
            for (String body : bodies) {
                Response response = server.post(endpoint.path(), endpoint.credential(), body);
                assertThat(response.status()).as("%s <- %.80s: %s", endpoint.path(), body, response.body()).isBetween(400, 499);
                JsonNode error = response.json().path("error");
                assertThat(error.path("message").asText()).as(endpoint.path() + " <- " + body).startsWith("Tried to ").contains(" because ");
            }
        }
        Response tooLarge = server.post("/api/v1/device/poll", device.credential(), huge);
        assertThat(tooLarge.status()).isEqualTo(413);
        assertThat(DatabaseSnapshot.of(server.server().database())).isEqualTo(before);
    }

    @Test
    void badPathsAndQueryParametersAreRefusedWithA4xxNeverA5xx() {
        var before = DatabaseSnapshot.of(server.server().database());
        List<String> operatorPaths = List.of("/api/v1/devices?limit=0", "/api/v1/devices?limit=abc", "/api/v1/devices?status=sleepy",
                "/api/v1/devices?seen_within=forever", "/api/v1/devices?version=latest", "/api/v1/devices?site=bad%20site", "/api/v1/devices/not-hex",
                "/api/v1/devices/" + "0".repeat(32), "/api/v1/devices/not-hex/reports", "/api/v1/sites/bad%20id", "/api/v1/sites/SITE-404",
                "/api/v1/audit?limit=-1", "/api/v1/nothing-here");
        for (String path : operatorPaths) {
            Response response = server.get(path, TestServer.ADMIN_TOKEN);
            assertThat(response.status()).as("%s: %s", path, response.body()).isBetween(400, 499);
            assertThat(response.json().path("error").path("message").asText()).as(path).startsWith("Tried to ");
        }
        List<String> devicePaths = List.of("/api/v1/device/releases/1.4", "/api/v1/device/releases/v9.9",
                "/api/v1/device/releases/v1.4/files/..%2F..%2Fetc%2Fpasswd", "/api/v1/device/releases/v1.4/files/x");
        for (String path : devicePaths) {
            Response response = server.get(path, device.credential());
            assertThat(response.status()).as("%s: %s", path, response.body()).isBetween(400, 499);
        }
        assertThat(server.post("/api/v1/device/actions/no-such-action", device.credential(), Map.of("state", "committed")).status()).isEqualTo(404);
        assertThat(DatabaseSnapshot.of(server.server().database())).isEqualTo(before);
    }

    @Test
    void reportsThatBreakTheirSchemaAreRefusedNamingTheProblem() {
        var before = DatabaseSnapshot.of(server.server().database());
        List<ObjectNode> reports = new ArrayList<>();
        ObjectNode missing = healthy();
        missing.remove("status");
        reports.add(missing);
        ObjectNode wrongType = healthy();
        wrongType.put("took_ms", "fast");
        reports.add(wrongType);
        ObjectNode extra = healthy();
        extra.put("hacked", true);
        reports.add(extra);
        ObjectNode badEnum = healthy();
        badEnum.put("status", "fine");
        reports.add(badEnum);
        ObjectNode badVersion = healthy();
        ((ObjectNode) badVersion.get("image")).put("version", "1.4");
        reports.add(badVersion);
        ObjectNode badTime = healthy();
        badTime.put("checked_at", "yesterday");
        reports.add(badTime);
        ObjectNode future = healthy();
        future.put("schema_version", 2);
        reports.add(future);
        for (ObjectNode report : reports) {
            Response response = server.poll(device, 0L, report);
            assertThat(response.status()).as(response.body()).isEqualTo(400);
            assertThat(response.json().path("error").path("message").asText()).contains("accept the health report");
        }
        assertThat(server.poll(device, 0L, (ObjectNode) null).status()).isEqualTo(400);
        assertThat(DatabaseSnapshot.of(server.server().database())).isEqualTo(before);
    }

    @Test
    void aRandomlyMutatedReportIsEitherAcceptedOrRefusedWithA4xxNeverA5xx() {
        qt().withExamples(150).forAll(longs().all(), integers().between(1, 4)).checkAssert((seed, mutations) -> {
            Random random = new Random(seed);
            ObjectNode report = healthy();
            for (int i = 0; i < mutations; i++) {
                mutate(report, random);
            }
            var before = DatabaseSnapshot.of(server.server().database());
            Response response = server.poll(device, 0L, report);
            assertThat(response.status()).as("%s -> %s", report, response.body()).isIn(200, 400, 403);
            if (response.status() != 200) {
                assertThat(response.json().path("error").path("message").asText()).startsWith("Tried to ");
                assertThat(DatabaseSnapshot.of(server.server().database())).isEqualTo(before);
            }
        });
    }

    private ObjectNode healthy() {
        return HealthReports.healthy("SITE-1", device.id(), "v1.4", "2.8.1");
    }

    /** Replaces, removes or adds one value somewhere in the tree. */
    private static void mutate(JsonNode node, Random random) {
        JsonNode current = node;
        while (true) {
            List<String> fields = new ArrayList<>();
            current.fieldNames().forEachRemaining(fields::add);
            int size = current.isObject() ? fields.size() : current.size();
            if (size == 0 || random.nextInt(4) == 0) {
                break;
            }
            int index = random.nextInt(size);
            JsonNode child = current.isObject() ? current.get(fields.get(index)) : current.get(index);
            if (!child.isContainerNode() || random.nextInt(3) == 0) {
                JsonNode value = randomValue(random);
                if (current instanceof ObjectNode object) {
                    switch (random.nextInt(3)) {
                        case 0 -> object.remove(fields.get(index));
                        case 1 -> object.set(fields.get(index), value);
                        default -> object.set("x" + random.nextInt(9), value);
                    }
                } else if (current instanceof ArrayNode array) {
                    array.set(index, value);
                }
                return;
            }
            current = child;
        }
    }

    private static JsonNode randomValue(Random random) {
        JsonNodeFactory json = ApiJson.MAPPER.getNodeFactory();
        return switch (random.nextInt(7)) {
            case 0 -> json.nullNode();
            case 1 -> json.numberNode(random.nextLong());
            case 2 -> json.textNode("v" + random.nextInt(20));
            case 3 -> json.booleanNode(random.nextBoolean());
            case 4 -> json.arrayNode().add(random.nextInt());
            case 5 -> json.objectNode().put("k", "v");
            default -> json.numberNode(random.nextDouble());
        };
    }
}
