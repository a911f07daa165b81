package dev.ingot.aws;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.progress.Progress;
import dev.ingot.testing.S3Server;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** What only the S3 store does: its addressing, its multipart uploads, and how it explains failures. */
class S3StoreTest {
    private static S3Server server;

    @TempDir
    Path temporary;

    @BeforeAll
    static void startServer() {
        server = S3Server.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @Test
    void anUnreachableEndpointIsUnavailableWithinSeconds() {
        URI nowhere = URI.create("http://127.0.0.1:1");
        try (S3Store store = new S3Store(new S3Location("bucket", "prefix"), Optional.of(nowhere), credentials(server.secretKey()),
                Region.US_EAST_1)) {
            long started = System.nanoTime();

            assertThatThrownBy(() -> store.read("releases/1.0.json"))
                    .isInstanceOfSatisfying(IngotException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                        assertThat(e.getMessage())
                                .startsWith("Tried to read releases/1.0.json in store s3://bucket/prefix but failed because")
                                .contains("nothing accepted a connection at http://127.0.0.1:1");
                        assertThat(e.hint()).hasValueSatisfying(hint -> assertThat(hint).contains("--endpoint-url"));
                        assertThat(e.getCause()).isNotNull();
                    });
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
        }
    }

    @Test
    void aMissingBucketIsUnavailableForEveryOperation() throws IOException {
        Path file = Files.writeString(temporary.resolve("x"), "x", UTF_8);
        try (S3Store store = storeAt(new S3Location("no-such-bucket", "prefix"), server.secretKey())) {
            assertUnavailable(() -> store.stat("a"), "the bucket no-such-bucket does not exist");
            assertUnavailable(() -> store.read("a"), "the bucket no-such-bucket does not exist");
            assertUnavailable(() -> store.open("a"), "the bucket no-such-bucket does not exist");
            assertUnavailable(() -> store.list(""), "the bucket no-such-bucket does not exist");
            assertUnavailable(() -> store.put("a", file, Progress.NONE), "the bucket no-such-bucket does not exist");
            assertUnavailable(() -> store.createIfAbsent("a", new byte[1]), "the bucket no-such-bucket does not exist");
        }
    }

    @Test
    void aWrongSecretIsUnavailableAndSaysAccessWasDenied() {
        try (S3Store store = storeAt(new S3Location(server.bucket(), "prefix"), "not-the-secret")) {
            assertUnavailable(() -> store.read("a"), "S3 denied access");
            assertUnavailable(() -> store.stat("a"), "S3 denied access");
        }
    }

    @Test
    void anEmptyPrefixKeepsKeysAtTheBucketRoot() throws IOException {
        String bucket = "root-" + UUID.randomUUID();
        server.createBucket(bucket);
        Path file = Files.writeString(temporary.resolve("x"), "x", UTF_8);
        try (S3Store root = storeAt(S3Location.parse("s3://" + bucket), server.secretKey());
                S3Store nested = storeAt(S3Location.parse("s3://" + bucket + "/images/"), server.secretKey())) {
            root.put("images/a.img", file, Progress.NONE);
            nested.put("b.img", file, Progress.NONE);

            assertThat(root.list("")).containsExactly("images/a.img", "images/b.img");
            assertThat(nested.list("")).containsExactly("a.img", "b.img");
            assertThat(nested.stat("a.img")).isPresent();
        }
    }

    @Test
    void aFailedMultipartUploadIsAbortedAndLeavesNothingBehind() throws IOException {
        Path file = temporary.resolve("large.img");
        ArtifactStoreContractTest.writeRandomFile(file, S3Store.SINGLE_PUT_LIMIT + 1);
        Progress failing = new Progress() {
            @Override
            public void start(String phase, long totalUnits) {}

            @Override
            public void advance(long units) {
                throw new IllegalStateException("the user cancelled");
            }

            @Override
            public void done() {}
        };
        S3Location location = new S3Location(server.bucket(), "abort-" + UUID.randomUUID());
        try (S3Store store = storeAt(location, server.secretKey());
                S3Client client = S3Client.builder()
                        .endpointOverride(server.endpoint())
                        .forcePathStyle(true)
                        .region(Region.US_EAST_1)
                        .credentialsProvider(credentials(server.secretKey()))
                        .build()) {

            assertThatThrownBy(() -> store.put("large.img", file, failing))
                    .isInstanceOfSatisfying(IngotException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL);
                        assertThat(e.getMessage()).contains("the user cancelled");
                    });

            assertThat(store.stat("large.img")).isEmpty();
            assertThat(client.listMultipartUploads(request -> request.bucket(location.bucket()).prefix(location.prefix()))
                    .uploads()).isEmpty();
        }
    }

    @Test
    void aPresignedUrlReadsOneKeyWithRangesAndNoCredentialAndNothingElse() throws Exception {
        try (S3Store store = storeAt(new S3Location(server.bucket(), "presign-" + UUID.randomUUID()), server.secretKey())) {
            byte[] content = new byte[200_000];
            new java.util.Random(3).nextBytes(content);
            store.put("golden-images/edge-golden-v1.5.img.zst", Files.write(temporary.resolve("payload"), content), Progress.NONE);
            store.put("golden-images/secret.txt", Files.writeString(temporary.resolve("secret"), "not for devices", UTF_8), Progress.NONE);

            URI url = store.presignedGet("golden-images/edge-golden-v1.5.img.zst", Duration.ofMinutes(15)).orElseThrow();
            assertThat(url.toString()).startsWith(server.endpoint() + "/" + server.bucket() + "/presign-")
                    .contains("X-Amz-Signature=").contains("X-Amz-Expires=900").doesNotContain(server.secretKey());
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            var whole = http.send(java.net.http.HttpRequest.newBuilder(url).GET().build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            assertThat(whole.statusCode()).isEqualTo(200);
            assertThat(whole.body()).isEqualTo(content);
            var part = http.send(java.net.http.HttpRequest.newBuilder(url).header("Range", "bytes=150000-").GET().build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            assertThat(part.statusCode()).isEqualTo(206);
            assertThat(part.body()).isEqualTo(java.util.Arrays.copyOfRange(content, 150_000, content.length));

            URI otherKey = URI.create(url.toString().replace("edge-golden-v1.5.img.zst", "secret.txt"));
            assertThat(http.send(java.net.http.HttpRequest.newBuilder(otherKey).GET().build(), java.net.http.HttpResponse.BodyHandlers.ofString())
                    .statusCode()).as("the signature covers the key").isEqualTo(403);
        }
    }

    @Test
    void partsGrowSoThatHugeFilesNeedAtMostTenThousand() {
        assertThat(S3Store.partSize(100L << 20)).isEqualTo(S3Store.PART_SIZE);
        long oneTebibyte = 1L << 40;
        long partSize = S3Store.partSize(oneTebibyte);
        assertThat(partSize % (1 << 20)).isZero();
        assertThat((oneTebibyte + partSize - 1) / partSize).isLessThanOrEqualTo(S3Store.MAXIMUM_PARTS);
    }

    private static void assertUnavailable(ThrowingCallable call, String reason) {
        assertThatThrownBy(call).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
            assertThat(e.getMessage()).contains(reason);
            assertThat(e.hint()).isPresent();
        });
    }

    private static S3Store storeAt(S3Location location, String secretKey) {
        return new S3Store(location, Optional.of(server.endpoint()), credentials(secretKey), Region.US_EAST_1);
    }

    private static StaticCredentialsProvider credentials(String secretKey) {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create(server.accessKey(), secretKey));
    }
}
