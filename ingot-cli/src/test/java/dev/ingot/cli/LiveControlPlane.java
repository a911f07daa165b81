package dev.ingot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageScanner;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.Publisher;
import dev.ingot.progress.Progress;
import dev.ingot.server.IngotServer;
import dev.ingot.server.ServerConfig;
import dev.ingot.server.device.DeviceApi.PollPolicy;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
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
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * The real control plane for the agent's tests: {@link IngotServer} on a loopback port with SQLite, a folder store
 * holding small real releases signed with the committed test key, and an operator's view of it through its API.
 */
final class LiveControlPlane implements AutoCloseable {
    static final String ADMIN = "ingot_op_agent-test-admin-0123456789abcdefghijklmn";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final IngotServer server;
    private final Path store;
    private final Path folder;
    private final HttpClient http;

    private LiveControlPlane(IngotServer server, Path store, Path folder, HttpClient http) {
        this.server = server;
        this.store = store;
        this.folder = folder;
        this.http = http;
    }

    /** @param interval the poll interval the server hands out (±20 %) */
    static LiveControlPlane start(Path folder, Duration interval) {
        return start(folder, interval, Optional.empty());
    }

    /** @param tls serve HTTPS with this certificate and key (PEM); the test's own client trusts the certificate */
    static LiveControlPlane start(Path folder, Duration interval, Optional<ServerConfig.Tls> tls) {
        try {
            Path store = Files.createDirectories(folder.resolve("store"));
            ServerConfig config = ServerConfig.defaults("127.0.0.1", 0, "sqlite:" + folder.resolve("ingot.db"), new FolderStore(store), folder)
                    .withAdminToken(Optional.of(ADMIN)).withPollPolicy(new PollPolicy(interval, 0.2, Duration.ofMinutes(15)))
                    .withTls(tls, false);
            HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
            tls.ifPresent(pair -> client.sslContext(dev.ingot.http.PemTrust.context(pair.certificate(), "the test's certificate")));
            return new LiveControlPlane(IngotServer.start(config, Clock.systemUTC(), new Random(5)), store, folder, client.build());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A control plane on another store (S3): {@link #publish} still writes into the folder {@link #store()}, and the test
     * copies what it needs into {@code store}.
     *
     * @param presigned hand out presigned store URLs valid this long (docs/api.md)
     */
    static LiveControlPlane on(Path folder, dev.ingot.store.ArtifactStore store, Optional<Duration> presigned) {
        try {
            Path published = Files.createDirectories(folder.resolve("store"));
            ServerConfig config = ServerConfig.defaults("127.0.0.1", 0, "sqlite:" + folder.resolve("ingot.db"), store, folder)
                    .withAdminToken(Optional.of(ADMIN)).withPresignedDownloads(presigned);
            return new LiveControlPlane(IngotServer.start(config, Clock.systemUTC(), new Random(5)), published, folder,
                    HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String url() {
        return server.url();
    }

    Path store() {
        return store;
    }

    /** Publishes a small real release (8 MiB sparse image) into the server's store. */
    LiveControlPlane publish(String version) {
        try {
            Path work = Files.createDirectories(folder.resolve("release-" + version));
            Path image = SparseImages.create(work.resolve("edge-golden.img"), 8L << 20, version.hashCode(),
                    new SparseImages.Region(0, 1 << 20), new SparseImages.Region(4L << 20, 1 << 20));
            SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(work), Optional.empty());
            Clock signedAt = Clock.fixed(Instant.parse("2026-11-26T00:20:00Z"), java.time.ZoneOffset.UTC);
            new Publisher(new FolderStore(store), key, signedAt, Progress.NONE).publish(new Publisher.Request(image, ImageName.DEFAULT,
                    ImageVersion.parse(version), Optional.of(Instant.parse("2026-11-01T12:00:00Z")), false, Optional.empty(),
                    new ImageScanner.Compression(3, 1), ImageScanner.DEFAULT_BLOCK_SIZE));
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    record Answer(int status, JsonNode json) {}

    Answer get(String path) {
        return send(HttpRequest.newBuilder(URI.create(url() + path)).GET());
    }

    Answer post(String path, Object body) {
        try {
            return send(HttpRequest.newBuilder(URI.create(url() + path)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    JsonNode ok(Answer answer) {
        if (answer.status() >= 300) {
            throw new AssertionError("HTTP " + answer.status() + ": " + answer.json());
        }
        return answer.json();
    }

    void addSite(String site) {
        ok(post("/api/v1/sites", Map.of("id", site)));
    }

    String enrollmentToken(String site) {
        return ok(post("/api/v1/sites/" + site + "/enrollment-tokens", Map.of("expires_in_seconds", 3600))).path("token").asText();
    }

    JsonNode device(String id) {
        return ok(get("/api/v1/devices/" + id));
    }

    /** The device's newest action on a track, as the operator API shows it. */
    JsonNode action(String device, String track) {
        for (JsonNode action : device(device).path("actions")) {
            if (action.path("track").asText().equals(track)) {
                return action;
            }
        }
        return JSON.missingNode();
    }

    void desire(String device, Map<String, Object> change) {
        ok(post("/api/v1/devices/" + device + "/desired", change));
    }

    private Answer send(HttpRequest.Builder request) {
        try {
            HttpResponse<byte[]> response = http.send(request.header("Authorization", "Bearer " + ADMIN).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            return new Answer(response.statusCode(), response.body().length == 0 ? JSON.missingNode() : JSON.readTree(response.body()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
