package dev.ingot.provision;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.flash.FlashTarget;
import dev.ingot.flash.SystemView;
import dev.ingot.health.EdgeFiles;
import dev.ingot.imagetest.Ext4Partition;
import dev.ingot.image.GptTable;
import dev.ingot.site.SiteId;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Which site a flashed disk belongs to, written onto the disk itself so that its first boot provisions it with nobody
 * typing anything: {@code SITE_ID=SITE-2847} in {@value #FILE} of the GPT partition named {@value #PARTITION}, which the
 * device mounts at /data ({@value #ON_DEVICE}; deploy/ingot-first-boot.sh reads it). The data partition rather than a
 * root slot, because a root slot is the image's own (an A/B update replaces it) while the data partition is the device's;
 * and rather than the FAT ESP, because debugfs writes ext4 without mounting and no FAT tool is needed. Written with
 * {@code debugfs -w} at the partition's offset ({@link Ext4Partition}), after the flash, and read back.
 */
public final class SiteIdentity {
    public static final String PARTITION = "data";
    /** The file inside the data partition's file system. */
    public static final String FILE = "/ingot/provision.env";
    /** The same file as the device sees it. */
    public static final String ON_DEVICE = "/data" + FILE;

    private SiteIdentity() {}

    /** What was written where, and the identity it replaced (an image or an earlier write may have left one). */
    public record Written(SiteId site, Path disk, GptTable.Partition partition, Optional<SiteId> replaced) {}

    /** The file's content: the same KEY=VALUE form as /etc/edge/provision.env (deploy/examples/provision.env). */
    public static String render(SiteId site) {
        return render(site, Optional.empty(), Optional.empty());
    }

    /**
     * The file's content with what provisioning used besides the site: the parameter source when it is not the default
     * (ssm:) and the site's AWS region, so that a root slot written by an A/B update, which holds no site file, provisions
     * itself at its first boot as the slot before it was ({@link Provisioner} writes it at every provisioning).
     */
    public static String render(SiteId site, Optional<String> params, Optional<String> region) {
        return "# Written by `ingot flash|rollback --site` and by every `ingot provision`: the site this device provisions itself\n"
                + "# for at the first boot of a root slot (deploy/ingot-first-boot.sh). /etc/edge/provision.env, when present, takes\n"
                + "# precedence.\n"
                + "SITE_ID=" + site.value() + "\n"
                + params.map(value -> "INGOT_PARAMS=" + value + "\n").orElse("")
                + region.map(value -> "AWS_REGION=" + value + "\n").orElse("");
    }

    /** The site a file of this form names, when it names a valid one. */
    public static Optional<SiteId> parse(String text) {
        String value = EdgeFiles.environment(text).getOrDefault("SITE_ID", "");
        try {
            return value.isEmpty() ? Optional.empty() : Optional.of(new SiteId(value));
        } catch (IngotException e) {
            return Optional.empty();
        }
    }

    /**
     * Refuses, before anything is written, a target the identity cannot go onto: a partition (the image is a whole disk;
     * its data partition would be inside the partition written to), or a machine without debugfs.
     */
    public static void checkTarget(FlashTarget target, SystemView system, Map<String, String> environment) {
        String what = "write the site identity onto " + target.path();
        if (target.kind() == FlashTarget.Kind.BLOCK_DEVICE && target.device().flatMap(system::sysfsFolder)
                .filter(folder -> Files.exists(folder.resolve("partition"))).isPresent()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "it is a partition, and a golden image is a whole disk with its own "
                    + "partition table").withHint("name the disk itself (lsblk -d: /dev/nvme0n1, not /dev/nvme0n1p4)");
        }
        if (Ext4Partition.debugfs(environment).isEmpty()) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "debugfs is not installed (not on PATH " + environment.get("PATH") + ")")
                    .withHint("install e2fsprogs (apt-get install e2fsprogs), or leave out --site and provision by hand after the boot");
        }
    }

    /**
     * Writes the identity onto the flashed {@code disk} (a block device or an image file) and reads it back. A disk whose
     * image has no data partition with a clean ext4 file system on it fails (exit 1 or 3) with a hint that says the disk is
     * flashed all the same, and how to provision it by hand.
     */
    public static Written write(Path disk, SiteId site, Map<String, String> environment) {
        try {
            GptTable.Partition partition = Ext4Partition.locate(disk, PARTITION);
            Optional<SiteId> before = previous(disk, environment);
            Ext4Partition.writeFile(disk, PARTITION, FILE, render(site).getBytes(StandardCharsets.UTF_8), 0644, environment);
            return new Written(site, disk, partition, before.filter(previous -> !previous.equals(site)));
        } catch (IngotException e) {
            throw e.withHint(e.hint().map(hint -> hint + "; ").orElse("") + "the disk itself is flashed, without " + site
                    + "'s identity: " + byHand(site));
        }
    }

    /**
     * Why the image on {@code disk} cannot carry an identity at all (no GPT, no partition named data: an image built before
     * the golden layout), or empty when it has the layout. Reads the partition table only.
     */
    public static Optional<String> layoutProblem(Path disk) {
        try {
            GptTable table = GptTable.read(disk);
            if (table.partition(PARTITION).isEmpty()) {
                return Optional.of("the image has no '" + PARTITION + "' partition (its GPT names "
                        + table.partitions().stream().map(p -> "'" + p.name() + "'").toList() + ")");
            }
            return Optional.empty();
        } catch (IngotException e) {
            return Optional.of("the image has no GPT partition table");
        }
    }

    /** The identity already there, to report what is replaced; anything but a readable file there (a link) names none. */
    private static Optional<SiteId> previous(Path disk, Map<String, String> environment) {
        try {
            return read(disk, environment);
        } catch (IngotException e) {
            // writeFile decides what may be replaced: it removes a link or file there and refuses a folder.
            return Optional.empty();
        }
    }

    /** The identity on {@code disk}, if it has one. */
    public static Optional<SiteId> read(Path disk, Map<String, String> environment) {
        return Ext4Partition.readFile(disk, PARTITION, FILE, environment).map(bytes -> new String(bytes, StandardCharsets.UTF_8))
                .flatMap(SiteIdentity::parse);
    }

    private static String byHand(SiteId site) {
        return "after the boot run SITE_ID=" + site + " bash /opt/edge/provision_site.sh (or put SITE_ID=" + site
                + " into /etc/edge/provision.env)";
    }
}
