package dev.ingot.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageScanner;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.Publisher;
import dev.ingot.image.Pull;
import dev.ingot.image.ReleaseFiles;
import dev.ingot.image.ReleaseVerifier;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.ArtifactStore;
import dev.ingot.store.WorkFolder;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import software.amazon.awssdk.services.s3.S3Client;
import dev.ingot.progress.Progress;
import dev.ingot.testing.S3rver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/** The S3 store against a second S3 implementation, s3rver (npm): bodies arrive as plain bytes, stored as sent. */
class S3CompatibleStoreTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-26T00:20:00Z"), ZoneOffset.UTC);

    @TempDir
    static Path data;

    private static S3rver server;

    @TempDir
    Path folder;

    @BeforeAll
    static void start() {
        assumeTrue(S3rver.unavailableBecause().isEmpty(), S3rver.unavailableBecause().orElse(""));
        server = S3rver.start(data.resolve("s3rver"));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private S3Store store() {
        return new S3Store(new S3Location(S3rver.BUCKET, "prod"), Optional.of(server.endpoint()),
                StaticCredentialsProvider.create(AwsBasicCredentials.create(S3rver.ACCESS_KEY, S3rver.SECRET_KEY)), Region.US_EAST_1);
    }

    private Publisher.Result publish(S3Store store, String version) throws IOException {
        SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        Path image = SparseImages.typical(folder.resolve("edge.img"));
        return new Publisher(store, key, CLOCK, Progress.NONE, WorkFolder.at(folder.resolve("work"))).publish(new Publisher.Request(image,
                ImageName.DEFAULT, ImageVersion.parse(version), Optional.empty(), true, Optional.empty(), new ImageScanner.Compression(3, 1),
                ImageScanner.DEFAULT_BLOCK_SIZE));
    }

    @Test
    void aReleasePublishedToS3rverVerifiesAndPulls() throws IOException {
        try (S3Store store = store()) {
            publish(store, "v1.4");
            Keyring keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));

            assertThat(new ReleaseVerifier(keyring, Progress.NONE).verify(store, ReleaseFiles.STORE_FOLDER, ImageName.DEFAULT,
                    ImageVersion.parse("v1.4")).failures()).isEmpty();
            new Pull(store, keyring, Progress.NONE).pull(ImageName.DEFAULT, ImageVersion.parse("v1.4"), folder.resolve("pulled"));
            assertThat(Files.mismatch(folder.resolve("pulled/edge-golden-v1.4.img"), folder.resolve("edge.img"))).isEqualTo(-1);
            assertThat(store.list(ArtifactStore.STAGING_PREFIX)).isEmpty();
        }
    }

    @Test
    void aPublishWhoseUploadsTheServerStoredDamagedIsLeftUnpublishedAndARerunSucceeds() throws IOException {
        // The SDK's own defaults send aws-chunked bodies over plain HTTP; s3rver keeps the chunk framing in the object.
        S3Client chunked = S3Client.builder().region(Region.US_EAST_1).endpointOverride(server.endpoint()).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(S3rver.ACCESS_KEY, S3rver.SECRET_KEY)))
                .build();
        try (S3Store damaging = S3Store.withClient(new S3Location(S3rver.BUCKET, "prod"), Optional.of(server.endpoint()), Region.US_EAST_1,
                chunked); S3Store plain = store()) {
            assertThatThrownBy(() -> publish(damaging, "v1.5"))
                    .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE))
                    .hasMessageContaining("did not keep what was uploaded").hasMessageContaining("nothing was published");
            assertThat(plain.stat("golden-images/edge-golden-v1.5.manifest.json")).isEmpty();

            publish(plain, "v1.5");

            Keyring keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
            assertThat(new ReleaseVerifier(keyring, Progress.NONE).verify(plain, ReleaseFiles.STORE_FOLDER, ImageName.DEFAULT,
                    ImageVersion.parse("v1.5")).failures()).isEmpty();
        }
    }

    @Test
    void smallAndMultipartUploadsAreStoredAsTheExactBytesSent() throws IOException {
        byte[] small = new byte[100_000];
        new Random(1).nextBytes(small);
        byte[] large = new byte[(int) S3Store.SINGLE_PUT_LIMIT + 3_000_000];
        new Random(2).nextBytes(large);
        try (S3Store store = store()) {
            store.put("golden-images/small", Files.write(folder.resolve("small"), small), Progress.NONE);
            store.put("golden-images/large", Files.write(folder.resolve("large"), large), Progress.NONE);
            assertThat(store.createIfAbsent("golden-images/doc", "a document\n".getBytes())).isTrue();

            assertThat(Sha256.of(store.read("golden-images/small").orElseThrow().content())).isEqualTo(Sha256.of(small));
            assertThat(store.stat("golden-images/large").orElseThrow().size()).isEqualTo(large.length);
            try (var in = store.open("golden-images/large")) {
                assertThat(Sha256.of(in.readAllBytes())).isEqualTo(Sha256.of(large));
            }
            assertThat(store.read("golden-images/doc").orElseThrow().content()).isEqualTo("a document\n".getBytes());
        }
    }
}
