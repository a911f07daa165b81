package dev.ingot.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.digest.Sha256;
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
