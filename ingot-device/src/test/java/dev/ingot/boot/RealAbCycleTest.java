package dev.ingot.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.agent.ControlPlane.ReleaseDownload;
import dev.ingot.agent.EngineSlotFetcher;
import dev.ingot.agent.EngineSlotWriter;
import dev.ingot.agent.FileSlotWriter;
import dev.ingot.flash.Flasher;
import dev.ingot.flash.SystemView;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageScanner;
import dev.ingot.image.Publisher;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.TestKeys;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.Optional;
import dev.ingot.digest.Sha256;
import dev.ingot.health.ToolRunner;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.GptTable;
import dev.ingot.progress.Progress;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One real A/B cycle on a GPT disk image: the slot payload (an ext4 file system labelled root-a, as a payload made
 * from root-a is) written into root-b through a loop device, the one-shot boot set with the real grub-editenv on the
 * ESP's grubenv, GRUB (grub-emu) booting the image: slot b once, slot a again after a boot without a commit, slot b
 * for good after the commit.
 */
class RealAbCycleTest {
    @TempDir
    Path folder;

    private final List<String> loops = new ArrayList<>();

    @AfterEach
    void detach() {
        for (String loop : loops) {
            Tools.run(folder, "losetup", "-d", loop);
        }
    }

    /** root-b of the image as a block device of its own (losetup --offset --sizelimit), or the test is skipped. */
    private Path attach(AbDisk disk, GptTable.Partition partition) {
        assumeTrue(Tools.available("losetup"), "losetup is not installed (util-linux)");
        Tools.Outcome outcome = Tools.run(folder, "losetup", "--find", "--show", "--offset", String.valueOf(partition.offset()),
                "--sizelimit", String.valueOf(partition.size()), disk.image.toString());
        assumeTrue(outcome.exitCode() == 0, "no loop device can be attached here (not root, or no loop support): " + outcome.output().strip());
        String loop = outcome.output().strip();
        loops.add(loop);
        return Path.of(loop);
    }

    /** Runs GrubBootControl on the ESP's grubenv (copied out and back with mtools) as the agent would in {@code booted}. */
    private void onDevice(AbDisk disk, Slot booted, String bootId, java.util.function.Consumer<GrubBootControl> action) throws IOException {
        Path root = folder.resolve("device-root-" + System.nanoTime());
        Path env = root.resolve("boot/efi/EFI/ubuntu/grubenv");
        Files.createDirectories(env.getParent());
        Files.move(disk.takeEnv(), env);
        Files.createDirectories(root.resolve("proc/sys/kernel/random"));
        Files.writeString(root.resolve("proc/cmdline"), "root=/dev/disk/by-partlabel/" + booted.partitionLabel() + " ro ingot.slot="
                + booted.letter() + " panic=30\n");
        Files.writeString(root.resolve("proc/sys/kernel/random/boot_id"), bootId + "\n");
        action.accept(new GrubBootControl(root, new ToolRunner(Map.of("PATH", System.getenv("PATH")))));
        disk.putEnv(env);
    }

    @Test
    void aSlotPayloadWrittenIntoRootBBootsOnceThenFallsBackWithoutACommitAndStaysAfterTheCommit() throws IOException {
        ImageVersion v14 = ImageVersion.parse("v1.4");
        ImageVersion v15 = ImageVersion.parse("v1.5");
        AbDisk disk = AbDisk.create(folder.resolve("disk"), v14);
        assertThat(GrubEmu.boot(disk).loaded()).contains(Slot.A);

        // The agent's write: the payload into root-b, through its own block device, read back against its digest.
        Path payload = disk.slotImage(v15, "root-a");
        Path rootB = attach(disk, disk.partition(Slot.B));
        List<Long> checkpoints = new ArrayList<>();
        new FileSlotWriter(slot -> slot == Slot.B ? rootB : null).write(new FileSlotWriter.RawSlotPayload(v15, payload, Files.size(payload),
                Sha256.fromHex(Tools.succeed(folder, "sha256sum", payload.toString()).output().substring(0, 64))), Slot.B, 0,
                checkpoints::add, Progress.NONE);
        assertThat(checkpoints).isNotEmpty().last().isEqualTo(Files.size(payload));
        assertThat(Tools.succeed(folder, "debugfs", "-R", "cat /etc/edge/image-version", rootB.toString()).output())
                .contains("IMAGE_VERSION=v1.5");

        // One-shot boot of slot b, set from slot a with the real grub-editenv on the ESP's grubenv.
        onDevice(disk, Slot.A, "boot-1", grub -> grub.bootOnce(Slot.B));
        GrubEmu.Boot trial = GrubEmu.boot(disk);
        assertThat(trial.loaded()).contains(Slot.B);
        assertThat(trial.commandLine()).contains("root=/dev/disk/by-partlabel/root-b", "ingot.slot=b");
        assertThat(GrubEnv.parse(Files.readAllBytes(disk.takeEnv()), "grubenv").get(GrubMenu.NEXT_ENTRY)).isEmpty();

        // Rebooted without a commit: GRUB falls back to slot a by itself.
        assertThat(GrubEmu.boot(disk).loaded()).contains(Slot.A);

        // Again, and this time the trial is committed from slot b.
        onDevice(disk, Slot.A, "boot-3", grub -> grub.bootOnce(Slot.B));
        assertThat(GrubEmu.boot(disk).loaded()).contains(Slot.B);
        onDevice(disk, Slot.B, "boot-4", grub -> {
            assertThat(grub.state().onTrial()).isTrue();
            grub.commit(Slot.B);
            assertThat(grub.state().onTrial()).isFalse();
        });
        for (int boot = 0; boot < 2; boot++) {
            assertThat(GrubEmu.boot(disk).loaded()).contains(Slot.B);
        }
    }

