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
import java.util.List;
import java.util.Optional;

/**
 * A disk to flash: a block device or a regular file, checked before anything is written. Refuses a
 * target that is mounted (itself or a partition of it), holds the running root file system, is in
 * use as swap, by device-mapper or as a loop device's backing file, is too small, or is neither a
 * block device nor a regular file.
 */
public record FlashTarget(Path path, Kind kind, long size, Optional<SystemView.DeviceNumber> device, boolean hasPartitionTable,
        Window window) {

    public enum Kind { BLOCK_DEVICE, FILE }

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
    }

    public FlashTarget(Path path, Kind kind, long size, Optional<SystemView.DeviceNumber> device, boolean hasPartitionTable) {
        this(path, kind, size, device, hasPartitionTable, Window.WHOLE);
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
                        new Window(entry.offset(), entry.size(), Optional.of(partition)));
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
                    new Window(0, size, Optional.of(partition)));
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
        return new FlashTarget(path, Kind.FILE, Files.size(path), Optional.empty(), false);
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
                if (mount.mountPoint().equals("/") && mount.device().equals(user.device())) {
                    throw IngotException.tried(ErrorCode.CONFLICT, what, "it holds the running root file system (" + mount.source() + " on /"
                                    + (user.path().isEmpty() ? "" : ", through " + user.path()) + ")")
                            .withHint("boot from other media (or flash from another machine) to re-image this disk");
                }
            }
        }
        for (Mount mount : mounts) {
            for (User user : users) {
                if (mount.device().equals(user.device())) {
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
                        + ", through " + user.path() + ")").withHint("deactivate it first (vgchange -an, cryptsetup close, mdadm --stop)");
            }
        }
    }

    /** The disk, its partitions, and every device that holds one of them, transitively (sysfs holders/). */
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
        java.util.Set<String> seen = new java.util.HashSet<>();
        while (!pending.isEmpty()) {
            Pending next = pending.poll();
            Path holders = next.folder().resolve("holders");
            if (!Files.isDirectory(holders)) {
                continue;
            }
            try (var list = Files.list(holders)) {
                for (Path holder : list.sorted().toList()) {
                    String name = holder.getFileName().toString();
                    String chain = next.chain() + " → " + name;
                    Optional<Path> holderFolder = system.sysfsFolder(name);
                    users.add(new User(holderFolder.flatMap(SystemView::deviceNumber).orElse(new SystemView.DeviceNumber(-1, -1)), name,
                            chain, true));
                    if (holderFolder.isPresent() && seen.add(name)) {
                        pending.add(new Pending(holderFolder.get(), chain));
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
