package dev.ingot.flash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every disk a flash must refuse, on recorded {@code /proc/self/mountinfo}, {@code /proc/swaps} and sysfs trees of the
 * machines users have: a stock Ubuntu server (root on LVM on sda3), a laptop with LUKS under LVM, swap on a partition
 * and on an LV, a mounted partition, an md RAID member, a disk too small. Each refusal names what uses the disk.
 */
class TargetRefusalsTest {
    private static final SystemView.DeviceNumber SDA = new SystemView.DeviceNumber(8, 0);
    private static final SystemView.DeviceNumber SDB = new SystemView.DeviceNumber(8, 16);

    @TempDir
    Path folder;

    private RecordedSystem system;

    /** sda: the machine's own disk, three partitions (ESP, /boot, LVM PV); sdb: a second disk with two partitions. */
    @BeforeEach
    void twoDisks() {
        system = new RecordedSystem(folder)
                .disk("sda", 8, 0, 500_118_192)
                .partition("sda", "sda1", 8, 1).partition("sda", "sda2", 8, 2).partition("sda", "sda3", 8, 3)
                .disk("sdb", 8, 16, 62_521_344)
                .partition("sdb", "sdb1", 8, 17).partition("sdb", "sdb2", 8, 18);
    }

    private void refuse(SystemView.DeviceNumber disk, String... reason) {
        assertThatThrownBy(() -> FlashTarget.refuseIfInUse(disk, system.view(), "flash /dev/disk"))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
                    for (String part : reason) {
                        assertThat(e.getMessage()).contains(part);
                    }
                });
    }

    @Test
    void theRunningRootOnAPlainPartitionIsRefused() {
        system.mount("26 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw,errors=remount-ro");

        refuse(SDA, "it holds the running root file system (/dev/sda2 on /, through sda2)");
    }

    @Test
    void theRunningRootOnLvmAsAStockUbuntuServerInstallHasItIsRefused() {
        system.deviceMapper("dm-0", 0, "ubuntu--vg-ubuntu--lv", "LVM-Hr7Sj1DuOyV2Rm0fJqW9jA3pX0y7KX0cKc3vU1oYkS2vOjGqBf1lT6mRkZ4fJ0eQ", "sda3")
                .mount("26 1 253:0 / / rw,relatime shared:1 - ext4 /dev/mapper/ubuntu--vg-ubuntu--lv rw");

        refuse(SDA, "it holds the running root file system (/dev/mapper/ubuntu--vg-ubuntu--lv on /, through sda3 → dm-0)");
    }

    @Test
    void theRunningRootOnLvmInsideLuksIsRefused() {
        system.deviceMapper("dm-0", 0, "dm_crypt-0", "CRYPT-LUKS2-7c1f1d2bb33b4b0c9bd3a8cd1d5a9f15-dm_crypt-0", "sda3")
                .deviceMapper("dm-1", 1, "ubuntu--vg-ubuntu--lv", "LVM-xq0OQ2mE8bIu5fK6tYy9fC0zJb7x4mW2", "dm-0")
                .mount("26 1 253:1 / / rw,relatime shared:1 - ext4 /dev/mapper/ubuntu--vg-ubuntu--lv rw");

        refuse(SDA, "running root file system", "through sda3 → dm-0 → dm-1");
    }

    @Test
    void aDiskWhosePartitionIsMountedIsRefused() {
        system.mount("98 26 8:17 / /media/usb\\040stick rw,nosuid,nodev,relatime shared:53 - vfat /dev/sdb1 rw,fmask=0022");

        refuse(SDB, "/dev/sdb1 is mounted on /media/usb stick (through sdb1)");
    }

    @Test
    void aDiskThatIsItselfMountedIsRefused() {
        system.mount("98 26 8:16 / /mnt rw,relatime shared:53 - ext4 /dev/sdb rw");

        refuse(SDB, "/dev/sdb is mounted on /mnt");
    }

    @Test
    void swapOnAPartitionIsRefused() {
        system.swap("/dev/sdb2");

        refuse(SDB, "/dev/sdb2 is in use as swap (through sdb2)");
    }

    @Test
    void swapOnAnLvmVolumeIsRefused() {
        system.deviceMapper("dm-2", 2, "vg0-swap", "LVM-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "sdb1").swap("/dev/mapper/vg0-swap");

        refuse(SDB, "/dev/mapper/vg0-swap is in use as swap (through sdb1 → dm-2)");
    }

    @Test
    void anLvmVolumeGroupOnADiskIsRefusedEvenWhenNothingOfItIsMounted() {
        system.deviceMapper("dm-3", 3, "backup-data", "LVM-Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn7Mm6", "sdb2");

        refuse(SDB, "it is in use by dm-3 (LVM logical volume backup-data, through sdb2 → dm-3)");
    }

    @Test
    void anOpenLuksMappingIsRefused() {
        system.deviceMapper("dm-4", 4, "luks-sdb1", "CRYPT-LUKS2-0d9a1c7e5b3f4a2e8c6d4b2a0f8e6c4a-luks-sdb1", "sdb1");

        refuse(SDB, "in use by dm-4 (LUKS/dm-crypt mapping luks-sdb1, through sdb1 → dm-4)");
    }

    @Test
    void anMdRaidMemberIsRefused() {
        system.md("md0", 0, "sdb1");

        refuse(SDB, "in use by md0 (md RAID, through sdb1 → md0)");
    }

    @Test
    void aFreeDiskBesideABusyOneIsAccepted() {
        system.deviceMapper("dm-0", 0, "ubuntu--vg-ubuntu--lv", "LVM-Hr7Sj1DuOyV2Rm0fJqW9jA3pX0y7KX0cKc3vU1oYkS2vOjGqBf1lT6mRkZ4fJ0eQ", "sda3")
                .mount("26 1 253:0 / / rw,relatime shared:1 - ext4 /dev/mapper/ubuntu--vg-ubuntu--lv rw")
                .swap("/dev/dm-0");

        assertThatCode(() -> FlashTarget.refuseIfInUse(SDB, system.view(), "flash /dev/sdb")).doesNotThrowAnyException();
    }

    @Test
    void aDiskSmallerThanTheImageIsRefused() {
        long size = FlashTarget.sizeFromSysfs(SDB, system.view()).orElseThrow();

        assertThat(size).isEqualTo(62_521_344L * 512);
        assertThatThrownBy(() -> FlashTarget.refuseIfTooSmall(size, 64_000_000_000L, "flash /dev/sdb"))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT))
                .hasMessageContaining("it holds 32010928128 bytes but the image needs 64000000000");
    }
    @Test
    void aSlotWriteIsRefusedIntoTheRunningRootsPartitionOrAnLvmPartitionAndAcceptedIntoItsIdleSibling() {
        // The partition checks of --partition (FlashTarget.inspectPartition) are these, on the partition's own number.
        system.mount("26 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw,errors=remount-ro")
                .deviceMapper("dm-0", 0, "data--vg-data", "LVM-Hr7Sj1DuOyV2Rm0fJqW9jA3pX0y7KX0cKc3vU1oYkS2vOjGqBf1lT6mRkZ4fJ0eQ", "sdb2");

        refuse(new SystemView.DeviceNumber(8, 2), "it holds the running root file system (/dev/sda2 on /)");
        refuse(new SystemView.DeviceNumber(8, 18), "it is in use by dm-0 (LVM logical volume data--vg-data");
        assertThatCode(() -> FlashTarget.refuseIfInUse(new SystemView.DeviceNumber(8, 3), system.view(), "flash /dev/sda3"))
                .doesNotThrowAnyException();
    }
}
