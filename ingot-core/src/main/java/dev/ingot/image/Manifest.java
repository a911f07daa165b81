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
        Signer signer) {

    public static final int SCHEMA_VERSION = 1;

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
