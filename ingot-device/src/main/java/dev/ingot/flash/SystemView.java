package dev.ingot.flash;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What the kernel says about block devices and mounts, read from {@code /proc} and {@code /sys}. An interface so the
 * safety checks (never flash a mounted disk, the running root, a disk under LVM, LUKS, md or swap) can be tested
 * against recorded trees of those files without risking a real disk: {@link #rooted} reads a copy laid out as the
 * kernel lays it out (proc(5); sysfs-block(5): {@code /sys/dev/block/MAJ:MIN}, {@code /sys/class/block/NAME}).
 */
public interface SystemView {
    /** {@code /proc/self/mountinfo} (proc(5)). */
    String mountInfo() throws IOException;

    /** {@code /proc/swaps}. */
    String swaps() throws IOException;

    /** The sysfs folder of a block device ({@code /sys/dev/block/MAJ:MIN}, resolved), when it exists. */
    Optional<Path> sysfsFolder(DeviceNumber device);

    /** The sysfs folder of a block device by its kernel name ({@code /sys/class/block/NAME}, resolved). */
    Optional<Path> sysfsFolder(String kernelName);

    /** The device a {@code /dev} path names ({@code /dev/sda2}, {@code /dev/dm-1}, {@code /dev/mapper/vg-swap}), when known. */
    Optional<DeviceNumber> deviceOf(String devicePath);

    /** Backing files of the attached loop devices, with the loop device's name. */
    List<LoopDevice> loopDevices() throws IOException;

    record LoopDevice(String name, Path backingFile) {}

    /** A block device number, as mountinfo and sysfs write it: {@code 254:1}. */
    record DeviceNumber(int major, int minor) {
        static DeviceNumber parse(String text) {
            String[] parts = text.strip().split(":");
            return new DeviceNumber(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
        }

        /** Decodes a dev_t as Linux encodes it (glibc gnu_dev_major/gnu_dev_minor). */
        static DeviceNumber fromRdev(long rdev) {
            int major = (int) (((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL));
            int minor = (int) ((rdev & 0xff) | ((rdev >>> 12) & ~0xffL));
            return new DeviceNumber(major, minor);
        }

        @Override
        public String toString() {
            return major + ":" + minor;
        }
    }

    /** The running system's view. */
    static SystemView live() {
        SystemView files = rooted(Path.of("/proc"), Path.of("/sys"));
        return new SystemView() {
            @Override
            public String mountInfo() throws IOException {
                return files.mountInfo();
            }

            @Override
            public String swaps() throws IOException {
                return files.swaps();
            }

            @Override
            public Optional<Path> sysfsFolder(DeviceNumber device) {
                return files.sysfsFolder(device);
            }

            @Override
            public Optional<Path> sysfsFolder(String kernelName) {
                return files.sysfsFolder(kernelName);
            }

            @Override
            public Optional<DeviceNumber> deviceOf(String devicePath) {
                try {
                    // /dev/mapper/NAME is a link to ../dm-N: the node itself says which device it is. A regular file (a
                    // file-backed loop device's backing file) is no device: its rdev is 0.
                    Path node = Path.of(devicePath);
                    if (((Integer) Files.getAttribute(node, "unix:mode") & 0170000) != 0060000) {
                        return Optional.empty();
                    }
                    return Optional.of(DeviceNumber.fromRdev((Long) Files.getAttribute(node, "unix:rdev")));
                } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
                    return files.deviceOf(devicePath);
                }
            }

            @Override
            public List<LoopDevice> loopDevices() throws IOException {
                return files.loopDevices();
            }
        };
    }

    /** The view a copy of {@code /proc} and {@code /sys} gives (recorded trees in tests; the real ones for {@link #live}). */
    static SystemView rooted(Path proc, Path sys) {
        return new SystemView() {
            @Override
            public String mountInfo() throws IOException {
                return Files.readString(proc.resolve("self/mountinfo"));
            }

            @Override
            public String swaps() throws IOException {
                Path swaps = proc.resolve("swaps");
                return Files.exists(swaps) ? Files.readString(swaps) : "";
            }

            @Override
            public Optional<Path> sysfsFolder(DeviceNumber device) {
                return resolved(sys.resolve("dev/block").resolve(device.toString()));
            }

            @Override
            public Optional<Path> sysfsFolder(String kernelName) {
                return kernelName.contains("/") ? Optional.empty() : resolved(sys.resolve("class/block").resolve(kernelName));
            }

            @Override
            public Optional<DeviceNumber> deviceOf(String devicePath) {
                if (!devicePath.startsWith("/dev/")) {
                    return Optional.empty();
                }
                String name = devicePath.substring("/dev/".length());
                if (name.startsWith("mapper/")) {
                    name = deviceMapperName(name.substring("mapper/".length())).orElse(null);
                }
                return name == null ? Optional.empty() : sysfsFolder(name).flatMap(SystemView::deviceNumber);
            }

            /** The kernel name (dm-N) of a device-mapper device by its name (dmsetup's name, sysfs dm/name). */
            private Optional<String> deviceMapperName(String mapperName) {
                try (Stream<Path> devices = Files.list(sys.resolve("class/block"))) {
                    for (Path device : devices.filter(path -> path.getFileName().toString().startsWith("dm-")).toList()) {
                        Path name = device.resolve("dm/name");
                        if (Files.isReadable(name) && Files.readString(name).strip().equals(mapperName)) {
                            return Optional.of(device.getFileName().toString());
                        }
                    }
                } catch (IOException e) {
                    return Optional.empty();
                }
                return Optional.empty();
            }

            @Override
            public List<LoopDevice> loopDevices() throws IOException {
                List<LoopDevice> loops = new ArrayList<>();
                Path block = sys.resolve("block");
                if (!Files.isDirectory(block)) {
                    return loops;
                }
                try (Stream<Path> devices = Files.list(block)) {
                    for (Path device : devices.filter(path -> path.getFileName().toString().startsWith("loop")).toList()) {
                        Path backing = device.resolve("loop/backing_file");
                        if (Files.isReadable(backing)) {
                            String file = Files.readString(backing).strip();
                            if (!file.isEmpty()) {
                                loops.add(new LoopDevice(device.getFileName().toString(), Path.of(file.replace(" (deleted)", ""))));
                            }
                        }
                    }
                }
                return loops;
            }

            private static Optional<Path> resolved(Path link) {
                try {
                    return Files.exists(link) ? Optional.of(link.toRealPath()) : Optional.empty();
                } catch (IOException e) {
                    return Optional.empty();
                }
            }
        };
    }

    /** A sysfs device folder's {@code dev} file: its number. */
    static Optional<DeviceNumber> deviceNumber(Path sysfsFolder) {
        try {
            Path dev = sysfsFolder.resolve("dev");
            return Files.isReadable(dev) ? Optional.of(DeviceNumber.parse(Files.readString(dev))) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
