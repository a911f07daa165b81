package dev.ingot.image;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.IngotException;
import java.util.Optional;

/**
 * The file names of one release, as the old runbook knows them:
 * {@code edge-golden-v1.4.img.zst}, {@code .img.bmap}, {@code .sha256}, {@code .manifest.json},
 * {@code .manifest.json.asc}, and optionally the raw {@code .img}. In a store they sit under
 * {@link #STORE_FOLDER}; in a pulled copy or a USB cache, flat in one folder.
 */
public record ReleaseFiles(ImageName name, ImageVersion version) {
    public static final String STORE_FOLDER = "golden-images/";

    public ReleaseFiles {
        requireNonNull(name, "name");
        requireNonNull(version, "version");
    }

    public String base() {
        return name + "-" + version;
    }

    public String rawImage() {
        return base() + ".img";
    }

    public String payload() {
        return base() + ".img.zst";
    }

    public String bmap() {
        return base() + ".img.bmap";
    }

    public String checksums() {
        return base() + ".sha256";
    }

    public String manifest() {
        return base() + ".manifest.json";
    }

    public String signature() {
        return base() + ".manifest.json.asc";
    }

    /** The one name a file of {@code role} has in this release. */
    public String nameFor(Manifest.Role role) {
        return nameFor(PayloadSet.DISK, role);
    }

    /**
     * The one name a file of {@code role} of a payload set has: the disk's ({@code edge-golden-v1.5.img.zst}), or a
     * slot's, the partition's name before the suffix ({@code edge-golden-v1.5.root-a.img.zst}, {@code .root-a.sha256}).
     */
    public String nameFor(PayloadSet set, Manifest.Role role) {
        String stem = switch (set) {
            case PayloadSet.Disk disk -> base();
            case PayloadSet.Slot slot -> base() + "." + slot.partition();
        };
        return switch (role) {
            case PAYLOAD -> stem + ".img.zst";
            case BMAP -> stem + ".img.bmap";
            case CHECKSUMS -> stem + ".sha256";
            case RAW -> stem + ".img";
        };
    }

    /**
     * Why a file name taken from a manifest must not be used, or empty when it is this release's own name for
     * its role. The one check every reader applies before a manifest's name touches a path or a store key:
     * no folder, no hidden or relative name, nothing but {@code NAME-VERSION} and the role's suffix.
     */
    public Optional<String> problemWith(String fileName, Manifest.Role role) {
        return problemWith(fileName, PayloadSet.DISK, role);
    }

    /** As {@link #problemWith(String, Manifest.Role)}, for a file of a payload set (the disk's or a slot's). */
    public Optional<String> problemWith(String fileName, PayloadSet set, Manifest.Role role) {
        if (fileName.isEmpty() || fileName.contains("/") || fileName.contains("\\") || fileName.startsWith(".")
                || fileName.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            return Optional.of("it names the unsafe file '" + fileName.replace("\n", "\\n") + "'");
        }
        if (!fileName.equals(nameFor(set, role))) {
            return Optional.of("it names the " + (set instanceof PayloadSet.Slot slot ? slot.partition() + " " : "") + role.json() + " '"
                    + fileName + "', not " + nameFor(set, role) + " (only the release's own names are used)");
        }
        return Optional.empty();
    }

    /**
     * The release a file's base name stands for ({@code edge-golden-v1.4} → edge-golden, v1.4), when the name
     * splits into a valid image name and version; the signed manifest must then say the same.
     */
    public static Optional<ReleaseFiles> fromBase(String base) {
        for (int dash = base.indexOf("-v"); dash > 0; dash = base.indexOf("-v", dash + 1)) {
            try {
                return Optional.of(new ReleaseFiles(new ImageName(base.substring(0, dash)), ImageVersion.parse(base.substring(dash + 1))));
            } catch (IngotException e) {
                // not this dash: try the next
            }
        }
        return Optional.empty();
    }

    /** The store key of the known-good document of an image line. */
    public static String knownGoodKey(ImageName name) {
        return STORE_FOLDER + name + ".known-good.json";
    }
}
