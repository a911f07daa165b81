package dev.ingot.flash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
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
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Payloads whose zstd frames lie (RFC 8878: skippable frames, a content size near 2^63, a 2 GiB window, a frame that
 * decompresses far past the image), kept copies that fail where the payload is decoded as one stream, and the kept
 * folder itself attacked (a link, two flashes at once). Crafted payloads are flashed unsigned with the release's own
 * bmap, so only the frames differ; kept copies belong to a signed release.
 */
class FrameAttacksTest {
    private static final String PAYLOAD = "edge-golden-v1.4.img.zst";

    @TempDir
    Path folder;

    private Path image;
    private Path release;
    private Keyring keyring;
    private final Flasher flasher = new Flasher(Clock.systemUTC(), Progress.NONE, () -> folder.resolve("spool"));

    @BeforeEach
    void publishARelease() throws IOException {
        image = SparseImages.create(folder.resolve("edge.img"), 48L << 20, 5,
                new SparseImages.Region(0, 64 * 1024), new SparseImages.Region(4L << 20, 20 << 20),
                new SparseImages.Region(40L << 20, 3000));
        SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        new Publisher(new FolderStore(folder.resolve("store")), key, FlasherTest.CLOCK, Progress.NONE).publish(new Publisher.Request(image,
                ImageName.DEFAULT, ImageVersion.parse("v1.4"), Optional.empty(), false, Optional.empty(), new ImageScanner.Compression(3, 2),
                ImageScanner.DEFAULT_BLOCK_SIZE));
        release = folder.resolve("store/golden-images");
    }

    private FlashJob signed() {
        return FlashSources.fromReleaseFolder(release, ImageName.DEFAULT, ImageVersion.parse("v1.4"), keyring);
    }

    private FlashTarget target(Path path) {
        return FlashTarget.inspect(path, 48L << 20, SystemView.live());
    }

    private Path unwritten() throws IOException {
        byte[] bytes = new byte[48 << 20];
        Arrays.fill(bytes, FlasherTest.UNWRITTEN);
        return Files.write(folder.resolve("disk.img"), bytes);
    }

    /** A crafted payload beside the release's own bmap, flashed unsigned: only the bmap's checksums vouch. */
    private FlashJob crafted(byte[] payload) throws IOException {
        Path crafted = Files.createDirectories(folder.resolve("crafted"));
        Files.write(crafted.resolve("crafted.img.zst"), payload);
        Files.copy(release.resolve("edge-golden-v1.4.img.bmap"), crafted.resolve("crafted.img.bmap"));
        return FlashSources.fromFiles(crafted.resolve("crafted.img.zst"), Optional.empty(), Optional.empty(), true);
    }

    private byte[] payload() throws IOException {
        return Files.readAllBytes(release.resolve(PAYLOAD));
    }

    /** {@code insert} put into {@code payload} at byte {@code at}. */
    private static byte[] insert(byte[] payload, int at, byte[] insert) {
        byte[] joined = new byte[payload.length + insert.length];
        System.arraycopy(payload, 0, joined, 0, at);
        System.arraycopy(insert, 0, joined, at, insert.length);
        System.arraycopy(payload, at, joined, at + insert.length, payload.length - at);
        return joined;
    }

