package dev.ingot.flash;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fetch.FileRange;
import dev.ingot.fetch.RangeReadable;
import dev.ingot.image.BlockMap;
import dev.ingot.image.BmapXml;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.Manifest;
import dev.ingot.image.PayloadSet;
import dev.ingot.image.ReleaseFiles;
import dev.ingot.image.ReleaseVerifier;
import dev.ingot.image.TrustedRelease;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.store.ArtifactStore;
import dev.ingot.store.FolderStore;
import dev.ingot.store.WorkFolder;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where a flash gets its image from. Every signed source is a {@link TrustedRelease} from {@link ReleaseVerifier#trust}
 * (the one trust path) plus a {@link RangeReadable} of its payload or raw image: a folder of release files (a USB cache,
 * a pulled copy, a kept download), a store (a folder, S3, HTTP(S): streamed, nothing staged), or loose files
 * ({@code NAME-VERSION.img.zst} or {@code NAME-VERSION.img}) with the signed manifest beside them. Only
 * {@code --allow-unsigned} flashes what no manifest vouches for.
 */
public final class FlashSources {
    private FlashSources() {}

    /** A release in a flat folder: trusted from the folder's own manifest, signature and bmap; the payload checked as it streams. */
    public static FlashJob fromReleaseFolder(Path folder, ImageName name, ImageVersion version, Keyring keyring, PayloadSet set) {
        return fromStore(new FolderStore(folder), "", name, version, keyring, set, Progress.NONE);
    }

    /** The whole disk from a release folder. */
    public static FlashJob fromReleaseFolder(Path folder, ImageName name, ImageVersion version, Keyring keyring) {
        return fromReleaseFolder(folder, name, version, keyring, PayloadSet.DISK);
    }

    /**
     * A published version in a store ({@code golden-images/} prefix) or a flat folder ({@code ""}): trusted from the
     * store's manifest, signature and bmap, then the payload streamed from the store as it is flashed (a folder in
     * place; S3 and HTTP(S) with ranged, resumable reads). Nothing is downloaded first: {@code --keep} keeps a copy.
     */
    public static FlashJob fromStore(ArtifactStore store, String prefix, ImageName name, ImageVersion version, Keyring keyring,
            PayloadSet set, Progress progress) {
        TrustedRelease trusted = new ReleaseVerifier(keyring, progress).trust(store, prefix, name, version);
        String what = "flash " + trusted.files().base() + " from " + store.describe();
        requireSet(trusted, set, what);
        Manifest.FileEntry payload = trusted.payload(set);
        RangeReadable source = store.range(prefix + payload.name());
        if (source instanceof FileRange file && !WorkFolder.isPlainFile(file.file())) {
            source.close();
            throw IngotException.tried(ErrorCode.CHECK_FAILED, what, payload.name() + " is missing or not a plain file; nothing was written");
        }
        return FlashJob.signed(trusted, set, source);
    }

    /** The whole disk from a store. */
    public static FlashJob fromStore(ArtifactStore store, ImageName name, ImageVersion version, Keyring keyring, Progress progress) {
        return fromStore(store, ReleaseFiles.STORE_FOLDER, name, version, keyring, PayloadSet.DISK, progress);
    }

    private static void requireSet(TrustedRelease trusted, PayloadSet set, String what) {
        if (set instanceof PayloadSet.Slot slot && trusted.slots().stream().noneMatch(each -> each.partition().name().equals(slot.partition()))) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, trusted.files().base() + " has no " + slot.partition() + " slot payload"
                            + (trusted.slots().isEmpty() ? " (it was published without slots)" : " (it has "
                            + String.join(", ", trusted.slots().stream().map(each -> each.partition().name()).toList()) + ")"))
                    .withHint("flash the whole disk, or republish the image with this Ingot (it extracts root-a)");
        }
    }

    /**
     * Loose files: {@code file} is {@code NAME-VERSION.img.zst} or {@code NAME-VERSION.img}. With the signed manifest
     * beside it ({@code NAME-VERSION.manifest.json} + .asc), the release is trusted from that folder, and the file must
     * be the release's payload or raw image; its block map is the one the manifest pins (a {@code --bmap} that is not
     * that file is refused: a re-made map vouches for nothing). Without a manifest, {@code allowUnsigned} must be set:
     * then only the bmap's own checksums vouch for the data, and every range is checked before it is written.
     */
    public static FlashJob fromFiles(Path file, Optional<Path> bmapFile, Optional<Keyring> keyring, boolean allowUnsigned) {
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
            RangeReadable source = openPlain(file, what);
            return compressed ? FlashJob.signed(trusted, PayloadSet.DISK, source) : FlashJob.signedRaw(trusted, source);
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
        return FlashJob.unsigned(map, openPlain(file, what), compressed ? FlashJob.Format.ZSTD : FlashJob.Format.RAW, fileName);
    }

    private static RangeReadable openPlain(Path file, String what) {
        if (!WorkFolder.isPlainFile(file)) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, what, file.getFileName() + " is not a plain file (a link?); nothing was written");
        }
        try {
            return FileRange.open(file);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, file + " cannot be read (" + e.getMessage() + ")");
        }
    }

    /**
     * Writes a trusted release's small files for {@code set} into {@code folder} beside its payload — block map,
     * sha256sum file, signature, and the manifest last (a manifest means the rest is there) — each as a new file
     * renamed over its name, never through a link: the folder is then a release folder ({@code --cache}).
     */
    static void placeRelease(Path folder, TrustedRelease release, PayloadSet set, String what) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        ReleaseFiles names = release.files();
        files.put(release.bmapEntry(set).name(), release.bmapBytes(set));
        files.put(release.checksumsEntry(set).name(), release.checksumsBytes(set));
        files.put(names.signature(), release.signatureBytes());
        files.put(names.manifest(), release.manifestBytes());
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            place(folder, file.getKey(), file.getValue(), what);
        }
    }

    /** Writes a small verified file: a new file, renamed over the name. */
    private static void place(Path folder, String name, byte[] content, String what) {
        Path temp = WorkFolder.newFile(folder, "." + name);
        try {
            try (OutputStream out = Files.newOutputStream(temp, LinkOption.NOFOLLOW_LINKS)) {
                out.write(content);
            }
            Files.move(temp, folder.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "writing " + folder.resolve(name) + " failed: " + e.getMessage());
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
