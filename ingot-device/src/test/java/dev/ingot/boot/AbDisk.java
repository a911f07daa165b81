package dev.ingot.boot;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.Manifest;
import dev.ingot.image.GptTable;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A small golden-image disk as the A/B scheme lays it out, built with the real tools: a GPT (sfdisk) with
 * {@code esp}, {@code root-a}, {@code root-b} and {@code data}; a FAT ESP (mkfs.vfat) holding the A/B grub.cfg and a
 * grubenv made by grub-editenv (files moved in and out with mtools, no mount needed); an ext4 root-a (mkfs.ext4 -d)
 * with a kernel, an initrd and /etc/edge/image-version. root-b starts empty.
 */
final class AbDisk {
    static final Map<String, String> MTOOLS = Map.of("MTOOLS_SKIP_CHECK", "1");
    private static final long MIB = 1L << 20;

    final Path folder;
    final Path image;
    final GptTable table;

    private AbDisk(Path folder, Path image) {
        this.folder = folder;
        this.image = image;
        this.table = GptTable.read(image);
    }

    static void assumeTools() {
        for (String tool : List.of("sfdisk", "mkfs.vfat", "mcopy", "mmd", "mkfs.ext4", "grub-editenv", "grub-emu")) {
            assumeTrue(Tools.available(tool), tool + " is not installed (build-support/test-tools.sh installs fdisk, dosfstools, mtools, e2fsprogs, grub-common, grub-emu)");
        }
    }

    static AbDisk create(Path folder, ImageVersion rootA) throws IOException {
        assumeTools();
        Files.createDirectories(folder);
        Path image = folder.resolve("disk.img");
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.truncate(0);
            channel.position(72 * MIB - 1);
            channel.write(java.nio.ByteBuffer.wrap(new byte[1]));
        }
        Path layout = folder.resolve("layout.sfdisk");
        Files.writeString(layout, "label: gpt\n"
                + "size=8MiB, name=esp, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n"
                + "size=24MiB, name=root-a\n"
                + "size=24MiB, name=root-b\n"
                + "name=data\n");
        Tools.succeed(folder, "sh", "-c", "sfdisk -q " + image + " < " + layout);
        AbDisk disk = new AbDisk(folder, image);
        GptTable.Partition esp = disk.partition("esp");
        Tools.succeed(folder, "mkfs.vfat", "-n", "ESP", "--offset", String.valueOf(esp.offset() / 512), image.toString(),
                String.valueOf(esp.size() / 1024));
        disk.mtools("mmd", "::/EFI", "::/EFI/ubuntu", "::/ingot-test");
        Path config = folder.resolve("grub.cfg");
        Files.writeString(config, GrubMenu.config());
        disk.mtools("mcopy", config.toString(), "::/EFI/ubuntu/grub.cfg");
        Path env = folder.resolve("grubenv.new");
        Tools.succeed(folder, "grub-editenv", env.toString(), "create");
        Tools.succeed(folder, "grub-editenv", env.toString(), "set", "saved_entry=ingot-a");
        disk.putEnv(env);
        disk.writeSlot(Slot.A, disk.slotImage(rootA, "root-a"));
        return disk;
    }

    GptTable.Partition partition(String name) {
        return table.partition(name).orElseThrow(() -> new AssertionError("no partition " + name));
    }

    GptTable.Partition partition(Slot slot) {
        return partition(slot.partitionLabel());
    }

    /** An ext4 slot file system holding {@code version}: its label is the build's, root-a, whatever slot it goes to. */
    Path slotImage(ImageVersion version, String label) throws IOException {
        Path tree = folder.resolve("tree-" + version);
        Files.createDirectories(tree.resolve("boot"));
        Files.createDirectories(tree.resolve("etc/edge"));
        Files.writeString(tree.resolve("boot/vmlinuz"), "a kernel of " + version + "\n");
        Files.writeString(tree.resolve("boot/initrd.img"), "an initrd of " + version + "\n");
        Files.writeString(tree.resolve("etc/edge/image-version"), Manifest.imageVersionFile(ImageName.DEFAULT, version,
                Instant.parse("2026-11-20T09:30:00Z")));
        Path slot = folder.resolve("slot-" + version + ".img");
        Tools.succeed(folder, "mkfs.ext4", "-q", "-L", label, "-d", tree.toString(), slot.toString(), "16M");
        return slot;
    }

    /** Writes a slot file system straight into the image at the slot's offset (what building the image does). */
    void writeSlot(Slot slot, Path content) throws IOException {
        try (FileChannel in = FileChannel.open(content); FileChannel out = FileChannel.open(image, StandardOpenOption.WRITE)) {
            long offset = partition(slot).offset();
            long done = 0;
            while (done < in.size()) {
                done += in.transferTo(done, in.size() - done, out.position(offset + done));
            }
        }
    }

    /** The grubenv of the ESP, copied out. */
    Path takeEnv() {
        Path copy = folder.resolve("esp-grubenv-" + System.nanoTime());
        mtools("mcopy", "::/EFI/ubuntu/grubenv", copy.toString());
        return copy;
    }

    /** Puts a grubenv into the ESP in place of the one there. */
    void putEnv(Path env) {
        mtools("mcopy", "-o", env.toString(), "::/EFI/ubuntu/grubenv");
    }

    void mtools(String tool, String... arguments) {
        List<String> command = new ArrayList<>(List.of(tool, "-i", image + "@@" + partition("esp").offset()));
        command.addAll(List.of(arguments));
        Tools.run(folder, MTOOLS, command).assertSuccess(command);
    }
}