    /**
     * A zstd frame written by hand (RFC 8878 §3.1.1) that decompresses to {@code zeros} zero bytes in RLE blocks of at most
     * 128 KiB: with {@code declared} a single-segment frame whose 8-byte Frame_Content_Size says that (whatever it
     * holds), else a frame without a content size whose Window_Descriptor declares 2^{@code windowLog} bytes.
     */
    static byte[] zeroFrame(long zeros, int windowLog, OptionalLong declared) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer header = ByteBuffer.allocate(14).order(ByteOrder.LITTLE_ENDIAN).putInt(FrameCutter.ZSTD_MAGIC);
        if (declared.isPresent()) {
            header.put((byte) 0xE0).putLong(declared.getAsLong()); // FCS flag 3, single segment
        } else {
            header.put((byte) 0x00).put((byte) ((windowLog - 10) << 3)); // no FCS; window 2^windowLog, no mantissa
        }
        out.write(header.array(), 0, header.position());
        long left = zeros;
        do {
            int size = (int) Math.min(left, 128 << 10);
            left -= size;
            int block = (left == 0 ? 1 : 0) | (size == 0 ? 0 : 1 << 1) | size << 3; // last bit, RLE (or an empty raw block)
            out.write(block & 0xff);
            out.write(block >>> 8 & 0xff);
            out.write(block >>> 16 & 0xff);
            if (size > 0) {
                out.write(0);
            }
        } while (left > 0);
        return out.toByteArray();
    }

    @Test
    void skippableFramesBetweenTheRangeFramesAreReadPastAndEveryRangeStillGoesThroughItsOwnFrame() throws IOException {
        byte[] payload = payload();
        List<FlasherTest.Frame> frames = FlasherTest.frames(payload);
        byte[] skippable = ByteBuffer.allocate(8 + 1000).order(ByteOrder.LITTLE_ENDIAN).putInt(0x184D2A5F).putInt(1000).array();
        byte[] withSkippables = insert(insert(payload, frames.get(2).offset(), skippable), frames.get(1).offset(), skippable);
        Path disk = folder.resolve("disk.img");

        Flasher.Report report = flasher.flash(crafted(withSkippables), target(disk), Flasher.Options.defaults());

        assertThat(report.decompression()).startsWith("parallel");
        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
    }

    @Test
    void aFrameThatDeclaresAContentSizeNear2To63IsNotCountedAsAHoleAndIsRefusedAsAStreamThatDoesNotDecode() throws IOException {
        byte[] payload = payload();
        List<FlasherTest.Frame> frames = FlasherTest.frames(payload);
        // After the first range's frame: cursor + Long.MAX_VALUE wrapped negative and the frame was skipped as a hole.
        byte[] lying = insert(payload, frames.get(1).offset(), zeroFrame(0, 0, OptionalLong.of(Long.MAX_VALUE)));
        Path disk = unwritten();
        FlashJob job = crafted(lying);

        assertThatThrownBy(() -> flasher.flash(job, target(disk), Flasher.Options.defaults()))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED))
                .hasMessageContaining("it is not a valid zstd stream").hasMessageContaining("nothing was written");
        assertThat(Files.readAllBytes(disk)).containsOnly(FlasherTest.UNWRITTEN);
    }

    @Test
    void aFrameThatDeclaresATwoGibibyteWindowIsRefusedInsteadOfGivenTheMemory() throws IOException {
        byte[] payload = payload();
        List<FlasherTest.Frame> frames = FlasherTest.frames(payload);
        FlasherTest.Frame hole = frames.get(FlasherTest.frameAt(frames, 24L << 20)); // zeros up to the last range
        byte[] greedy = FlasherTest.replaceFrame(payload, hole, zeroFrame(hole.content(), 31, OptionalLong.empty()));
        Path disk = unwritten();
        FlashJob job = crafted(greedy);

        assertThatThrownBy(() -> flasher.flash(job, target(disk), Flasher.Options.defaults()))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED))
                .hasMessageContaining("not a valid zstd stream").hasMessageContaining("nothing was written");
        assertThat(Files.readAllBytes(disk)).containsOnly(FlasherTest.UNWRITTEN);
    }

    @Test
    void aFrameAfterTheImageThatDecompressesToAGibibyteIsRefusedAfterTheImagesOwnBytes() throws IOException {
        byte[] bomb = zeroFrame(1L << 30, 17, OptionalLong.empty()); // 32 KiB of RLE blocks
        byte[] payload = payload();
        Path disk = unwritten();
        FlashJob job = crafted(insert(payload, payload.length, bomb));

        assertThatThrownBy(() -> flasher.flash(job, target(disk), Flasher.Options.defaults()))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED))
                .hasMessageContaining("it decompresses to more than the image's " + (48L << 20) + " bytes")
                .hasMessageContaining("nothing was written");
        assertThat(Files.readAllBytes(disk)).containsOnly(FlasherTest.UNWRITTEN);
    }

    @Test
    void aKeptCopyThatFailsWhereItIsDecodedAsOneStreamIsCutBackSoTheRerunCompletesIt() throws IOException {
        Path keep = Files.createDirectories(folder.resolve("usb"));
        byte[] payload = payload();
        List<FlasherTest.Frame> frames = FlasherTest.frames(payload);
        FlasherTest.Frame big = frames.get(FlasherTest.frameAt(frames, 4L << 20));
        // A flipped bit in the frame's content size: it no longer fits its range, so the rest is decoded as one stream,
        // and the decoder (not a range check) is what fails. Such a copy used to be kept as it was: every rerun failed alike.
        byte[] damaged = payload.clone();
        int descriptor = damaged[big.offset() + 4] & 0xff;
        int contentSize = big.offset() + 5 + ((descriptor & 0x20) != 0 ? 0 : 1);
        damaged[contentSize] ^= 0x01;
        Files.write(keep.resolve(PAYLOAD + ".part"), Arrays.copyOf(damaged, payload.length - 100));
        Path disk = folder.resolve("disk.img");

        assertThatThrownBy(() -> flasher.flash(signed().keepingIn(keep), target(disk), Flasher.Options.defaults()))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED));
        assertThat(Files.size(keep.resolve(PAYLOAD + ".part"))).as("cut back to the frame the one stream began with")
                .isEqualTo(big.offset());

        Flasher.Report report = flasher.flash(signed().keepingIn(keep), target(disk), Flasher.Options.defaults());

        assertThat(report.replayedBytes()).isEqualTo(big.offset());
        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
        assertThat(Files.readAllBytes(keep.resolve(PAYLOAD))).isEqualTo(payload);
    }

    @Test
    void aKeepFolderThatIsASymbolicLinkIsRefusedAndNothingIsWrittenWhereItPointsOrOnTheTarget() throws IOException {
        Path elsewhere = Files.createDirectories(folder.resolve("somebody-elses"));
        Path planted = Files.createSymbolicLink(folder.resolve("keep"), elsewhere);
        Path disk = Files.writeString(folder.resolve("disk.img"), "the old disk");

        assertThatThrownBy(() -> flasher.flash(signed().keepingIn(planted), target(disk), Flasher.Options.defaults()))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT))
                .hasMessageContaining("--keep " + planted + " is a symbolic link (to " + elsewhere.toRealPath() + ")")
                .hasMessageContaining("nothing was written");
        try (var left = Files.list(elsewhere)) {
            assertThat(left.toList()).isEmpty();
        }
        assertThat(Files.readString(disk)).isEqualTo("the old disk");
    }

    @Test
    void aSecondFlashIntoAKeptFolderThatAnotherIsDownloadingIntoIsRefusedAndWritesNothing() throws IOException {
        Path keep = Files.createDirectories(folder.resolve("usb"));
        byte[] payload = payload();
        Path part = Files.write(keep.resolve(PAYLOAD + ".part"), Arrays.copyOf(payload, payload.length / 3));
        Path disk = Files.writeString(folder.resolve("disk.img"), "the old disk");

        // The first flash holds the lock on the .part it appends to (in this JVM: another channel's lock overlaps).
        try (FileChannel first = FileChannel.open(part, StandardOpenOption.WRITE); FileLock held = first.lock()) {
            assertThatThrownBy(() -> flasher.flash(signed().keepingIn(keep), target(disk), Flasher.Options.defaults()))
                    .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT))
                    .hasMessageContaining("another ingot is downloading into " + keep);
            assertThat(held.isValid()).isTrue();
        }
        assertThat(Files.size(part)).isEqualTo(payload.length / 3);
        assertThat(Files.readString(disk)).isEqualTo("the old disk");
    }
}
