package dev.ingot.flash;

import static java.util.Objects.requireNonNull;

import dev.ingot.digest.Sha256;
import dev.ingot.fetch.RangeReadable;
import dev.ingot.image.BlockMap;
import dev.ingot.image.Manifest;
import dev.ingot.image.PayloadSet;
import dev.ingot.image.TrustedRelease;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What to flash: a payload (or a raw image) from any {@link RangeReadable} — a local file, a USB cache, a folder or S3
 * store, an HTTP(S) URL — and what vouches for it.
 *
 * <p>A signed job carries its {@link TrustedRelease} (from the one trust path, {@code ReleaseVerifier.trust}): the map
 * is that release's signed block map for the {@link PayloadSet} (the whole disk, or a slot), every range is checked
 * against it before it is written, and the payload's size and SHA-256 must be the manifest's by the end of the one
 * read. A signed raw image is hashed whole before anything is written (the manifest pins the raw image's digest). An
 * unsigned job ({@code --allow-unsigned}) has only its bmap's own checksums: every range is checked in a dry pass first
 * and again before it is written.
 *
 * @param keep a folder that receives a verified copy of the payload and the release's small files ({@code --keep}, the
 *     agent's cache): the payload is teed there as it is read ({@code NAME.part}); a rerun replays that prefix and
 *     fetches only the rest; it is renamed into place, manifest last, only when its digest matched
 */
public record FlashJob(String description, BlockMap map, RangeReadable source, Format format, Optional<TrustedRelease> release,
        PayloadSet set, Optional<Path> keep) {

    /** How the source holds the image: a zstd payload (frames, as Ingot publishes, or any zstd stream) or the raw image. */
    public enum Format { ZSTD, RAW }

    public FlashJob {
        requireNonNull(description, "description");
        requireNonNull(map, "map");
        requireNonNull(source, "source");
        requireNonNull(format, "format");
        requireNonNull(release, "release");
        requireNonNull(set, "set");
        requireNonNull(keep, "keep");
        if (release.isPresent() && !release.get().blockMap(set).equals(map)) {
            throw new IllegalArgumentException("a signed job flashes with its release's own block map");
        }
        if (keep.isPresent() && (release.isEmpty() || format != Format.ZSTD)) {
            throw new IllegalArgumentException("only a signed payload can be kept");
        }
    }

    /** A signed payload: the release's payload for {@code set}, read from {@code payload}. */
    public static FlashJob signed(TrustedRelease release, PayloadSet set, RangeReadable payload) {
        return new FlashJob(release.files().base() + (set instanceof PayloadSet.Slot slot ? " (" + slot.partition() + " slot)" : ""),
                release.blockMap(set), payload, Format.ZSTD, Optional.of(release), set, Optional.empty());
    }

    /** A signed raw disk image ({@code NAME-VERSION.img} beside its signed manifest). */
    public static FlashJob signedRaw(TrustedRelease release, RangeReadable image) {
        return new FlashJob(release.files().rawImage(), release.blockMap(PayloadSet.DISK), image, Format.RAW, Optional.of(release),
                PayloadSet.DISK, Optional.empty());
    }

    /** An image no manifest vouches for ({@code --allow-unsigned}): only its bmap's checksums. */
    public static FlashJob unsigned(BlockMap map, RangeReadable source, Format format, String description) {
        return new FlashJob(description + " (unsigned)", map, source, format, Optional.empty(), PayloadSet.DISK, Optional.empty());
    }

    /** The same job, keeping a verified copy of the payload in {@code folder} (and resuming from what a killed run left there). */
    public FlashJob keepingIn(Path folder) {
        return new FlashJob(description, map, source, format, release, set, Optional.of(folder));
    }

    /** The signed payload entry (name, size, SHA-256) of a signed zstd job. */
    Optional<Manifest.FileEntry> payloadEntry() {
        return format == Format.ZSTD ? release.map(trusted -> trusted.payload(set)) : Optional.empty();
    }

    /** The SHA-256 a signed raw image must have, hashed before anything is written. */
    Optional<Sha256> rawImageSha256() {
        return format == Format.RAW ? release.map(TrustedRelease::imageSha256) : Optional.empty();
    }

    /** The size of the image this job writes. */
    public long imageSize() {
        return map.imageSize();
    }
}
