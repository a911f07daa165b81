package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlashCommandsTest {
    @TempDir
    Path folder;

    private CommandRunner ingot;

    @BeforeEach
    void publishTwoKnownGoodVersions() throws IOException {
        ingot = new CommandRunner(folder);
        TestKeys.RELEASE.secretKey(folder.resolve("keys"));
        TestKeys.RELEASE.publicKey(folder.resolve("keys"));
        for (String version : new String[] {"v1.3", "v1.4"}) {
            SparseImages.create(folder.resolve(version + ".img"), 16L << 20, version.hashCode(), new SparseImages.Region(0, 64 * 1024),
                    new SparseImages.Region(4L << 20, 3 << 20));
            run("image", "publish", version + ".img", "--version", version, "--key", "keys/release.asc");
            run("image", "promote", version, "--known-good", "--key", "keys/release.asc", "--keyring", "keys/release.pub.asc");
        }
    }

    private CommandRunner.Run run(String... args) {
        CommandRunner.Run run = ingot.run(args);
        assertThat(run.exitCode()).as(run.toString()).isZero();
        return run;
    }

    @Test
    void aVersionFlashesFromTheStoreOntoAFile() throws IOException {
        CommandRunner.Run flashed = run("flash", "v1.4", "--target", "disk.img", "--keyring", "keys/release.pub.asc",
                "--work-dir", "work", "--json");

        assertThat(Files.mismatch(folder.resolve("disk.img"), folder.resolve("v1.4.img"))).isEqualTo(-1);
        assertThat(flashed.json().get("written_bytes").asLong()).isEqualTo(64 * 1024 + (3 << 20));
        assertThat(flashed.json().get("read_back").asBoolean()).isTrue();
    }

    @Test
    void aVersionStreamsFromTheStoreKeepingAVerifiedCopyThatTheNextFlashUsesAsACache() throws IOException {
        CommandRunner.Run flashed = run("flash", "v1.4", "--target", "disk.img", "--keyring", "keys/release.pub.asc", "--keep", "usb", "--json");

        assertThat(flashed.json().get("kept").asText()).endsWith("usb");
        assertThat(folder.resolve("usb/edge-golden-v1.4.manifest.json")).exists();
        run("flash", "v1.4", "--target", "disk2.img", "--keyring", "keys/release.pub.asc", "--cache", "usb", "--store", "no-such-store");
        assertThat(Files.mismatch(folder.resolve("disk2.img"), folder.resolve("v1.4.img"))).isEqualTo(-1);
    }

    @Test
    void aSlotPayloadIsWrittenIntoAPartitionOfADiskImageAndTheRestStays() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.ingot.testing.GoldenImages.unavailableBecause() == null,
                String.valueOf(dev.ingot.testing.GoldenImages.unavailableBecause()));
        Path golden = dev.ingot.testing.GoldenImages.diskImage(dev.ingot.testing.GoldenImages.writeTree(folder.resolve("tree"),
                dev.ingot.testing.GoldenImages.goodFiles()), folder.resolve("golden.img"));
        CommandRunner.Run published = run("image", "publish", "golden.img", "--version", "v1.5", "--key", "keys/release.asc", "--json");
        assertThat(published.json().at("/manifest/slots/0/partition/name").asText()).isEqualTo("root-a");
        Files.copy(golden, folder.resolve("device.img"));

        CommandRunner.Run flashed = run("flash", "v1.5", "--target", "device.img", "--partition", "root-b", "--keyring",
                "keys/release.pub.asc", "--json");

        assertThat(flashed.json().get("target_description").asText()).endsWith("(partition root-b)");
        byte[] device = Files.readAllBytes(folder.resolve("device.img"));
        byte[] image = Files.readAllBytes(golden);
        assertThat(java.util.Arrays.copyOfRange(device, 18 << 20, 34 << 20)).isEqualTo(java.util.Arrays.copyOfRange(image, 2 << 20, 18 << 20));
        assertThat(java.util.Arrays.copyOf(device, 18 << 20)).isEqualTo(java.util.Arrays.copyOf(image, 18 << 20));

        CommandRunner.Run noSlot = ingot.run("flash", "v1.4", "--target", "device.img", "--partition", "root-b", "--keyring",
                "keys/release.pub.asc");
        assertThat(noSlot.exitCode()).as(noSlot.toString()).isEqualTo(2);
        assertThat(noSlot.err()).contains("edge-golden-v1.4 has no root-a slot payload (it was published without slots)");
    }

    @Test
    void aLocalPayloadWithItsSignedManifestBesideItFlashes() throws IOException {
        run("flash", "store/golden-images/edge-golden-v1.3.img.zst", "--target", "disk.img", "--keyring", "keys/release.pub.asc");

        assertThat(Files.mismatch(folder.resolve("disk.img"), folder.resolve("v1.3.img"))).isEqualTo(-1);
    }

    @Test
    void aTargetThatIsNoDiskIsRefusedBeforeAnythingIsFetched() {
        CommandRunner.Run run = ingot.run("flash", "v1.4", "--target", "/dev/null", "--keyring", "keys/release.pub.asc", "--work-dir", "work");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("neither a block device nor a regular file");
        assertThat(folder.resolve("work")).doesNotExist();
    }

    @Test
    void aVersionWithoutAKeyringIsRefusedBeforeAnythingElse() {
        CommandRunner.Run run = ingot.run("flash", "v1.4", "--target", "disk.img");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("no --keyring was given");
        assertThat(folder.resolve("disk.img")).doesNotExist();
    }

    @Test
    void aPartitionedDiskIsNotOverwrittenUnasked() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.ingot.testing.Tools.available("losetup") && dev.ingot.testing.Tools.available("sfdisk"),
                "losetup and sfdisk are needed (util-linux, fdisk)");
        Path backing = folder.resolve("backing.img");
        Files.write(backing, new byte[32 << 20]);
        dev.ingot.testing.Tools.Outcome attach = dev.ingot.testing.Tools.run(folder, "losetup", "--find", "--show", backing.toString());
        org.junit.jupiter.api.Assumptions.assumeTrue(attach.exitCode() == 0, "no loop device here: " + attach.output().strip());
        String device = attach.output().strip();
        try {
            dev.ingot.testing.Tools.run(folder, java.util.Map.of(), List.of("sh", "-c", "echo 'label: gpt\n,,L' | sfdisk -q " + device))
                    .assertSuccess(List.of("sfdisk"));
            byte[] before = Files.readAllBytes(Path.of(device));

            CommandRunner.Run refused = ingot.run("flash", "v1.4", "--target", device, "--keyring", "keys/release.pub.asc", "--work-dir", "work");
            assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(2);
            assertThat(refused.err()).contains("holds a partition table").contains("--yes");
            assertThat(Files.readAllBytes(Path.of(device))).isEqualTo(before);

            run("flash", "v1.4", "--target", device, "--keyring", "keys/release.pub.asc", "--work-dir", "work", "--yes");
            assertThat(java.util.Arrays.copyOf(Files.readAllBytes(Path.of(device)), 16 << 20)).isEqualTo(Files.readAllBytes(folder.resolve("v1.4.img")));
        } finally {
            dev.ingot.testing.Tools.run(folder, "losetup", "-d", device);
        }
    }

    @Test
    void aTamperedPayloadInTheStoreIsRefusedBeforeTheDamagedRangeIsWritten() throws IOException {
        Path payload = folder.resolve("store/golden-images/edge-golden-v1.4.img.zst");
        byte[] bytes = Files.readAllBytes(payload);
        bytes[bytes.length / 2] ^= 1;
        Files.write(payload, bytes);
        Files.writeString(folder.resolve("disk.img"), "old contents");

        CommandRunner.Run run = ingot.run("flash", "v1.4", "--target", "disk.img", "--keyring", "keys/release.pub.asc", "--work-dir", "work");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("edge-golden-v1.4").contains("that range was not written")
                .contains("the target is incomplete: 1 of 2 ranges were written, each checked");
        byte[] disk = Files.readAllBytes(folder.resolve("disk.img"));
        byte[] image = Files.readAllBytes(folder.resolve("v1.4.img"));
        assertThat(java.util.Arrays.copyOf(disk, 64 * 1024)).as("the checked range before it").isEqualTo(java.util.Arrays.copyOf(image, 64 * 1024));
        assertThat(java.util.Arrays.copyOfRange(disk, 4 << 20, 7 << 20)).as("the damaged range").isEqualTo(new byte[3 << 20]);
    }

    @Test
    void cacheSyncThenRollbackFromTheCacheWithoutAStore() throws IOException {
        run("cache", "sync", "--dir", "usb", "--keyring", "keys/release.pub.asc");
        assertThat(run("cache", "list", "--dir", "usb", "--keyring", "keys/release.pub.asc", "--json").json().get("images"))
                .extracting(node -> node.get("version").asText()).containsExactly("v1.4", "v1.3");

        CommandRunner.Run rolledBack = run("rollback", "--site", "SITE-2847", "--target", "disk.img", "--cache", "usb",
                "--keyring", "keys/release.pub.asc", "--current", "v1.4", "--json");

        assertThat(rolledBack.json().get("version").asText()).isEqualTo("v1.3");
        assertThat(rolledBack.json().get("source").asText()).startsWith("USB cache");
        assertThat(rolledBack.json().get("provision_command").asText()).isEqualTo("SITE_ID=SITE-2847 bash /opt/edge/provision_site.sh");
        assertThat(rolledBack.json().get("phases")).extracting(node -> node.get("name").asText())
                .contains("fetch", "write", "read back");
        assertThat(Files.mismatch(folder.resolve("disk.img"), folder.resolve("v1.3.img"))).isEqualTo(-1);
    }

    @Test
    void rollbackReadsTheRunningVersionFromTheRootAndFallsBackToTheStore() throws IOException {
        Path root = Files.createDirectories(folder.resolve("root/etc/edge"));
        Files.writeString(root.resolve("image-version"), "IMAGE_NAME=edge-golden\nIMAGE_VERSION=v1.4\nBUILD_DATE=2026-11-01T12:00:00Z\n");

        CommandRunner.Run rolledBack = run("rollback", "--site", "SITE-2847", "--target", "disk.img", "--root", "root",
                "--store", "store", "--keyring", "keys/release.pub.asc", "--work-dir", "work", "--json");

        assertThat(rolledBack.json().get("version").asText()).isEqualTo("v1.3");
        assertThat(rolledBack.json().get("source").asText()).startsWith("store");
    }

    @Test
    void rollbackWithoutKnowingTheRunningVersionAsksForIt() {
        CommandRunner.Run run = ingot.run("rollback", "--site", "SITE-2847", "--target", "disk.img", "--store", "store",
                "--keyring", "keys/release.pub.asc");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--to VERSION, or --current VERSION");
        assertThat(folder.resolve("disk.img")).doesNotExist();
    }

    @Test
    void aBadSiteIdIsBadInput() {
        CommandRunner.Run run = ingot.run("rollback", "--site", "../etc", "--target", "disk.img", "--store", "store",
                "--keyring", "keys/release.pub.asc", "--to", "v1.3");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("site id");
    }

    /**
     * Killed with SIGKILL at chosen points of the write (before the first range is written, half-way, before the last),
     * under the JDK's debugger so the point is exact: the disk is then partly written, and a rerun leaves it equal to
     * the image.
     */
    @Test
    void aFlashKilledAtAnyPointOfTheWriteAndRunAgainGivesTheImage() throws Exception {
        SparseImages.create(folder.resolve("big.img"), 96L << 20, 3, new SparseImages.Region(0, 1 << 20),
                new SparseImages.Region(16L << 20, 40 << 20), new SparseImages.Region(80L << 20, 10 << 20));
        run("image", "publish", "big.img", "--version", "v2.0", "--key", "keys/release.asc", "--threads", "2");
        List<String> flash = List.of("flash", "v2.0", "--target", "disk.img", "--keyring", "keys/release.pub.asc", "--work-dir", "work");
        int ranges = 1 + 3 + 1; // 1 MiB, 40 MiB cut at 16 MiB, 10 MiB: each range one frame, written one call each
        for (int hit : new int[] {1, 3, ranges}) {
            Files.write(folder.resolve("disk.img"), new byte[] {1, 2, 3});

            KilledChild.killAt(folder, "dev.ingot.flash.TargetIo", "write", hit, flash);

            assertThat(Files.mismatch(folder.resolve("disk.img"), folder.resolve("big.img"))).as("the disk after a kill before write #%d", hit)
                    .isNotEqualTo(-1);
            run(flash.toArray(String[]::new));
            assertThat(Files.mismatch(folder.resolve("disk.img"), folder.resolve("big.img"))).as("after a kill before write #%d and a rerun", hit)
                    .isEqualTo(-1);
        }
    }

    /**
     * Killed with SIGKILL while streaming from the store with --keep (a power cut on a device): the kept copy holds what
     * was read, and the rerun replays it and fetches only the rest; the disk equals the image and the copy is complete.
     */
    @Test
    void aKeptFlashKilledMidWayResumesFromItsCopyAndEndsEqualToTheImage() throws Exception {
        SparseImages.create(folder.resolve("big.img"), 96L << 20, 5, new SparseImages.Region(0, 1 << 20),
                new SparseImages.Region(16L << 20, 40 << 20), new SparseImages.Region(80L << 20, 10 << 20));
        run("image", "publish", "big.img", "--version", "v2.0", "--key", "keys/release.asc", "--threads", "2");
        List<String> flash = List.of("flash", "v2.0", "--target", "disk.img", "--keyring", "keys/release.pub.asc", "--keep", "usb", "--json");

        KilledChild.killAt(folder, "dev.ingot.flash.TargetIo", "write", 3, flash);

        Path part = folder.resolve("usb/edge-golden-v2.0.img.zst.part");
        assertThat(part).exists();
        long kept = Files.size(part);
        assertThat(kept).isPositive();
        CommandRunner.Run rerun = run(flash.toArray(String[]::new));
        assertThat(rerun.json().get("replayed_bytes").asLong()).isEqualTo(kept);
        assertThat(Files.mismatch(folder.resolve("disk.img"), folder.resolve("big.img"))).isEqualTo(-1);
        assertThat(Files.readAllBytes(folder.resolve("usb/edge-golden-v2.0.img.zst")))
                .isEqualTo(Files.readAllBytes(folder.resolve("store/golden-images/edge-golden-v2.0.img.zst")));
        assertThat(part).doesNotExist();
    }

    /**
     * Killed with SIGKILL after the whole payload was read into the kept copy but before its digest was confirmed, and
     * again between putting the verified payload in place and writing the manifest beside it: neither leaves a folder
     * that passes for a complete copy (no manifest, so no later --cache takes it; a .part is never read as whole), and
     * each rerun replays what is there, checked again, and finishes. A copy damaged on the drive (a power cut's torn
     * page) fails its range, is cut back to the frame before the damage, and the next run fetches the rest anew.
     */
    @Test
    void aKeptFlashKilledWhileFinishingLeavesNoCopyThatPassesForCompleteAndTheNextRunFinishesIt() throws Exception {
        SparseImages.create(folder.resolve("big.img"), 96L << 20, 7, new SparseImages.Region(0, 1 << 20),
                new SparseImages.Region(16L << 20, 40 << 20), new SparseImages.Region(80L << 20, 10 << 20));
        run("image", "publish", "big.img", "--version", "v2.0", "--key", "keys/release.asc", "--threads", "2");
        Path published = folder.resolve("store/golden-images/edge-golden-v2.0.img.zst");
        long size = Files.size(published);
        Path payload = folder.resolve("usb/edge-golden-v2.0.img.zst");
        Path part = folder.resolve("usb/edge-golden-v2.0.img.zst.part");
        Path manifest = folder.resolve("usb/edge-golden-v2.0.manifest.json");
        List<String> flash = List.of("flash", "v2.0", "--target", "disk.img", "--keyring", "keys/release.pub.asc", "--keep", "usb", "--json");

        // 1. Every byte read and kept, the digest not yet confirmed: still a .part, nothing under the payload's name.
        KilledChild.killAt(folder, "dev.ingot.flash.TargetIo", "force", 1, flash);
        assertThat(part).hasSize(size);
        assertThat(payload).doesNotExist();
        assertThat(manifest).doesNotExist();
        CommandRunner.Run cached = ingot.run("flash", "v2.0", "--target", "other.img", "--keyring", "keys/release.pub.asc", "--cache", "usb",
                "--store", "no-such-store");
        assertThat(cached.exitCode()).as("a folder without a manifest is no cache").isNotZero();
        assertThat(folder.resolve("other.img")).doesNotExist();
        CommandRunner.Run rerun = run(flash.toArray(String[]::new));
        assertThat(rerun.json().get("replayed_bytes").asLong()).isEqualTo(size);
        assertThat(Files.mismatch(folder.resolve("disk.img"), folder.resolve("big.img"))).isEqualTo(-1);
        assertThat(Files.mismatch(payload, published)).isEqualTo(-1);
        assertThat(manifest).exists();
        assertThat(part).doesNotExist();

        // 2. The verified payload in place, killed before its manifest: the rerun reads it (checked again) and finishes.
        Files.delete(manifest);
        Files.delete(payload);
        KilledChild.killAt(folder, "dev.ingot.flash.FlashSources", "placeRelease", 1, flash);
        assertThat(Files.mismatch(payload, published)).isEqualTo(-1);
        assertThat(manifest).doesNotExist();
        assertThat(part).doesNotExist();
        rerun = run(flash.toArray(String[]::new));
        assertThat(rerun.json().get("replayed_bytes").asLong()).isEqualTo(size);
        assertThat(manifest).exists();
        run("flash", "v2.0", "--target", "from-cache.img", "--keyring", "keys/release.pub.asc", "--cache", "usb", "--store", "no-such-store");
        assertThat(Files.mismatch(folder.resolve("from-cache.img"), folder.resolve("big.img"))).isEqualTo(-1);

        // 3. A kept .part damaged in the middle of a range's frame: refused there, cut back, and the next run completes.
        Files.delete(manifest);
        Files.move(payload, part);
        long damaged = size / 2;
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(part, java.nio.file.StandardOpenOption.WRITE,
                java.nio.file.StandardOpenOption.READ)) {
            java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
            channel.read(one, damaged);
            channel.write(java.nio.ByteBuffer.wrap(new byte[] {(byte) (one.get(0) ^ 0x5a)}), damaged);
        }
        CommandRunner.Run refused = ingot.run(flash.toArray(String[]::new));
        assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(1);
        assertThat(Files.size(part)).isPositive().isLessThanOrEqualTo(damaged);
        assertThat(payload).doesNotExist();
        rerun = run(flash.toArray(String[]::new));
        assertThat(rerun.json().get("replayed_bytes").asLong()).isPositive().isLessThanOrEqualTo(damaged);
        assertThat(Files.mismatch(folder.resolve("disk.img"), folder.resolve("big.img"))).isEqualTo(-1);
        assertThat(Files.mismatch(payload, published)).isEqualTo(-1);
    }

    @Test
    void siteGoesWithAWholeDiskFlashNotWithASlotWrite() throws IOException {
        CommandRunner.Run refused = ingot.run("flash", "v1.4", "--target", "disk.img", "--partition", "root-b", "--site", "SITE-2847",
                "--keyring", "keys/release.pub.asc");

        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.err()).contains("--site goes with a whole-disk flash, not --partition or --slot");
        assertThat(folder.resolve("disk.img")).doesNotExist();
    }
}
