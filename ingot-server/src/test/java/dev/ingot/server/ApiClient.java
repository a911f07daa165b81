package dev.ingot.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.server.TestServer.EnrolledDevice;
import dev.ingot.server.TestServer.Response;
import dev.ingot.server.http.ApiJson;
import dev.ingot.testing.HealthReports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/**
 * A client of a server's API for tests, as the admin and as devices: the server in this JVM ({@link TestServer}) or
 * one in a child JVM that a test kills and starts again (its URL may change between calls).
 */
public final class ApiClient {
    private final Supplier<String> url;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Random random;

    public ApiClient(Supplier<String> url, long seed) {
        this.url = url;
        this.random = new Random(seed);
    }

    public String url() {
        return url.get();
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
        Response response = post("/api/v1/tokens", TestServer.ADMIN_TOKEN, Map.of("name", name, "role", role));
        TestServer.require(response, 201);
        return response.json().path("token").asText();
    }

    public void addSite(String id) {
        TestServer.require(post("/api/v1/sites", TestServer.ADMIN_TOKEN, Map.of("id", id, "name", "Site " + id)), 201);
    }

    public String enrollmentToken(String site) {
        Response response = post("/api/v1/sites/" + site + "/enrollment-tokens", TestServer.ADMIN_TOKEN, Map.of("expires_in_seconds", 3600));
        TestServer.require(response, 201);
        return response.json().path("token").asText();
    }

    public String newDeviceId() {
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** A site (made when missing) and a new device enrolled at it. */
    public EnrolledDevice enroll(String site) {
        if (get("/api/v1/sites/" + site, TestServer.ADMIN_TOKEN).status() == 404) {
            addSite(site);
        }
        String device = newDeviceId();
        Response response = post("/api/v1/device/enroll", null, Map.of("token", enrollmentToken(site), "device_id", device, "site_id", site));
        TestServer.require(response, 201);
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

    private static String json(Object body) {
        try {
            return ApiJson.MAPPER.writeValueAsString(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
