package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.server.http.ApiJson;
import dev.ingot.testing.HealthReports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * kill -9 of the server in the middle of load: every poll and every operator write it acknowledged is in the
 * database when it starts again. The server runs in a child JVM; PostgreSQL runs with fsync and synchronous_commit on.
 */
class DurabilityTest {
    @TempDir
    Path folder;

    static java.util.stream.Stream<TestDatabases.Kind> kinds() {
        return TestDatabases.kinds();
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void nothingAcknowledgedIsLostWhenTheServerIsKilledMidLoad(TestDatabases.Kind kind) throws Exception {
        String database = TestDatabases.fresh(kind, folder);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        Process server = start(database, "first");
        String url = url("first");
        List<String[]> devices = new ArrayList<>();
        post(http, url + "/api/v1/sites", TestServer.ADMIN_TOKEN, Map.of("id", "SITE-1"));
        for (int i = 0; i < 24; i++) {
            String token = post(http, url + "/api/v1/sites/SITE-1/enrollment-tokens", TestServer.ADMIN_TOKEN, Map.of()).json().path("token").asText();
            String id = String.format("%032x", i + 1);
            String credential = post(http, url + "/api/v1/device/enroll", null, Map.of("token", token, "device_id", id, "site_id", "SITE-1"))
                    .json().path("credential").asText();
            devices.add(new String[] {id, credential});
        }

        Map<String, Long> acknowledged = new ConcurrentHashMap<>();
        Set<String> sitesAcknowledged = ConcurrentHashMap.newKeySet();
        AtomicLong polls = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        try (ExecutorService load = Executors.newFixedThreadPool(devices.size() + 1)) {
            for (String[] device : devices) {
                load.submit(() -> {
                    for (long seq = 1; !stop.get() && seq < 100_000; seq++) {
                        ObjectNode report = HealthReports.healthy("SITE-1", device[0], "v1.4", "2.8.1");
                        report.put("uptime_seconds", seq);
                        try {
                            if (post(http, url + "/api/v1/device/poll", device[1], Map.of("generation", 0, "report", report)).status() == 200) {
                                acknowledged.put(device[0], seq);
                                polls.incrementAndGet();
                            }
                        } catch (UncheckedIOException e) {
                            return;
                        }
                    }
                });
            }
            load.submit(() -> {
                for (int i = 0; !stop.get() && i < 100_000; i++) {
                    try {
                        if (post(http, url + "/api/v1/sites", TestServer.ADMIN_TOKEN, Map.of("id", "ACK-" + i)).status() == 201) {
                            sitesAcknowledged.add("ACK-" + i);
                        }
                    } catch (UncheckedIOException e) {
                        return;
                    }
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (polls.get() < 1500 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            server.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no flush
            stop.set(true);
        }
        assertThat(polls.get()).as("acknowledged polls before the kill").isGreaterThan(100);

        Process again = start(database, "second");
        try {
            String restarted = url("second");
            for (String[] device : devices) {
                JsonNode detail = get(http, restarted + "/api/v1/devices/" + device[0], TestServer.ADMIN_TOKEN);
                long stored = detail.path("latest_report").path("uptime_seconds").asLong(0);
                assertThat(stored).as("device %s: last acknowledged report", device[0]).isGreaterThanOrEqualTo(acknowledged.getOrDefault(device[0], 0L));
            }
            JsonNode sites = get(http, restarted + "/api/v1/sites", TestServer.ADMIN_TOKEN);
            assertThat(sites.findValuesAsText("id")).containsAll(sitesAcknowledged);
            assertThat(sitesAcknowledged).isNotEmpty();
        } finally {
            again.destroyForcibly().waitFor();
        }
    }

    private Process start(String database, String name) throws IOException, InterruptedException {
        return ServerProcess.spawn(folder, database, name).process();
    }

    private String url(String name) throws IOException {
        return "http://127.0.0.1:" + Files.readString(folder.resolve(name + ".port")).strip();
    }

    private static TestServer.Response post(HttpClient http, String url, String token, Object body) {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(ApiJson.MAPPER.writeValueAsBytes(body)));
            if (token != null) {
                request.header("Authorization", "Bearer " + token);
            }
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new TestServer.Response(response.statusCode(), response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode get(HttpClient http, String url, String token) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return ApiJson.MAPPER.readTree(response.body());
    }
}
