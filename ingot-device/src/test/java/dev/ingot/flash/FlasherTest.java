package dev.ingot.flash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageScanner;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.Manifest;
import dev.ingot.image.Publisher;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlasherTest {
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-26T00:20:00Z"), ZoneOffset.UTC);

    @TempDir
    Path folder;

    private Path image;
    private Path release;
    private Keyring keyring;
    private final Flasher flasher = new Flasher(Clock.systemUTC(), Progress.NONE);

    @BeforeEach
    void publishARelease() throws IOException {
        image = SparseImages.create(folder.resolve("edge.img"), 48L << 20, 5,
                new SparseImages.Region(0, 64 * 1024), new SparseImages.Region(4L << 20, 20 << 20),
                new SparseImages.Region(40L << 20, 3000));
        SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        FolderStore store = new FolderStore(folder.resolve("store"));
        new Publisher(store, key, CLOCK, Progress.NONE).publish(new Publisher.Request(image, ImageName.DEFAULT,
                ImageVersion.parse("v1.4"), Optional.empty(), false, Optional.empty(), new ImageScanner.Compression(3, 2),
                ImageScanner.DEFAULT_BLOCK_SIZE));
        release = store.root().resolve("golden-images");
    }

    private Flasher.Source releaseSource() {
        return FlashSources.fromReleaseFolder(release, ImageName.DEFAULT, ImageVersion.parse("v1.4"), keyring);
    }

    private FlashTarget target(Path path) {
        return FlashTarget.inspect(path, 48L << 20, SystemView.live());
    }

    private static Sha256 hash(Path file) throws IOException {
        return Sha256.of(Files.readAllBytes(file));
    }

    @Test
    void aFlashedFileIsIdenticalToTheImage() throws IOException {
        Path disk = folder.resolve("disk.img");

        Flasher.Report report = flasher.flash(releaseSource(), target(disk), new Flasher.Options(true, true));

        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
        assertThat(report.writtenBytes()).isEqualTo(64 * 1024 + (20 << 20) + 4096);
        assertThat(report.decompression()).startsWith("parallel");
        assertThat(report.phases()).extracting(Flasher.Phase::name)
                .containsExactly("verify payload", "zero unmapped", "write", "sync", "read back");
    }

    @Test
    void oldDataInUnmappedBlocksIsZeroedAndALongerFileIsCut() throws IOException {
        Path disk = folder.resolve("disk.img");
        Files.write(disk, new byte[(60 << 20)]);
        try (RandomAccessFile file = new RandomAccessFile(disk.toFile(), "rw")) {
            file.seek(30L << 20);
            file.write("stale data from the previous image".getBytes());
        }

        flasher.flash(releaseSource(), target(disk), new Flasher.Options(true, true));

        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
    }

    @Test
    void withoutZeroingUnmappedBlocksKeepTheirOldDataAsWithBmaptool() throws IOException {
        Path disk = folder.resolve("disk.img");
        Files.write(disk, new byte[(48 << 20)]);
        byte[] stale = "stale data from the previous image".getBytes();
        try (RandomAccessFile file = new RandomAccessFile(disk.toFile(), "rw")) {
            file.seek(30L << 20);
            file.write(stale);
        }

        flasher.flash(releaseSource(), target(disk), new Flasher.Options(false, true));

        byte[] flashed = Files.readAllBytes(disk);
        assertThat(java.util.Arrays.copyOfRange(flashed, 30 << 20, (30 << 20) + stale.length)).isEqualTo(stale);
        assertThat(java.util.Arrays.copyOfRange(flashed, 4 << 20, 24 << 20))
                .isEqualTo(java.util.Arrays.copyOfRange(Files.readAllBytes(image), 4 << 20, 24 << 20));
    }

    @Test
    void theResultEqualsBmaptoolCopysOnTheSameImage() throws IOException {
        assumeTrue(Tools.available("bmaptool"), "bmaptool is not installed (apt-get install bmap-tools)");
        Path byBmaptool = folder.resolve("bmaptool.img");
        Path byIngot = folder.resolve("ingot.img");
        Tools.succeed(release, "bmaptool", "copy", "--bmap", "edge-golden-v1.4.img.bmap", "edge-golden-v1.4.img.zst", byBmaptool.toString());

        flasher.flash(releaseSource(), target(byIngot), new Flasher.Options(true, true));

        assertThat(Files.mismatch(byIngot, byBmaptool)).isEqualTo(-1);
    }

    @Test
    void aBmapMadeByBmaptoolFlashesAnUnsignedImageWithEveryLongRangeCheckedBeforeItIsWritten() throws IOException {
        assumeTrue(Tools.available("bmaptool"), "bmaptool is not installed (apt-get install bmap-tools)");
        Path theirs = folder.resolve("theirs.bmap");
        Tools.succeed(folder, "bmaptool", "create", "-o", theirs.toString(), image.toString());
        Path rawDisk = folder.resolve("raw-disk.img");

        // bmaptool maps the 20 MiB extent as one range, longer than a piece: it is spooled and checked before it is written.
        Flasher.Report report = flasher.flash(FlashSources.fromFiles(image, Optional.of(theirs), Optional.empty(), true), target(rawDisk),
                new Flasher.Options(true, true));

        assertThat(report.decompression()).isEqualTo("none (raw image)");
        assertThat(Files.mismatch(rawDisk, image)).isEqualTo(-1);
    }

    @Test
    void aBmapMadeByBmaptoolBesideASignedReleaseIsRefusedItVouchesForNothing() throws IOException {
        assumeTrue(Tools.available("bmaptool"), "bmaptool is not installed (apt-get install bmap-tools)");
        Path theirs = folder.resolve("theirs.bmap");
        Tools.succeed(folder, "bmaptool", "create", "-o", theirs.toString(), image.toString());

        assertThatThrownBy(() -> FlashSources.fromFiles(release.resolve("edge-golden-v1.4.img.zst"), Optional.of(theirs),
                Optional.of(keyring), false))
                .hasMessageContaining("theirs.bmap is not the block map the signed manifest vouches for (edge-golden-v1.4.img.bmap)");
    }

    /** An unsigned raw image whose bmap has one 20 MiB range (longer than a 16 MiB piece), and that range's last byte changed. */
    private Flasher.Source longRangeWithItsLastByteWrong() throws IOException {
        Path raw = SparseImages.create(folder.resolve("long.img"), 24L << 20, 8, new SparseImages.Region(2L << 20, 20 << 20));
        dev.ingot.image.BlockMap map = new dev.ingot.image.BlockMap(24L << 20, 4096, java.util.List.of(
                new dev.ingot.image.BlockMap.Range(512, 512 + (20 << 20) / 4096 - 1, Sha256.of(java.util.Arrays.copyOfRange(
                        Files.readAllBytes(raw), 2 << 20, 22 << 20)))));
        try (RandomAccessFile file = new RandomAccessFile(raw.toFile(), "rw")) {
            file.seek((22L << 20) - 1);
            int last = file.read();
            file.seek((22L << 20) - 1);
            file.write(last ^ 0x01);
        }
        return Flasher.Source.unsigned(raw, false, map, "long.img (unsigned)");
    }

    @Test
    void aRangeLongerThanAPieceWhoseLastByteIsWrongIsRefusedAndTheTargetIsUntouched() throws IOException {
        Flasher.Source source = longRangeWithItsLastByteWrong();
        Path disk = Files.write(folder.resolve("disk.img"), new byte[24 << 20]);

        assertThatThrownBy(() -> flasher.flash(source, target(disk), new Flasher.Options(true, true)))
                .hasMessageContaining("blocks 512-5631").hasMessageContaining("nothing was written");
        assertThat(hash(disk)).isEqualTo(Sha256.of(new byte[24 << 20]));
    }

    @Test
    void theWritePassAloneNeverWritesAnyByteOfALongRangeBeforeItsLastByteChecksOut() throws IOException {
        // As if the source changed after a dry pass: the write pass itself holds the range in the spool until it is checked.
        Flasher.Source source = longRangeWithItsLastByteWrong();
        Path disk = Files.write(folder.resolve("disk.img"), new byte[24 << 20]);
        Path spool = Files.createDirectories(folder.resolve("spool"));

        try (FileChannel channel = FileChannel.open(disk, StandardOpenOption.WRITE)) {
            assertThatThrownBy(() -> new Flasher(Clock.systemUTC(), Progress.NONE, spool).writeStreamed(source, channel, "flash long.img"))
                    .hasMessageContaining("the range was not written");
        }
        assertThat(hash(disk)).isEqualTo(Sha256.of(new byte[24 << 20]));
        try (var left = Files.list(spool)) {
            assertThat(left.toList()).as("spool files left").isEmpty();
        }
    }

    @Test
    void aTamperedPayloadIsRefusedAndTheTargetIsUntouched() throws IOException {
        Path disk = Files.write(folder.resolve("disk.img"), "the old disk".getBytes());
        Path payload = release.resolve("edge-golden-v1.4.img.zst");
        try (FileChannel channel = FileChannel.open(payload, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
            channel.read(one, 5000);
            one.put(0, (byte) (one.get(0) ^ 0x40)).rewind();
            channel.write(one, 5000);
        }
        Sha256 before = hash(disk);

        assertThatThrownBy(() -> flasher.flash(releaseSource(), target(disk), new Flasher.Options(true, true)))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED))
                .hasMessageContaining("nothing was written");
        assertThat(hash(disk)).isEqualTo(before);
    }

    @Test
    void aReleaseSignedByAnUntrustedKeyIsRefused() throws IOException {
        SigningKey mallory = SigningKey.load(TestKeys.UNTRUSTED.secretKey(folder.resolve("keys")), Optional.empty());
        Path manifest = release.resolve("edge-golden-v1.4.manifest.json");
        Files.writeString(release.resolve("edge-golden-v1.4.manifest.json.asc"), mallory.sign(Files.readAllBytes(manifest), CLOCK.instant()));

        assertThatThrownBy(this::releaseSource).hasMessageContaining("not in the trusted keyring");
    }

    @Test
    void aBmapOfAnotherImageIsRefusedBeforeAnyWrite() throws IOException {
        Path other = SparseImages.create(folder.resolve("other.img"), 48L << 20, 77, new SparseImages.Region(0, 64 * 1024),
                new SparseImages.Region(4L << 20, 20 << 20));
        Path otherRelease = folder.resolve("other-release");
        Files.createDirectories(otherRelease);
        ImageScanner.Result scanned = ImageScanner.scan(other, 4096, otherRelease.resolve("o.zst"), Optional.empty(),
                new ImageScanner.Compression(3, 1), Progress.NONE);
        Path wrongBmap = Files.write(folder.resolve("wrong.bmap"), dev.ingot.image.BmapXml.write(scanned.blockMap()));
        Path disk = Files.write(folder.resolve("disk.img"), "the old disk".getBytes());
        Sha256 before = hash(disk);

        Flasher.Source unsigned = FlashSources.fromFiles(image, Optional.of(wrongBmap), Optional.empty(), true);
        assertThatThrownBy(() -> flasher.flash(unsigned, target(disk), new Flasher.Options(true, true)))
                .hasMessageContaining("nothing was written (the bmap does not belong to this image)");
        assertThat(hash(disk)).isEqualTo(before);
    }

    @Test
    void anUnsignedImageNeedsExplicitConsent() {
        assertThatThrownBy(() -> FlashSources.fromFiles(image, Optional.of(release.resolve("edge-golden-v1.4.img.bmap")), Optional.empty(), false))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT))
                .hasMessageContaining("no signed manifest");
    }

    @Test
    void aTargetThatIsNeitherABlockDeviceNorAFileIsRefused() throws IOException {
        Path directory = Files.createDirectories(folder.resolve("a-folder"));

        assertThatThrownBy(() -> target(directory)).hasMessageContaining("neither a block device nor a regular file");
        assertThatThrownBy(() -> target(Path.of("/dev/ingot-no-such-disk"))).hasMessageContaining("no such device");
        assertThatThrownBy(() -> target(Path.of("/dev/null"))).hasMessageContaining("neither a block device nor a regular file");
    }
}
