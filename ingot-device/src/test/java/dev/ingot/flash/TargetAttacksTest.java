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
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Targets an attacker or a bad day hands the flasher (red team of issue 9). Each test here fails today and is disabled
 * with the reason; the fix belongs to dev.ingot.flash, which the issue 11 rewrite owns (see the red-team report).
 */
class TargetAttacksTest {
    private static final String HANDED_OVER = "red team (issue 9): fails today; the fix is in dev.ingot.flash, handed to the issue 11 rewrite";

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
    @Disabled(HANDED_OVER)
    void aFileTargetThatIsASymbolicLinkIsRefusedAndWhatItPointsAtIsUntouched() throws IOException {
        // Root runs `ingot flash v1.4 --target /srv/shared/disk.img --yes`; another user made disk.img a link to /etc/shadow.
        Path victim = Files.writeString(folder.resolve("shadow"), "root:$6$...:19000:0:99999:7:::\n");
        Path link = Files.createSymbolicLink(folder.resolve("disk.img"), victim);

        assertThatThrownBy(() -> flasher.flash(releaseSource(), FlashTarget.inspect(link, 8L << 20, SystemView.live()),
                new Flasher.Options(true, true))).isInstanceOf(IngotException.class);
        assertThat(Files.readString(victim)).startsWith("root:");
    }

    @Test
    @Disabled(HANDED_OVER)
    void aFileTargetSwappedForALinkAfterItWasCheckedIsNotWrittenThrough() throws IOException {
        // Between inspect and the write lie the payload's verification and the operator's confirmation: time to swap.
        Path victim = Files.writeString(folder.resolve("shadow"), "root:$6$...:19000:0:99999:7:::\n");
        Path disk = Files.write(folder.resolve("disk.img"), new byte[4096]);
        FlashTarget checked = FlashTarget.inspect(disk, 8L << 20, SystemView.live());
        Files.delete(disk);
        Files.createSymbolicLink(disk, victim);

        assertThatThrownBy(() -> flasher.flash(releaseSource(), checked, new Flasher.Options(true, true))).isInstanceOf(IngotException.class);
        assertThat(Files.readString(victim)).startsWith("root:");
    }

    @Test
    @Disabled(HANDED_OVER)
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
    @Disabled(HANDED_OVER)
    void aRawImageFlashedOntoAHardLinkOfItselfIsRefused() throws IOException {
        Path raw = Files.copy(image, release.resolve("edge-golden-v1.4.img"));
        Path sameFile = Files.createLink(folder.resolve("disk.img"), raw);
        FlashJob source = FlashSources.fromFiles(raw, Optional.empty(), Optional.of(keyring), false);

        assertThatThrownBy(() -> flasher.flash(source, FlashTarget.inspect(sameFile, 8L << 20, SystemView.live()),
                new Flasher.Options(true, true))).isInstanceOf(IngotException.class);
    }

    @Test
    @Disabled(HANDED_OVER)
    void theRunningRootOnBtrfsIsRefusedByTheSystemViewAlone() throws IOException {
        // btrfs (Fedora, openSUSE) reports an anonymous device (0:31) in mountinfo, not sda2's 8:2; only the source names sda2.
        RecordedSystem system = new RecordedSystem(folder.resolve("machine")).disk("sda", 8, 0, 500_118_192)
                .partition("sda", "sda1", 8, 1).partition("sda", "sda2", 8, 2)
                .mount("26 1 0:31 /@ / rw,relatime shared:1 - btrfs /dev/sda2 rw,ssd,space_cache=v2,subvolid=256,subvol=/@");

        assertThatThrownBy(() -> FlashTarget.refuseIfInUse(new SystemView.DeviceNumber(8, 0), system.view(), "flash /dev/sda"))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.getMessage()).contains("running root"));
    }

    @Test
    @Disabled(HANDED_OVER)
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
}
