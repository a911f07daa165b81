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
import dev.ingot.testing.GoldenImages;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slot payloads: a GPT disk image's root-a partition published as its own payload set in the same pass, checked with
 * the real zstd, sha256sum and bmaptool; a damaged GPT is refused; the trust path cross-checks a slot's map with the
 * disk's.
 */
class SlotPublishTest {
    private static final long ROOT_A = 2L << 20;
    private static final long ROOT_A_SIZE = 16L << 20;

    @TempDir
    Path folder;

    private FolderStore store;
    private SigningKey key;
    private Keyring keyring;
    private Path disk;

    @BeforeEach
    void buildAGoldenDiskImage() {
        assumeTrue(GoldenImages.unavailableBecause() == null, String.valueOf(GoldenImages.unavailableBecause()));
        store = new FolderStore(folder.resolve("store"));
        key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        disk = GoldenImages.diskImage(GoldenImages.writeTree(folder.resolve("tree"), GoldenImages.goodFiles()), folder.resolve("disk.img"));
    }

    private Publisher.Result publish(Path image, boolean raw, Optional<List<String>> slots) {
        return new Publisher(store, key, Releases.CLOCK, Progress.NONE).publish(new Publisher.Request(image, ImageName.DEFAULT,
                ImageVersion.parse("v1.5"), Optional.of(Releases.BUILD_DATE), raw, Optional.empty(), new ImageScanner.Compression(3, 2),
                ImageScanner.DEFAULT_BLOCK_SIZE, slots));
    }

    private Path published(String name) {
        return store.root().resolve("golden-images").resolve(name);
    }

    @Test
    void rootAIsPublishedAsASlotPayloadWhoseFramesAreTheDiskPayloadsOwn() throws IOException {
        Publisher.Result result = publish(disk, false, Optional.empty());

        Manifest.Slot slot = result.manifest().slot("root-a").orElseThrow();
        assertThat(slot.partition().offset()).isEqualTo(ROOT_A);
        assertThat(slot.partition().size()).isEqualTo(ROOT_A_SIZE);
        assertThat(slot.partition().number()).isEqualTo(2);
        byte[] window = Arrays.copyOfRange(Files.readAllBytes(disk), (int) ROOT_A, (int) (ROOT_A + ROOT_A_SIZE));
        assertThat(slot.image().sha256()).isEqualTo(Sha256.of(window));
        byte[] diskPayload = Files.readAllBytes(published("edge-golden-v1.5.img.zst"));
        byte[] slotPayload = Files.readAllBytes(published("edge-golden-v1.5.root-a.img.zst"));
        Manifest.ByteRange range = slot.diskPayloadBytes().orElseThrow();
        assertThat(Arrays.copyOfRange(diskPayload, (int) range.offset(), (int) (range.offset() + range.length()))).isEqualTo(slotPayload);
        assertThat(Files.readString(published("edge-golden-v1.5.sha256")).lines()).hasSize(3);
        assertThat(new ReleaseVerifier(keyring, Progress.NONE).verify(store, ReleaseFiles.STORE_FOLDER, ImageName.DEFAULT,
                ImageVersion.parse("v1.5")).failures()).isEmpty();
    }

    @Test
    void theSlotFilesPassZstdSha256sumAndBmaptoolOnTheirOwn() throws IOException {
        assumeTrue(Tools.available("zstd") && Tools.available("sha256sum") && Tools.available("bmaptool"),
                "zstd, sha256sum and bmaptool are needed");
        publish(disk, true, Optional.empty());
        Path release = store.root().resolve("golden-images");
        byte[] window = Arrays.copyOfRange(Files.readAllBytes(disk), (int) ROOT_A, (int) (ROOT_A + ROOT_A_SIZE));

        Tools.succeed(release, "zstd", "-d", "-q", "-f", "edge-golden-v1.5.root-a.img.zst", "-o", folder.resolve("root-a.img").toString());
        assertThat(Files.readAllBytes(folder.resolve("root-a.img"))).isEqualTo(window);
        assertThat(Tools.succeed(release, "sha256sum", "-c", "edge-golden-v1.5.root-a.sha256").output())
                .contains("edge-golden-v1.5.root-a.img: OK").contains("edge-golden-v1.5.root-a.img.zst: OK")
                .contains("edge-golden-v1.5.root-a.img.bmap: OK");
        Tools.succeed(release, "bmaptool", "copy", "--bmap", "edge-golden-v1.5.root-a.img.bmap", "edge-golden-v1.5.root-a.img.zst",
                folder.resolve("by-bmaptool.img").toString());
        assertThat(Files.readAllBytes(folder.resolve("by-bmaptool.img"))).isEqualTo(window);
    }

