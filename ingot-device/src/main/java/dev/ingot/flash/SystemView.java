package dev.ingot.flash;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What the kernel says about block devices and mounts, read from {@code /proc} and {@code /sys}.
 * An interface so the safety checks (never flash a mounted disk or the running root) can be tested
 * against recorded real outputs without risking a real disk.
 */
public interface SystemView {
    /** {@code /proc/self/mountinfo} (proc(5)). */
    String mountInfo() throws IOException;

    /** {@code /proc/swaps}. */
    String swaps() throws IOException;

    /** The sysfs folder of a block device ({@code /sys/dev/block/MAJ:MIN}, resolved), when it exists. */
    Optional<Path> sysfsFolder(DeviceNumber device);

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
        return new SystemView() {
            @Override
            public String mountInfo() throws IOException {
                return Files.readString(Path.of("/proc/self/mountinfo"));
            }

            @Override
            public String swaps() throws IOException {
                Path swaps = Path.of("/proc/swaps");
                return Files.exists(swaps) ? Files.readString(swaps) : "";
            }

            @Override
            public Optional<Path> sysfsFolder(DeviceNumber device) {
                Path link = Path.of("/sys/dev/block", device.toString());
                try {
                    return Files.exists(link) ? Optional.of(link.toRealPath()) : Optional.empty();
                } catch (IOException e) {
                    return Optional.empty();
                }
            }

            @Override
            public List<LoopDevice> loopDevices() throws IOException {
                List<LoopDevice> loops = new ArrayList<>();
                Path block = Path.of("/sys/block");
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
        };
    }
}
