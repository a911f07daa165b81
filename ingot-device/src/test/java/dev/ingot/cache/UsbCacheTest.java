package dev.ingot.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.image.ImageName;
import dev.ingot.image.ImageScanner;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.KnownGood;
import dev.ingot.image.Publisher;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsbCacheTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-26T00:20:00Z"), ZoneOffset.UTC);

    @TempDir
    Path folder;

    private FolderStore store;
    private SigningKey key;
    private Keyring keyring;
    private UsbCache cache;

    @BeforeEach
    void setUp() {
        store = new FolderStore(folder.resolve("store"));
        key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        cache = new UsbCache(folder.resolve("usb"), keyring, Progress.NONE);
    }

    private void publish(String version, boolean knownGood) throws IOException {
        Path image = SparseImages.create(folder.resolve(version + ".img"), 4L << 20, version.hashCode(),
                new SparseImages.Region(0, 100_000));
        new Publisher(store, key, CLOCK, Progress.NONE).publish(new Publisher.Request(image, ImageName.DEFAULT, ImageVersion.parse(version),
                Optional.empty(), true, Optional.empty(), new ImageScanner.Compression(3, 1), ImageScanner.DEFAULT_BLOCK_SIZE));
        if (knownGood) {
            setKnownGood(version, true);
        }
    }

    private void setKnownGood(String version, boolean good) {
        ImageVersion parsed = ImageVersion.parse(version);
        KnownGood.update(store, ImageName.DEFAULT, key, keyring, CLOCK, current -> {
            List<KnownGood.Entry> entries = new ArrayList<>(current.entries());
            entries.removeIf(entry -> entry.version().equals(parsed));
            if (good) {
                entries.add(new KnownGood.Entry(parsed, CLOCK.instant(), key.fingerprint()));
            }
            return new KnownGood.Document(current.name(), current.revision(), current.updatedAt(), entries);
        });
    }

    private List<String> cachedFiles() throws IOException {
        try (Stream<Path> files = Files.list(folder.resolve("usb"))) {
            return files.map(path -> path.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void syncKeepsTheNewestTwoKnownGoodVersionsAndRemovesOlderOnesAfterwards() throws IOException {
        publish("v1.2", true);
        publish("v1.3", true);
        publish("v1.4", false);
        assertThat(cache.sync(store, ImageName.DEFAULT, 2).fetched()).extracting(ImageVersion::toString).containsExactly("v1.3", "v1.2");

        publish("v1.5", true);
        UsbCache.SyncResult result = cache.sync(store, ImageName.DEFAULT, 2);

        assertThat(result.fetched()).extracting(ImageVersion::toString).containsExactly("v1.5");
        assertThat(result.kept()).extracting(ImageVersion::toString).containsExactly("v1.3");
        assertThat(result.removed()).extracting(ImageVersion::toString).containsExactly("v1.2");
        assertThat(cachedFiles()).containsExactly(
                "edge-golden-v1.3.img.bmap", "edge-golden-v1.3.img.zst", "edge-golden-v1.3.manifest.json",
                "edge-golden-v1.3.manifest.json.asc", "edge-golden-v1.3.sha256",
                "edge-golden-v1.5.img.bmap", "edge-golden-v1.5.img.zst", "edge-golden-v1.5.manifest.json",
                "edge-golden-v1.5.manifest.json.asc", "edge-golden-v1.5.sha256", "edge-golden.known-good.json");
        assertThat(cache.list(Optional.empty(), true)).allMatch(UsbCache.Entry::ok);
        assertThat(cache.knownGood(ImageName.DEFAULT).orElseThrow().revision()).isEqualTo(3);
    }

    @Test
    void anOlderKnownGoodListThanTheCacheHasSeenIsRefusedAndTheCacheIsUntouched() throws IOException {
        publish("v1.3", true);
        byte[] revisionOne = Files.readAllBytes(store.root().resolve("golden-images/edge-golden.known-good.json"));
        publish("v1.4", true);
        cache.sync(store, ImageName.DEFAULT, 2);
        List<String> before = cachedFiles();
        // A stale mirror, or someone replaying the list from before v1.4 was promoted (or before a version was withdrawn).
        Files.write(store.root().resolve("golden-images/edge-golden.known-good.json"), revisionOne);

        assertThatThrownBy(() -> cache.sync(store, ImageName.DEFAULT, 2))
                .hasMessageContaining("it is revision 1, older than revision 2 seen before (a stale or replayed copy)");
        assertThat(cachedFiles()).isEqualTo(before);
        assertThat(cache.knownGood(ImageName.DEFAULT).orElseThrow().revision()).isEqualTo(2);
    }

    @Test
    void aCacheWhoseKeptListWasSignedByADroppedKeySyncsTheNewListAfterAKeyRotation() throws IOException {
        publish("v1.3", true);
        cache.sync(store, ImageName.DEFAULT, 2);
        // Rotation: the new key publishes v1.4 and signs the list (both keys trusted meanwhile); then the old key is dropped.
        SigningKey rotated = SigningKey.load(TestKeys.PROTECTED.secretKey(folder.resolve("keys")), Optional.of(TestKeys.PASSPHRASE.toCharArray()));
        Path both = Files.createDirectories(folder.resolve("both"));
        TestKeys.RELEASE.publicKey(both);
        TestKeys.PROTECTED.publicKey(both);
        Path image = SparseImages.create(folder.resolve("v1.4.img"), 4L << 20, 14, new SparseImages.Region(0, 100_000));
        new Publisher(store, rotated, CLOCK, Progress.NONE).publish(new Publisher.Request(image, ImageName.DEFAULT, ImageVersion.parse("v1.4"),
                Optional.empty(), false, Optional.empty(), new ImageScanner.Compression(3, 1), ImageScanner.DEFAULT_BLOCK_SIZE));
        KnownGood.update(store, ImageName.DEFAULT, rotated, Keyring.load(both), CLOCK, current -> new KnownGood.Document(current.name(),
                current.revision(), current.updatedAt(), List.of(new KnownGood.Entry(ImageVersion.parse("v1.4"), CLOCK.instant(), rotated.fingerprint()))));
        UsbCache afterRotation = new UsbCache(folder.resolve("usb"), Keyring.load(TestKeys.PROTECTED.publicKey(folder.resolve("new"))), Progress.NONE);

        UsbCache.SyncResult result = afterRotation.sync(store, ImageName.DEFAULT, 2);

        assertThat(result.fetched()).extracting(ImageVersion::toString).containsExactly("v1.4");
        assertThat(result.removed()).extracting(ImageVersion::toString).containsExactly("v1.3");
        assertThat(afterRotation.knownGood(ImageName.DEFAULT).orElseThrow().revision()).isEqualTo(2);
    }

    @Test
    void aKeptListThatNoLongerVerifiesIsNamedByItsPathOnTheDrive() throws IOException {
        publish("v1.3", true);
        cache.sync(store, ImageName.DEFAULT, 2);
        Path kept = folder.resolve("usb/edge-golden.known-good.json");
        Files.writeString(kept, Files.readString(kept).replace("revision\\\" : 1", "revision\\\" : 9")); // a raised revision: no longer signed

        assertThatThrownBy(() -> cache.knownGood(ImageName.DEFAULT)).hasMessageContaining(kept.toString());
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD) // a hang guard
    void aFifoOrAHugeFileNamedLikeAManifestOnTheDriveIsSkippedNotWaitedOnOrRead() throws IOException {
        publish("v1.3", true);
        cache.sync(store, ImageName.DEFAULT, 2);
        dev.ingot.testing.Tools.Outcome made = dev.ingot.testing.Tools.run(folder, java.util.Map.of(),
                List.of("mkfifo", folder.resolve("usb/edge-golden-v1.1.manifest.json").toString()));
        assertThat(made.exitCode()).as(made.output()).isZero();
        try (java.io.RandomAccessFile huge = new java.io.RandomAccessFile(folder.resolve("usb/edge-golden-v1.2.manifest.json").toFile(), "rw")) {
            huge.setLength(3L << 30);
        }

        assertThat(UsbCache.releasesIn(folder.resolve("usb"))).extracting(files -> files.version().toString()).containsExactly("v1.3");
    }

    @Test
    void theKnownGoodListOfAnotherImageLineIsRefused() throws IOException {
        publish("v1.3", true);
        Files.copy(store.root().resolve("golden-images/edge-golden.known-good.json"),
                store.root().resolve("golden-images/edge-other.known-good.json"));

        assertThatThrownBy(() -> cache.sync(store, new ImageName("edge-other"), 2))
                .hasMessageContaining("it is the known-good list of edge-golden, not of edge-other");
    }

    @Test
    void aDamagedCachedImageIsReportedAndFetchedAgain() throws IOException {
        publish("v1.3", true);
        cache.sync(store, ImageName.DEFAULT, 2);
        Files.write(folder.resolve("usb/edge-golden-v1.3.img.zst"), new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd});

        assertThat(cache.list(Optional.empty(), false)).singleElement().satisfies(entry -> {
            assertThat(entry.ok()).isFalse();
            assertThat(entry.detail()).contains("edge-golden-v1.3.img.zst");
        });
        assertThat(cache.sync(store, ImageName.DEFAULT, 2).fetched()).extracting(ImageVersion::toString).containsExactly("v1.3");
        assertThat(cache.list(Optional.empty(), false)).allMatch(UsbCache.Entry::ok);
    }

    @Test
    void aVersionNoLongerKnownGoodLeavesTheCache() throws IOException {
        publish("v1.3", true);
        publish("v1.4", true);
        cache.sync(store, ImageName.DEFAULT, 2);
        setKnownGood("v1.4", false);

        assertThat(cache.sync(store, ImageName.DEFAULT, 2).removed()).extracting(ImageVersion::toString).containsExactly("v1.4");
        assertThat(cache.list(Optional.empty(), false)).extracting(entry -> entry.version().toString()).containsExactly("v1.3");
    }

    @Test
    void aStoreWithoutKnownGoodVersionsChangesNothing() throws IOException {
        publish("v1.3", false);

        assertThatThrownBy(() -> cache.sync(store, ImageName.DEFAULT, 2)).hasMessageContaining("no version of edge-golden is marked known-good");
        assertThat(cachedFiles()).isEmpty();
    }

    @Test
    void anInterruptedSyncLeavesNoListedImageAndIsCleanedUp() throws IOException {
        publish("v1.3", true);
        Path leftover = Files.createDirectories(folder.resolve("usb/.ingot-pull-123"));
        Files.write(leftover.resolve("edge-golden-v1.3.img.zst"), new byte[10]);

        assertThat(cache.list(Optional.empty(), false)).isEmpty();
        cache.sync(store, ImageName.DEFAULT, 2);

        assertThat(leftover).doesNotExist();
        assertThat(cache.list(Optional.empty(), false)).hasSize(1);
    }
}
