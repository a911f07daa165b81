package dev.ingot.flash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.digest.Sha256;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flashing real block devices: loop devices backed by files. Needs root and loop support; where the
 * machine has neither (a container without /dev/loop-control), each test is skipped with the reason.
 */
class LoopDeviceTest {
    private static final long IMAGE_SIZE = 24L << 20;

    @TempDir
    Path folder;

    private final List<String> attached = new ArrayList<>();
    private final List<Path> mounted = new ArrayList<>();
    private Path image;
    private Path release;
    private Keyring keyring;
    private final Flasher flasher = new Flasher(Clock.systemUTC(), Progress.NONE);

    @BeforeEach
    void publish() throws IOException {
        image = SparseImages.create(folder.resolve("edge.img"), IMAGE_SIZE, 11, new SparseImages.Region(0, 8192),
                new SparseImages.Region(2L << 20, 5 << 20), new SparseImages.Region(IMAGE_SIZE - 4096, 4096));
        SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        FolderStore store = new FolderStore(folder.resolve("store"));
        new Publisher(store, key, FlasherTest.CLOCK, Progress.NONE).publish(new Publisher.Request(image, ImageName.DEFAULT,
                ImageVersion.parse("v1.4"), Optional.empty(), false, Optional.empty(), new ImageScanner.Compression(3, 2),
                ImageScanner.DEFAULT_BLOCK_SIZE));
        release = store.root().resolve("golden-images");
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

    /** Attaches a new backing file of {@code size} bytes filled with a pattern; skips the test where loop devices cannot be had. */
    private Path loopDevice(long size) throws IOException {
        assumeTrue(Tools.available("losetup"), "losetup is not installed (util-linux)");
        Path backing = folder.resolve("backing-" + attached.size() + ".img");
        byte[] pattern = new byte[(int) size];
        java.util.Arrays.fill(pattern, (byte) 0x5a);
        Files.write(backing, pattern);
        Tools.Outcome outcome = Tools.run(folder, "losetup", "--find", "--show", backing.toString());
        assumeTrue(outcome.exitCode() == 0, "no loop device can be attached here (not root, or no loop support): " + outcome.output().strip());
        String device = outcome.output().strip();
        attached.add(device);
        return Path.of(device);
    }

    private static Sha256 hashPrefix(Path device, long length) throws IOException {
        try (InputStream in = Files.newInputStream(device)) {
            return Sha256.of(in.readNBytes((int) length));
        }
    }

    private FlashJob source() {
        return FlashSources.fromReleaseFolder(release, ImageName.DEFAULT, ImageVersion.parse("v1.4"), keyring);
    }

    @Test
    void aFlashedLoopDeviceReadsBackAsTheImage() throws IOException {
        Path device = loopDevice(32L << 20);

        Flasher.Report report = flasher.flash(source(), FlashTarget.inspect(device, IMAGE_SIZE, SystemView.live()), Flasher.Options.defaults());

        assertThat(hashPrefix(device, IMAGE_SIZE)).isEqualTo(Sha256.of(Files.readAllBytes(image)));
        assertThat(report.zeroing()).isIn("BLKZEROOUT",
                "skipped: the device cannot zero without writing every block (unmapped blocks keep old data)");
    }

    @Test
    void aDeviceSmallerThanTheImageIsRefusedAndUntouched() throws IOException {
        Path device = loopDevice(16L << 20);
        Sha256 before = hashPrefix(device, 16L << 20);

        assertThatThrownBy(() -> FlashTarget.inspect(device, IMAGE_SIZE, SystemView.live()))
                .hasMessageContaining("holds 16777216 bytes but the image needs " + IMAGE_SIZE);
        assertThat(hashPrefix(device, 16L << 20)).isEqualTo(before);
    }

    @Test
    void aMountedDeviceIsRefusedAndUntouched() throws IOException {
        Path device = loopDevice(32L << 20);
        assumeTrue(Tools.available("mkfs.ext4") && Tools.available("mount"), "mkfs.ext4 or mount is missing");
        Tools.succeed(folder, "mkfs.ext4", "-q", "-F", device.toString());
        Path mountPoint = Files.createDirectories(folder.resolve("mnt"));
        Tools.Outcome mount = Tools.run(folder, "mount", device.toString(), mountPoint.toString());
        assumeTrue(mount.exitCode() == 0, "mounting is not allowed here: " + mount.output().strip());
        mounted.add(mountPoint);
        Sha256 before = hashPrefix(device, 32L << 20);

        assertThatThrownBy(() -> FlashTarget.inspect(device, IMAGE_SIZE, SystemView.live()))
                .hasMessageContaining("is mounted on " + mountPoint);
        assertThat(hashPrefix(device, 32L << 20)).isEqualTo(before);
    }

    @Test
    void aPartitionedDeviceIsRecognisedSoTheCommandCanAsk() throws IOException {
        Path device = loopDevice(32L << 20);
        assumeTrue(Tools.available("sfdisk"), "sfdisk is missing (fdisk package)");
        Tools.Outcome partitioned = Tools.run(folder, java.util.Map.of(), List.of("sh", "-c", "echo 'label: gpt\n,,L' | sfdisk -q " + device));
        assumeTrue(partitioned.exitCode() == 0, "sfdisk failed: " + partitioned.output());

        assertThat(FlashTarget.inspect(device, IMAGE_SIZE, SystemView.live()).hasPartitionTable()).isTrue();
    }

    /** A loop disk with a GPT (attached with -P so the kernel makes its partitions): p1 24 MiB Linux, p2 24 MiB swap. */
    private Path partitionedLoopDevice() throws IOException {
        assumeTrue(Tools.available("losetup") && Tools.available("sfdisk"), "losetup and sfdisk are needed (util-linux, fdisk)");
        Path backing = folder.resolve("partitioned-" + attached.size() + ".img");
        Files.write(backing, new byte[64 << 20]);
        Tools.Outcome outcome = Tools.run(folder, "losetup", "--find", "--show", "--partscan", backing.toString());
        assumeTrue(outcome.exitCode() == 0, "no loop device can be attached here: " + outcome.output().strip());
        String device = outcome.output().strip();
        attached.add(device);
        Tools.Outcome partitioned = Tools.run(folder, java.util.Map.of(), List.of("sh", "-c",
                "printf 'label: gpt\n,24M,L\n,24M,S\n' | sfdisk -q " + device + " && partx -u " + device + " || true"));
        assumeTrue(partitioned.exitCode() == 0, "sfdisk failed: " + partitioned.output());
        for (int i = 0; i < 50 && !Files.exists(Path.of(device + "p2")); i++) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        assumeTrue(Files.exists(Path.of(device + "p2")), "the kernel made no partition devices for " + device);
        return Path.of(device);
    }

    @Test
    void aDiskWhosePartitionIsMountedIsRefusedAndTheKernelRefusesToLetItBeClaimed() throws IOException {
        Path device = partitionedLoopDevice();
        assumeTrue(Tools.available("mkfs.ext4"), "mkfs.ext4 is missing (e2fsprogs)");
        Tools.succeed(folder, "mkfs.ext4", "-q", "-F", device + "p1");
        Path mountPoint = Files.createDirectories(folder.resolve("mnt-partition"));
        Tools.Outcome mount = Tools.run(folder, "mount", device + "p1", mountPoint.toString());
        assumeTrue(mount.exitCode() == 0, "mounting is not allowed here: " + mount.output().strip());
        mounted.add(mountPoint);

        assertThatThrownBy(() -> FlashTarget.inspect(device, IMAGE_SIZE, SystemView.live()))
                .hasMessageContaining(device + "p1 is mounted on " + mountPoint);
        // With a view that sees nothing, the kernel's own refusal still holds: O_EXCL gives EBUSY.
        SystemView blind = SystemView.rooted(Files.createDirectories(folder.resolve("no-proc")), Files.createDirectories(folder.resolve("no-sys")));
        Files.createDirectories(folder.resolve("no-proc/self"));
        Files.writeString(folder.resolve("no-proc/self/mountinfo"), "");
        assertThatThrownBy(() -> FlashTarget.inspect(device, IMAGE_SIZE, blind))
                .hasMessageContaining("the kernel has it claimed (open with O_EXCL: EBUSY)");
    }

    @Test
    void aDiskWithSwapOnAPartitionIsRefused() throws IOException {
        Path device = partitionedLoopDevice();
        assumeTrue(Tools.available("mkswap") && Tools.available("swapon"), "mkswap and swapon are needed (util-linux)");
        Tools.succeed(folder, "mkswap", device + "p2");
        Tools.Outcome swapon = Tools.run(folder, "swapon", device + "p2");
        assumeTrue(swapon.exitCode() == 0, "swapon is not allowed here: " + swapon.output().strip());
        try {
            assertThatThrownBy(() -> FlashTarget.inspect(device, IMAGE_SIZE, SystemView.live()))
                    .hasMessageContaining(device + "p2 is in use as swap");
        } finally {
            Tools.run(folder, "swapoff", device + "p2");
        }
    }

    @Test
    void theBackingFileOfALoopDeviceIsRefused() throws IOException {
        Path device = loopDevice(32L << 20);
        Path backing = folder.resolve("backing-0.img");

        assertThatThrownBy(() -> FlashTarget.inspect(backing, IMAGE_SIZE, SystemView.live()))
                .hasMessageContaining("attached to " + device);
    }
}
