package dev.ingot.flash;

import dev.ingot.digest.DigestingOutputStream;
import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.BlockMap;
import dev.ingot.image.BmapXml;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.Manifest;
import dev.ingot.image.ManifestJson;
import dev.ingot.image.ReleaseFiles;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.store.ArtifactStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * Where a flash gets its image from, each checked before the flasher may write: a folder of release
 * files (a USB cache, a pulled copy), a store (downloaded into a work folder, hashed on the way), or
 * loose files ({@code edge.img.zst} + its bmap, with the signed manifest beside them or, on request,
 * without).
 */
public final class FlashSources {
    private FlashSources() {}

    /** A release in a flat folder: the manifest's signature, the bmap's digest and the payload's size are checked now, the payload's digest before writing. */
    public static Flasher.Source fromReleaseFolder(Path folder, ImageName name, ImageVersion version, Keyring keyring) {
        ReleaseFiles files = new ReleaseFiles(name, version);
        String what = "use " + files.base() + " from " + folder;
        Manifest manifest = verifiedManifest(folder.resolve(files.manifest()), folder.resolve(files.signature()), keyring, what);
        if (!manifest.name().equals(name) || !manifest.version().equals(version)) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, what, "its manifest describes " + manifest.name() + " " + manifest.version());
        }
        Manifest.FileEntry bmapEntry = manifest.file(Manifest.Role.BMAP).orElseThrow(() -> missingRole(what, "bmap"));
        Manifest.FileEntry payloadEntry = manifest.file(Manifest.Role.PAYLOAD).orElseThrow(() -> missingRole(what, "payload"));
        byte[] bmap = read(folder.resolve(bmapEntry.name()), what);
        Sha256 bmapSha256 = Sha256.of(bmap);
        if (!bmapSha256.equals(bmapEntry.sha256())) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, what, bmapEntry.name() + " has SHA-256 " + bmapSha256
                    + " but the signed manifest says " + bmapEntry.sha256() + "; nothing was written");
        }
        BlockMap map = mapFor(manifest, BmapXml.parse(bmap, bmapEntry.name()), what);
        Path payload = folder.resolve(payloadEntry.name());
        checkSize(payload, payloadEntry.size(), what);
        return new Flasher.Source(payload, true, map, Optional.of(payloadEntry.sha256()), true, files.base());
    }

    /**
     * Loose files: {@code payload} is {@code NAME.img.zst} or {@code NAME.img}; the bmap is {@code bmap}
     * or {@code NAME.img.bmap} beside it; the manifest {@code NAME.manifest.json} (+ .asc) beside it is
     * checked against {@code keyring}. Without a manifest, {@code allowUnsigned} must be set: then only
     * the bmap's own checksums vouch for the data, and every range is checked before the first write.
     */
    public static Flasher.Source fromFiles(Path payload, Optional<Path> bmapFile, Optional<Keyring> keyring, boolean allowUnsigned) {
        String what = "flash " + payload;
        if (!Files.isRegularFile(payload)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, payload + " does not exist or is not a file");
        }
        String fileName = payload.getFileName().toString();
        boolean compressed = fileName.endsWith(".zst");
        String imageName = compressed ? fileName.substring(0, fileName.length() - 4) : fileName;
        String base = imageName.endsWith(".img") ? imageName.substring(0, imageName.length() - 4) : imageName;
        Path bmapPath = bmapFile.orElse(payload.resolveSibling(imageName + ".bmap"));
        if (!Files.isRegularFile(bmapPath)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "there is no block map " + bmapPath)
                    .withHint("pass --bmap FILE (make one with: bmaptool create " + imageName + " > " + imageName + ".bmap)");
        }
        byte[] bmap = read(bmapPath, what);
        BlockMap map = BmapXml.parse(bmap, bmapPath.getFileName().toString());
        Path manifestPath = payload.resolveSibling(base + ".manifest.json");
        Path signaturePath = payload.resolveSibling(base + ".manifest.json.asc");
        if (!Files.exists(manifestPath)) {
            if (!allowUnsigned) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, what, "there is no signed manifest " + manifestPath.getFileName() + " beside it")
                        .withHint("flash a published release (ingot flash VERSION, or files from ingot image pull), "
                                + "or pass --allow-unsigned to trust only the bmap's checksums");
            }
            return new Flasher.Source(payload, compressed, map, Optional.empty(), false, fileName + " (unsigned)");
        }
        if (keyring.isEmpty()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "its manifest is signed but no --keyring was given")
                    .withHint("pass --keyring keys/signing-key.pub.asc (or --allow-unsigned to skip the signature)");
        }
        Manifest manifest = verifiedManifest(manifestPath, signaturePath, keyring.get(), what);
        map = mapFor(manifest, map, what);
        boolean mapIsSigned = manifest.file(Manifest.Role.BMAP).map(entry -> entry.sha256().equals(Sha256.of(bmap))).orElse(false);
        Optional<Sha256> payloadSha256 = Optional.empty();
        if (compressed) {
            Manifest.FileEntry entry = manifest.file(Manifest.Role.PAYLOAD).filter(candidate -> candidate.name().equals(fileName))
                    .orElseThrow(() -> IngotException.tried(ErrorCode.CHECK_FAILED, what, "the signed manifest does not list " + fileName));
            checkSize(payload, entry.size(), what);
            payloadSha256 = Optional.of(entry.sha256());
        } else if (!manifest.image().file().equals(fileName)) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, what, "the signed manifest describes " + manifest.image().file() + ", not " + fileName);
        }
        // A raw image's bytes are vouched for range by range through the signed bmap (or a dry pass over a foreign one).
        return new Flasher.Source(payload, compressed, map, payloadSha256, mapIsSigned, fileName);
    }

    /**
     * Downloads a release's manifest and signature (checked at once), then its bmap and payload (each
     * hashed on the way and checked) into {@code workFolder}; returns the folder, ready for
     * {@link #fromReleaseFolder}. Files already there with the right digest are not fetched again.
     */
    public static Path download(ArtifactStore store, ImageName name, ImageVersion version, Keyring keyring, Path workFolder,
            Progress progress) {
        ReleaseFiles files = new ReleaseFiles(name, version);
        String what = "fetch " + files.base() + " from " + store.describe();
        try {
            Files.createDirectories(workFolder);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "the work folder " + workFolder + " cannot be made: " + e.getMessage());
        }
        byte[] manifestBytes = store.read(ReleaseFiles.STORE_FOLDER + files.manifest()).map(ArtifactStore.VersionedBytes::content)
                .orElseThrow(() -> IngotException.tried(ErrorCode.NOT_FOUND, what, version + " is not published there")
                        .withHint("`ingot image list` shows what is"));
        byte[] signature = store.read(ReleaseFiles.STORE_FOLDER + files.signature()).map(ArtifactStore.VersionedBytes::content)
                .orElseThrow(() -> IngotException.tried(ErrorCode.CHECK_FAILED, what, "its signature is missing"));
        keyring.verify(manifestBytes, signature, files.manifest());
        Manifest manifest = ManifestJson.parse(manifestBytes, files.manifest());
        for (Manifest.Role role : new Manifest.Role[] {Manifest.Role.BMAP, Manifest.Role.PAYLOAD}) {
            Manifest.FileEntry entry = manifest.file(role).orElseThrow(() -> missingRole(what, role.json()));
            fetch(store, ReleaseFiles.STORE_FOLDER + entry.name(), workFolder.resolve(entry.name()), entry, what, progress);
        }
        writeAtomically(workFolder.resolve(files.signature()), signature, what);
        writeAtomically(workFolder.resolve(files.manifest()), manifestBytes, what);
        return workFolder;
    }

    private static void fetch(ArtifactStore store, String key, Path target, Manifest.FileEntry entry, String what, Progress progress) {
        try {
            if (Files.isRegularFile(target) && Files.size(target) == entry.size()) {
                // A resumed fetch keeps a complete, intact file; a damaged one is fetched again (else every retry would fail on it).
                try (InputStream existing = Files.newInputStream(target)) {
                    if (new dev.ingot.digest.DigestingInputStream(existing).drainAndDigest().equals(entry.sha256())) {
                        return;
                    }
                }
            }
            Path partial = target.resolveSibling(target.getFileName() + ".part");
            progress.start("fetch " + entry.name(), entry.size());
            try (InputStream in = store.open(key); OutputStream file = Files.newOutputStream(partial)) {
                DigestingOutputStream out = new DigestingOutputStream(file);
                byte[] buffer = new byte[1 << 20];
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    out.write(buffer, 0, n);
                    progress.advance(n);
                }
                out.flush();
                Sha256 actual = out.sha256();
                if (out.count() != entry.size() || !actual.equals(entry.sha256())) {
                    Files.deleteIfExists(partial);
                    throw IngotException.tried(ErrorCode.CHECK_FAILED, what, key + " arrived as " + out.count() + " bytes with SHA-256 "
                            + actual + "; the signed manifest says " + entry.size() + " bytes, " + entry.sha256());
                }
            } finally {
                progress.done();
            }
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "downloading " + key + " failed: " + e.getMessage()).withCause(e);
        }
    }

    private static Manifest verifiedManifest(Path manifestPath, Path signaturePath, Keyring keyring, String what) {
        byte[] manifestBytes = read(manifestPath, what);
        if (!Files.exists(signaturePath)) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, what, "the manifest's signature " + signaturePath.getFileName() + " is missing");
        }
        keyring.verify(manifestBytes, read(signaturePath, what), manifestPath.getFileName().toString());
        return ManifestJson.parse(manifestBytes, manifestPath.getFileName().toString());
    }

    private static BlockMap mapFor(Manifest manifest, BlockMap map, String what) {
        if (map.imageSize() != manifest.image().size()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "the block map is for a " + map.imageSize() + "-byte image but the release's image is "
                    + manifest.image().size() + " bytes (the bmap belongs to another image); nothing was written");
        }
        return map;
    }

    private static void checkSize(Path file, long expected, String what) {
        try {
            long size = Files.size(file);
            if (size != expected) {
                throw IngotException.tried(ErrorCode.CHECK_FAILED, what, file.getFileName() + " is " + size + " bytes but the signed manifest says "
                        + expected + " (truncated or replaced); nothing was written");
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, file + " cannot be read (" + e.getMessage() + ")");
        }
    }

    private static byte[] read(Path file, String what) {
        try {
            return Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, file + " does not exist");
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, file + " cannot be read (" + e.getMessage() + ")");
        }
    }

    private static void writeAtomically(Path target, byte[] content, String what) {
        try {
            Path temp = target.resolveSibling(target.getFileName() + ".part");
            Files.write(temp, content);
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "writing " + target + " failed: " + e.getMessage());
        }
    }

    private static IngotException missingRole(String what, String role) {
        return IngotException.tried(ErrorCode.CHECK_FAILED, what, "the signed manifest lists no " + role + " file");
    }
}
