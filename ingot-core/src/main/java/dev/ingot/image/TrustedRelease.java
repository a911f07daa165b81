package dev.ingot.image;

import static java.util.Objects.requireNonNull;

import dev.ingot.digest.Sha256;
import dev.ingot.sign.VerifiedSignature;
import java.util.Optional;

/**
 * A release whose manifest checked out against the trusted keyring, whose block map is the one that manifest pins
 * (its SHA-256 matched, it parsed, it maps the manifest's image), and whose sha256sum file is the pinned one and
 * agrees with the manifest. Only {@link ReleaseVerifier} makes one: every
 * reader — verify, pull, flash from a store, a cache, a folder or loose files, cache sync, rollback, the agent to
 * come — holds one of these before it uses a byte of the release, so "trusted" means the same everywhere.
 *
 * <p>What it does not vouch for yet: the payload's (or raw image's) bytes. Those are large and are checked as
 * they stream: a reader confirms {@link #payload()}'s size and SHA-256 by the end of its read, and checks every
 * range against {@link #blockMap()} before the range reaches a disk. The names it hands out are the release's own
 * ({@link ReleaseFiles}), already checked: safe to resolve in a folder or a store.
 */
public final class TrustedRelease {
    private final ReleaseFiles files;
    private final Manifest manifest;
    private final VerifiedSignature signature;
    private final BlockMap blockMap;
    private final byte[] manifestBytes;
    private final byte[] signatureBytes;
    private final byte[] bmapBytes;
    private final byte[] checksumsBytes;

    private TrustedRelease(ReleaseFiles files, Manifest manifest, VerifiedSignature signature, BlockMap blockMap,
            byte[] manifestBytes, byte[] signatureBytes, byte[] bmapBytes, byte[] checksumsBytes) {
        this.files = requireNonNull(files, "files");
        this.manifest = requireNonNull(manifest, "manifest");
        this.signature = requireNonNull(signature, "signature");
        this.blockMap = requireNonNull(blockMap, "blockMap");
        this.manifestBytes = manifestBytes.clone();
        this.signatureBytes = signatureBytes.clone();
        this.bmapBytes = bmapBytes.clone();
        this.checksumsBytes = checksumsBytes.clone();
    }

    /** Only the verifier, once every check passed. */
    static TrustedRelease of(ReleaseFiles files, Manifest manifest, VerifiedSignature signature, BlockMap blockMap,
            byte[] manifestBytes, byte[] signatureBytes, byte[] bmapBytes, byte[] checksumsBytes) {
        return new TrustedRelease(files, manifest, signature, blockMap, manifestBytes, signatureBytes, bmapBytes, checksumsBytes);
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

    /** The block map the signed manifest pins: each range's SHA-256 is what a range must have before it is written. */
    public BlockMap blockMap() {
        return blockMap;
    }

    /** The compressed payload: its name, and the size and SHA-256 a full read of it must give. */
    public Manifest.FileEntry payload() {
        return manifest.file(Manifest.Role.PAYLOAD).orElseThrow();
    }

    public Manifest.FileEntry bmap() {
        return manifest.file(Manifest.Role.BMAP).orElseThrow();
    }

    public Manifest.FileEntry checksums() {
        return manifest.file(Manifest.Role.CHECKSUMS).orElseThrow();
    }

    /** The raw image, when the release stores one. */
    public Optional<Manifest.FileEntry> raw() {
        return manifest.file(Manifest.Role.RAW);
    }

    /** The raw image: its name, size and the SHA-256 the whole decompressed (or raw) image must have. */
    public Manifest.Image image() {
        return manifest.image();
    }

    public Sha256 imageSha256() {
        return manifest.image().sha256();
    }

    /** The exact bytes that were verified, for a reader that keeps a copy (pull, cache, a flash's work folder). */
    public byte[] manifestBytes() {
        return manifestBytes.clone();
    }

    public byte[] signatureBytes() {
        return signatureBytes.clone();
    }

    public byte[] bmapBytes() {
        return bmapBytes.clone();
    }

    public byte[] checksumsBytes() {
        return checksumsBytes.clone();
    }

    @Override
    public String toString() {
        return files.base() + " (signed by " + signature.signer() + ")";
    }
}
