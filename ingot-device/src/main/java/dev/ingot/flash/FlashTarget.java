package dev.ingot.flash;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A disk to flash: a block device or a regular file, checked before anything is written. Refuses a
 * target that is mounted (itself or a partition of it), holds the running root file system, is in
 * use as swap, by device-mapper or as a loop device's backing file, is too small, or is neither a
 * block device nor a regular file.
 */
public record FlashTarget(Path path, Kind kind, long size, Optional<SystemView.DeviceNumber> device, boolean hasPartitionTable) {

    public enum Kind { BLOCK_DEVICE, FILE }

    public FlashTarget {
        requireNonNull(path, "path");
        requireNonNull(kind, "kind");
        requireNonNull(device, "device");
    }

    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFREG = 0100000;

    /** Inspects {@code given} for an image of {@code imageSize} bytes; throws with a clear reason when it must not be flashed. */
    public static FlashTarget inspect(Path given, long imageSize, SystemView system) {
        String what = "flash " + given;
        Path path;
        try {
            path = Files.exists(given) ? given.toRealPath() : given.toAbsolutePath().normalize();
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "the path cannot be resolved (" + e.getMessage() + ")");
        }
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            Path parent = path.getParent();
            if (parent == null || !Files.isDirectory(parent)) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, what, "neither it nor its folder exists")
                        .withHint("name a block device (/dev/nvme0n1) or a file in an existing folder");
            }
            if (path.startsWith("/dev")) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, what, "there is no such device")
                        .withHint("list disks with lsblk; Ingot creates files, never device nodes");
            }
            return new FlashTarget(path, Kind.FILE, 0, Optional.empty(), false);
        }
        int mode;
        long rdev;
        try {
            mode = (Integer) Files.getAttribute(path, "unix:mode");
            rdev = (Long) Files.getAttribute(path, "unix:rdev");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "its file type cannot be read (" + e.getMessage() + ")");
        }
        try {
            return switch (mode & S_IFMT) {
                case S_IFBLK -> inspectBlockDevice(path, SystemView.DeviceNumber.fromRdev(rdev), imageSize, system, what);
                case S_IFREG -> inspectFile(path, system, what);
                default -> throw IngotException.tried(ErrorCode.BAD_INPUT, what, "it is neither a block device nor a regular file")
                        .withHint("flash a whole disk (/dev/sdb, /dev/nvme0n1) or an image file");
            };
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "the system's view of it cannot be read (" + e.getMessage() + ")");
        }
    }

    private static FlashTarget inspectFile(Path path, SystemView system, String what) throws IOException {
        for (SystemView.LoopDevice loop : system.loopDevices()) {
            if (Files.exists(loop.backingFile()) && Files.isSameFile(loop.backingFile(), path)) {
                throw IngotException.tried(ErrorCode.CONFLICT, what, "it is attached to /dev/" + loop.name() + " (losetup)")
                        .withHint("detach it first: losetup -d /dev/" + loop.name());
            }
        }
        return new FlashTarget(path, Kind.FILE, Files.size(path), Optional.empty(), false);
    }

    private static FlashTarget inspectBlockDevice(Path path, SystemView.DeviceNumber device, long imageSize, SystemView system,
            String what) throws IOException {
        Optional<Path> sysfs = system.sysfsFolder(device);
        List<Mount> mounts = Mount.parse(system.mountInfo());
        for (Mount mount : mounts) {
            if (mount.mountPoint().equals("/") && belongsTo(mount.device(), device, sysfs, system)) {
                throw IngotException.tried(ErrorCode.CONFLICT, what, "it holds the running root file system (" + mount.source() + " on /)")
                        .withHint("boot from other media (or flash from another machine) to re-image this disk");
            }
        }
        for (Mount mount : mounts) {
            if (belongsTo(mount.device(), device, sysfs, system)) {
                throw IngotException.tried(ErrorCode.CONFLICT, what, mount.source() + " is mounted on " + mount.mountPoint())
                        .withHint("unmount every partition of the disk first: umount " + mount.mountPoint());
            }
        }
        for (String line : system.swaps().lines().skip(1).toList()) {
            String swap = line.split("\\s+")[0];
            if (swap.startsWith("/dev/") && Files.exists(Path.of(swap))) {
                try {
                    SystemView.DeviceNumber swapDevice = SystemView.DeviceNumber.fromRdev((Long) Files.getAttribute(Path.of(swap), "unix:rdev"));
                    if (belongsTo(swapDevice, device, sysfs, system)) {
                        throw IngotException.tried(ErrorCode.CONFLICT, what, swap + " is in use as swap").withHint("swapoff " + swap);
                    }
                } catch (UnsupportedOperationException | IllegalArgumentException ignored) {
                    // not a device we can compare
                }
            }
        }
        if (sysfs.isPresent()) {
            Path holders = sysfs.get().resolve("holders");
            if (Files.isDirectory(holders)) {
                try (var users = Files.list(holders)) {
                    List<String> names = users.map(holder -> holder.getFileName().toString()).toList();
                    if (!names.isEmpty()) {
                        throw IngotException.tried(ErrorCode.CONFLICT, what, "it is in use by " + String.join(", ", names)
                                + " (device-mapper: LVM, LUKS or RAID)").withHint("deactivate those devices first");
                    }
                }
            }
        }
        long size;
        try (LinuxIo io = LinuxIo.open(path, false)) {
            size = io.blockDeviceSize();
        }
        if (size < imageSize) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "it holds " + size + " bytes but the image needs " + imageSize)
                    .withHint("flash a disk at least as large as the image");
        }
        return new FlashTarget(path, Kind.BLOCK_DEVICE, size, Optional.of(device), readsAsPartitioned(path));
    }

    /** Whether {@code candidate} is {@code disk} itself or one of its partitions (per sysfs: a partition's folder sits inside its disk's). */
    private static boolean belongsTo(SystemView.DeviceNumber candidate, SystemView.DeviceNumber disk, Optional<Path> diskSysfs,
            SystemView system) {
        if (candidate.equals(disk)) {
            return true;
        }
        if (diskSysfs.isEmpty()) {
            return false;
        }
        Optional<Path> candidateSysfs = system.sysfsFolder(candidate);
        return candidateSysfs.isPresent() && diskSysfs.get().equals(candidateSysfs.get().getParent());
    }

    /** An MBR boot signature (0x55AA at 510) or a GPT header ("EFI PART" at LBA 1, 512- or 4096-byte sectors). */
    static boolean readsAsPartitioned(Path path) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(4096 + 8);
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            while (head.hasRemaining() && channel.read(head, head.position()) > 0) {
                // fill
            }
        }
        byte[] bytes = head.array();
        boolean mbr = head.position() >= 512 && (bytes[510] & 0xff) == 0x55 && (bytes[511] & 0xff) == 0xaa;
        boolean gpt = "EFI PART".equals(new String(bytes, 512, 8, StandardCharsets.US_ASCII))
                || (head.position() >= 4104 && "EFI PART".equals(new String(bytes, 4096, 8, StandardCharsets.US_ASCII)));
        return mbr || gpt;
    }

    /** One line of /proc/self/mountinfo: device number, mount point, source (proc(5)). */
    record Mount(SystemView.DeviceNumber device, String mountPoint, String source) {
        static List<Mount> parse(String mountInfo) {
            List<Mount> mounts = new ArrayList<>();
            for (String line : mountInfo.lines().toList()) {
                String[] fields = line.split(" ");
                int separator = java.util.Arrays.asList(fields).indexOf("-");
                if (fields.length < 5 || separator < 0 || separator + 2 >= fields.length) {
                    continue;
                }
                try {
                    mounts.add(new Mount(SystemView.DeviceNumber.parse(fields[2]), unescape(fields[4]), unescape(fields[separator + 2])));
                } catch (RuntimeException ignored) {
                    // a line we do not understand is not a mount of a block device
                }
            }
            return mounts;
        }

        /** mountinfo escapes space, tab, newline and backslash as octal (\040). */
        private static String unescape(String field) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < field.length(); i++) {
                char c = field.charAt(i);
                if (c == '\\' && i + 4 <= field.length()) {
                    try {
                        text.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                        i += 3;
                        continue;
                    } catch (NumberFormatException ignored) {
                        // not an escape
                    }
                }
                text.append(c);
            }
            return text.toString();
        }
    }
}
