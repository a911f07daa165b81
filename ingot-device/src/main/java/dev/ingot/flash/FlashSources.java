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
import dev.ingot.image.ReleaseFiles;
import dev.ingot.image.ReleaseVerifier;
import dev.ingot.image.TrustedRelease;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.store.ArtifactStore;
import dev.ingot.store.FolderStore;
import dev.ingot.store.WorkFolder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Optional;

/**
 * Where a flash gets its image from. Every signed source is a {@link TrustedRelease} from {@link ReleaseVerifier#trust}
 * (the one trust path) plus the file holding its payload or raw image: a folder of release files (a USB cache, a pulled
 * copy, a store download), or loose files ({@code NAME-VERSION.img.zst} or {@code NAME-VERSION.img}) with the signed
 * manifest beside them. Only {@code --allow-unsigned} flashes what no manifest vouches for.
 */
public final class FlashSources {
    private FlashSources() {}

    /** A release in a flat folder: trusted from the folder's own manifest, signature and bmap; the payload checked as it streams. */
    public static Flasher.Source fromReleaseFolder(Path folder, ImageName name, ImageVersion version, Keyring keyring) {
        TrustedRelease release = new ReleaseVerifier(keyring, Progress.NONE).trust(new FolderStore(folder), "", name, version);
        Path payload = folder.resolve(release.payload().name());
        checkFile(payload, release.payload().size(), "flash " + release.files().base() + " from " + folder);
        return Flasher.Source.signed(release, payload, true, release.files().base());
    }

