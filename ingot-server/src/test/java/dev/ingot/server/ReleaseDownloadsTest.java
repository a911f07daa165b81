package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.aws.S3Location;
import dev.ingot.aws.S3Store;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.progress.Progress;
import dev.ingot.server.TestServer.EnrolledDevice;
import dev.ingot.store.ArtifactStore;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.S3Server;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * Release downloads whatever the server's store is: a folder, or S3 (S3Proxy, the real S3 API in this process). The server
 * streams byte ranges from either, and on S3 it may hand out presigned URLs instead, which the device fetches without any
 * credential of its own.
 */
class ReleaseDownloadsTest {
    private static S3Server s3;

    @TempDir
    Path folder;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T10:00:00Z"));
    private final HttpClient http = HttpClient.newHttpClient();
    private int servers;

    enum Store { FOLDER, S3 }

    @BeforeAll
    static void startS3() {
        s3 = S3Server.start();
    }

    @AfterAll
    static void stopS3() {
        s3.close();
    }

    private static S3Store s3Store() {
        return new S3Store(new S3Location(s3.bucket(), "server-" + UUID.randomUUID()), Optional.of(s3.endpoint()),
                StaticCredentialsProvider.create(AwsBasicCredentials.create(s3.accessKey(), s3.secretKey())), Region.US_EAST_1);
    }

