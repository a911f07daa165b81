package dev.ingot.image;

import static java.util.Objects.requireNonNull;

import dev.ingot.digest.Sha256;
import dev.ingot.sign.VerifiedSignature;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A release whose manifest checked out against the trusted keyring, and whose every payload set — the whole disk, and
 * each slot ({@link PayloadSet}) — has its block map pinned by that manifest (its SHA-256 matched, it parsed, it maps
 * the set's image; a slot's map agrees with the disk's ranges inside the partition) and its sha256sum file pinned and
 * in agreement with the manifest. Only {@link ReleaseVerifier} makes one: every reader — verify, pull, flash from a
 * store, a cache, a folder, loose files or URLs, cache sync, rollback, the device agent — holds one of these before it
 * uses a byte of the release, so "trusted" means the same everywhere.
 *
 * <p>What it does not vouch for yet: the payloads' (or raw images') bytes. Those are large and are checked as they
 * stream: a reader confirms {@link #payload(PayloadSet)}'s size and SHA-256 by the end of its read, and checks every
 * range against {@link #blockMap(PayloadSet)} before the range reaches a disk. The names it hands out are the
 * release's own ({@link ReleaseFiles}), already checked: safe to resolve in a folder or a store.
 */
public final class TrustedRelease {
    /** One payload set's checked parts. */
    record Parts(Manifest.Image image, List<Manifest.FileEntry> files, BlockMap blockMap, byte[] bmapBytes, byte[] checksumsBytes) {
        Parts {
            files = List.copyOf(files);
            bmapBytes = bmapBytes.clone();
            checksumsBytes = checksumsBytes.clone();
        }

        Manifest.FileEntry file(Manifest.Role role) {
            return files.stream().filter(entry -> entry.role() == role).findFirst().orElseThrow();
        }
    }

    private final ReleaseFiles files;
    private final Manifest manifest;
    private final VerifiedSignature signature;
    private final Map<PayloadSet, Parts> sets;
    private final byte[] manifestBytes;
    private final byte[] signatureBytes;

    private TrustedRelease(ReleaseFiles files, Manifest manifest, VerifiedSignature signature, Map<PayloadSet, Parts> sets,
            byte[] manifestBytes, byte[] signatureBytes) {
        this.files = requireNonNull(files, "files");
        this.manifest = requireNonNull(manifest, "manifest");
        this.signature = requireNonNull(signature, "signature");
        this.sets = new LinkedHashMap<>(sets);
        this.manifestBytes = manifestBytes.clone();
        this.signatureBytes = signatureBytes.clone();
        if (!this.sets.containsKey(PayloadSet.DISK)) {
            throw new IllegalArgumentException("a release always has the disk set");
        }
    }

    /** Only the verifier, once every check passed. */
    static TrustedRelease of(ReleaseFiles files, Manifest manifest, VerifiedSignature signature, Map<PayloadSet, Parts> sets,
            byte[] manifestBytes, byte[] signatureBytes) {
        return new TrustedRelease(files, manifest, signature, sets, manifestBytes, signatureBytes);
    }

    public ReleaseFiles files() {
        return files;
    }

    public ImageName name() {
        return files.name();
    }

    public ImageVersion version() {
        return files.version();
    }

    public Manifest manifest() {
        return manifest;
    }

    public VerifiedSignature signature() {
        return signature;
    }

    /** The payload sets: the disk first, then each slot. */
    public List<PayloadSet> sets() {
        return List.copyOf(sets.keySet());
    }

    /** The release's slots (empty for a release published before slots). */
    public List<Manifest.Slot> slots() {
        return manifest.slots();
    }

    private Parts parts(PayloadSet set) {
        Parts parts = sets.get(requireNonNull(set, "set"));
        if (parts == null) {
            throw new IllegalArgumentException(files.base() + " has no " + set + " payload");
        }
        return parts;
    }

    /** Whether the release has this payload set. */
    public boolean has(PayloadSet set) {
        return sets.containsKey(set);
    }

    /** The block map the signed manifest pins for a set: each range's SHA-256 is what a range must have before it is written. */
    public BlockMap blockMap(PayloadSet set) {
        return parts(set).blockMap();
    }

    /** The disk's block map. */
    public BlockMap blockMap() {
        return blockMap(PayloadSet.DISK);
    }

    /** The compressed payload of a set: its name, and the size and SHA-256 a full read of it must give. */
    public Manifest.FileEntry payload(PayloadSet set) {
        return parts(set).file(Manifest.Role.PAYLOAD);
    }

    /** The disk's compressed payload. */
    public Manifest.FileEntry payload() {
        return payload(PayloadSet.DISK);
    }

    public Manifest.FileEntry bmapEntry(PayloadSet set) {
        return parts(set).file(Manifest.Role.BMAP);
    }

    public Manifest.FileEntry bmap() {
        return bmapEntry(PayloadSet.DISK);
    }

    public Manifest.FileEntry checksumsEntry(PayloadSet set) {
        return parts(set).file(Manifest.Role.CHECKSUMS);
    }

    public Manifest.FileEntry checksums() {
        return checksumsEntry(PayloadSet.DISK);
    }

    /** The raw image of a set, when the release stores one. */
    public Optional<Manifest.FileEntry> raw(PayloadSet set) {
        return parts(set).files().stream().filter(entry -> entry.role() == Manifest.Role.RAW).findFirst();
    }

    public Optional<Manifest.FileEntry> raw() {
        return raw(PayloadSet.DISK);
    }

    /** The image of a set: its name, size and the SHA-256 the whole decompressed (or raw) image must have. */
    public Manifest.Image image(PayloadSet set) {
        return parts(set).image();
    }

    public Manifest.Image image() {
        return image(PayloadSet.DISK);
    }

    public Sha256 imageSha256() {
        return image().sha256();
    }

    /** The files of a set (payload, bmap, sha256sum file, raw). */
    public List<Manifest.FileEntry> files(PayloadSet set) {
        return parts(set).files();
    }

    /** The exact bytes that were verified, for a reader that keeps a copy (pull, cache, a kept download). */
    public byte[] manifestBytes() {
        return manifestBytes.clone();
    }

    public byte[] signatureBytes() {
        return signatureBytes.clone();
    }

    public byte[] bmapBytes(PayloadSet set) {
        return parts(set).bmapBytes().clone();
    }

    public byte[] bmapBytes() {
        return bmapBytes(PayloadSet.DISK);
    }

    public byte[] checksumsBytes(PayloadSet set) {
        return parts(set).checksumsBytes().clone();
    }

    public byte[] checksumsBytes() {
        return checksumsBytes(PayloadSet.DISK);
    }

    @Override
    public String toString() {
        return files.base() + " (signed by " + signature.signer() + ")";
    }
}