    /**
     * Loose files: {@code file} is {@code NAME-VERSION.img.zst} or {@code NAME-VERSION.img}. With the signed manifest
     * beside it ({@code NAME-VERSION.manifest.json} + .asc), the release is trusted from that folder, and the file must
     * be the release's payload or raw image; its block map is the one the manifest pins (a {@code --bmap} that is not
     * that file is refused: a re-made map vouches for nothing). Without a manifest, {@code allowUnsigned} must be set:
     * then only the bmap's own checksums vouch for the data, and every range is checked before it is written.
     */
    public static Flasher.Source fromFiles(Path file, Optional<Path> bmapFile, Optional<Keyring> keyring, boolean allowUnsigned) {
        String what = "flash " + file;
        if (!Files.isRegularFile(file)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, file + " does not exist or is not a file");
        }
        String fileName = file.getFileName().toString();
        boolean compressed = fileName.endsWith(".zst");
        String imageName = compressed ? fileName.substring(0, fileName.length() - 4) : fileName;
        String base = imageName.endsWith(".img") ? imageName.substring(0, imageName.length() - 4) : imageName;
        Path folder = file.toAbsolutePath().getParent();
        Optional<ReleaseFiles> release = ReleaseFiles.fromBase(base);
        if (release.isPresent() && Files.exists(folder.resolve(release.get().manifest()), LinkOption.NOFOLLOW_LINKS)) {
            if (keyring.isEmpty()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, what, "its manifest is signed but no --keyring was given")
                        .withHint("pass --keyring keys/signing-key.pub.asc; --allow-unsigned does not skip a signed manifest's checks");
            }
            TrustedRelease trusted = new ReleaseVerifier(keyring.get(), Progress.NONE)
                    .trust(new FolderStore(folder), "", release.get().name(), release.get().version());
            String expected = compressed ? trusted.payload().name() : trusted.files().rawImage();
            if (!fileName.equals(expected)) {
                throw IngotException.tried(ErrorCode.CHECK_FAILED, what, "the signed manifest beside it describes " + expected + ", not " + fileName);
            }
            if (bmapFile.isPresent() && !Arrays.equals(read(bmapFile.get(), what), trusted.bmapBytes())) {
                throw IngotException.tried(ErrorCode.CHECK_FAILED, what, bmapFile.get().getFileName() + " is not the block map the signed manifest "
                                + "vouches for (" + trusted.bmap().name() + "); nothing was written")
                        .withHint("drop --bmap: a signed release is flashed with its own block map (a re-made one vouches for nothing)");
            }
            checkFile(file, compressed ? trusted.payload().size() : trusted.image().size(), what);
            return Flasher.Source.signed(trusted, file, compressed, fileName);
        }
        if (!allowUnsigned) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "there is no signed manifest " + base + ".manifest.json beside it")
                    .withHint("flash a published release (ingot flash VERSION, or files from ingot image pull), "
                            + "or pass --allow-unsigned to trust only the bmap's checksums");
        }
        Path bmapPath = bmapFile.orElse(file.resolveSibling(imageName + ".bmap"));
        if (!Files.isRegularFile(bmapPath)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "there is no block map " + bmapPath)
                    .withHint("pass --bmap FILE (make one with: bmaptool create " + imageName + " > " + imageName + ".bmap)");
        }
        BlockMap map = BmapXml.parse(read(bmapPath, what), bmapPath.getFileName().toString());
        return Flasher.Source.unsigned(file, compressed, map, fileName + " (unsigned)");
    }

    /**
     * A published version from a store: trusted from the store's manifest, signature and bmap, then its payload fetched
     * into {@code workFolder} (hashed on the way), and the copy trusted again from the folder. A payload already there
     * is reused only when it verifies again; files are created exclusively and renamed into place, never through a link.
     */
    public static Flasher.Source fromStore(ArtifactStore store, ImageName name, ImageVersion version, Keyring keyring, WorkFolder workFolder,
            Progress progress) {
        ReleaseFiles files = new ReleaseFiles(name, version);
        String what = "fetch " + files.base() + " from " + store.describe();
        TrustedRelease trusted = new ReleaseVerifier(keyring, progress).trust(store, ReleaseFiles.STORE_FOLDER, name, version);
        Path folder = workFolder.folder("flash", files.base());
        Manifest.FileEntry payload = trusted.payload();
        fetch(store, ReleaseFiles.STORE_FOLDER + payload.name(), folder.resolve(payload.name()), payload, what, progress);
        place(folder, files.bmap(), trusted.bmapBytes(), what);
        place(folder, files.checksums(), trusted.checksumsBytes(), what);
        place(folder, files.signature(), trusted.signatureBytes(), what);
        place(folder, files.manifest(), trusted.manifestBytes(), what);
        return fromReleaseFolder(folder, name, version, keyring);
    }

    private static void fetch(ArtifactStore store, String key, Path target, Manifest.FileEntry entry, String what, Progress progress) {
        try {
            if (WorkFolder.isPlainFile(target) && Files.size(target) == entry.size()) {
                // A download kept from an earlier run is used only if it still has the signed digest; else fetched again.
                try (InputStream existing = Files.newInputStream(target, LinkOption.NOFOLLOW_LINKS)) {
                    if (new dev.ingot.digest.DigestingInputStream(existing).drainAndDigest().equals(entry.sha256())) {
                        return;
                    }
                }
            }
            Path partial = WorkFolder.newFile(target.getParent(), target.getFileName().toString());
            progress.start("fetch " + entry.name(), entry.size());
            try (InputStream in = store.open(key); OutputStream file = Files.newOutputStream(partial, LinkOption.NOFOLLOW_LINKS)) {
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
                    throw IngotException.tried(ErrorCode.CHECK_FAILED, what, entry.name() + " arrived as " + out.count() + " bytes with SHA-256 "
                            + actual + "; the signed manifest says " + entry.size() + " bytes, " + entry.sha256());
                }
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(partial);
                throw e;
            } finally {
                progress.done();
            }
            // rename(2) replaces whatever is at the name, a planted link included, without following it.
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "downloading " + key + " failed: " + e.getMessage()).withCause(e);
        }
    }

    /** Writes a small verified file into the work folder: a new file, renamed over the name. */
    private static void place(Path folder, String name, byte[] content, String what) {
        Path temp = WorkFolder.newFile(folder, name);
        try {
            try (OutputStream out = Files.newOutputStream(temp, LinkOption.NOFOLLOW_LINKS)) {
                out.write(content);
            }
            Files.move(temp, folder.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "writing " + folder.resolve(name) + " failed: " + e.getMessage());
        }
    }

    private static void checkFile(Path file, long expected, String what) {
        try {
            if (!WorkFolder.isPlainFile(file)) {
                throw IngotException.tried(ErrorCode.CHECK_FAILED, what, file.getFileName() + " is missing or not a plain file; nothing was written");
            }
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
}