    @Test
    void aDamagedGptIsRefusedAtPublishNamingTheHeader() throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(disk.toFile(), "rw")) {
            file.seek(512 + 48);
            file.write(0x7f);
        }

        assertThatThrownBy(() -> publish(disk, false, Optional.empty()))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT))
                .hasMessageContaining("its partition table is damaged: the primary GPT header's CRC32 is");
        assertThat(published("edge-golden-v1.5.manifest.json")).doesNotExist();
    }

    @Test
    void aSlotTheGptLacksIsBadInputAndAnImageWithoutAGptHasNoSlots() throws IOException {
        assertThatThrownBy(() -> publish(disk, false, Optional.of(List.of("root-c"))))
                .hasMessageContaining("the image's GPT has no partition named 'root-c' (it has 'esp', 'root-a', 'root-b', 'data')");

        Path plain = SparseImages.typical(folder.resolve("plain.img"));
        assertThatThrownBy(() -> publish(plain, false, Optional.of(List.of("root-a")))).hasMessageContaining("has no GPT");
        assertThat(publish(plain, false, Optional.empty()).manifest().slots()).isEmpty();
        assertThat(Files.readString(published("edge-golden-v1.5.manifest.json"))).doesNotContain("slots");
    }

    @Test
    void aSlotMapThatIsNotTheDisksRangesInsideThePartitionIsRefused() {
        Publisher.Result result = publish(disk, false, Optional.empty());
        TrustedRelease trusted = new ReleaseVerifier(keyring, Progress.NONE).trust(store, ReleaseFiles.STORE_FOLDER, ImageName.DEFAULT,
                ImageVersion.parse("v1.5"));
        Manifest.Slot slot = result.manifest().slot("root-a").orElseThrow();
        BlockMap slotMap = trusted.blockMap(PayloadSet.slot("root-a"));
        assertThat(ReleaseVerifier.disagreement(trusted.blockMap(), slot, slotMap)).isEmpty();

        BlockMap.Range first = slotMap.ranges().getFirst();
        BlockMap other = new BlockMap(slotMap.imageSize(), slotMap.blockSize(), java.util.stream.Stream.concat(
                java.util.stream.Stream.of(new BlockMap.Range(first.first(), first.last(), Sha256.of(new byte[1]))),
                slotMap.ranges().stream().skip(1)).toList());
        assertThat(ReleaseVerifier.disagreement(trusted.blockMap(), slot, other)).contains(
                "it does not map the disk's blocks inside root-a (a slot file from another build?)");
    }

    @Test
    void aManifestNamingAnotherFileForTheSlotIsRefusedByTheTrustPath() throws IOException {
        publish(disk, false, Optional.empty());
        Path manifest = published("edge-golden-v1.5.manifest.json");
        String tampered = Files.readString(manifest).replace("edge-golden-v1.5.root-a.img.zst", "../root-a.img.zst");
        Files.writeString(manifest, tampered);
        Files.writeString(published("edge-golden-v1.5.manifest.json.asc"), key.sign(tampered.getBytes(), Releases.CLOCK.instant()));

        assertThatThrownBy(() -> new ReleaseVerifier(keyring, Progress.NONE).trust(store, ReleaseFiles.STORE_FOLDER, ImageName.DEFAULT,
                ImageVersion.parse("v1.5"))).hasMessageContaining("it names the unsafe file '../root-a.img.zst'");
    }

    @Test
    void aSignedManifestWhoseSlotNamesAPathOrOverrunsTheDiskIsRefusedByTheTrustPath() throws IOException {
        publish(disk, false, Optional.empty());
        Path manifest = published("edge-golden-v1.5.manifest.json");
        String original = Files.readString(manifest);
        java.util.Map<String, String> tamperings = new java.util.LinkedHashMap<>();
        tamperings.put(original.replaceFirst("(\"name\"\\s*:\\s*)\"root-a\"", "$1\"../esp\""),
                "it names the slot '../esp' (not a safe, unique partition name)");
        tamperings.put(original.replaceFirst("(\"name\"\\s*:\\s*)\"root-a\"", "$1\"root-a/../../etc\""),
                "it names the slot 'root-a/../../etc' (not a safe, unique partition name)");
        tamperings.put(original.replaceFirst("(\"last_lba\"\\s*:\\s*)\\d+", "$1999999999"), "its root-a slot does not fit the disk image");
        for (java.util.Map.Entry<String, String> tampered : tamperings.entrySet()) {
            assertThat(tampered.getKey()).isNotEqualTo(original);
            Files.writeString(manifest, tampered.getKey());
            Files.writeString(published("edge-golden-v1.5.manifest.json.asc"), key.sign(tampered.getKey().getBytes(), Releases.CLOCK.instant()));

            assertThatThrownBy(() -> new ReleaseVerifier(keyring, Progress.NONE).trust(store, ReleaseFiles.STORE_FOLDER, ImageName.DEFAULT,
                    ImageVersion.parse("v1.5"))).as(tampered.getValue()).hasMessageContaining(tampered.getValue());
        }
    }

    @Test
    void aPullForACacheTakesTheSlotsSmallFilesButNotItsPayload() {
        publish(disk, false, Optional.empty());

        Pull.Result pulled = new Pull(store, keyring, Progress.NONE).pull(ImageName.DEFAULT, ImageVersion.parse("v1.5"),
                folder.resolve("usb"), false);

        assertThat(pulled.report().ok()).isTrue();
        assertThat(folder.resolve("usb/edge-golden-v1.5.root-a.img.bmap")).exists();
        assertThat(folder.resolve("usb/edge-golden-v1.5.root-a.img.zst")).doesNotExist();
        assertThat(new ReleaseVerifier(keyring, Progress.NONE, true, false).verify(new FolderStore(folder.resolve("usb")), "",
                ImageName.DEFAULT, ImageVersion.parse("v1.5")).ok()).isTrue();
    }
}
