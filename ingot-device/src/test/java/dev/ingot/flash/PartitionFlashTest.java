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
import dev.ingot.image.PayloadSet;
import dev.ingot.image.Publisher;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.GoldenImages;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A release's root-a slot payload written into root-b, as the agent's A/B update does: into a partition of a disk
 * image file, into a loop device's partition device, and through the disk plus the partition's name. Nothing outside
 * the partition changes; a mounted, too small or missing partition is refused and left as it was.
 */
class PartitionFlashTest {
    private static final long ROOT_A = 2L << 20;
    private static final long ROOT_B = 18L << 20;
    private static final int SLOT = 16 << 20;

    @TempDir
    Path folder;

    private Path disk;
    private Path release;
    private Keyring keyring;
    private final List<String> attached = new ArrayList<>();
    private final List<Path> mounted = new ArrayList<>();
    private final Flasher flasher = new Flasher(Clock.systemUTC(), Progress.NONE, () -> folder.resolve("spool"));

    @BeforeEach
    void publishAGoldenDiskImage() {
        assumeTrue(GoldenImages.unavailableBecause() == null, String.valueOf(GoldenImages.unavailableBecause()));
        disk = GoldenImages.diskImage(GoldenImages.writeTree(folder.resolve("tree"), GoldenImages.goodFiles()), folder.resolve("disk.img"));
        SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        new Publisher(new FolderStore(folder.resolve("store")), key, FlasherTest.CLOCK, Progress.NONE).publish(new Publisher.Request(disk,
                ImageName.DEFAULT, ImageVersion.parse("v1.5"), Optional.empty(), false, Optional.empty(), new ImageScanner.Compression(3, 2),
                ImageScanner.DEFAULT_BLOCK_SIZE));
        release = folder.resolve("store/golden-images");
    }

    @AfterEach
    void detach() {
        for (Path mountPoint : mounted) {
            Tools.run(folder, "umount", mountPoint.toString());
        }
        for (String device : attached) {
            Tools.run(folder, "losetup", "-d", device);
        }
    }

    private FlashJob slot() {
        return FlashSources.fromReleaseFolder(release, ImageName.DEFAULT, ImageVersion.parse("v1.5"), keyring, PayloadSet.slot("root-a"));
    }

    private static byte[] window(byte[] bytes, long offset, int length) {
        return Arrays.copyOfRange(bytes, (int) offset, (int) offset + length);
    }

    /** Everything of a disk but root-b: the GPT, esp, root-a and data. */
    private static Sha256 outsideRootB(byte[] bytes) {
        byte[] outside = new byte[bytes.length - SLOT];
        System.arraycopy(bytes, 0, outside, 0, (int) ROOT_B);
        System.arraycopy(bytes, (int) ROOT_B + SLOT, outside, (int) ROOT_B, bytes.length - (int) ROOT_B - SLOT);
        return Sha256.of(outside);
    }

    @Test
    void theSlotPayloadWrittenIntoRootBOfADiskImageEqualsRootAAndNothingElseChanges() throws IOException {
        Path device = Files.copy(disk, folder.resolve("device.img"));
        try (RandomAccessFile file = new RandomAccessFile(device.toFile(), "rw")) {
            file.seek(ROOT_B + 12345);
            file.write("the old root-b".getBytes());
        }
        byte[] before = Files.readAllBytes(device);

        Flasher.Report report = flasher.flash(slot(), FlashTarget.inspectPartition(device, Optional.of("root-b"), SLOT, SystemView.live()),
                Flasher.Options.defaults());

        byte[] after = Files.readAllBytes(device);
        assertThat(window(after, ROOT_B, SLOT)).isEqualTo(window(Files.readAllBytes(disk), ROOT_A, SLOT));
        assertThat(outsideRootB(after)).isEqualTo(outsideRootB(before));
        assertThat(report.targetDescription()).endsWith("(partition root-b)");
        assertThat(report.directIo()).isEqualTo("on");
    }

