package dev.ingot.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.server.device.DeviceApi.PollPolicy;
import dev.ingot.server.http.ApiJson;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.HealthReports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * A real server on a loopback port for a test, with a client that speaks its API: the test's admin token, a store
 * folder, and helpers that make sites, enroll devices and poll.
 */
public final class TestServer implements AutoCloseable {
    public static final String ADMIN_TOKEN = "ingot_op_test-admin-token-0123456789abcdefghijklmnop";

    public record Response(int status, String body) {
        public JsonNode json() {
            try {
                return ApiJson.MAPPER.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + body, e);
            }
        }
    }

    /** An enrolled device and its credential. */
    public record EnrolledDevice(String id, String site, String credential) {}

    private final IngotServer server;
    private final Path store;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Random random = new Random(7);

    private TestServer(IngotServer server, Path store) {
        this.server = server;
        this.store = store;
    }

    public static TestServer start(String database, Path folder, Clock clock) {
        return start(database, folder, clock, config -> config);
    }

    public static TestServer start(String database, Path folder, Clock clock, java.util.function.UnaryOperator<ServerConfig> adjust) {
        try {
            Path store = Files.createDirectories(folder.resolve("store"));
            ServerConfig config = ServerConfig.defaults("127.0.0.1", 0, database, new FolderStore(store, store.toString()), folder)
                    .withAdminToken(Optional.of(ADMIN_TOKEN))
                    .withPollPolicy(new PollPolicy(Duration.ofSeconds(60), 0.2, Duration.ofMinutes(15)));
            return new TestServer(IngotServer.start(adjust.apply(config), clock, new Random(1)), store);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public IngotServer server() {
        return server;
    }

    public Path store() {
        return store;
    }

    public String url() {
        return server.url();
    }

    public Response get(String path, String token) {
        return send(HttpRequest.newBuilder(URI.create(url() + path)).GET(), token);
    }

    public Response post(String path, String token, Object body) {
        String text = body instanceof String string ? string : json(body);
        return send(HttpRequest.newBuilder(URI.create(url() + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(text)), token);
    }

    public Response delete(String path, String token) {
        return send(HttpRequest.newBuilder(URI.create(url() + path)).DELETE(), token);
    }

    public Response send(HttpRequest.Builder request, String token) {
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        try {
            HttpResponse<String> response = http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            return new Response(response.statusCode(), response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Creates an operator token with a role; returns the token. */
    public String token(String name, String role) {
        Response response = post("/api/v1/tokens", ADMIN_TOKEN, Map.of("name", name, "role", role));
        require(response, 201);
        return response.json().path("token").asText();
    }

    public void addSite(String id) {
        require(post("/api/v1/sites", ADMIN_TOKEN, Map.of("id", id, "name", "Site " + id)), 201);
    }

    public String enrollmentToken(String site) {
        Response response = post("/api/v1/sites/" + site + "/enrollment-tokens", ADMIN_TOKEN, Map.of("expires_in_seconds", 3600));
        require(response, 201);
        return response.json().path("token").asText();
    }

    public String newDeviceId() {
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** A site (made when missing) and a new device enrolled at it. */
    public EnrolledDevice enroll(String site) {
        if (get("/api/v1/sites/" + site, ADMIN_TOKEN).status() == 404) {
            addSite(site);
        }
        String device = newDeviceId();
        Response response = post("/api/v1/device/enroll", null, Map.of("token", enrollmentToken(site), "device_id", device, "site_id", site));
        require(response, 201);
        return new EnrolledDevice(device, site, response.json().path("credential").asText());
    }

    public Response poll(EnrolledDevice device, Long generation, ObjectNode report) {
        ObjectNode body = ApiJson.MAPPER.createObjectNode();
        if (generation != null) {
            body.put("generation", generation);
        }
        body.set("report", report);
        return post("/api/v1/device/poll", device.credential(), body);
    }

    public Response poll(EnrolledDevice device, Long generation, String version) {
        return poll(device, generation, HealthReports.healthy(device.site(), device.id(), version, "2.8.1"));
    }

    public static Response require(Response response, int status) {
        if (response.status() != status) {
            throw new AssertionError("expected HTTP " + status + " but got " + response.status() + ": " + response.body());
        }
        return response;
    }

    private static String json(Object body) {
        try {
            return ApiJson.MAPPER.writeValueAsString(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
