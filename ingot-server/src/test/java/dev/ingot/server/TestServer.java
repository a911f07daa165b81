package dev.ingot.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.server.device.DeviceApi.PollPolicy;
import dev.ingot.server.http.ApiJson;
import dev.ingot.store.FolderStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
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
    private final ApiClient client;

    private TestServer(IngotServer server, Path store) {
        this.server = server;
        this.store = store;
        this.client = new ApiClient(server::url, 7);
    }

    public static TestServer start(String database, Path folder, Clock clock) {
        return start(database, folder, clock, config -> config);
    }

    public static TestServer start(String database, Path folder, Clock clock, java.util.function.UnaryOperator<ServerConfig> adjust) {
        return start(database, folder, clock, adjust, dev.ingot.server.rollout.RolloutSettings.defaults());
    }

    /** With the rollout engine set as a test needs it (by hand on the test's clock: {@code RolloutSettings.manual()}). */
    public static TestServer start(String database, Path folder, Clock clock, java.util.function.UnaryOperator<ServerConfig> adjust,
            dev.ingot.server.rollout.RolloutSettings rollouts) {
        try {
            Path store = Files.createDirectories(folder.resolve("store"));
            ServerConfig config = ServerConfig.defaults("127.0.0.1", 0, database, new FolderStore(store, store.toString()), folder)
                    .withAdminToken(Optional.of(ADMIN_TOKEN))
                    .withPollPolicy(new PollPolicy(Duration.ofSeconds(60), 0.2, Duration.ofMinutes(15)));
            return new TestServer(IngotServer.start(adjust.apply(config), clock, new Random(1), rollouts), store);
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

    public ApiClient client() {
        return client;
    }

    public Response get(String path, String token) {
        return client.get(path, token);
    }

    public Response post(String path, String token, Object body) {
        return client.post(path, token, body);
    }

    public Response delete(String path, String token) {
        return client.delete(path, token);
    }

    public Response send(HttpRequest.Builder request, String token) {
        return client.send(request, token);
    }

    /** Creates an operator token with a role; returns the token. */
    public String token(String name, String role) {
        return client.token(name, role);
    }

    public void addSite(String id) {
        client.addSite(id);
    }

    public String enrollmentToken(String site) {
        return client.enrollmentToken(site);
    }

    public String newDeviceId() {
        return client.newDeviceId();
    }

    /** A site (made when missing) and a new device enrolled at it. */
    public EnrolledDevice enroll(String site) {
        return client.enroll(site);
    }

    public Response poll(EnrolledDevice device, Long generation, ObjectNode report) {
        return client.poll(device, generation, report);
    }

    public Response poll(EnrolledDevice device, Long generation, String version) {
        return client.poll(device, generation, version);
    }

    public static Response require(Response response, int status) {
        if (response.status() != status) {
            throw new AssertionError("expected HTTP " + status + " but got " + response.status() + ": " + response.body());
        }
        return response;
    }

    @Override
    public void close() {
        server.close();
    }
}
