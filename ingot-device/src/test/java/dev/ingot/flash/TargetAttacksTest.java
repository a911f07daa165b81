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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Targets an attacker or a bad day hands the flasher (found by the red team of issue 9, fixed in FlashTarget's checks and
 * TargetIo's opens): a file named through a link or swapped for one after the check, the flash's own source as its
 * target, and disks in use in ways the kernel's holders/ links do not show.
 */
class TargetAttacksTest {

    @TempDir
    Path folder;

    private Path image;
    private Path release;
    private Keyring keyring;
    private Flasher flasher;

    @BeforeEach
    void publishARelease() throws IOException {
        image = SparseImages.create(folder.resolve("edge.img"), 8L << 20, 5, new SparseImages.Region(0, 64 * 1024),
                new SparseImages.Region(4L << 20, 100_000));
        SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        FolderStore store = new FolderStore(folder.resolve("store"));
        new Publisher(store, key, FlasherTest.CLOCK, Progress.NONE).publish(new Publisher.Request(image, ImageName.DEFAULT,
                ImageVersion.parse("v1.4"), Optional.empty(), false, Optional.empty(), new ImageScanner.Compression(3, 1),
                ImageScanner.DEFAULT_BLOCK_SIZE));
        release = store.root().resolve("golden-images");
        flasher = new Flasher(Clock.systemUTC(), Progress.NONE, Files.createDirectories(folder.resolve("spool")));
    }

    private FlashJob releaseSource() {
        return FlashSources.fromReleaseFolder(release, ImageName.DEFAULT, ImageVersion.parse("v1.4"), keyring);
    }

    @Test
    void aFileTargetThatIsASymbolicLinkIsRefusedAndWhatItPointsAtIsUntouched() throws IOException {
        // Root runs `ingot flash v1.4 --target /srv/shared/disk.img --yes`; another user made disk.img a link to /etc/shadow.
        Path victim = Files.writeString(folder.resolve("shadow"), "root:$6$...:19000:0:99999:7:::\n");
        Path link = Files.createSymbolicLink(folder.resolve("disk.img"), victim);
        Path real = victim.toRealPath();

        assertThatThrownBy(() -> flasher.flash(releaseSource(), FlashTarget.inspect(link, 8L << 20, SystemView.live()),
                new Flasher.Options(true, true))).isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT);
                    assertThat(e.getMessage()).contains("is a symbolic link (to " + real + ")");
                });
        assertThat(Files.readString(victim)).startsWith("root:");
    }

    @Test
    void aFileTargetSwappedForALinkAfterItWasCheckedIsNotWrittenThrough() throws IOException {
        // Between inspect and the write lie the payload's verification and the operator's confirmation: time to swap.
        Path victim = Files.writeString(folder.resolve("shadow"), "root:$6$...:19000:0:99999:7:::\n");
        Path disk = Files.write(folder.resolve("disk.img"), new byte[4096]);
        FlashTarget checked = FlashTarget.inspect(disk, 8L << 20, SystemView.live());
        Files.delete(disk);
        Files.createSymbolicLink(disk, victim);

        assertThatThrownBy(() -> flasher.flash(releaseSource(), checked, new Flasher.Options(true, true)))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
                    // O_NOFOLLOW's ELOOP: the link is not followed, whatever it points at.
                    assertThat(e.getMessage()).contains("changed after it was checked").contains("it is a symbolic link")
                            .contains("nothing was written");
                });
        assertThat(Files.readString(victim)).startsWith("root:");
    }

    @Test
    void aFileTargetReplacedByAnotherFileAfterItWasCheckedIsNotWritten() throws IOException {
        Path disk = Files.write(folder.resolve("disk.img"), new byte[4096]);
        FlashTarget checked = FlashTarget.inspect(disk, 8L << 20, SystemView.live());
        Path other = Files.writeString(folder.resolve("other"), "someone else's file\n");
        Files.move(other, disk, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        assertThatThrownBy(() -> flasher.flash(releaseSource(), checked, new Flasher.Options(true, true)))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.getMessage()).contains("is another file now"));
        assertThat(Files.readString(disk)).isEqualTo("someone else's file\n");
    }

    @Test
    void aLinkPlantedWhereANewFileTargetWasToBeMadeIsNotWrittenThrough() throws IOException {
        Path victim = Files.writeString(folder.resolve("shadow"), "root:$6$...:19000:0:99999:7:::\n");
        Path disk = folder.resolve("new-disk.img");
        FlashTarget checked = FlashTarget.inspect(disk, 8L << 20, SystemView.live());
        Files.createSymbolicLink(disk, victim);

        assertThatThrownBy(() -> flasher.flash(releaseSource(), checked, new Flasher.Options(true, true)))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
                    assertThat(e.getMessage()).contains("it did not exist, and now something is there already");
                });
        assertThat(Files.readString(victim)).startsWith("root:");
        assertThat(Files.isSymbolicLink(disk)).isTrue();
    }

    @Test
    void aFileTargetCheckedAndLeftAloneIsWrittenThroughItsOwnDescriptor() throws IOException {
        Path disk = Files.write(folder.resolve("disk.img"), new byte[4096]);

        flasher.flash(releaseSource(), FlashTarget.inspect(disk, 8L << 20, SystemView.live()), new Flasher.Options(true, true));

        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
    }

    @Test
    void flashingAReleaseOntoItsOwnPayloadIsRefusedAndThePayloadIsKept() throws IOException {
        // `ingot flash v1.4 --cache /media/usb --target /media/usb/edge-golden-v1.4.img.zst`: one wrong tab completion.
        Path payload = release.resolve("edge-golden-v1.4.img.zst");
        byte[] before = Files.readAllBytes(payload);

        assertThatThrownBy(() -> flasher.flash(releaseSource(), FlashTarget.inspect(payload, 8L << 20, SystemView.live()),
                new Flasher.Options(true, true))).isInstanceOfSatisfying(IngotException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT));
        assertThat(Files.readAllBytes(payload)).isEqualTo(before);
    }

    @Test
    void aRawImageFlashedOntoAHardLinkOfItselfIsRefused() throws IOException {
        Path raw = Files.copy(image, release.resolve("edge-golden-v1.4.img"));
        Path sameFile = Files.createLink(folder.resolve("disk.img"), raw);
        FlashJob source = FlashSources.fromFiles(raw, Optional.empty(), Optional.of(keyring), false);

        byte[] before = Files.readAllBytes(raw);

        assertThatThrownBy(() -> flasher.flash(source, FlashTarget.inspect(sameFile, 8L << 20, SystemView.live()),
                new Flasher.Options(true, true))).isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT);
                    assertThat(e.getMessage()).contains("the file this flash reads from (another name of it)");
                });
        assertThat(Files.readAllBytes(raw)).isEqualTo(before);
    }

    @Test
    void theRunningRootOnBtrfsIsRefusedByTheSystemViewAlone() throws IOException {
        // btrfs (Fedora, openSUSE) reports an anonymous device (0:31) in mountinfo, not sda2's 8:2; only the source names sda2.
        RecordedSystem system = new RecordedSystem(folder.resolve("machine")).disk("sda", 8, 0, 500_118_192)
                .partition("sda", "sda1", 8, 1).partition("sda", "sda2", 8, 2)
                .mount("26 1 0:31 /@ / rw,relatime shared:1 - btrfs /dev/sda2 rw,ssd,space_cache=v2,subvolid=256,subvol=/@");

        assertThatThrownBy(() -> FlashTarget.refuseIfInUse(new SystemView.DeviceNumber(8, 0), system.view(), "flash /dev/sda"))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.getMessage()).contains("running root"));
    }

    @Test
    void aDiskThatBacksAMountedLoopDeviceIsRefused() throws IOException {
        // `losetup /dev/loop0 /dev/sdb; mount /dev/loop0 /mnt`: loop does not appear in sdb's holders/, and O_EXCL on
        // sdb succeeds (losetup opens its backing device without O_EXCL), so only the loop list can tell.
        RecordedSystem system = new RecordedSystem(folder.resolve("machine")).disk("sdb", 8, 16, 62_521_344)
                .disk("loop0", 7, 0, 62_521_344)
                .mount("98 26 7:0 / /mnt rw,relatime shared:53 - ext4 /dev/loop0 rw");
        Path backing = folder.resolve("machine/sys/block/loop0/loop/backing_file");
        Files.createDirectories(backing.getParent());
        Files.writeString(backing, "/dev/sdb\n");

        assertThatThrownBy(() -> FlashTarget.refuseIfInUse(new SystemView.DeviceNumber(8, 16), system.view(), "flash /dev/sdb"))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.getMessage()).contains("loop0"));
    }

    @Test
    void aDiskBehindALoopDeviceThatNothingMountsIsRefusedToo() throws IOException {
        // Attached and idle: writing sdb under it would change what loop0's reader sees. losetup -d first.
        RecordedSystem system = new RecordedSystem(folder.resolve("machine")).disk("sdb", 8, 16, 62_521_344)
                .partition("sdb", "sdb1", 8, 17).disk("loop3", 7, 3, 1000);
        Path backing = folder.resolve("machine/sys/block/loop3/loop/backing_file");
        Files.createDirectories(backing.getParent());
        Files.writeString(backing, "/dev/sdb1\n");

        assertThatThrownBy(() -> FlashTarget.refuseIfInUse(new SystemView.DeviceNumber(8, 16), system.view(), "flash /dev/sdb"))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.getMessage()).contains("in use by loop3 (a loop device over it (losetup), through sdb1 → loop3)");
                    assertThat(e.hint()).hasValue("detach it first: losetup -d /dev/loop3");
                });
    }

    @Test
    void aMountedPartitionOfALoopDeviceOverTheDiskIsRefused() throws IOException {
        // losetup --partscan /dev/loop0 /dev/sdb; mount /dev/loop0p2 /mnt: the mount is two steps away from sdb.
        RecordedSystem system = new RecordedSystem(folder.resolve("machine")).disk("sdb", 8, 16, 62_521_344)
                .disk("loop0", 7, 0, 62_521_344).partition("loop0", "loop0p2", 259, 4)
                .mount("98 26 259:4 / /mnt rw,relatime shared:53 - ext4 /dev/loop0p2 rw");
        Path backing = folder.resolve("machine/sys/block/loop0/loop/backing_file");
        Files.createDirectories(backing.getParent());
        Files.writeString(backing, "/dev/sdb\n");

        assertThatThrownBy(() -> FlashTarget.refuseIfInUse(new SystemView.DeviceNumber(8, 16), system.view(), "flash /dev/sdb"))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.getMessage())
                        .contains("/dev/loop0p2 is mounted on /mnt (through sdb → loop0 → loop0p2)"));
    }

    @Test
    void aBtrfsSubvolumeMountedElsewhereIsFoundByItsSourceToo() throws IOException {
        RecordedSystem system = new RecordedSystem(folder.resolve("machine")).disk("sdc", 8, 32, 500_118_192)
                .partition("sdc", "sdc1", 8, 33)
                .mount("40 1 0:44 /@home /home rw,relatime shared:30 - btrfs /dev/sdc1 rw,ssd,subvolid=257,subvol=/@home");

        assertThatThrownBy(() -> FlashTarget.refuseIfInUse(new SystemView.DeviceNumber(8, 32), system.view(), "flash /dev/sdc"))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.getMessage()).contains("/dev/sdc1 is mounted on /home"));
    }
}
