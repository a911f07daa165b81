package dev.ingot.image;

import static java.util.Objects.requireNonNull;

import dev.ingot.digest.Sha256;
import dev.ingot.sign.Fingerprint;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a release is: the signed statement that binds a version to the exact bytes of its files.
 * Its JSON form is in {@link ManifestJson}; docs/formats.md describes it.
 */
public record Manifest(
        ImageName name,
        ImageVersion version,
        Instant buildDate,
        String imageVersionFile,
        Image image,
        List<FileEntry> files,
        Compression compression,
        Optional<Source> source,
        Signer signer,
        List<Slot> slots) {

    public static final int SCHEMA_VERSION = 1;

    /** A release without slot payloads (as every release before slots was). */
    public Manifest(ImageName name, ImageVersion version, Instant buildDate, String imageVersionFile, Image image, List<FileEntry> files,
            Compression compression, Optional<Source> source, Signer signer) {
        this(name, version, buildDate, imageVersionFile, image, files, compression, source, signer, List.of());
    }

    public Manifest {
        requireNonNull(name, "name");
        requireNonNull(version, "version");
        requireNonNull(buildDate, "buildDate");
        requireNonNull(imageVersionFile, "imageVersionFile");
        requireNonNull(image, "image");
        files = List.copyOf(files);
        requireNonNull(compression, "compression");
        requireNonNull(source, "source");
        requireNonNull(signer, "signer");
        slots = List.copyOf(slots);
    }

    /**
     * One partition's own payload set ({@code root-a}): the partition as the disk's GPT describes it, its image (the
     * partition's bytes), its files (payload, bmap, sha256sum file, optionally raw), and where its frames sit inside the
     * disk payload (the same frames, byte for byte). An optional manifest field: readers before slots ignore it.
     */
    public record Slot(Partition partition, Image image, List<FileEntry> files, Optional<ByteRange> diskPayloadBytes) {
        public Slot {
            requireNonNull(partition, "partition");
            requireNonNull(image, "image");
            files = List.copyOf(files);
            requireNonNull(diskPayloadBytes, "diskPayloadBytes");
        }

        public Optional<FileEntry> file(Role role) {
            return files.stream().filter(entry -> entry.role() == role).findFirst();
        }
    }

    /** A GPT partition entry (UEFI 2.10 §5.3.3): name, number, first and last LBA, sector size, type and unique GUIDs. */
    public record Partition(String name, int number, long firstLba, long lastLba, int sectorSize, String typeGuid, String uniqueGuid) {
        public long offset() {
            return firstLba * sectorSize;
        }

        public long size() {
            return (lastLba - firstLba + 1) * sectorSize;
        }
    }

    /** A byte range of a file. */
    public record ByteRange(long offset, long length) {}

    /** Every file of the release: the disk's, then each slot's. */
    public List<FileEntry> allFiles() {
        List<FileEntry> all = new java.util.ArrayList<>(files);
        slots.forEach(slot -> all.addAll(slot.files()));
        return List.copyOf(all);
    }

    /** The slot of a partition name. */
    public Optional<Slot> slot(String partition) {
        return slots.stream().filter(slot -> slot.partition().name().equals(partition)).findFirst();
    }

    /** The raw disk image the release stands for. */
    public record Image(String file, long size, Sha256 sha256, int blockSize, long blocksCount, long mappedBlocksCount,
            long mappedBytes) {
        public double mappedPercent() {
            return size == 0 ? 0 : 100.0 * mappedBytes / size;
        }
    }

    /** One stored file of the release and its digest. */
    public record FileEntry(String name, Role role, long size, Sha256 sha256) {}

    public enum Role {
        PAYLOAD("payload"),
        BMAP("bmap"),
        CHECKSUMS("checksums"),
        RAW("raw");

        private final String json;

        Role(String json) {
            this.json = json;
        }

        public String json() {
            return json;
        }

        public static Optional<Role> fromJson(String text) {
            for (Role role : values()) {
                if (role.json.equals(text)) {
                    return Optional.of(role);
                }
            }
            return Optional.empty();
        }
    }

    public record Compression(String algorithm, int level) {}

    /** Where the image came from, when the builder said: template commit, pinned package versions, notes. */
    public record Source(Optional<String> templateCommit, Map<String, String> packages, Optional<String> notes) {
        public Source {
            packages = Map.copyOf(packages);
        }
    }

    public record Signer(Fingerprint fingerprint, String userId) {}

    public Optional<FileEntry> file(Role role) {
        return files.stream().filter(entry -> entry.role() == role).findFirst();
    }

    /** The content {@code /etc/edge/image-version} holds inside an image of this release. */
    public static String imageVersionFile(ImageName name, ImageVersion version, Instant buildDate) {
        return "IMAGE_NAME=" + name + "\nIMAGE_VERSION=" + version + "\nBUILD_DATE=" + buildDate + "\n";
    }
}
