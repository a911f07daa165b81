package dev.ingot.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageScanner;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.Publisher;
import dev.ingot.image.ReleaseFiles;
import dev.ingot.image.ReleaseVerifier;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.ArtifactStore;
import dev.ingot.store.FolderStore;
import dev.ingot.store.WorkFolder;
import dev.ingot.testing.S3Server;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two publishes of one version from two different images, started together, on the folder store and on S3 (S3Proxy):
 * whichever wins, the store's manifest names only the winner's bytes and the release verifies in full; the loser is
 * refused (exit 3) and leaves nothing visible. Repeated, so the interleavings vary.
 */
class PublishRaceTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-26T00:20:00Z"), ZoneOffset.UTC);
    private static final int ROUNDS = 6;
    private static S3Server server;

    @TempDir
    Path folder;

    private SigningKey key;
    private Keyring keyring;
    private Path[] images;

    @BeforeAll
    static void startS3() {
        server = S3Server.start();
    }

    @AfterAll
    static void stopS3() {
        server.close();
    }

    @BeforeEach
    void twoImages() throws IOException {
        key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        images = new Path[] {
            SparseImages.create(folder.resolve("a.img"), 6L << 20, 1, new SparseImages.Region(0, 300_000), new SparseImages.Region(3L << 20, 900_000)),
            SparseImages.create(folder.resolve("b.img"), 6L << 20, 2, new SparseImages.Region(0, 500_000), new SparseImages.Region(2L << 20, 700_000))};
    }

    @Test
    void racingPublishesOnAFolderStoreNeverMixTheirBytes() throws Exception {
        race(new FolderStore(folder.resolve("store")));
    }

    @Test
    void racingPublishesOnS3NeverMixTheirBytes() throws Exception {
        try (S3Store store = S3StoreContractTest.storeAt(server, new S3Location(server.bucket(), "race-" + System.nanoTime()))) {
            race(store);
        }
    }

    private void race(ArtifactStore store) throws Exception {
        WorkFolder work = WorkFolder.at(folder.resolve("work"));
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < ROUNDS; round++) {
                ImageVersion version = ImageVersion.parse("v1." + round);
                CyclicBarrier start = new CyclicBarrier(2);
                List<Future<Publisher.Result>> outcomes = new ArrayList<>();
                for (Path image : images) {
                    outcomes.add(threads.submit(() -> {
                        start.await();
                        return new Publisher(store, key, CLOCK, Progress.NONE, work).publish(new Publisher.Request(image, ImageName.DEFAULT,
                                version, Optional.empty(), false, Optional.empty(), new ImageScanner.Compression(3, 1),
                                ImageScanner.DEFAULT_BLOCK_SIZE));
                    }));
                }
                List<Publisher.Result> won = new ArrayList<>();
                for (Future<Publisher.Result> outcome : outcomes) {
                    try {
                        won.add(outcome.get());
                    } catch (java.util.concurrent.ExecutionException e) {
                        assertThat(e.getCause()).isInstanceOfSatisfying(IngotException.class,
                                lost -> assertThat(lost.code()).as(lost.getMessage()).isEqualTo(ErrorCode.CONFLICT));
                    }
                }
                assertThat(won).as("exactly one publish of %s wins", version).hasSize(1);

                ReleaseVerifier.Report report = new ReleaseVerifier(keyring, Progress.NONE)
                        .verify(store, ReleaseFiles.STORE_FOLDER, ImageName.DEFAULT, version);
                assertThat(report.failures()).as("round %d", round).isEmpty();
                Sha256 published = report.manifest().orElseThrow().image().sha256();
                assertThat(published).isEqualTo(won.getFirst().manifest().image().sha256());
                assertThat(published).isIn(Sha256.of(Files.readAllBytes(images[0])), Sha256.of(Files.readAllBytes(images[1])));
            }
            assertThat(store.list(ArtifactStore.STAGING_PREFIX)).as("nothing left staged").isEmpty();
        } finally {
            threads.shutdownNow();
        }
    }
}
