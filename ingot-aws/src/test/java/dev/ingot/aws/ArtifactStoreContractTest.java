package dev.ingot.aws;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.progress.Progress;
import dev.ingot.store.ArtifactStore;
import dev.ingot.store.ArtifactStore.ObjectInfo;
import dev.ingot.store.ArtifactStore.VersionedBytes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link ArtifactStore} promises, run against each implementation, so the folder store
 * and the S3 store cannot drift apart in the behaviour publishing and rollouts rely on.
 */
abstract class ArtifactStoreContractTest {
    /** Large enough to need several multipart parts, and not a multiple of the part size. */
    static final long LARGE_FILE_SIZE = (100L << 20) + 12_345;

    @TempDir
    Path temporary;

    ArtifactStore store;

    /** A fresh, empty store for one test. */
    abstract ArtifactStore newStore();

    /**
     * Why the race between two compare-and-sets on the same entity tag cannot be checked against
     * this implementation, or empty when it can. A reason here is a known defect, not a feature.
     */
    Optional<String> whyRacingCompareAndSetsAreNotChecked() {
        return Optional.empty();
    }

    /** Checks an implementation can add about how a large file was stored. */
    void checkLargeUpload(ObjectInfo info) {}

    @BeforeEach
    void openStore() {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    @Test
    void aPutFileCanBeOpenedStattedAndRead() throws IOException {
        Path file = Files.writeString(temporary.resolve("small.txt"), "golden image", UTF_8);

        store.put("images/small.txt", file, Progress.NONE);

        try (InputStream in = store.open("images/small.txt")) {
            assertThat(in.readAllBytes()).asString(UTF_8).isEqualTo("golden image");
        }
        ObjectInfo info = store.stat("images/small.txt").orElseThrow();
        assertThat(info.key()).isEqualTo("images/small.txt");
        assertThat(info.size()).isEqualTo(12);
        assertThat(info.etag()).isNotBlank();
        VersionedBytes read = store.read("images/small.txt").orElseThrow();
        assertThat(read.content()).asString(UTF_8).isEqualTo("golden image");
        assertThat(read.etag()).isNotBlank();
    }

    @Test
    void aPutReplacesWhatIsThere() throws IOException {
        store.put("a.txt", Files.writeString(temporary.resolve("one"), "one", UTF_8), Progress.NONE);

        store.put("a.txt", Files.writeString(temporary.resolve("two"), "two", UTF_8), Progress.NONE);

        assertThat(store.read("a.txt").orElseThrow().content()).asString(UTF_8).isEqualTo("two");
    }

    @Test
    void aLargeFileReadsBackIdenticallyAndReportsItsProgress() throws IOException {
        Path file = temporary.resolve("large.img");
        Sha256 written = writeRandomFile(file, LARGE_FILE_SIZE);
        RecordingProgress progress = new RecordingProgress();

        store.put("images/large.img", file, progress);

        assertThat(progress.total.get()).isEqualTo(LARGE_FILE_SIZE);
        assertThat(progress.advanced.get()).isEqualTo(LARGE_FILE_SIZE);
        assertThat(progress.done.get()).isEqualTo(1);
        ObjectInfo info = store.stat("images/large.img").orElseThrow();
        assertThat(info.size()).isEqualTo(LARGE_FILE_SIZE);
        checkLargeUpload(info);
        try (InputStream in = store.open("images/large.img")) {
            assertThat(sha256(in)).isEqualTo(written);
        }
    }

    @Test
    void statAndReadOfAMissingKeyAreEmpty() {
        assertThat(store.stat("missing/key")).isEmpty();
        assertThat(store.read("missing/key")).isEmpty();
    }

    @Test
    void openingAMissingKeyIsNotFound() {
        assertThatThrownBy(() -> store.open("missing/key"))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
                    assertThat(e.getMessage()).contains("missing/key").contains(store.describe());
                });
    }

    @Test
    void createIfAbsentRefusesAnExistingKeyAndKeepsItsContent() {
        assertThat(store.createIfAbsent("releases/1.0.json", bytes("first"))).isTrue();

        assertThat(store.createIfAbsent("releases/1.0.json", bytes("second"))).isFalse();

        assertThat(store.read("releases/1.0.json").orElseThrow().content()).asString(UTF_8).isEqualTo("first");
    }

    @Test
    void compareAndSetWithTheCurrentEtagReplacesTheContent() {
        store.createIfAbsent("rollout.json", bytes("v1"));
        String etag = store.read("rollout.json").orElseThrow().etag();

        assertThat(store.compareAndSet("rollout.json", Optional.of(etag), bytes("v2"))).isTrue();

        VersionedBytes now = store.read("rollout.json").orElseThrow();
        assertThat(now.content()).asString(UTF_8).isEqualTo("v2");
        assertThat(now.etag()).isNotEqualTo(etag);
    }

    @Test
    void compareAndSetWithAStaleEtagFailsAndChangesNothing() {
        store.createIfAbsent("rollout.json", bytes("v1"));
        String stale = store.read("rollout.json").orElseThrow().etag();
        store.compareAndSet("rollout.json", Optional.of(stale), bytes("v2"));

        assertThat(store.compareAndSet("rollout.json", Optional.of(stale), bytes("v3"))).isFalse();

        assertThat(store.read("rollout.json").orElseThrow().content()).asString(UTF_8).isEqualTo("v2");
    }

    @Test
    void compareAndSetOnADeletedKeyFails() {
        store.createIfAbsent("rollout.json", bytes("v1"));
        String etag = store.read("rollout.json").orElseThrow().etag();
        store.delete("rollout.json");

        assertThat(store.compareAndSet("rollout.json", Optional.of(etag), bytes("v2"))).isFalse();

        assertThat(store.read("rollout.json")).isEmpty();
    }

    @RepeatedTest(5)
    void ofTwoRacingCreatorsExactlyOneWins() throws Exception {
        List<Boolean> results = race(index -> store.createIfAbsent("race.json", bytes("writer " + index)));

        assertThat(results).containsExactlyInAnyOrder(true, false);
        int winner = results.indexOf(true);
        assertThat(store.read("race.json").orElseThrow().content()).asString(UTF_8).isEqualTo("writer " + winner);
    }

    @RepeatedTest(5)
    void ofTwoCompareAndSetsRacingOnTheSameEtagExactlyOneWins() throws Exception {
        Optional<String> notChecked = whyRacingCompareAndSetsAreNotChecked();
        assumeTrue(notChecked.isEmpty(), notChecked.orElse(""));
        store.createIfAbsent("race.json", bytes("start"));
        String etag = store.read("race.json").orElseThrow().etag();

        List<Boolean> results = race(index -> store.compareAndSet("race.json", Optional.of(etag), bytes("writer " + index)));

        assertThat(results).containsExactlyInAnyOrder(true, false);
        int winner = results.indexOf(true);
        assertThat(store.read("race.json").orElseThrow().content()).asString(UTF_8).isEqualTo("writer " + winner);
    }

    @Test
    void listReturnsTheKeysUnderAPrefixSortedAndRelativeToTheStore() throws IOException {
        Path file = Files.writeString(temporary.resolve("x"), "x", UTF_8);
        for (String key : List.of("images/b.img", "images/a.img", "images/sub/c.img", "imagesque.txt", "other/d.img")) {
            store.put(key, file, Progress.NONE);
        }

        assertThat(store.list("images/")).containsExactly("images/a.img", "images/b.img", "images/sub/c.img");
        assertThat(store.list("image")).containsExactly("images/a.img", "images/b.img", "images/sub/c.img",
                "imagesque.txt");
        assertThat(store.list("")).containsExactly("images/a.img", "images/b.img", "images/sub/c.img",
                "imagesque.txt", "other/d.img");
        assertThat(store.list("nothing/")).isEmpty();
    }

    @Test
    void deleteRemovesAKeyAndIgnoresAMissingOne() {
        store.createIfAbsent("gone.json", bytes("x"));

        store.delete("gone.json");
        store.delete("gone.json");

        assertThat(store.stat("gone.json")).isEmpty();
        assertThat(store.list("")).doesNotContain("gone.json");
    }

    @Test
    void aKeyThatLeavesTheStoreIsBadInput() {
        assertThatThrownBy(() -> store.stat("../escape"))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT));
    }

    /** Runs two writers released at the same instant; returns what each reported, in writer order. */
    private static List<Boolean> race(IndexedWrite write) throws Exception {
        CountDownLatch ready = new CountDownLatch(2);
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService writers = Executors.newFixedThreadPool(2)) {
            List<Future<Boolean>> results = List.of(0, 1).stream()
                    .map(index -> writers.submit(() -> {
                        ready.countDown();
                        go.await();
                        return write.apply(index);
                    }))
                    .toList();
            ready.await();
            go.countDown();
            return List.of(results.get(0).get(), results.get(1).get());
        }
    }

    @FunctionalInterface
    private interface IndexedWrite {
        boolean apply(int index);
    }

    static byte[] bytes(String text) {
        return text.getBytes(UTF_8);
    }

    /** Writes {@code size} pseudo-random bytes (incompressible, unlike zeros) and returns their digest. */
    static Sha256 writeRandomFile(Path file, long size) throws IOException {
        SplittableRandom random = new SplittableRandom(42);
        MessageDigest digest = Sha256.newDigest();
        byte[] block = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long written = 0; written < size; ) {
                int n = (int) Math.min(block.length, size - written);
                random.nextBytes(block);
                out.write(block, 0, n);
                digest.update(block, 0, n);
                written += n;
            }
        }
        return Sha256.fromBytes(digest.digest());
    }

    static Sha256 sha256(InputStream in) throws IOException {
        MessageDigest digest = Sha256.newDigest();
        byte[] buffer = new byte[1 << 16];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            digest.update(buffer, 0, n);
        }
        return Sha256.fromBytes(digest.digest());
    }

    /** Counts what a store reports; advances may come from several threads. */
    static final class RecordingProgress implements Progress {
        final AtomicLong total = new AtomicLong(-2);
        final AtomicLong advanced = new AtomicLong();
        final AtomicInteger done = new AtomicInteger();

        @Override
        public void start(String phase, long totalUnits) {
            total.set(totalUnits);
        }

        @Override
        public void advance(long units) {
            advanced.addAndGet(units);
        }

        @Override
        public void done() {
            done.incrementAndGet();
        }
    }
}
