package dev.ingot.flash;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A copy of the {@code /proc} and {@code /sys} files the target checks read, laid out as the kernel lays them out
 * (sysfs-block(5)): device folders under {@code sys/devices/}, partitions inside their disk's folder with a
 * {@code partition} file, {@code dev} ("MAJ:MIN") and {@code size} (512-byte sectors) files, {@code holders/} and
 * {@code slaves/} links between a disk and device-mapper or md, and the {@code sys/dev/block/MAJ:MIN},
 * {@code sys/class/block/NAME} and {@code sys/block/NAME} links. Built file by file, as recorded on real machines.
 */
final class RecordedSystem {
    private final Path proc;
    private final Path sys;

    RecordedSystem(Path root) {
        this.proc = root.resolve("proc");
        this.sys = root.resolve("sys");
        write(proc.resolve("self/mountinfo"), """
                22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
                23 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
                25 1 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=8123456k,nr_inodes=2030864,mode=755
                """);
        write(proc.resolve("swaps"), "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
    }

    SystemView view() {
        return SystemView.rooted(proc, sys);
    }

    /** A whole disk, e.g. sda 8:0, of {@code sectors} 512-byte sectors. */
    RecordedSystem disk(String name, int major, int minor, long sectors) {
        Path folder = sys.resolve("devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block").resolve(name);
        device(folder, name, major, minor, sectors);
        link(sys.resolve("block").resolve(name), folder);
        return this;
    }

    /** A partition of {@code disk}, e.g. sda3 8:3. */
    RecordedSystem partition(String disk, String name, int major, int minor) {
        Path folder = sys.resolve("class/block").resolve(disk);
        Path diskFolder;
        try {
            diskFolder = folder.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path partition = diskFolder.resolve(name);
        device(partition, name, major, minor, 1000);
        write(partition.resolve("partition"), name.replaceAll("\\D*(\\d+)$", "$1") + "\n");
        return this;
    }

    /** A device-mapper device (dm-N, major 253) on {@code slaves}, with the name and uuid LVM or cryptsetup give it. */
    RecordedSystem deviceMapper(String name, int minor, String mapperName, String uuid, String... slaves) {
        Path folder = sys.resolve("devices/virtual/block").resolve(name);
        device(folder, name, 253, minor, 1000);
        write(folder.resolve("dm/name"), mapperName + "\n");
        write(folder.resolve("dm/uuid"), uuid + "\n");
        hold(folder, name, slaves);
        return this;
    }

    /** An md RAID array (mdN, major 9) on {@code members}. */
    RecordedSystem md(String name, int minor, String... members) {
        Path folder = sys.resolve("devices/virtual/block").resolve(name);
        device(folder, name, 9, minor, 1000);
        hold(folder, name, members);
        return this;
    }

    /** One mountinfo line (proc(5)). */
    RecordedSystem mount(String line) {
        append(proc.resolve("self/mountinfo"), line + "\n");
        return this;
    }

    /** One /proc/swaps line. */
    RecordedSystem swap(String device) {
        append(proc.resolve("swaps"), device + "                               partition\t8388604\t\t0\t\t-2\n");
        return this;
    }

    private void hold(Path holderFolder, String holder, String... slaves) {
        for (String slave : slaves) {
            Path slaveFolder;
            try {
                slaveFolder = sys.resolve("class/block").resolve(slave).toRealPath();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            link(slaveFolder.resolve("holders").resolve(holder), holderFolder);
            link(holderFolder.resolve("slaves").resolve(slave), slaveFolder);
        }
    }

    private void device(Path folder, String name, int major, int minor, long sectors) {
        write(folder.resolve("dev"), major + ":" + minor + "\n");
        write(folder.resolve("size"), sectors + "\n");
        try {
            Files.createDirectories(folder.resolve("holders"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        link(sys.resolve("dev/block").resolve(major + ":" + minor), folder);
        link(sys.resolve("class/block").resolve(name), folder);
    }

    private static void link(Path link, Path target) {
        try {
            Files.createDirectories(link.getParent());
            Files.createSymbolicLink(link, link.getParent().relativize(target));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path file, String content) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void append(Path file, String content) {
        try {
            Files.writeString(file, Files.readString(file) + content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
