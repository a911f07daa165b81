package dev.ingot.image;

import static java.util.Objects.requireNonNull;

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

    /** The store key of the known-good document of an image line. */
    public static String knownGoodKey(ImageName name) {
        return STORE_FOLDER + name + ".known-good.json";
    }
}
