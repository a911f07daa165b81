package dev.ingot.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.ArtifactStore;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A publish that fails part-way never blocks its rerun: before the commit nothing is visible, after it the rerun finishes. */
class PublishRetryTest {
    @TempDir
    Path folder;

    private FolderStore folderStore;
    private SigningKey key;
    private Keyring keyring;
    private Path image;

    @BeforeEach
    void setUp() throws IOException {
        folderStore = new FolderStore(folder.resolve("store"));
        key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        image = SparseImages.typical(folder.resolve("edge.img"));
    }

    private Publisher.Result publish(ArtifactStore store, Path image) {
        return Releases.publish(store, key, image, "v1.4", false);
    }

    private void verifies() {
        assertThat(new ReleaseVerifier(keyring, Progress.NONE).verify(folderStore, ReleaseFiles.STORE_FOLDER, ImageName.DEFAULT,
                ImageVersion.parse("v1.4")).failures()).isEmpty();
        assertThat(folderStore.list(ArtifactStore.STAGING_PREFIX)).as("staged leftovers").isEmpty();
    }

    @Test
    void aPublishThatFailedBeforeItsCommitLeavesNothingVisibleAndItsRerunPublishes() {
        FailingStore failing = new FailingStore(folderStore, "createIfAbsent");

        assertThatThrownBy(() -> publish(failing, image)).hasMessageContaining("the network went away");
        assertThat(folderStore.list(ReleaseFiles.STORE_FOLDER)).isEmpty();

        publish(folderStore, image);
        verifies();
    }