    @Test
    void aPublishedRootASlotPayloadStreamedByTheEngineIntoRootBOfTheDiskBootsOnceAndFallsBack() throws IOException {
        ImageVersion v14 = ImageVersion.parse("v1.4");
        ImageVersion v15 = ImageVersion.parse("v1.5");
        AbDisk disk = AbDisk.create(folder.resolve("disk"), v14);
        // The release: a GPT image whose root-a holds v1.5, published as ingot image publish does (root-a slot payload).
        AbDisk build = AbDisk.create(folder.resolve("build"), v15);
        SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        Keyring keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        FolderStore store = new FolderStore(folder.resolve("store"));
        new Publisher(store, key, Clock.systemUTC(), Progress.NONE).publish(new Publisher.Request(build.image, ImageName.DEFAULT, v15,
                Optional.empty(), false, Optional.empty(), new ImageScanner.Compression(3, 2), ImageScanner.DEFAULT_BLOCK_SIZE));
        assertThat(store.stat("golden-images/edge-golden-v1.5.root-a.img.zst")).isPresent();

        // The disk on a loop device with its partitions where the machine allows, else the image file (root-b's byte range).
        Path target = loopDisk(disk).orElse(disk.image);
        System.out.println("RealAbCycleTest: the engine wrote root-b through " + (target.equals(disk.image)
                ? "the image file's partition byte range (no loop device here)" : "the loop device " + target + " (partition root-b)"));
        GptTable.Partition rootA = disk.partition(Slot.A);
        byte[] slotABefore = bytes(disk.image, rootA.offset(), rootA.size());

        List<String> log = new ArrayList<>();
        EngineSlotFetcher fetcher = new EngineSlotFetcher(() -> keyring, folder.resolve("no-usb"), ImageName.DEFAULT, download -> store,
                log::add);
        EngineSlotWriter writer = new EngineSlotWriter(slot -> target, folder.resolve("data/download"), Clock.systemUTC(), SystemView.live(),
                Flasher.Options.defaults(), log::add);
        EngineSlotWriter.StreamedSlotPayload payload = fetcher.fetch(new ReleaseDownload(v15, Map.of(), Optional.empty()), Progress.NONE);
        List<Long> checkpoints = new ArrayList<>();
        writer.write(payload, Slot.B, 0, checkpoints::add, Progress.NONE);
        detach();
        loops.clear();

        assertThat(checkpoints).containsExactly(payload.size());
        assertThat(log).anyMatch(line -> line.contains("wrote v1.5 into slot b") && line.contains("read back"));
        GptTable.Partition rootB = disk.partition(Slot.B);
        Path slotB = folder.resolve("root-b-as-written.img");
        Files.write(slotB, bytes(disk.image, rootB.offset(), rootB.size()));
        assertThat(Tools.succeed(folder, "debugfs", "-R", "cat /etc/edge/image-version", slotB.toString()).output()).contains("IMAGE_VERSION=v1.5");
        assertThat(bytes(disk.image, rootA.offset(), rootA.size())).as("the running slot a is never touched").isEqualTo(slotABefore);
        assertThat(folder.resolve("data/download")).isEmptyDirectory();

        onDevice(disk, Slot.A, "boot-1", grub -> grub.bootOnce(Slot.B));
        GrubEmu.Boot trial = GrubEmu.boot(disk);
        assertThat(trial.loaded()).contains(Slot.B);
        assertThat(trial.commandLine()).contains("root=/dev/disk/by-partlabel/root-b", "ingot.slot=b");
        assertThat(GrubEmu.boot(disk).loaded()).as("no commit: GRUB falls back by itself").contains(Slot.A);
    }

    /** The whole disk on a loop device with its partition devices (losetup -P, partx), or empty where that cannot be had. */
    private Optional<Path> loopDisk(AbDisk disk) {
        if (!Tools.available("losetup")) {
            return Optional.empty();
        }
        Tools.Outcome outcome = Tools.run(folder, "losetup", "--find", "--show", "--partscan", disk.image.toString());
        if (outcome.exitCode() != 0) {
            return Optional.empty();
        }
        String device = outcome.output().strip();
        loops.add(device);
        Tools.run(folder, "partx", "-u", device);
        for (int i = 0; i < 50 && !Files.exists(Path.of(device + "p3")); i++) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!Files.exists(Path.of(device + "p3"))) {
            detach();
            loops.clear();
            return Optional.empty();
        }
        return Optional.of(Path.of(device));
    }

    private static byte[] bytes(Path file, long offset, long length) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate((int) length);
            while (buffer.hasRemaining() && channel.read(buffer, offset + buffer.position()) >= 0) {
                // read on
            }
            return buffer.array();
        }
    }
}
