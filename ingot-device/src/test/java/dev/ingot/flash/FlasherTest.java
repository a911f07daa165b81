package dev.ingot.flash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.luben.zstd.Zstd;
import com.sun.nio.file.ExtendedOpenOption;
import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fetch.FileRange;
import dev.ingot.fetch.OrderedFetch;
import dev.ingot.fetch.RangeReadable;
import dev.ingot.image.BlockMap;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageScanner;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.Publisher;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlasherTest {
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-26T00:20:00Z"), ZoneOffset.UTC);
    /** What an unwritten target byte reads as: zeros would be ambiguous with punched holes. */
    static final byte UNWRITTEN = (byte) 0xA5;

    @TempDir
    Path folder;

    private Path image;
    private Path release;
    private Keyring keyring;
    private SigningKey key;
    private final Flasher flasher = new Flasher(Clock.systemUTC(), Progress.NONE);

    @BeforeEach
    void publishARelease() throws IOException {
        image = SparseImages.create(folder.resolve("edge.img"), 48L << 20, 5,
                new SparseImages.Region(0, 64 * 1024), new SparseImages.Region(4L << 20, 20 << 20),
                new SparseImages.Region(40L << 20, 3000));
        key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        release = publish(image, "v1.4", folder.resolve("store"));
    }

    private Path publish(Path raw, String version, Path store) {
        new Publisher(new FolderStore(store), key, CLOCK, Progress.NONE).publish(new Publisher.Request(raw, ImageName.DEFAULT,
                ImageVersion.parse(version), Optional.empty(), false, Optional.empty(), new ImageScanner.Compression(3, 2),
                ImageScanner.DEFAULT_BLOCK_SIZE));
        return store.resolve("golden-images");
    }

    private FlashJob releaseSource() {
        return FlashSources.fromReleaseFolder(release, ImageName.DEFAULT, ImageVersion.parse("v1.4"), keyring);
    }

    /** The same job, its payload read from {@code source}. */
    private static FlashJob fromSource(FlashJob job, RangeReadable source) {
        return new FlashJob(job.description(), job.map(), source, job.format(), job.release(), job.set(), job.keep());
    }

    private FlashTarget target(Path path) {
        return FlashTarget.inspect(path, 48L << 20, SystemView.live());
    }

    private static Sha256 hash(Path file) throws IOException {
        return Sha256.of(Files.readAllBytes(file));
    }

    /** A target file of {@code size} bytes that reads as 0xA5 everywhere. */
    private Path unwritten(String name, long size) throws IOException {
        byte[] bytes = new byte[(int) size];
        Arrays.fill(bytes, UNWRITTEN);
        return Files.write(folder.resolve(name), bytes);
    }

    /** The payload's frames: offset, compressed length and content size of each (zstd-jni finds them in memory). */
    record Frame(int offset, int length, long content) {}

    static List<Frame> frames(byte[] payload) {
        List<Frame> frames = new ArrayList<>();
        for (int offset = 0; offset < payload.length; ) {
            int length = (int) Zstd.findFrameCompressedSize(payload, offset, payload.length - offset);
            frames.add(new Frame(offset, length, Zstd.getFrameContentSize(payload, offset, payload.length - offset)));
            offset += length;
        }
        return frames;
    }

    /** The index of the frame that starts at image offset {@code imageOffset}. */
    static int frameAt(List<Frame> frames, long imageOffset) {
        long position = 0;
        for (int i = 0; i < frames.size(); i++) {
            if (position == imageOffset) {
                return i;
            }
            position += frames.get(i).content();
        }
        throw new AssertionError("no frame starts at " + imageOffset);
    }

    static byte[] replaceFrame(byte[] payload, Frame frame, byte[] replacement) {
        byte[] changed = new byte[payload.length - frame.length() + replacement.length];
        System.arraycopy(payload, 0, changed, 0, frame.offset());
        System.arraycopy(replacement, 0, changed, frame.offset(), replacement.length);
        System.arraycopy(payload, frame.offset() + frame.length(), changed, frame.offset() + replacement.length,
                payload.length - frame.offset() - frame.length());
        return changed;
    }

    @Test
    void aFlashedFileIsIdenticalToTheImageInOnePassWithTheWritesReadBack() throws IOException {
        Path disk = folder.resolve("disk.img");

        Flasher.Report report = flasher.flash(releaseSource(), target(disk), Flasher.Options.defaults());

        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
        assertThat(report.writtenBytes()).isEqualTo(64 * 1024 + (20 << 20) + 4096);
        assertThat(report.decompression()).startsWith("parallel");
        assertThat(report.directIo()).isEqualTo("on");
        assertThat(report.phases()).extracting(Flasher.Phase::name).containsExactly("zero unmapped", "write", "sync", "read back");
        assertThat(report.stages()).extracting(Flasher.Stage::name)
                .contains("payload hash", "decompress", "range hash", "write", "read-back compare or hash");
        assertThat(report.payloadBytes()).isEqualTo(Files.size(release.resolve("edge-golden-v1.4.img.zst")));
    }

    @Test
    void oldDataInUnmappedBlocksIsZeroedAndALongerFileIsCut() throws IOException {
        Path disk = folder.resolve("disk.img");
        Files.write(disk, new byte[(60 << 20)]);
        try (RandomAccessFile file = new RandomAccessFile(disk.toFile(), "rw")) {
            file.seek(30L << 20);
            file.write("stale data from the previous image".getBytes());
        }

        flasher.flash(releaseSource(), target(disk), Flasher.Options.defaults());

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
        assertThat(Arrays.copyOfRange(flashed, 30 << 20, (30 << 20) + stale.length)).isEqualTo(stale);
        assertThat(Arrays.copyOfRange(flashed, 4 << 20, 24 << 20)).isEqualTo(Arrays.copyOfRange(Files.readAllBytes(image), 4 << 20, 24 << 20));
    }

    @Test
    void theResultEqualsBmaptoolCopysOnTheSameImage() throws IOException {
        assumeTrue(Tools.available("bmaptool"), "bmaptool is not installed (apt-get install bmap-tools)");
        Path byBmaptool = folder.resolve("bmaptool.img");
        Path byIngot = folder.resolve("ingot.img");
        Tools.succeed(release, "bmaptool", "copy", "--bmap", "edge-golden-v1.4.img.bmap", "edge-golden-v1.4.img.zst", byBmaptool.toString());

        flasher.flash(releaseSource(), target(byIngot), Flasher.Options.defaults());

        assertThat(Files.mismatch(byIngot, byBmaptool)).isEqualTo(-1);
    }

    @Test
    void aRangeWhosePayloadFrameHasAFlippedByteIsRefusedBeforeThatRangeIsWritten() throws IOException {
        Path payload = release.resolve("edge-golden-v1.4.img.zst");
        byte[] bytes = Files.readAllBytes(payload);
        List<Frame> frames = frames(bytes);
        Frame big = frames.get(frameAt(frames, 4L << 20)); // the first 16 MiB of the 20 MiB extent
        bytes[big.offset() + big.length() / 2] ^= 0x40;
        Files.write(payload, bytes);
        Path disk = unwritten("disk.img", 48L << 20);

        assertThatThrownBy(() -> flasher.flash(releaseSource(), target(disk), Flasher.Options.defaults()))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED))
                .hasMessageContaining("the target is incomplete: 1 of 4 ranges were written");

        byte[] flashed = Files.readAllBytes(disk);
        byte[] expected = Files.readAllBytes(image);
        assertThat(Arrays.copyOfRange(flashed, 0, 64 * 1024)).as("the range before it").isEqualTo(Arrays.copyOfRange(expected, 0, 64 * 1024));
        for (int i = 4 << 20; i < 24 << 20; i += 4096) {
            assertThat(flashed[i]).as("byte %d, in the damaged range or the one after it", i).isEqualTo(UNWRITTEN);
        }
        assertThat(flashed[40 << 20]).as("the last range").isEqualTo(UNWRITTEN);
    }

    @Test
    void aValidFrameOfOtherContentIsCaughtByTheRangeCheckAloneAndThatRangeIsNotWritten() throws IOException {
        Path payload = release.resolve("edge-golden-v1.4.img.zst");
        byte[] bytes = Files.readAllBytes(payload);
        List<Frame> frames = frames(bytes);
        int index = frameAt(frames, 20L << 20); // the last 4 MiB of the 20 MiB extent: a range of its own
        byte[] other = new byte[(int) frames.get(index).content()];
        Arrays.fill(other, (byte) 'x');
        Files.write(payload, replaceFrame(bytes, frames.get(index), padded(Zstd.compress(other, 3), frames.get(index).length())));
        Path disk = unwritten("disk.img", 48L << 20);
        FlashJob lying = releaseSource();

        assertThatThrownBy(() -> flasher.flash(lying, target(disk), Flasher.Options.defaults()))
                .hasMessageContaining("blocks 5120-6143 of the image have SHA-256")
                .hasMessageContaining("that range was not written").hasMessageContaining("2 of 4 ranges were written");

        byte[] flashed = Files.readAllBytes(disk);
        byte[] expected = Files.readAllBytes(image);
        assertThat(Arrays.copyOfRange(flashed, 4 << 20, 20 << 20)).isEqualTo(Arrays.copyOfRange(expected, 4 << 20, 20 << 20));
        assertThat(flashed[20 << 20]).isEqualTo(UNWRITTEN);
        assertThat(flashed[(24 << 20) - 1]).isEqualTo(UNWRITTEN);
    }

    /** A frame followed by a skippable frame (RFC 8878 §3.1.2) that pads it to {@code length} bytes: the payload keeps its size. */
    static byte[] padded(byte[] frame, int length) {
        byte[] out = new byte[length];
        System.arraycopy(frame, 0, out, 0, frame.length);
        java.nio.ByteBuffer skippable = java.nio.ByteBuffer.wrap(out, frame.length, length - frame.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        skippable.putInt(0x184D2A50).putInt(length - frame.length - 8);
        return out;
    }

    @Test
    void aDamagedHoleFrameLeavesACorrectDiskAndStillFailsNamingTheSource() throws IOException {
        Path payload = release.resolve("edge-golden-v1.4.img.zst");
        byte[] bytes = Files.readAllBytes(payload);
        List<Frame> frames = frames(bytes);
        Frame hole = frames.get(frameAt(frames, 24L << 20)); // zeros between the extent and the last block
        bytes[hole.offset() + hole.length() - 2] ^= 0x01;
        Files.write(payload, bytes);
        Path disk = folder.resolve("disk.img");

        assertThatThrownBy(() -> flasher.flash(releaseSource(), target(disk), Flasher.Options.defaults()))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED))
                .hasMessageContaining("the target holds the image: the source copy is what is damaged");

        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
    }

    @Test
    void aPayloadMadeByTheZstdCliIsOneFrameAndIsDecodedAsOneStream() throws IOException {
        assumeTrue(Tools.available("zstd"), "zstd is not installed");
        Tools.succeed(folder, "zstd", "-q", "-3", image.toString(), "-o", folder.resolve("cli.img.zst").toString());
        Files.copy(release.resolve("edge-golden-v1.4.img.bmap"), folder.resolve("cli.img.bmap"));
        Path disk = folder.resolve("disk.img");

        Flasher.Report report = flasher.flash(FlashSources.fromFiles(folder.resolve("cli.img.zst"), Optional.empty(), Optional.empty(), true),
                target(disk), Flasher.Options.defaults());

        assertThat(report.decompression()).startsWith("one stream from payload byte 0");
        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
    }

    @Test
    void anImageWhoseSizeIsNoMultipleOf4096IsWrittenDirectWithABufferedTail() throws IOException {
        Path odd = SparseImages.typical(folder.resolve("odd.img"));
        assertThat(Files.size(odd) % 4096).isNotZero();
        Path oddRelease = publish(odd, "v1.5", folder.resolve("odd-store"));
        Path disk = folder.resolve("disk.img");

        Flasher.Report report = flasher.flash(FlashSources.fromReleaseFolder(oddRelease, ImageName.DEFAULT, ImageVersion.parse("v1.5"),
                keyring), FlashTarget.inspect(disk, Files.size(odd), SystemView.live()), Flasher.Options.defaults());

        assertThat(report.directIo()).isEqualTo("on");
        assertThat(Files.mismatch(disk, odd)).isEqualTo(-1);
    }

    @Test
    void aFileSystemThatRefusesDirectIoIsWrittenBufferedAndStillReadBackFromTheDisk() throws IOException {
        List<String> refused = new ArrayList<>();
        TargetIo.Opener noDirect = (path, options) -> {
            if (options.contains(ExtendedOpenOption.DIRECT)) {
                refused.add(options.toString());
                throw new IOException("Invalid argument");
            }
            return FileChannel.open(path, options);
        };
        Path disk = folder.resolve("disk.img");

        Flasher.Report report = new Flasher(Clock.systemUTC(), Progress.NONE, () -> folder, noDirect)
                .flash(releaseSource(), target(disk), Flasher.Options.defaults());

        assertThat(report.directIo()).isEqualTo("off: the file system refused O_DIRECT (Invalid argument)");
        assertThat(refused).hasSize(2); // the write channel, then the read-back's
        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
    }

    @Test
    void aDiskThatDoesNotKeepWhatWasWrittenFailsTheReadBack() throws IOException {
        // A failing disk: reads come back from somewhere else (here: another file of the same size, all zeros).
        Path elsewhere = Files.write(folder.resolve("what-the-disk-returns.img"), new byte[48 << 20]);
        TargetIo.Opener forgetful = (path, options) -> options.contains(StandardOpenOption.READ)
                ? FileChannel.open(elsewhere, options) : FileChannel.open(path, options);
        Path disk = folder.resolve("disk.img");

        assertThatThrownBy(() -> new Flasher(Clock.systemUTC(), Progress.NONE, () -> folder, forgetful)
                .flash(releaseSource(), target(disk), Flasher.Options.defaults()))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED))
                .hasMessageContaining("gave other bytes than were written (and checked): the disk did not keep what was written");
    }

    @Test
    void directIoOffWritesThroughThePageCacheAndReadsBackFromTheDisk() throws IOException {
        Path disk = folder.resolve("disk.img");

        Flasher.Report report = flasher.flash(releaseSource(), target(disk),
                new Flasher.Options(true, true, Flasher.Direct.OFF, OrderedFetch.Policy.defaults()));

        assertThat(report.directIo()).isEqualTo("off (--direct off)");
        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
    }

    @Test
    void aBmapMadeByBmaptoolFlashesAnUnsignedImageWithEveryLongRangeCheckedBeforeItIsWritten() throws IOException {
        assumeTrue(Tools.available("bmaptool"), "bmaptool is not installed (apt-get install bmap-tools)");
        Path theirs = folder.resolve("theirs.bmap");
        Tools.succeed(folder, "bmaptool", "create", "-o", theirs.toString(), image.toString());
        Path rawDisk = folder.resolve("raw-disk.img");

        // bmaptool maps the 20 MiB extent as one range, longer than a buffer: it is spooled and checked before it is written.
        Flasher.Report report = flasher.flash(FlashSources.fromFiles(image, Optional.of(theirs), Optional.empty(), true), target(rawDisk),
                Flasher.Options.defaults());

        assertThat(report.decompression()).isEqualTo("none (raw image)");
        assertThat(report.phases()).extracting(Flasher.Phase::name).startsWith("check ranges");
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

    /** An unsigned raw image whose bmap has one 20 MiB range (longer than a 16 MiB buffer), and that range's last byte changed. */
    private FlashJob longRangeWithItsLastByteWrong() throws IOException {
        Path raw = SparseImages.create(folder.resolve("long.img"), 24L << 20, 8, new SparseImages.Region(2L << 20, 20 << 20));
        BlockMap map = new BlockMap(24L << 20, 4096, List.of(new BlockMap.Range(512, 512 + (20 << 20) / 4096 - 1,
                Sha256.of(Arrays.copyOfRange(Files.readAllBytes(raw), 2 << 20, 22 << 20)))));
        try (RandomAccessFile file = new RandomAccessFile(raw.toFile(), "rw")) {
            file.seek((22L << 20) - 1);
            int last = file.read();
            file.seek((22L << 20) - 1);
            file.write(last ^ 0x01);
        }
        return FlashJob.unsigned(map, FileRange.open(raw), FlashJob.Format.RAW, "long.img");
    }

    @Test
    void aRangeLongerThanABufferWhoseLastByteIsWrongIsRefusedAndTheTargetIsUntouched() throws IOException {
        FlashJob source = longRangeWithItsLastByteWrong();
        Path disk = Files.write(folder.resolve("disk.img"), new byte[24 << 20]);

        assertThatThrownBy(() -> flasher.flash(source, target(disk), Flasher.Options.defaults()))
                .hasMessageContaining("blocks 512-5631").hasMessageContaining("nothing was written");
        assertThat(hash(disk)).isEqualTo(Sha256.of(new byte[24 << 20]));
    }

    @Test
    void theWritePassAloneNeverHandsOnAnyByteOfALongRangeBeforeItsLastByteChecksOut() throws IOException {
        // As if the source changed after the dry pass: the pass itself holds the range in the spool until it is checked.
        FlashJob source = longRangeWithItsLastByteWrong();
        Path spool = Files.createDirectories(folder.resolve("spool"));
        List<CheckedRange> handedOn = new ArrayList<>();
        FlashPass pass = new FlashPass(source, source.source(), Optional.empty(), 0, range -> handedOn.add(range) && false, new Stages(), Progress.NONE,
                () -> spool, Clock.systemUTC(), OrderedFetch.Policy.defaults(), 4096);

        assertThatThrownBy(pass::run).hasMessageContaining("that range was not written");
        assertThat(handedOn).isEmpty();
        try (var left = Files.list(spool)) {
            assertThat(left.toList()).as("spool files left").isEmpty();
        }
    }

    @Test
    void aTruncatedPayloadIsRefusedBeforeAnythingIsWritten() throws IOException {
        Path payload = release.resolve("edge-golden-v1.4.img.zst");
        try (FileChannel channel = FileChannel.open(payload, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() / 2);
        }
        Path disk = Files.write(folder.resolve("disk.img"), "the old disk".getBytes());

        assertThatThrownBy(() -> flasher.flash(releaseSource(), target(disk), Flasher.Options.defaults()))
                .hasMessageContaining("but the signed manifest says").hasMessageContaining("nothing was written");
        assertThat(Files.readString(disk)).isEqualTo("the old disk");
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
        Path otherRelease = Files.createDirectories(folder.resolve("other-release"));
        ImageScanner.Result scanned = ImageScanner.scan(other, 4096, otherRelease.resolve("o.zst"), Optional.empty(),
                new ImageScanner.Compression(3, 1), Progress.NONE);
        Path wrongBmap = Files.write(folder.resolve("wrong.bmap"), dev.ingot.image.BmapXml.write(scanned.blockMap()));
        Path disk = Files.write(folder.resolve("disk.img"), "the old disk".getBytes());
        Sha256 before = hash(disk);

        FlashJob unsigned = FlashSources.fromFiles(image, Optional.of(wrongBmap), Optional.empty(), true);
        assertThatThrownBy(() -> flasher.flash(unsigned, target(disk), Flasher.Options.defaults()))
                .hasMessageContaining("nothing was written");
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

    @Test
    void aKeptCopyIsCompleteVerifiedAndServesAsACache() throws IOException {
        Path keep = folder.resolve("usb");
        Path disk = folder.resolve("disk.img");

        Flasher.Report report = flasher.flash(releaseSource().keepingIn(keep), target(disk), Flasher.Options.defaults());

        assertThat(report.kept()).contains(keep);
        for (String suffix : List.of(".img.zst", ".img.bmap", ".sha256", ".manifest.json", ".manifest.json.asc")) {
            assertThat(Files.readAllBytes(keep.resolve("edge-golden-v1.4" + suffix))).as(suffix)
                    .isEqualTo(Files.readAllBytes(release.resolve("edge-golden-v1.4" + suffix)));
        }
        try (var left = Files.list(keep)) {
            assertThat(left.map(path -> path.getFileName().toString()).toList()).noneMatch(name -> name.endsWith(".part"));
        }
        Path again = folder.resolve("again.img");
        flasher.flash(FlashSources.fromReleaseFolder(keep, ImageName.DEFAULT, ImageVersion.parse("v1.4"), keyring), target(again),
                Flasher.Options.defaults());
        assertThat(Files.mismatch(again, image)).isEqualTo(-1);
    }

    @Test
    void aFlashThatStoppedHalfWayResumesFromItsKeptCopyAndFetchesOnlyTheRest() throws IOException {
        Path keep = Files.createDirectories(folder.resolve("usb"));
        byte[] payload = Files.readAllBytes(release.resolve("edge-golden-v1.4.img.zst"));
        Files.write(keep.resolve("edge-golden-v1.4.img.zst.part"), Arrays.copyOf(payload, payload.length / 2));
        Path disk = folder.resolve("disk.img");

        Flasher.Report report = flasher.flash(releaseSource().keepingIn(keep), target(disk), Flasher.Options.defaults());

        assertThat(report.replayedBytes()).isEqualTo(payload.length / 2);
        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
        assertThat(Files.readAllBytes(keep.resolve("edge-golden-v1.4.img.zst"))).isEqualTo(payload);
    }

    @Test
    void aDamagedKeptCopyIsCutBackToTheDamagedFrameAndTheRerunCompletesIt() throws IOException {
        Path keep = Files.createDirectories(folder.resolve("usb"));
        byte[] payload = Files.readAllBytes(release.resolve("edge-golden-v1.4.img.zst"));
        byte[] damaged = Arrays.copyOf(payload, payload.length - 100);
        List<Frame> frames = frames(payload);
        Frame big = frames.get(frameAt(frames, 4L << 20));
        damaged[big.offset() + 1000] ^= 0x10;
        Files.write(keep.resolve("edge-golden-v1.4.img.zst.part"), damaged);
        Path disk = folder.resolve("disk.img");

        assertThatThrownBy(() -> flasher.flash(releaseSource().keepingIn(keep), target(disk), Flasher.Options.defaults()))
                .hasMessageContaining("the target is incomplete");
        assertThat(Files.size(keep.resolve("edge-golden-v1.4.img.zst.part"))).isEqualTo(big.offset());

        Flasher.Report report = flasher.flash(releaseSource().keepingIn(keep), target(disk), Flasher.Options.defaults());
        assertThat(report.replayedBytes()).isEqualTo(big.offset());
        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
        assertThat(Files.readAllBytes(keep.resolve("edge-golden-v1.4.img.zst"))).isEqualTo(payload);
    }

    @Test
    void aDamagedFrameIsCutFromTheKeptCopyEvenWhenTheReaderWasInterruptedWithBytesInHand() throws Exception {
        Path payload = release.resolve("edge-golden-v1.4.img.zst");
        byte[] bytes = Files.readAllBytes(payload);
        List<Frame> frames = frames(bytes);
        int index = frameAt(frames, 4L << 20);
        Frame big = frames.get(index);
        byte[] damaged = bytes.clone();
        damaged[big.offset() + 1000] ^= 0x10;
        Files.write(payload, damaged);
        Path keep = folder.resolve("usb");
        Path disk = folder.resolve("disk.img");
        // The reader waits for the frame after the damaged one when the check stops it: interrupted, it still gets bytes.
        HeldSource held = new HeldSource(payload, frames.get(index + 1).offset(), new CountDownLatch(0));

        assertThatThrownBy(() -> flasher.flash(fromSource(releaseSource(), held).keepingIn(keep), target(disk), Flasher.Options.defaults()))
                .hasMessageContaining("the target is incomplete");
        assertThat(held.interrupted).as("the reader was stopped while it held the bytes after the damaged frame").isTrue();
        assertThat(Files.size(keep.resolve("edge-golden-v1.4.img.zst.part"))).isEqualTo(big.offset());

        Files.write(payload, bytes);
        Flasher.Report report = flasher.flash(releaseSource().keepingIn(keep), target(disk), Flasher.Options.defaults());
        assertThat(report.replayedBytes()).isEqualTo(big.offset());
        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
    }

    @Test
    void noWriteReachesTheKeptCopyAfterAFlashWhoseCallerWasInterruptedHasThrown() throws Exception {
        Path payload = release.resolve("edge-golden-v1.4.img.zst");
        List<Frame> frames = frames(Files.readAllBytes(payload));
        Path keep = folder.resolve("usb");
        Path part = keep.resolve("edge-golden-v1.4.img.zst.part");
        Path disk = folder.resolve("disk.img");
        CountDownLatch thrown = new CountDownLatch(1);
        // Interrupted, the reader's source hands its bytes over only once the flash has thrown (or after a second, when
        // the flash rightly waits for its reader): a reader the flash left running would tee them after the throw.
        HeldSource held = new HeldSource(payload, frames.get(frameAt(frames, 4L << 20) + 1).offset(), thrown);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean readerAliveAtThrow = new AtomicBoolean();
        AtomicLong keptAtThrow = new AtomicLong(-1);
        Thread caller = new Thread(() -> {
            try {
                flasher.flash(fromSource(releaseSource(), held).keepingIn(keep), target(disk), Flasher.Options.defaults());
            } catch (Throwable e) {
                readerAliveAtThrow.set(held.reader.isAlive());
                try {
                    keptAtThrow.set(Files.size(part));
                } catch (IOException unreadable) {
                    e.addSuppressed(unreadable);
                }
                failure.set(e);
            } finally {
                thrown.countDown();
            }
        }, "flash caller");
        caller.start();
        held.held.await();
        caller.interrupt();
        caller.join();

        assertThat(failure.get()).isInstanceOf(IngotException.class).hasMessageContaining("interrupted");
        assertThat(readerAliveAtThrow).as("the payload reader (the kept copy's only writer) still ran when the flash threw").isFalse();
        held.reader.join();
        assertThat(Files.size(part)).isEqualTo(keptAtThrow.get()).isPositive();

        Flasher.Report report = flasher.flash(releaseSource().keepingIn(keep), target(disk), Flasher.Options.defaults());
        assertThat(report.replayedBytes()).isEqualTo(keptAtThrow.get());
        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
    }

    /**
     * A payload file read as a network stream behaves: the read that reaches {@code holdAt} waits until the reading
     * thread is interrupted, then (once {@code release} opened, or after a second) still returns the bytes, leaving the
     * interrupt set, as a socket with data in its buffer does.
     */
    static final class HeldSource implements RangeReadable {
        private final FileRange file;
        private final long holdAt;
        private final CountDownLatch release;
        private final AtomicBoolean holding = new AtomicBoolean();
        final CountDownLatch held = new CountDownLatch(1);
        volatile Thread reader;
        volatile boolean interrupted;

        HeldSource(Path payload, long holdAt, CountDownLatch release) throws IOException {
            this.file = FileRange.open(payload);
            this.holdAt = holdAt;
            this.release = release;
        }

        @Override
        public String describe() {
            return file.describe();
        }

        @Override
        public long size() throws IOException {
            return file.size();
        }

        @Override
        public InputStream open(long offset, long length) throws IOException {
            InputStream in = file.open(offset, length);
            return new InputStream() {
                private long position = offset;

                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] bytes, int from, int count) throws IOException {
                    int wanted = position < holdAt ? (int) Math.min(count, holdAt - position) : count;
                    int n = in.read(bytes, from, wanted); // in hand before the wait, as a socket's buffered bytes are
                    if (position == holdAt && holding.compareAndSet(false, true)) {
                        hold();
                    }
                    position += Math.max(n, 0);
                    return n;
                }
            };
        }

        private void hold() {
            reader = Thread.currentThread();
            held.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted = true;
                try {
                    release.await(1, TimeUnit.SECONDS);
                } catch (InterruptedException again) {
                    // interrupted twice: hand the bytes over now
                }
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() {
            file.close();
        }
    }

}