    @Test
    void aPublishThatDiedAfterItsCommitIsFinishedByItsRerun() {
        FailingStore failing = new FailingStore(folderStore, "move");

        assertThatThrownBy(() -> publish(failing, image))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE))
                .hasMessageContaining("the release is committed but incomplete");
        assertThat(new ReleaseVerifier(keyring, Progress.NONE).verify(folderStore, ReleaseFiles.STORE_FOLDER, ImageName.DEFAULT,
                ImageVersion.parse("v1.4")).ok()).as("incomplete before the rerun").isFalse();

        publish(folderStore, image);
        verifies();
    }

    @Test
    void aRerunWithAnotherImageFinishesTheCommittedReleaseButIsRefused() throws IOException {
        publishAndDieAfterCommit();
        Path other = SparseImages.create(folder.resolve("other.img"), 4L << 20, 77, new SparseImages.Region(0, 10_000));

        assertThatThrownBy(() -> publish(folderStore, other))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT))
                .hasMessageContaining("committed by an earlier publish of another image");
        verifies();
    }

    @Test
    void aCommitWhoseAnswerWasLostIsSettledByReadingTheManifestBackAndTheReleaseIsFinished() {
        publish(new FailingStore(folderStore, "answer to createIfAbsent"), image);

        verifies();
    }

    @Test
    void aCommitRetriedByTheClientThatFindsItsOwnFirstAttemptIsOurs() {
        publish(new FailingStore(folderStore, "first answer to createIfAbsent"), image);

        verifies();
    }

    @Test
    void aReadBackThatFailedAfterTheCommitKeepsTheStagedBytesAndItsRerunFinishesTheRelease() {
        assertThatThrownBy(() -> publish(new FailingStore(folderStore, "read the manifest"), image))
                .isInstanceOf(IngotException.class).hasMessageContaining("it is not known whether the manifest was committed")
                .hasMessageContaining("the staged files are kept");

        publish(folderStore, image);
        verifies();
    }

    @Test
    void aRerunNeverMovesFilesNamedByAnUncheckedManifestOutsideTheRelease() throws IOException {
        // A store holding a manifest (nobody's signature is checked here) that names '../escape' and a staged copy of it.
        publishAndDieAfterCommit();
        String manifestKey = ReleaseFiles.STORE_FOLDER + "edge-golden-v1.4.manifest.json";
        Manifest committed = ManifestJson.parse(folderStore.read(manifestKey).orElseThrow().content(), "m");
        List<Manifest.FileEntry> entries = new java.util.ArrayList<>(committed.files());
        Manifest.FileEntry payload = entries.removeFirst();
        entries.addFirst(new Manifest.FileEntry("../escape", Manifest.Role.PAYLOAD, payload.size(), payload.sha256()));
        byte[] planted = ManifestJson.write(new Manifest(committed.name(), committed.version(), committed.buildDate(),
                committed.imageVersionFile(), committed.image(), entries, committed.compression(), committed.source(), committed.signer()));
        java.nio.file.Files.write(folderStore.pathOf(manifestKey), planted);
        String stagedManifest = folderStore.list(ArtifactStore.STAGING_PREFIX).stream().filter(key -> key.endsWith(".manifest.json"))
                .findFirst().orElseThrow();
        java.nio.file.Files.write(folderStore.pathOf(stagedManifest), planted);
        java.nio.file.Files.writeString(folderStore.pathOf(stagedManifest.substring(0, stagedManifest.lastIndexOf('/')) + "/../escape"), "x");

        assertThatThrownBy(() -> publish(folderStore, image))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT))
                .hasMessageContaining("../escape");
        assertThat(folderStore.root().resolve("escape")).doesNotExist();
    }

    @Test
    void aRerunFinishesFromTheCompleteStagedCopyWhenAnIncompleteOneWithTheSameManifestSortsFirst() throws IOException {
        // Same image, same build date: a publish that failed before its commit and was killed while cleaning up left a
        // staged manifest (byte for byte the committed one) without its payload.
        publishAndDieAfterCommit();
        String stagedManifest = folderStore.list(ArtifactStore.STAGING_PREFIX).stream().filter(key -> key.endsWith(".manifest.json"))
                .findFirst().orElseThrow();
        Path incomplete = java.nio.file.Files.createDirectories(folderStore.root().resolve(".ingot-staging/aaaa"));
        java.nio.file.Files.copy(folderStore.pathOf(stagedManifest), incomplete.resolve("edge-golden-v1.4.manifest.json"));

        publish(folderStore, image);

        assertThat(new ReleaseVerifier(keyring, Progress.NONE).verify(folderStore, ReleaseFiles.STORE_FOLDER, ImageName.DEFAULT,
                ImageVersion.parse("v1.4")).failures()).isEmpty();
    }

    private void publishAndDieAfterCommit() {
        assertThatThrownBy(() -> publish(new FailingStore(folderStore, "move"), image)).isInstanceOf(IngotException.class);
    }

    /** A store whose named operation fails, as a dropped network would make it (hand-written: one method fails, the rest delegate). */
    private record FailingStore(FolderStore store, String failing) implements ArtifactStore {
        private IngotException failure(String operation) {
            return IngotException.tried(ErrorCode.UNAVAILABLE, operation + " in store " + store.describe(), "the network went away");
        }

        @Override
        public String describe() {
            return store.describe();
        }

        @Override
        public Optional<ObjectInfo> stat(String key) {
            return store.stat(key);
        }

        @Override
        public InputStream open(String key) {
            return store.open(key);
        }

        @Override
        public Optional<VersionedBytes> read(String key) {
            if (failing.equals("read the manifest") && key.equals(ReleaseFiles.STORE_FOLDER + "edge-golden-v1.4.manifest.json")) {
                throw failure("read " + key);
            }
            return store.read(key);
        }

        @Override
        public void put(String key, Path file, Progress progress) {
            store.put(key, file, progress);
        }

        @Override
        public void putMoving(String key, Path file, Progress progress) {
            store.putMoving(key, file, progress);
        }

        @Override
        public Optional<Path> stagingDirectory() {
            return store.stagingDirectory();
        }

        @Override
        public void move(String fromKey, String toKey) {
            if (failing.equals("move")) {
                throw failure("move " + fromKey);
            }
            store.move(fromKey, toKey);
        }

        @Override
        public boolean compareAndSet(String key, Optional<String> expectedEtag, byte[] content) {
            if (failing.equals("createIfAbsent") && expectedEtag.isEmpty()) {
                throw failure("write " + key);
            }
            if (failing.equals("answer to createIfAbsent") && expectedEtag.isEmpty()) {
                store.compareAndSet(key, expectedEtag, content); // the write lands; its answer is lost on the way back
                throw failure("write " + key);
            }
            if (failing.equals("first answer to createIfAbsent") && expectedEtag.isEmpty()) {
                // The SDK's retry after a lost answer: the second attempt finds the first one's object (412).
                store.compareAndSet(key, expectedEtag, content);
                return store.compareAndSet(key, expectedEtag, content);
            }
            return store.compareAndSet(key, expectedEtag, content);
        }

        @Override
        public List<String> list(String prefix) {
            return store.list(prefix);
        }

        @Override
        public void delete(String key) {
            store.delete(key);
        }
    }
}
