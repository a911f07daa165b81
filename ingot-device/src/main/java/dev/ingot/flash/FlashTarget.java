package dev.ingot.flash;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.GptTable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A disk to flash: a block device or a regular file, checked before anything is written. Refuses a
 * target that is mounted (itself or a partition of it, also through a loop device it backs, or as
 * the source btrfs names), holds the running root file system, is in use as swap, by device-mapper or
 * md, or as a loop device's backing file, is too small, is a file named through a symbolic link, is
 * what the flash reads from, or is neither a block device nor a regular file.
 *
 * @param inode what a file target was when it was checked (st_dev, st_ino): the flash opens it with O_NOFOLLOW and
 *     writes only if it is still that file; empty for a file that did not exist yet (the flash creates it with O_EXCL,
 *     so nothing planted at its name meanwhile is written through) and for a block device. A check holds for one
 *     flash: inspect again before the next (a file the first flash created is not the one the check saw).
 */
public record FlashTarget(Path path, Kind kind, long size, Optional<SystemView.DeviceNumber> device, boolean hasPartitionTable,
        Window window, Optional<Inode> inode) {

    public enum Kind { BLOCK_DEVICE, FILE }

    /** A file's identity on its file system (stat(2): st_dev, st_ino). */
    public record Inode(long device, long number) {
        /** The identity of what {@code path} names, links followed or not. */
        static Inode of(Path path, LinkOption... options) throws IOException {
            Map<String, Object> attributes = Files.readAttributes(path, "unix:dev,ino", options);
            return new Inode((Long) attributes.get("dev"), (Long) attributes.get("ino"));
        }
    }

    /**
     * Where on the target the image lands: the whole disk (or file) from byte 0, or one partition: its own device node
     * (offset 0 there), or its bytes inside a disk image file (offset = the partition's start).
     */
    public record Window(long offset, long length, Optional<String> partition) {
        public static final Window WHOLE = new Window(0, Long.MAX_VALUE, Optional.empty());

        public Window {
            requireNonNull(partition, "partition");
        }

        /** The whole target, not a partition. */
        public boolean whole() {
            return partition.isEmpty();
        }
    }

    public FlashTarget {
        requireNonNull(path, "path");
        requireNonNull(kind, "kind");
        requireNonNull(device, "device");
        requireNonNull(window, "window");
        requireNonNull(inode, "inode");
    }

    public FlashTarget(Path path, Kind kind, long size, Optional<SystemView.DeviceNumber> device, boolean hasPartitionTable) {
        this(path, kind, size, device, hasPartitionTable, Window.WHOLE, Optional.empty());
    }

    /** How many bytes the image may take: a block device's or a partition's size; a whole file grows as needed. */
    public long capacity() {
        if (!window.whole()) {
            return window.length();
        }
        return kind == Kind.FILE ? Long.MAX_VALUE : size;
    }

    /** What the target is, for messages: the path, and the partition when the image goes into one. */
    public String describe() {
        return window.partition().map(name -> path + " (partition " + name + ")").orElse(path.toString());
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
        refuseIfLinkedFile(given, path, what);
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

    /**
     * A partition to write a slot payload into: a partition device ({@code /dev/nvme0n1p3}, its GPT name from sysfs), a
     * disk and the partition's GPT name ({@code /dev/nvme0n1} + {@code root-b}: the GPT is read and checked, and the
     * kernel's device for that partition is used, so the write claims the partition, not the disk whose other slot runs
     * the system), or a disk image file and the name (a window inside the file). Refuses a partition that is mounted,
     * swap, held (LVM, LUKS, md) or the running root, one smaller than the image, and a name the GPT lacks. The rest of
     * the disk — its GPT, the other slot — is never touched.
     */
    public static FlashTarget inspectPartition(Path given, Optional<String> name, long imageSize, SystemView system) {
        String what = "flash " + given + name.map(partition -> " (partition " + partition + ")").orElse("");
        FlashTarget whole = inspectUnchecked(given, system, what);
        try {
            if (whole.kind() == Kind.FILE) {
                String partition = name.orElseThrow(() -> IngotException.tried(ErrorCode.BAD_INPUT, what,
                        "a file target is a disk image: name the partition to write into").withHint("add --partition root-b"));
                if (whole.size() == 0) {
                    throw IngotException.tried(ErrorCode.BAD_INPUT, what, "there is no disk image at " + whole.path() + " to write a partition of");
                }
                GptTable.Partition entry = partitionOf(gpt(whole.path(), whole.size(), what), partition, what);
                refuseIfTooSmall(entry.size(), imageSize, partition, what);
                return new FlashTarget(whole.path(), Kind.FILE, whole.size(), Optional.empty(), true,
                        new Window(entry.offset(), entry.size(), Optional.of(partition)), whole.inode());
            }
            SystemView.DeviceNumber device = whole.device().orElseThrow();
            Optional<Path> folder = system.sysfsFolder(device);
            boolean isPartition = folder.isPresent() && Files.exists(folder.get().resolve("partition"));
            Path partitionDevice;
            String partition;
            if (isPartition) {
                partition = partName(folder.get()).or(() -> nameInParentGpt(folder.get())).orElse(whole.path().getFileName().toString());
                if (name.isPresent() && !name.get().equals(partition)) {
                    throw IngotException.tried(ErrorCode.BAD_INPUT, what, whole.path() + " is the partition named '" + partition + "', not '"
                            + name.get() + "'").withHint("name the disk with --partition, or the partition device alone");
                }
                partitionDevice = whole.path();
            } else {
                partition = name.orElseThrow(() -> IngotException.tried(ErrorCode.BAD_INPUT, what,
                        "it is a whole disk: name the partition to write into").withHint("add --partition root-b"));
                long diskSize = whole.size();
                GptTable.Partition entry = partitionOf(gpt(whole.path(), diskSize, what), partition, what);
                partitionDevice = partitionDevice(folder, entry, what);
            }
            SystemView.DeviceNumber number = system.deviceOf(partitionDevice.toString())
                    .orElseThrow(() -> new IOException("the device number of " + partitionDevice + " cannot be read"));
            refuseIfInUse(number, system, what);
            long size;
            if (LinuxIo.available()) {
                try (LinuxIo io = LinuxIo.claim(partitionDevice).orElseThrow(() -> busy(partitionDevice, what))) {
                    size = io.blockDeviceSize();
                }
            } else {
                size = sizeFromSysfs(number, system).orElseThrow(() -> new IOException("the size of " + partitionDevice + " cannot be read"));
            }
            refuseIfTooSmall(size, imageSize, partition, what);
            return new FlashTarget(partitionDevice, Kind.BLOCK_DEVICE, size, Optional.of(number), false,
                    new Window(0, size, Optional.of(partition)), Optional.empty());
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "the system's view of it cannot be read (" + e.getMessage() + ")");
        }
    }

    /** Whether {@code path} is a partition's block device (sysfs says so); false for anything else. */
    public static boolean isPartitionDevice(Path path) {
        try {
            if (!Files.exists(path) || ((Integer) Files.getAttribute(path, "unix:mode") & S_IFMT) != S_IFBLK) {
                return false;
            }
            SystemView.DeviceNumber device = SystemView.DeviceNumber.fromRdev((Long) Files.getAttribute(path, "unix:rdev"));
            return SystemView.live().sysfsFolder(device).map(folder -> Files.exists(folder.resolve("partition"))).orElse(false);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    private static FlashTarget inspectUnchecked(Path given, SystemView system, String what) {
        Path path;
        try {
            path = given.toRealPath();
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "it does not exist (" + e.getMessage() + ")")
                    .withHint("name a disk image file, a disk (/dev/nvme0n1) with --partition, or a partition device");
        }
        refuseIfLinkedFile(given, path, what);
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode");
            return switch (mode & S_IFMT) {
                case S_IFBLK -> {
                    SystemView.DeviceNumber device = SystemView.DeviceNumber.fromRdev((Long) Files.getAttribute(path, "unix:rdev"));
                    long size = sizeFromSysfs(device, system).orElse(0L);
                    yield new FlashTarget(path, Kind.BLOCK_DEVICE, size, Optional.of(device), false);
                }
                case S_IFREG -> inspectFile(path, system, what);
                default -> throw IngotException.tried(ErrorCode.BAD_INPUT, what, "it is neither a block device nor a regular file")
                        .withHint("name a disk, a partition device or a disk image file");
            };
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "its file type cannot be read (" + e.getMessage() + ")");
        }
    }

    /** The disk's GPT, both headers checked; a damaged table is refused (the slots it describes cannot be trusted). */
    private static GptTable gpt(Path disk, long size, String what) throws IOException {
        try (FileChannel channel = FileChannel.open(disk, StandardOpenOption.READ)) {
            return GptTable.read(channel, size, disk.toString());
        } catch (IngotException e) {
            throw IngotException.tried(ErrorCode.CONFLICT, what, "its partition table is damaged: " + dev.ingot.image.ReleaseVerifier.reasonOf(e))
                    .withHint("repair the GPT first (sgdisk -e, or re-image the whole disk)");
        }
    }

    private static GptTable.Partition partitionOf(GptTable table, String name, String what) {
        return table.partition(name).orElseThrow(() -> IngotException.tried(ErrorCode.BAD_INPUT, what,
                "the disk's GPT has no partition named '" + name + "' (it has " + table.names() + ")"));
    }

    /** The kernel's device for a GPT entry: the disk's sysfs child with that partition number, its start checked. */
    private static Path partitionDevice(Optional<Path> diskFolder, GptTable.Partition entry, String what) throws IOException {
        if (diskFolder.isPresent()) {
            try (var children = Files.list(diskFolder.get())) {
                for (Path child : children.filter(each -> Files.exists(each.resolve("partition"))).sorted().toList()) {
                    if (Integer.parseInt(Files.readString(child.resolve("partition")).strip()) == entry.number()) {
                        long start = Long.parseLong(Files.readString(child.resolve("start")).strip()) * 512;
                        if (start != entry.offset()) {
                            throw IngotException.tried(ErrorCode.CONFLICT, what, "the kernel's " + child.getFileName() + " starts at byte "
                                    + start + " but the GPT says " + entry.offset()).withHint("re-read the table: partprobe, or reboot");
                        }
                        return Path.of("/dev", child.getFileName().toString());
                    }
                }
            }
        }
        throw IngotException.tried(ErrorCode.CONFLICT, what, "the kernel has no device for partition " + entry.number() + " ('"
                + entry.name() + "')").withHint("let it read the table: partprobe, or losetup --partscan for a loop device");
    }

    /**
     * A partition's GPT name from its disk's table, by its number: where the kernel did not scan the table itself
     * (partitions added with partx/BLKPG have no PARTNAME), the table on the disk still says.
     */
    private static Optional<String> nameInParentGpt(Path partitionFolder) {
        try {
            Path diskFolder = partitionFolder.getParent();
            int number = Integer.parseInt(Files.readString(partitionFolder.resolve("partition")).strip());
            long size = Long.parseLong(Files.readString(diskFolder.resolve("size")).strip()) * 512;
            Path diskDevice = Path.of("/dev", diskFolder.getFileName().toString());
            try (FileChannel channel = FileChannel.open(diskDevice, StandardOpenOption.READ)) {
                return GptTable.read(channel, size, diskDevice.toString()).partitions().stream()
                        .filter(entry -> entry.number() == number).map(GptTable.Partition::name).findFirst();
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The GPT name of a partition device (sysfs uevent PARTNAME). */
    private static Optional<String> partName(Path sysfsFolder) {
        try {
            for (String line : Files.readAllLines(sysfsFolder.resolve("uevent"))) {
                if (line.startsWith("PARTNAME=")) {
                    return Optional.of(line.substring("PARTNAME=".length()));
                }
            }
        } catch (IOException e) {
            // no name: the caller uses the device's
        }
        return Optional.empty();
    }

    private static void refuseIfTooSmall(long size, long imageSize, String partition, String what) {
        if (size < imageSize) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, partition + " holds " + size + " bytes, the slot payload needs " + imageSize)
                    .withHint("this disk's partitions are smaller than the image's: re-image the whole disk");
        }
    }

    private static FlashTarget inspectFile(Path path, SystemView system, String what) throws IOException {
        for (SystemView.LoopDevice loop : system.loopDevices()) {
            if (Files.exists(loop.backingFile()) && Files.isSameFile(loop.backingFile(), path)) {
                throw IngotException.tried(ErrorCode.CONFLICT, what, "it is attached to /dev/" + loop.name() + " (losetup)")
                        .withHint("detach it first: losetup -d /dev/" + loop.name());
            }
        }
        return new FlashTarget(path, Kind.FILE, Files.size(path), Optional.empty(), false, Window.WHOLE,
                Optional.of(Inode.of(path, LinkOption.NOFOLLOW_LINKS)));
    }

    /**
     * Refuses a file target named through a symbolic link: whoever may write the link's folder could point it at any
     * file the flashing user may write (/etc/shadow, for root). A link to a block device is a disk's other name
     * (udev's /dev/disk/by-id/…) and is followed; links in the folders above are resolved as usual.
     */
    private static void refuseIfLinkedFile(Path given, Path resolved, String what) {
        if (Files.isSymbolicLink(given) && Files.isRegularFile(resolved, LinkOption.NOFOLLOW_LINKS)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "it is a symbolic link (to " + resolved + "), and a file target is "
                            + "written only under its own name")
                    .withHint("name the file itself, once you are sure it is the one to overwrite: --target " + resolved);
        }
    }

    /**
     * Refuses to write the files the flash reads from: a release's own payload or raw image named as the target (one
     * wrong tab completion), a hard link of it, or the block device a raw image is read from. Compared by identity
     * (st_dev and st_ino; a device's number), so no other name of the same bytes gets through.
     */
    public void refuseIfReadFrom(Collection<Path> sources, String what) {
        for (Path source : sources) {
            try {
                if (!Files.exists(source)) {
                    continue;
                }
                boolean same = switch (kind) {
                    case FILE -> inode.isPresent() && inode.get().equals(Inode.of(source));
                    case BLOCK_DEVICE -> device.isPresent() && ((Integer) Files.getAttribute(source, "unix:mode") & S_IFMT) == S_IFBLK
                            && SystemView.DeviceNumber.fromRdev((Long) Files.getAttribute(source, "unix:rdev")).equals(device.get());
                };
                if (same) {
                    throw IngotException.tried(ErrorCode.BAD_INPUT, what, path + " is " + source + ", the file this flash reads from"
                                    + (path.equals(source) ? "" : " (another name of it)"))
                            .withHint("name the disk to write with --target (lsblk -d), or a new image file");
                }
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
                // a source that cannot be examined is not the target: the target's own checks still hold
            }
        }
    }

    private static FlashTarget inspectBlockDevice(Path path, SystemView.DeviceNumber device, long imageSize, SystemView system,
            String what) throws IOException {
        refuseIfInUse(device, system, what);
        long size;
        if (LinuxIo.available()) {
            // The kernel's own word last: O_EXCL fails while anything has the disk or a partition claimed.
            try (LinuxIo io = LinuxIo.claim(path).orElseThrow(() -> busy(path, what))) {
                size = io.blockDeviceSize();
            }
        } else {
            size = sizeFromSysfs(device, system).orElseThrow(() -> new IOException("the size of " + path + " cannot be read"));
        }
        refuseIfTooSmall(size, imageSize, what);
        return new FlashTarget(path, Kind.BLOCK_DEVICE, size, Optional.of(device), readsAsPartitioned(path));
    }

    static IngotException busy(Path device, String what) {
        return IngotException.tried(ErrorCode.CONFLICT, what, "the kernel has it claimed (open with O_EXCL: EBUSY): it or a partition "
                        + "is mounted, in use by LVM, LUKS, md or swap, or open exclusively by another program")
                .withHint("find the user with lsblk " + device + " and stop it first");
    }

    static void refuseIfTooSmall(long size, long imageSize, String what) {
        if (size < imageSize) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "it holds " + size + " bytes but the image needs " + imageSize)
                    .withHint("flash a disk at least as large as the image");
        }
    }

    /** A block device's size from sysfs ({@code size}, in 512-byte sectors whatever the device's block size: sysfs-block(5)). */
    static Optional<Long> sizeFromSysfs(SystemView.DeviceNumber device, SystemView system) {
        return system.sysfsFolder(device).flatMap(folder -> {
            try {
                return Optional.of(Long.parseLong(Files.readString(folder.resolve("size")).strip()) * 512);
            } catch (IOException | NumberFormatException e) {
                return Optional.empty();
            }
        });
    }

    /** One device in the tree under a disk: the disk, a partition, or something that holds one (dm-0, md0), and how it got there. */
    private record User(SystemView.DeviceNumber device, String name, String path, boolean holder) {}

    /**
     * Refuses a disk when anything uses it or any of its partitions: a mount (the running root first), swap, or a holder
     * (sysfs {@code holders/}: device-mapper for LVM and LUKS, md for RAID), followed up the chain, so the root on an LV
     * on sda3 is found from sda. Reads only the {@link SystemView}: every refusal is tested on recorded trees.
     */
    static void refuseIfInUse(SystemView.DeviceNumber disk, SystemView system, String what) throws IOException {
        List<User> users = users(disk, system);
        List<Mount> mounts = Mount.parse(system.mountInfo());
        for (Mount mount : mounts) {
            for (User user : users) {
                if (mount.mountPoint().equals("/") && mount.isOn(user.device(), system)) {
                    throw IngotException.tried(ErrorCode.CONFLICT, what, "it holds the running root file system (" + mount.source() + " on /"
                                    + (user.path().isEmpty() ? "" : ", through " + user.path()) + ")")
                            .withHint("boot from other media (or flash from another machine) to re-image this disk");
                }
            }
        }
        for (Mount mount : mounts) {
            for (User user : users) {
                if (mount.isOn(user.device(), system)) {
                    throw IngotException.tried(ErrorCode.CONFLICT, what, mount.source() + " is mounted on " + mount.mountPoint()
                                    + (user.path().isEmpty() ? "" : " (through " + user.path() + ")"))
                            .withHint("unmount every partition of the disk first: umount " + mount.mountPoint());
                }
            }
        }
        for (String line : system.swaps().lines().skip(1).toList()) {
            String swap = line.split("\\s+")[0];
            Optional<SystemView.DeviceNumber> swapDevice = system.deviceOf(swap);
            for (User user : users) {
                if (swapDevice.isPresent() && swapDevice.get().equals(user.device())) {
                    throw IngotException.tried(ErrorCode.CONFLICT, what, swap + " is in use as swap"
                            + (user.path().isEmpty() ? "" : " (through " + user.path() + ")")).withHint("swapoff " + swap);
                }
            }
        }
        for (User user : users) {
            if (user.holder()) {
                throw IngotException.tried(ErrorCode.CONFLICT, what, "it is in use by " + user.name() + " (" + kindOf(user.name(), system)
                        + ", through " + user.path() + ")").withHint(user.name().startsWith("loop") ? "detach it first: losetup -d /dev/"
                                + user.name() : "deactivate it first (vgchange -an, cryptsetup close, mdadm --stop)");
            }
        }
    }

    /**
     * The disk, its partitions, and every device built on one of them, transitively: holders (sysfs {@code holders/}:
     * device-mapper, md) and loop devices whose backing file is one of them (losetup opens its backing device without
     * O_EXCL and leaves no {@code holders/} link, so only the loop list tells), with their own partitions.
     */
    private static List<User> users(SystemView.DeviceNumber disk, SystemView system) throws IOException {
        List<User> users = new ArrayList<>();
        users.add(new User(disk, String.valueOf(disk), "", false));
        Optional<Path> diskFolder = system.sysfsFolder(disk);
        if (diskFolder.isEmpty()) {
            return users;
        }
        record Pending(Path folder, String chain) {}
        java.util.ArrayDeque<Pending> pending = new java.util.ArrayDeque<>();
        pending.add(new Pending(diskFolder.get(), diskFolder.get().getFileName().toString()));
        try (var children = Files.list(diskFolder.get())) {
            for (Path partition : children.filter(child -> Files.exists(child.resolve("partition"))).sorted().toList()) {
                String name = partition.getFileName().toString();
                SystemView.deviceNumber(partition).ifPresent(number -> users.add(new User(number, name, name, false)));
                pending.add(new Pending(partition, name));
            }
        }
        List<SystemView.LoopDevice> loops = system.loopDevices();
        java.util.Set<String> seen = new java.util.HashSet<>();
        while (!pending.isEmpty()) {
            Pending next = pending.poll();
            List<String> built = new ArrayList<>();
            Path holders = next.folder().resolve("holders");
            if (Files.isDirectory(holders)) {
                try (var list = Files.list(holders)) {
                    list.sorted().forEach(holder -> built.add(holder.getFileName().toString()));
                }
            }
            Optional<SystemView.DeviceNumber> number = SystemView.deviceNumber(next.folder());
            for (SystemView.LoopDevice loop : loops) {
                if (number.isPresent() && system.deviceOf(loop.backingFile().toString()).equals(number)) {
                    built.add(loop.name());
                }
            }
            for (String name : built) {
                String chain = next.chain() + " → " + name;
                Optional<Path> folder = system.sysfsFolder(name);
                users.add(new User(folder.flatMap(SystemView::deviceNumber).orElse(new SystemView.DeviceNumber(-1, -1)), name, chain, true));
                if (folder.isPresent() && seen.add(name)) {
                    pending.add(new Pending(folder.get(), chain));
                    // A loop device or an md array may carry a partition table of its own (loop0p1, md0p1).
                    try (var children = Files.list(folder.get())) {
                        for (Path partition : children.filter(child -> Files.exists(child.resolve("partition"))).sorted().toList()) {
                            String partitionName = partition.getFileName().toString();
                            String partitionChain = chain + " → " + partitionName;
                            SystemView.deviceNumber(partition).ifPresent(device -> users.add(new User(device, partitionName, partitionChain, true)));
                            pending.add(new Pending(partition, partitionChain));
                        }
                    }
                }
            }
        }
        return users;
    }

    /** What a holder is: LVM or LUKS (device-mapper's dm/uuid prefix, as LVM and cryptsetup set it), md RAID, else device-mapper. */
    private static String kindOf(String holder, SystemView system) {
        if (holder.startsWith("md")) {
            return "md RAID";
        }
        if (holder.startsWith("loop")) {
            return "a loop device over it (losetup)";
        }
        Optional<Path> folder = system.sysfsFolder(holder);
        try {
            if (folder.isPresent() && Files.isReadable(folder.get().resolve("dm/uuid"))) {
                String uuid = Files.readString(folder.get().resolve("dm/uuid")).strip();
                Path namePath = folder.get().resolve("dm/name");
                String name = Files.isReadable(namePath) ? " " + Files.readString(namePath).strip() : "";
                if (uuid.startsWith("LVM-")) {
                    return "LVM logical volume" + name;
                }
                if (uuid.startsWith("CRYPT-")) {
                    return "LUKS/dm-crypt mapping" + name;
                }
                return "device-mapper" + name;
            }
        } catch (IOException e) {
            // the generic word below
        }
        return "device-mapper or another holder";
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
        /**
         * Whether this mount is on {@code device}: by the number mountinfo gives or by its source. btrfs reports an
         * anonymous device (0:31) for every subvolume; only the source (/dev/sda2) names the partition it is on.
         */
        boolean isOn(SystemView.DeviceNumber candidate, SystemView system) {
            return device.equals(candidate) || source.startsWith("/dev/") && system.deviceOf(source).filter(candidate::equals).isPresent();
        }

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
