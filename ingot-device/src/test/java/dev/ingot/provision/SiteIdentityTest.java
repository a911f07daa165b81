package dev.ingot.provision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.flash.FlashTarget;
import dev.ingot.flash.SystemView;
import dev.ingot.site.SiteId;
import dev.ingot.testing.GoldenImages;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The site identity written onto real GPT disk images (sfdisk, mkfs.ext4) by the real {@code debugfs -w}, and read back
 * by the test with debugfs and e2fsck of its own: where it goes, what it replaces, and every disk it must refuse.
 */
class SiteIdentityTest {
    private static final Map<String, String> ENVIRONMENT = Map.of("PATH",
            System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin");
    private static final SiteId SITE = new SiteId("SITE-2847");

    @TempDir
    Path folder;

    private Path disk;

    @BeforeEach
    void aFlashedGoldenDisk() {
        String reason = GoldenImages.unavailableBecause();
        assumeTrue(reason == null, reason);
        disk = GoldenImages.diskImage(GoldenImages.writeTree(folder.resolve("tree"), Map.of("/etc/hostname", "edge\n")),
                folder.resolve("disk.img"));
    }

    /** What debugfs itself prints for a command on the data partition: the test's own reading, not SiteIdentity's. */
    private Tools.Outcome debugfs(String request) {
        return Tools.run(folder, ENVIRONMENT, List.of("debugfs", "-R", request, disk + "?offset=" + GoldenImages.DATA_OFFSET));
    }

    /** e2fsck -fn: the file system is consistent after the write (exit 0, nothing to fix). */
    private void fileSystemIsClean() {
        Tools.Outcome check = Tools.run(folder, ENVIRONMENT, List.of("e2fsck", "-fn", disk + "?offset=" + GoldenImages.DATA_OFFSET));
        assertThat(check.exitCode()).as(check.output()).isZero();
    }

    @Test
    void theIdentityLandsInTheDataPartitionAsRootOwnedReadableFileAndReadsBack() {
        SiteIdentity.Written written = SiteIdentity.write(disk, SITE, ENVIRONMENT);

        assertThat(written.partition().name()).isEqualTo("data");
        assertThat(written.partition().offset()).isEqualTo(GoldenImages.DATA_OFFSET);
        assertThat(written.replaced()).isEmpty();
        assertThat(debugfs("cat /ingot/provision.env").output().lines().filter(line -> !line.startsWith("debugfs ")))
                .containsExactlyElementsOf(SiteIdentity.render(SITE).lines().toList()).contains("SITE_ID=SITE-2847");
        assertThat(debugfs("stat /ingot/provision.env").output()).contains("Type: regular", "Mode:  0644", "User:     0   Group:     0");
        assertThat(debugfs("stat /ingot").output()).contains("Type: directory", "Mode:  0755");
        assertThat(SiteIdentity.read(disk, ENVIRONMENT)).hasValue(SITE);
        fileSystemIsClean();
    }

    @Test
    void anIdentityAlreadyThereIsReplacedAndNamedAndWritingTheSameAgainChangesNothing() {
        SiteIdentity.write(disk, new SiteId("SITE-1000"), ENVIRONMENT);

        SiteIdentity.Written replacing = SiteIdentity.write(disk, SITE, ENVIRONMENT);
        SiteIdentity.Written again = SiteIdentity.write(disk, SITE, ENVIRONMENT);

        assertThat(replacing.replaced()).hasValue(new SiteId("SITE-1000"));
        assertThat(again.replaced()).isEmpty();
        assertThat(SiteIdentity.read(disk, ENVIRONMENT)).hasValue(SITE);
        assertThat(debugfs("ls -l /ingot").output()).containsOnlyOnce("provision.env");
        fileSystemIsClean();
    }

    @Test
    void aDiskWithoutADataPartitionIsRefusedSayingTheDiskIsFlashedAndWhatToDo() throws IOException {
        Path noData = folder.resolve("no-data.img");
        try (var file = new java.io.RandomAccessFile(noData.toFile(), "rw")) {
            file.setLength(40L << 20);
        }
        Path layout = Files.writeString(folder.resolve("layout"), "label: gpt\nsize=1MiB, name=esp\nsize=16MiB, name=root-a\nname=root-b\n");
        GoldenImages.run(folder, "sh", "-c", "sfdisk -q '" + noData + "' < '" + layout + "'");

        assertThatThrownBy(() -> SiteIdentity.write(noData, SITE, ENVIRONMENT)).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.getMessage()).contains("the GPT names only ['esp', 'root-a', 'root-b']");
            assertThat(e.hint()).hasValueSatisfying(hint -> assertThat(hint).contains("the disk itself is flashed, without SITE-2847's "
                    + "identity: after the boot run SITE_ID=SITE-2847 bash /opt/edge/provision_site.sh"));
            assertThat(e.code().exitCode()).isEqualTo(1);
        });
    }

    @Test
    void aDiskWithNoPartitionTableAtAllIsRefused() throws IOException {
        Path blank = Files.write(folder.resolve("blank.img"), new byte[1 << 20]);

        assertThatThrownBy(() -> SiteIdentity.write(blank, SITE, ENVIRONMENT)).isInstanceOfSatisfying(IngotException.class,
                e -> assertThat(e.getMessage()).contains("it has no GPT header"));
    }

    @Test
    void aDataPartitionTooSmallForAFileSystemIsRefusedAndLeftAsItWas() throws IOException {
        Path tiny = folder.resolve("tiny.img");
        try (var file = new java.io.RandomAccessFile(tiny.toFile(), "rw")) {
            file.setLength(4L << 20);
        }
        Path layout = Files.writeString(folder.resolve("layout"), "label: gpt\nsize=1MiB, name=esp\nsize=64KiB, name=data\n");
        GoldenImages.run(folder, "sh", "-c", "sfdisk -q '" + tiny + "' < '" + layout + "'");
        byte[] before = Files.readAllBytes(tiny);

        assertThatThrownBy(() -> SiteIdentity.write(tiny, SITE, ENVIRONMENT)).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.getMessage()).contains("the data partition holds no ext4 file system debugfs can open");
            assertThat(e.hint()).hasValueSatisfying(hint -> assertThat(hint).contains("is the partition too small, or not formatted?",
                    "the disk itself is flashed"));
        });
        assertThat(Files.readAllBytes(tiny)).isEqualTo(before);
    }

    @Test
    void aFullDataFileSystemIsFoundByTheReadBack() throws IOException {
        fill();
        assertThat(debugfs("stats").output()).containsPattern("Free blocks: +0\n");

        assertThatThrownBy(() -> SiteIdentity.write(disk, SITE, ENVIRONMENT)).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.getMessage()).contains("debugfs did not write it: ext2fs_mkdir: Could not allocate block");
            assertThat(e.hint()).hasValueSatisfying(hint -> assertThat(hint).contains("is the partition's file system full?"));
            assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
        });
        assertThat(SiteIdentity.read(disk, ENVIRONMENT)).isEmpty();
        fileSystemIsClean();
    }

    /** Takes every free block of the data file system: one large file, then small ones until nothing is left. */
    private void fill() throws IOException {
        long free = Long.parseLong(debugfs("stats").output().lines().filter(line -> line.startsWith("Free blocks:")).findFirst()
                .orElseThrow().replaceAll("\\D", ""));
        int blockSize = Integer.parseInt(debugfs("stats").output().lines().filter(line -> line.startsWith("Block size:")).findFirst()
                .orElseThrow().replaceAll("\\D", ""));
        // Random bytes: debugfs writes zero blocks as holes, which take no space.
        java.util.Random random = new java.util.Random(7);
        byte[] largeBytes = new byte[(int) ((free - 64) * blockSize)];
        random.nextBytes(largeBytes);
        byte[] smallBytes = new byte[blockSize];
        random.nextBytes(smallBytes);
        Path large = Files.write(folder.resolve("large"), largeBytes);
        Path small = Files.write(folder.resolve("small"), smallBytes);
        StringBuilder script = new StringBuilder("write " + large + " /large\n");
        for (int i = 0; i < 128; i++) {
            script.append("write ").append(small).append(" /small-").append(i).append('\n');
        }
        Path commands = Files.writeString(folder.resolve("fill"), script);
        Tools.run(folder, ENVIRONMENT, List.of("debugfs", "-w", "-f", commands.toString(), disk + "?offset=" + GoldenImages.DATA_OFFSET))
                .assertSuccess(List.of("debugfs", "-w", "-f", "fill"));
    }

    private void debugfsWrite(String request) {
        Tools.run(folder, ENVIRONMENT, List.of("debugfs", "-w", "-R", request, disk + "?offset=" + GoldenImages.DATA_OFFSET))
                .assertSuccess(List.of("debugfs", "-w", request));
    }

    @Test
    void aFileWhereTheFolderShouldBeIsRefusedAndNotTouched() throws IOException {
        Path file = Files.writeString(folder.resolve("ingot"), "not a folder\n");
        debugfsWrite("write " + file + " /ingot");

        assertThatThrownBy(() -> SiteIdentity.write(disk, SITE, ENVIRONMENT))
                .hasMessageContaining("/ingot is a file there, not a folder");
        assertThat(debugfs("cat /ingot").output()).contains("not a folder");
        fileSystemIsClean();
    }

    @Test
    void aPlantedSymbolicLinkIsNeitherFollowedAsTheFolderNorAsTheFile() {
        debugfsWrite("symlink /ingot /elsewhere");

        assertThatThrownBy(() -> SiteIdentity.write(disk, SITE, ENVIRONMENT))
                .hasMessageContaining("/ingot is a symbolic link there, not a folder");

        debugfsWrite("rm /ingot");
        debugfsWrite("mkdir /ingot");
        debugfsWrite("symlink /ingot/provision.env /elsewhere");
        SiteIdentity.write(disk, SITE, ENVIRONMENT);

        assertThat(debugfs("stat /ingot/provision.env").output()).contains("Type: regular");
        assertThat(debugfs("stat /elsewhere").output()).contains("File not found");
        fileSystemIsClean();
    }

    @Test
    void aFileSystemThatWasNotCleanlyUnmountedIsRefused() {
        // The state a power cut leaves: the journal may replay over anything written now.
        debugfsWrite("ssv state 0");

        assertThatThrownBy(() -> SiteIdentity.write(disk, SITE, ENVIRONMENT))
                .hasMessageContaining("its file system was not cleanly unmounted");
        assertThat(debugfs("stat /ingot").output()).contains("File not found");
    }

    @Test
    void aPartitionAsTargetIsRefusedBeforeAnythingIsWritten() throws IOException {
        // What sysfs shows for /dev/nvme0n1p4: its folder has a `partition` file (Documentation/ABI/stable/sysfs-block).
        Path sysfs = Files.createDirectories(folder.resolve("sys/dev/block/259:4"));
        Files.writeString(sysfs.resolve("partition"), "4\n");
        SystemView system = new RecordedSysfs(sysfs);
        FlashTarget partition = new FlashTarget(Path.of("/dev/nvme0n1p4"), FlashTarget.Kind.BLOCK_DEVICE, 64L << 30,
                Optional.of(new SystemView.DeviceNumber(259, 4)), false);

        assertThatThrownBy(() -> SiteIdentity.checkTarget(partition, system, ENVIRONMENT)).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT);
            assertThat(e.getMessage()).contains("/dev/nvme0n1p4", "it is a partition");
            assertThat(e.hint()).hasValue("name the disk itself (lsblk -d: /dev/nvme0n1, not /dev/nvme0n1p4)");
        });
    }

    @Test
    void aWholeDiskOrAnImageFileIsAcceptedAndAMachineWithoutDebugfsIsToldSo() throws IOException {
        Path sysfs = Files.createDirectories(folder.resolve("sys/dev/block/259:0"));
        FlashTarget wholeDisk = new FlashTarget(Path.of("/dev/nvme0n1"), FlashTarget.Kind.BLOCK_DEVICE, 64L << 30,
                Optional.of(new SystemView.DeviceNumber(259, 0)), true);
        FlashTarget file = new FlashTarget(disk, FlashTarget.Kind.FILE, 40L << 20, Optional.empty(), true);

        SiteIdentity.checkTarget(wholeDisk, new RecordedSysfs(sysfs), ENVIRONMENT);
        SiteIdentity.checkTarget(file, new RecordedSysfs(sysfs), ENVIRONMENT);
        assertThatThrownBy(() -> SiteIdentity.checkTarget(file, new RecordedSysfs(sysfs), Map.of("PATH", folder.toString())))
                .hasMessageContaining("debugfs is not installed").hasMessageContaining(folder.toString());
    }

    @Test
    void theIdentityFileIsWhatTheFirstBootScriptReads() {
        String text = SiteIdentity.render(SITE);

        assertThat(text.lines().filter(line -> !line.startsWith("#"))).containsExactly("SITE_ID=SITE-2847");
        assertThat(SiteIdentity.parse(text)).hasValue(SITE);
        assertThat(SiteIdentity.parse("SITE_ID=../etc\n")).isEmpty();
    }

    /** A SystemView whose sysfs is a recorded folder; nothing else of the host is asked for. */
    private record RecordedSysfs(Path folder) implements SystemView {
        @Override
        public String mountInfo() {
            throw new AssertionError("not needed");
        }

        @Override
        public String swaps() {
            throw new AssertionError("not needed");
        }

        @Override
        public Optional<Path> sysfsFolder(DeviceNumber device) {
            return Optional.of(folder);
        }

        @Override
        public Optional<Path> sysfsFolder(String kernelName) {
            throw new AssertionError("not needed");
        }

        @Override
        public Optional<DeviceNumber> deviceOf(String devicePath) {
            throw new AssertionError("not needed");
        }

        @Override
        public List<LoopDevice> loopDevices() {
            throw new AssertionError("not needed");
        }
    }
}
