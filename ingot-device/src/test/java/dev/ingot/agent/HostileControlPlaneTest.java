package dev.ingot.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ingot.agent.ControlPlane.PollAnswer;
import dev.ingot.agent.ControlPlane.ReleaseDownload;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.HealthReport;
import dev.ingot.image.ImageVersion;
import dev.ingot.sim.ManualClock;
import dev.ingot.sim.SimulatedHost;
import dev.ingot.site.ContainerImage;
import dev.ingot.site.Secret;
import dev.ingot.site.SiteId;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The agent's client against a control plane that lies, stalls or points elsewhere (issue 13's red team): a real HTTP
 * server on loopback answering what a compromised or broken control plane (or whatever answers in its name) would. Each
 * answer must end as an agent error the loop survives ({@code UNAVAILABLE}: tried again later), never as an exception
 * that ends the tick, a hang, or the credential sent elsewhere.
 */
class HostileControlPlaneTest {
    private static final Secret CREDENTIAL = Secret.of("device-credential-1");
    private static final String DESIRED_V15 = """
            {"changed": true, "poll_interval_seconds": 60,
             "desired": {"generation": 2, "image": "v1.5", "known_good": ["v1.4"]},
             "actions": []}""";

    private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
    private final Map<Integer, List<String>> requests = new ConcurrentHashMap<>();
    private final HealthReport report = new SimulatedHost(new SiteId("SITE-2847"), 1, new ManualClock(Instant.parse("2026-11-26T08:00:00Z")),
            ImageVersion.parse("v1.4"), ContainerImage.parse("registry.example.net/video-ingest:2.8.1"), Set.of()).agentHost().health().check();

    /** How one hostile server answers a request. */
    private interface Answer {
        void answer(HttpExchange exchange) throws IOException, InterruptedException;
    }

    @AfterEach
    void stop() {
        servers.forEach(server -> server.stop(0));
    }

    @Test
    void aPollAnswerThatTricklesInOneByteAtATimeIsCutOffAtTheDeadlineInsteadOfHoldingTheAgent() {
        URI base = serve(Map.of("/api/v1/device/poll", exchange -> {
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                for (int i = 0; i < 600; i++) { // a minute of drip, far past the deadline
                    out.write(' ');
                    out.flush();
                    Thread.sleep(100);
                }
                out.write("{}".getBytes(StandardCharsets.UTF_8));
            }
        }));
        HttpControlPlane client = new HttpControlPlane(base, HttpControlPlane.client(Optional.empty(), "--cacert", Optional.empty()),
                Duration.ofSeconds(1));

