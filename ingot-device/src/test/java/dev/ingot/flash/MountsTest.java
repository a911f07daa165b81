package dev.ingot.flash;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The mountinfo reader, on lines recorded from real systems (proc(5) format). */
class MountsTest {
    private static final String MOUNTINFO = """
            22 27 0:21 / /proc rw,relatime - proc proc rw
            27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
            31 27 259:2 / /boot/efi rw,relatime shared:7 - vfat /dev/nvme0n1p1 rw,fmask=0077
            40 27 7:0 / /media/usb\\040stick rw,nosuid master:1 - ext4 /dev/loop0 rw
            """;

    @Test
    void devicesMountPointsAndSourcesAreRead() {
        List<FlashTarget.Mount> mounts = FlashTarget.Mount.parse(MOUNTINFO);

        assertThat(mounts).containsExactly(
                new FlashTarget.Mount(new SystemView.DeviceNumber(0, 21), "/proc", "proc"),
                new FlashTarget.Mount(new SystemView.DeviceNumber(254, 0), "/", "/dev/vda"),
                new FlashTarget.Mount(new SystemView.DeviceNumber(259, 2), "/boot/efi", "/dev/nvme0n1p1"),
                new FlashTarget.Mount(new SystemView.DeviceNumber(7, 0), "/media/usb stick", "/dev/loop0"));
    }

    @Test
    void deviceNumbersDecodeAsGlibcDoes() {
        assertThat(SystemView.DeviceNumber.fromRdev(0xfe01L)).isEqualTo(new SystemView.DeviceNumber(254, 1));
        // glibc makedev(259, 0x100002) = ((minor & ~0xff) << 12) | ((major & 0xfff) << 8) | (minor & 0xff)
        assertThat(SystemView.DeviceNumber.fromRdev((0x100000L << 12) | (259L << 8) | 2)).isEqualTo(new SystemView.DeviceNumber(259, 0x100002));
        assertThat(SystemView.DeviceNumber.fromRdev((0x1000L << 32) | (0x5L << 8) | 1)).isEqualTo(new SystemView.DeviceNumber(0x1005, 1));
    }
}