    @Test
    void aPartitionSmallerThanTheSlotIsRefusedAndAMissingOneNamesTheOthers() throws IOException {
        Path small = folder.resolve("small.img");
        try (RandomAccessFile file = new RandomAccessFile(small.toFile(), "rw")) {
            file.setLength(40L << 20);
        }
        Files.writeString(folder.resolve("layout"), "label: gpt\nsize=1MiB, name=esp\nsize=16MiB, name=root-a\nsize=8MiB, name=root-b\n");
        Tools.run(folder, Map.of("PATH", System.getenv("PATH") + ":/usr/sbin:/sbin"), List.of("sh", "-c", "sfdisk -q small.img < layout"))
                .assertSuccess(List.of("sfdisk"));
        byte[] before = Files.readAllBytes(small);

        assertThatThrownBy(() -> FlashTarget.inspectPartition(small, Optional.of("root-b"), SLOT, SystemView.live()))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT))
                .hasMessageContaining("root-b holds 8388608 bytes, the slot payload needs 16777216");
        assertThatThrownBy(() -> FlashTarget.inspectPartition(small, Optional.of("root-c"), SLOT, SystemView.live()))
                .hasMessageContaining("the disk's GPT has no partition named 'root-c' (it has 'esp', 'root-a', 'root-b')");
        assertThat(Files.readAllBytes(small)).isEqualTo(before);
    }

    @Test
    void aDiskWhoseGptIsDamagedIsNotWrittenIntoAtAll() throws IOException {
        Path device = Files.copy(disk, folder.resolve("device.img"));
        try (RandomAccessFile file = new RandomAccessFile(device.toFile(), "rw")) {
            file.seek((40L << 20) - 512 + 40);
            file.write(0x33);
        }

        assertThatThrownBy(() -> FlashTarget.inspectPartition(device, Optional.of("root-b"), SLOT, SystemView.live()))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT))
                .hasMessageContaining("its partition table is damaged: the backup GPT header's CRC32 is");
    }

    @Test
    void aReleasePublishedWithoutSlotsSaysSo() throws IOException {
        Path plain = SparseImages.typical(folder.resolve("plain.img"));
        SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        new Publisher(new FolderStore(folder.resolve("old-store")), key, FlasherTest.CLOCK, Progress.NONE).publish(new Publisher.Request(plain,
                ImageName.DEFAULT, ImageVersion.parse("v1.4"), Optional.empty(), false, Optional.empty(), new ImageScanner.Compression(3, 1),
                ImageScanner.DEFAULT_BLOCK_SIZE));

        assertThatThrownBy(() -> FlashSources.fromReleaseFolder(folder.resolve("old-store/golden-images"), ImageName.DEFAULT,
                ImageVersion.parse("v1.4"), keyring, PayloadSet.slot("root-a")))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT))
                .hasMessageContaining("edge-golden-v1.4 has no root-a slot payload (it was published without slots)");
    }

    /** The disk image on a loop device with its partitions (losetup -P); skipped where loop devices cannot be had. */
    private Path loopDisk() throws IOException {
        assumeTrue(Tools.available("losetup"), "losetup is not installed (util-linux)");
        Path backing = Files.copy(disk, folder.resolve("backing.img"), StandardCopyOption.REPLACE_EXISTING);
        Tools.Outcome outcome = Tools.run(folder, "losetup", "--find", "--show", "--partscan", backing.toString());
        assumeTrue(outcome.exitCode() == 0, "no loop device can be attached here: " + outcome.output().strip());
        String device = outcome.output().strip();
        attached.add(device);
        // Where the kernel does not scan the table on attach, partx adds the partitions (BLKPG), as LoopDeviceTest does.
        Tools.run(folder, "partx", "-u", device);
        for (int i = 0; i < 50 && !Files.exists(Path.of(device + "p3")); i++) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        assumeTrue(Files.exists(Path.of(device + "p3")), "the kernel made no partition devices for " + device);
        return Path.of(device);
    }

    private static byte[] read(Path device, long length) throws IOException {
        try (InputStream in = Files.newInputStream(device)) {
            return in.readNBytes((int) length);
        }
    }

    @Test
    void theSlotGoesIntoALoopDisksPartitionDeviceByNameOrByNodeAndTheRestOfTheDiskStays() throws IOException {
        Path loop = loopDisk();
        Path partition = Path.of(loop + "p3");
        assertThat(FlashTarget.isPartitionDevice(partition)).isTrue();
        assertThat(FlashTarget.isPartitionDevice(loop)).isFalse();
        Files.write(partition, new byte[SLOT]);
        byte[] before = read(loop, 40L << 20);

        FlashTarget byName = FlashTarget.inspectPartition(loop, Optional.of("root-b"), SLOT, SystemView.live());
        assertThat(byName.path()).isEqualTo(partition);
        flasher.flash(slot(), byName, Flasher.Options.defaults());

        byte[] after = read(loop, 40L << 20);
        assertThat(window(after, ROOT_B, SLOT)).isEqualTo(window(Files.readAllBytes(disk), ROOT_A, SLOT));
        assertThat(outsideRootB(after)).isEqualTo(outsideRootB(before));

        Files.write(partition, new byte[SLOT]);
        flasher.flash(slot(), FlashTarget.inspectPartition(partition, Optional.empty(), SLOT, SystemView.live()), Flasher.Options.defaults());
        assertThat(read(partition, SLOT)).isEqualTo(window(Files.readAllBytes(disk), ROOT_A, SLOT));
    }

    @Test
    void aMountedPartitionIsRefusedWhileItsMountedSiblingIsNoObstacle() throws IOException {
        Path loop = loopDisk();
        assumeTrue(Tools.available("mount"), "mount is missing");
        // root-a mounted (the running slot on a device): writing root-b is allowed.
        Path rootA = Files.createDirectories(folder.resolve("mnt-root-a"));
        Tools.Outcome mount = Tools.run(folder, "mount", "-o", "ro", loop + "p2", rootA.toString());
        assumeTrue(mount.exitCode() == 0, "mounting is not allowed here: " + mount.output().strip());
        mounted.add(rootA);
        flasher.flash(slot(), FlashTarget.inspectPartition(loop, Optional.of("root-b"), SLOT, SystemView.live()), Flasher.Options.defaults());

        // root-b mounted: refused, and left as it is.
        Path rootB = Files.createDirectories(folder.resolve("mnt-root-b"));
        Tools.succeed(folder, "mount", "-o", "ro", loop + "p3", rootB.toString());
        mounted.add(0, rootB);
        byte[] before = read(Path.of(loop + "p3"), SLOT);
        assertThatThrownBy(() -> FlashTarget.inspectPartition(loop, Optional.of("root-b"), SLOT, SystemView.live()))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT))
                .hasMessageContaining("is mounted on " + rootB);
        assertThat(read(Path.of(loop + "p3"), SLOT)).isEqualTo(before);
    }
}