        assertThatThrownBy(() -> client.poll(CREDENTIAL, report, -1)).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
            assertThat(e.getMessage()).contains("no whole answer came within 1 s");
        });
    }

    @Test
    void aHugePollAnswerIsRefusedBeforeItIsAllInMemory() {
        URI base = serve(Map.of("/api/v1/device/poll", exchange -> {
            exchange.sendResponseHeaders(200, 0);
            byte[] spaces = " ".repeat(64 * 1024).getBytes(StandardCharsets.US_ASCII);
            try (OutputStream out = exchange.getResponseBody()) {
                for (int i = 0; i < 16 * 1024; i++) { // 1 GiB of whitespace before the document, if the client read it all
                    out.write(spaces);
                }
                out.write("{}".getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // The client hung up: what it should do.
            }
        }));

        assertThatThrownBy(() -> client(base).poll(CREDENTIAL, report, -1)).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
            assertThat(e.getMessage()).contains("larger than " + HttpControlPlane.MAX_ANSWER + " bytes");
        });
    }

    @Test
    void aPollAnswerThatIsNotJsonFailsThePollAsUnavailable() {
        URI base = serve(Map.of("/api/v1/device/poll", json(200, "{\"changed\": true, \"desired\": {\"generation\": ")));

        assertThatThrownBy(() -> client(base).poll(CREDENTIAL, report, -1)).isInstanceOfSatisfying(IngotException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
    }

    @Test
    void aDesiredTagWithShellMetacharactersOrAnotherRegistryIsRefusedAndNothingIsDesired() {
        for (String tag : List.of("2.9.0;reboot", "$(id)", "evil.example.net/video-ingest:2.9.0", "2.9.0@sha256:00", "latest")) {
            URI base = serve(Map.of("/api/v1/device/poll", json(200, """
                    {"changed": true, "desired": {"generation": 3, "container_tag": "%s", "known_good": []}, "actions": []}"""
                    .formatted(tag.replace("\"", "\\\"")))));

            assertThatThrownBy(() -> client(base).poll(CREDENTIAL, report, -1)).as(tag).isInstanceOfSatisfying(IngotException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                assertThat(e.getMessage()).contains("container tag");
            });
        }
    }

    @Test
    void aReleaseFileUrlThatIsNotAUrlLeavesThePollStandingWithoutADownloadInsteadOfEndingTheTick() {
        URI base = serve(Map.of("/api/v1/device/poll", json(200, DESIRED_V15),
                "/api/v1/device/releases/v1.5", json(200, """
                        {"version": "v1.5", "name": "edge-golden", "files": [
                          {"name": "edge-golden-v1.5.manifest.json", "size": 10, "url": "https://cdn example.net/x y"}]}""")));

        PollAnswer answer = client(base).poll(CREDENTIAL, report, -1);

        assertThat(answer.desired()).hasValueSatisfying(desired -> assertThat(desired.image()).contains(ImageVersion.parse("v1.5")));
        assertThat(answer.downloads()).isEmpty();
        assertThatThrownBy(() -> client(base).release(CREDENTIAL, ImageVersion.parse("v1.5"))).isInstanceOfSatisfying(IngotException.class,
                e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                    assertThat(e.getMessage()).contains("is not a URL");
                });
    }

    @Test
    void aRedirectIsNeverFollowedSoTheCredentialNeverReachesTheHostItPointsAt() {
        URI elsewhere = serve(Map.of("/", json(200, "{}")));
        URI base = serve(Map.of("/api/v1/device/poll", exchange -> {
            exchange.getResponseHeaders().add("Location", elsewhere + "/api/v1/device/poll");
            exchange.sendResponseHeaders(307, -1);
            exchange.close();
        }));

        assertThatThrownBy(() -> client(base).poll(CREDENTIAL, report, -1)).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
            assertThat(e.hint()).hasValueSatisfying(hint -> assertThat(hint).contains("redirect"));
        });
        assertThat(requests.getOrDefault(elsewhere.getPort(), List.of())).isEmpty();
    }

    @Test
    void aDownloadUrlOnAnotherHostGetsNoCredentialAndFileOrPlainHttpUrlsAreRefused() throws IOException {
        URI other = serve(Map.of("/", json(200, "{}")));
        URI base = serve(Map.of());
        HttpControlPlane client = client(base);
        ControlPlaneReleases releases = new ControlPlaneReleases(client, () -> Optional.of(CREDENTIAL));
        String key = "edge-golden-v1.5.manifest.json";

        try (var store = releases.store(new ReleaseDownload(ImageVersion.parse("v1.5"), Map.of(key, URI.create(other + "/presigned/x")),
                Optional.empty())); InputStream in = store.range(dev.ingot.image.ReleaseFiles.STORE_FOLDER + key).open(0, 2)) {
            in.readAllBytes();
        }
        assertThat(requests.get(other.getPort())).isNotEmpty().allSatisfy(request -> assertThat(request).doesNotContain("Bearer"));

        for (String url : List.of("file:///etc/shadow", "http://ingot.example.net/x", "ftp://ingot.example.net/x", "https://user:pw@cdn.example.net/x")) {
            assertThatThrownBy(() -> releases.store(new ReleaseDownload(ImageVersion.parse("v1.5"), Map.of(key, URI.create(url)), Optional.empty())))
                    .as(url).isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT));
        }
    }

    private static HttpControlPlane client(URI base) {
        return new HttpControlPlane(base, HttpControlPlane.client(Optional.empty(), "--cacert", Optional.empty()));
    }

    private static Answer json(int status, String body) {
        return exchange -> {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        };
    }

    /** A server on loopback; each request is recorded as its path and its Authorization header. */
    private URI serve(Map<String, Answer> answers) {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            int port = server.getAddress().getPort();
            server.createContext("/", exchange -> {
                requests.computeIfAbsent(port, any -> new CopyOnWriteArrayList<>()).add(exchange.getRequestURI().getPath() + " "
                        + Optional.ofNullable(exchange.getRequestHeaders().getFirst("Authorization")).orElse(""));
                exchange.getRequestBody().readAllBytes();
                Answer answer = answers.get(exchange.getRequestURI().getPath());
                if (answer == null) {
                    answer = answers.getOrDefault("/", json(404, "{\"error\": {\"code\": \"not_found\", \"message\": \"no\"}}"));
                }
                try {
                    answer.answer(exchange);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (IOException e) {
                    // The client hung up.
                } finally {
                    exchange.close();
                }
            });
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            server.start();
            servers.add(server);
            return URI.create("http://127.0.0.1:" + port);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