    /** A server on the store, with release v1.5 published into it (into a folder first, then copied key by key for S3). */
    private TestServer server(Store kind, Optional<Duration> presigned) {
        Path work = folder.resolve("server-" + servers++);
        Path published = work.resolve("published");
        TestReleases.publish(published, work, "v1.5");
        ArtifactStore store = switch (kind) {
            case FOLDER -> new FolderStore(published);
            case S3 -> {
                S3Store bucket = s3Store();
                FolderStore source = new FolderStore(published);
                source.list("golden-images/").forEach(key -> bucket.put(key, source.pathOf(key), Progress.NONE));
                yield bucket;
            }
        };
        return TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, work), work, clock,
                config -> config.withStore(store).withPresignedDownloads(presigned));
    }

    private static JsonNode payload(JsonNode release) {
        return StreamSupport.stream(release.path("files").spliterator(), false)
                .filter(file -> file.path("name").asText().endsWith(".img.zst")).findFirst().orElseThrow();
    }

    private HttpResponse<byte[]> get(URI url, Optional<String> credential, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(30)).GET();
        credential.ifPresent(token -> request.header("Authorization", "Bearer " + token));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @ParameterizedTest
    @EnumSource(Store.class)
    void theServerStreamsWholeFilesAndEveryKindOfByteRangeFromItsStore(Store kind) throws Exception {
        try (TestServer server = server(kind, Optional.empty())) {
            byte[] stored = Files.readAllBytes(folder.resolve("server-0/published/golden-images/edge-golden-v1.5.img.zst"));
            EnrolledDevice device = server.enroll("SITE-1");
            JsonNode release = TestServer.require(server.get("/api/v1/device/releases/v1.5", device.credential()), 200).json();
            assertThat(release.has("expires_at")).as("the server's own paths do not expire").isFalse();
            JsonNode file = payload(release);
            assertThat(file.path("size").asLong()).isEqualTo(stored.length);
            assertThat(file.path("url").asText()).isEqualTo("/api/v1/device/releases/v1.5/files/edge-golden-v1.5.img.zst");
            URI url = URI.create(server.url() + file.path("url").asText());
            Optional<String> credential = Optional.of(device.credential());

            HttpResponse<byte[]> whole = get(url, credential);
            assertThat(whole.statusCode()).isEqualTo(200);
            assertThat(whole.body()).isEqualTo(stored);
            String etag = whole.headers().firstValue("ETag").orElseThrow();
            assertThat(etag).as("one pair of quotes, as RFC 9110 writes an entity tag").matches("\"[^\"]+\"");
            assertThat(whole.headers().firstValue("Accept-Ranges")).hasValue("bytes");

            int middle = stored.length / 2;
            HttpResponse<byte[]> resumed = get(url, credential, "Range", "bytes=" + middle + "-", "If-Range", etag);
            assertThat(resumed.statusCode()).isEqualTo(206);
            assertThat(resumed.headers().firstValue("Content-Range")).hasValue("bytes " + middle + "-" + (stored.length - 1) + "/" + stored.length);
            assertThat(resumed.body()).isEqualTo(Arrays.copyOfRange(stored, middle, stored.length));
            HttpResponse<byte[]> window = get(url, credential, "Range", "bytes=100-1099");
            assertThat(window.statusCode()).isEqualTo(206);
            assertThat(window.body()).isEqualTo(Arrays.copyOfRange(stored, 100, 1100));
            HttpResponse<byte[]> suffix = get(url, credential, "Range", "bytes=-500");
            assertThat(suffix.body()).isEqualTo(Arrays.copyOfRange(stored, stored.length - 500, stored.length));
            HttpResponse<byte[]> changed = get(url, credential, "Range", "bytes=" + middle + "-", "If-Range", "\"another-file\"");
            assertThat(changed.statusCode()).as("a changed file comes whole").isEqualTo(200);
            assertThat(changed.body()).isEqualTo(stored);
            HttpResponse<byte[]> past = get(url, credential, "Range", "bytes=" + stored.length + "-");
            assertThat(past.statusCode()).isEqualTo(416);
            assertThat(past.headers().firstValue("Content-Range")).hasValue("bytes */" + stored.length);

            assertThat(get(url, Optional.empty()).statusCode()).isEqualTo(401);
            assertThat(get(url, Optional.of(TestServer.ADMIN_TOKEN)).statusCode()).isEqualTo(401);
        }
    }

    @Test
    void withPresignedDownloadsTheDeviceFetchesRangesStraightFromS3WithoutACredentialUntilTheUrlsExpire() throws Exception {
        try (TestServer server = server(Store.S3, Optional.of(Duration.ofMinutes(15)))) {
            byte[] stored = Files.readAllBytes(folder.resolve("server-0/published/golden-images/edge-golden-v1.5.img.zst"));
            EnrolledDevice device = server.enroll("SITE-1");
            JsonNode release = TestServer.require(server.get("/api/v1/device/releases/v1.5", device.credential()), 200).json();
            assertThat(release.path("expires_at").asText()).isEqualTo("2026-11-29T10:15:00Z");
            assertThat(release.path("files")).hasSize(5);
            release.path("files").forEach(file -> assertThat(file.path("url").asText()).startsWith(s3.endpoint() + "/" + s3.bucket() + "/server-")
                    .contains("X-Amz-Signature=").doesNotContain(s3.secretKey()));
            URI url = URI.create(payload(release).path("url").asText());

            HttpResponse<byte[]> part = get(url, Optional.empty(), "Range", "bytes=4096-");
            assertThat(part.statusCode()).isEqualTo(206);
            assertThat(part.body()).isEqualTo(Arrays.copyOfRange(stored, 4096, stored.length));
            assertThat(get(url, Optional.empty()).body()).isEqualTo(stored);
            assertThat(get(URI.create(url.toString().replace("X-Amz-Signature=", "X-Amz-Signature=0")), Optional.empty()).statusCode())
                    .as("a forged signature").isEqualTo(403);
            assertThat(TestServer.require(server.get("/api/v1/device/releases/v1.5/files/edge-golden-v1.5.img.zst", device.credential()), 200)
                    .body()).as("the server's own path still answers").isNotEmpty();
            assertThat(server.get("/api/v1/device/releases/v1.5", null).status()).as("the URLs go to enrolled devices only").isEqualTo(401);
        }
    }

    @Test
    void presignedDownloadsNeedAStoreThatPresignsAndALifetimeS3Accepts() {
        assertThatThrownBy(() -> server(Store.FOLDER, Optional.of(Duration.ofMinutes(15))))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT);
                    assertThat(e.getMessage()).contains("that store makes no presigned URLs");
                });
        for (Duration lifetime : new Duration[] {Duration.ofSeconds(30), Duration.ofDays(8)}) {
            assertThatThrownBy(() -> server(Store.S3, Optional.of(lifetime)))
                    .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.getMessage()).contains("the lifetime is not from 1m to 7d"));
        }
    }
}
