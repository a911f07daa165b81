package dev.ingot.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PublisherTest {
    @TempDir
    Path folder;

    private FolderStore store;
    private SigningKey key;
    private Keyring keyring;
    private Path image;

    @BeforeEach
    void setUp() throws IOException {
        store = new FolderStore(folder.resolve("store"));
        key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        image = SparseImages.typical(folder.resolve("edge.img"));
    }

    private Path published(String name) {
        return store.root().resolve("golden-images").resolve(name);
    }

    @Test
    void aTinyImagePublishesToTheSameBytesEveryRun() throws IOException {
        Publisher.Result first = Releases.publish(store, key, image, "v1.4", false);
        FolderStore second = new FolderStore(folder.resolve("second"));
        Publisher.Result again = Releases.publish(second, key, image, "v1.4", false);

        assertThat(again.manifestSha256()).isEqualTo(first.manifestSha256());
        assertThat(first.manifest().image().sha256())
                .isEqualTo(Sha256.of(Files.readAllBytes(image)));
        // Pinned: a change here means published releases are no longer reproducible (zstd-jni, format or key change).
        assertThat(first.manifest().image().sha256().hex()).isEqualTo(PINNED_IMAGE_SHA256);
        assertThat(first.manifest().file(Manifest.Role.PAYLOAD).orElseThrow().sha256().hex()).isEqualTo(PINNED_PAYLOAD_SHA256);
        assertThat(first.manifest().file(Manifest.Role.BMAP).orElseThrow().sha256().hex()).isEqualTo(PINNED_BMAP_SHA256);
        assertThat(first.manifestSha256().hex()).isEqualTo(PINNED_MANIFEST_SHA256);
        assertThat(Files.readAllBytes(published("edge-golden-v1.4.manifest.json.asc")))
                .isEqualTo(Files.readAllBytes(folder.resolve("second/golden-images/edge-golden-v1.4.manifest.json.asc")));
    }

    static final String PINNED_IMAGE_SHA256 = "5d7bbb1f950e778269e196198058d8a0e6c9fd9c11f105ff7f923098f3be1997";
    static final String PINNED_PAYLOAD_SHA256 = "e163e0ec0d9e66e1bf0f6185392a6133009705959885be4f8c236383cda25c6f";
    static final String PINNED_BMAP_SHA256 = "335817bbef09dc30219bed83374667f1886ffdc7bff07c81959d600c9a33b6f2";
    static final String PINNED_MANIFEST_SHA256 = "1fa6bc76d2d5f3774f70ac0da323943074f71a5b5533c6e53cae8a7bbb7967f4";

    @Test
    void compressedOutputIsTheSameForAnyNumberOfWorkers() throws IOException {
        ImageScanner.Result two = ImageScanner.scan(image, 4096, folder.resolve("two.zst"), Optional.empty(),
                new ImageScanner.Compression(3, 2), Progress.NONE);
        ImageScanner.Result four = ImageScanner.scan(image, 4096, folder.resolve("four.zst"), Optional.empty(),
                new ImageScanner.Compression(3, 4), Progress.NONE);
        ImageScanner.Result one = ImageScanner.scan(image, 4096, folder.resolve("one.zst"), Optional.empty(),
                new ImageScanner.Compression(3, 1), Progress.NONE);

        assertThat(four.payloadSha256()).isEqualTo(two.payloadSha256());
        assertThat(one.payloadSha256()).isEqualTo(two.payloadSha256());
    }

    @Test
    void aPublishedReleaseVerifies() {
        Releases.publish(store, key, image, "v1.4", true);

        ReleaseVerifier.Report report = new ReleaseVerifier(keyring, Progress.NONE)
                .verify(store, ReleaseFiles.STORE_FOLDER, ImageName.DEFAULT, ImageVersion.parse("v1.4"));

        assertThat(report.failures()).isEmpty();
        assertThat(report.findings()).extracting(ReleaseVerifier.Finding::file).containsExactlyInAnyOrder(
                "edge-golden-v1.4.manifest.json.asc", "edge-golden-v1.4.manifest.json", "edge-golden-v1.4.img.zst",
                "edge-golden-v1.4.img.bmap", "edge-golden-v1.4.sha256", "edge-golden-v1.4.img");
        assertThat(report.signature().orElseThrow().signer()).isEqualTo(key.fingerprint());
    }

    @Test
    void theRawImageIsStoredSparseAndIdentical() throws IOException {
        Releases.publish(store, key, image, "v1.4", true);

        Path raw = published("edge-golden-v1.4.img");
        assertThat(Files.mismatch(raw, image)).isEqualTo(-1);
        assertThat(SparseFile.dataExtents(raw).stream().mapToLong(SparseFile.Extent::length).sum())
                .isLessThan(Files.size(raw) / 2);
    }

    @Test
    void aPublishedVersionIsNeverOverwritten() throws IOException {
        Releases.publish(store, key, image, "v1.4", false);
        byte[] manifestBefore = Files.readAllBytes(published("edge-golden-v1.4.manifest.json"));
        Path other = SparseImages.create(folder.resolve("other.img"), 1 << 20, 7, new SparseImages.Region(0, 1000));

        assertThatThrownBy(() -> Releases.publish(store, key, other, "v1.4", false))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
                    assertThat(e.getMessage()).contains("already published");
                });
        assertThat(Files.readAllBytes(published("edge-golden-v1.4.manifest.json"))).isEqualTo(manifestBefore);
    }

    @Test
    void anotherSpellingOfAPublishedReleaseNumberIsRefused() {
        Releases.publish(store, key, image, "v1.4", false);

        assertThatThrownBy(() -> Releases.publish(store, key, image, "v1.4.0", false))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT))
                .hasMessageContaining("same release number as the published v1.4");
    }

    @Test
    void aPublishThatDiedBeforeItsManifestIsNotListedAndCanBeRerun() throws IOException {
        Releases.publish(store, key, image, "v1.4", false);
        // Simulate a publish killed after the payload upload: only the manifest (the commit point) is missing.
        Files.delete(published("edge-golden-v1.4.manifest.json"));
        Files.write(published("edge-golden-v1.4.img.zst"), new byte[] {1, 2, 3});

        assertThat(Catalog.list(store, Optional.of(keyring), Optional.empty())).isEmpty();
        Releases.publish(store, key, image, "v1.4", false);

        assertThat(new ReleaseVerifier(keyring, Progress.NONE)
                .verify(store, ReleaseFiles.STORE_FOLDER, ImageName.DEFAULT, ImageVersion.parse("v1.4")).ok()).isTrue();
    }

    @Test
    void aMissingImageIsBadInputAndWritesNothing() {
        assertThatThrownBy(() -> Releases.publish(store, key, folder.resolve("nope.img"), "v1.4", false))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT);
                    assertThat(e.getMessage()).contains("nope.img does not exist");
                });
        assertThat(store.root()).doesNotExist();
    }

    @Test
    void releasedFilesSatisfyTheRealTools() throws IOException {
        assumeTrue(Tools.available("zstd") && Tools.available("sha256sum") && Tools.available("gpg"),
                "zstd, sha256sum and gpg are needed (apt-get install zstd coreutils gnupg)");
        Releases.publish(store, key, image, "v1.4", false);
        Path releaseFolder = store.root().resolve("golden-images");

        Tools.succeed(releaseFolder, "zstd", "-d", "-q", "edge-golden-v1.4.img.zst");
        assertThat(Files.mismatch(releaseFolder.resolve("edge-golden-v1.4.img"), image)).isEqualTo(-1);
        assertThat(Tools.succeed(releaseFolder, "sha256sum", "-c", "edge-golden-v1.4.sha256").output())
                .contains("edge-golden-v1.4.img: OK", "edge-golden-v1.4.img.zst: OK", "edge-golden-v1.4.img.bmap: OK");

        Path gnupgHome = Files.createDirectories(folder.resolve("gnupg"));
        Files.setPosixFilePermissions(gnupgHome, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Map<String, String> environment = Map.of("GNUPGHOME", gnupgHome.toString());
        Tools.run(folder, environment, List.of("gpg", "--batch", "--import", folder.resolve("keys/release.pub.asc").toString()))
                .assertSuccess(List.of("gpg --import"));
        Tools.Outcome verified = Tools.run(releaseFolder, environment, List.of("gpg", "--batch", "--verify",
                "edge-golden-v1.4.manifest.json.asc", "edge-golden-v1.4.manifest.json"));
        assertThat(verified.exitCode()).as(verified.output()).isZero();
        assertThat(verified.output()).contains("Good signature from \"Ingot Test Release <test@ingot.dev>\"");
    }

    @Test
    void bmaptoolFlashesTheImageWithOurBlockMapWhoseRangesAreCutAt16MiB() throws IOException {
        assumeTrue(Tools.available("bmaptool"), "bmaptool is not installed (apt-get install bmap-tools)");
        image = SparseImages.create(folder.resolve("long-extent.img"), 64L << 20, 9,
                new SparseImages.Region(0, 4096), new SparseImages.Region(8L << 20, 40 << 20));
        Releases.publish(store, key, image, "v1.4", false);
        BlockMap map = BmapXml.parse(Files.readAllBytes(published("edge-golden-v1.4.img.bmap")), "bmap");
        assertThat(map.ranges()).hasSize(4).allMatch(range -> range.blocks() * 4096 <= ImageScanner.MAX_RANGE_BYTES);
        Path releaseFolder = store.root().resolve("golden-images");
        Path target = folder.resolve("target.img");

        Tools.succeed(releaseFolder, "bmaptool", "copy", "--bmap", "edge-golden-v1.4.img.bmap", "edge-golden-v1.4.img.zst",
                target.toString());

        assertThat(Files.mismatch(target, image)).isEqualTo(-1);
    }

    @Test
    void noWorkFilesAreLeftBehind() throws IOException {
        Releases.publish(store, key, image, "v1.4", true);

        try (Stream<Path> staging = Files.list(store.root().resolve(FolderStore.STAGING_FOLDER))) {
            assertThat(staging).isEmpty();
        }
        try (Stream<Path> files = Files.list(store.root().resolve("golden-images"))) {
            assertThat(files.map(path -> path.getFileName().toString())).allMatch(name -> name.startsWith("edge-golden-v1.4."));
        }
    }
}
