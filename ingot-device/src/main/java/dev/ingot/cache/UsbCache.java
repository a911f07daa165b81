package dev.ingot.cache;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.KnownGood;
import dev.ingot.image.Manifest;
import dev.ingot.image.ManifestJson;
import dev.ingot.image.Pull;
import dev.ingot.image.ReleaseFiles;
import dev.ingot.image.ReleaseVerifier;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.store.ArtifactStore;
import dev.ingot.store.FolderStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * The last known-good images kept on a site's USB drive, so a rollback needs no network. Releases
 * sit flat in the cache folder, as {@code ingot image pull} leaves them; a release counts as cached
 * when its manifest is there (the manifest arrives last and leaves first). Sync fetches and fully
 * verifies the newest known-good versions first and removes an older one only after that.
 */
public final class UsbCache {
    private static final String MANIFEST_SUFFIX = ".manifest.json";
    /** A manifest is a few KiB; a larger file is not one (and is not read). */
    private static final long MANIFEST_LIMIT = 1L << 20;

    private final Path folder;
    private final Keyring keyring;
    private final Progress progress;

    public UsbCache(Path folder, Keyring keyring, Progress progress) {
        this.folder = requireNonNull(folder, "folder");
        this.keyring = requireNonNull(keyring, "keyring");
        this.progress = requireNonNull(progress, "progress");
    }

    public Path folder() {
        return folder;
    }

    /** One cached release and whether it verifies. */
    public record Entry(ImageName name, ImageVersion version, Optional<Manifest> manifest, boolean ok, String detail, long bytes) {}

    /** What sync did: the versions wanted, fetched, kept and removed. */
    public record SyncResult(List<ImageVersion> wanted, List<ImageVersion> fetched, List<ImageVersion> kept, List<ImageVersion> removed) {}

    /** The cached releases, newest first, each checked: signature and every file's digest (and, with {@code deep}, the payload decompressed). */
    public List<Entry> list(Optional<ImageName> onlyName, boolean deep) {
        if (!Files.isDirectory(folder)) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read the cache " + folder, "the folder does not exist")
                    .withHint("is the USB drive mounted? `ingot cache sync --dir " + folder + "` fills it");
        }
        List<Entry> entries = new ArrayList<>();
        FolderStore store = new FolderStore(folder);
        for (ReleaseFiles files : releases()) {
            if (onlyName.isPresent() && !onlyName.get().equals(files.name())) {
                continue;
            }
            ReleaseVerifier.Report report = new ReleaseVerifier(keyring, progress, deep, false)
                    .verify(store, "", files.name(), files.version());
            long bytes = report.manifest().map(manifest -> manifest.files().stream()
                    .filter(entry -> entry.role() != Manifest.Role.RAW).mapToLong(Manifest.FileEntry::size).sum()).orElse(0L);
            String detail = report.ok() ? (deep ? "verified (decompressed)" : "verified (signature and digests)")
                    : report.failures().getFirst().file() + ": " + report.failures().getFirst().detail();
            entries.add(new Entry(files.name(), files.version(), report.manifest(), report.ok(), detail, bytes));
        }
        entries.sort(Comparator.comparing((Entry entry) -> entry.version()).reversed());
        return entries;
    }

    /**
     * Makes the cache hold the newest {@code keep} known-good versions of {@code name} from the store:
     * each missing one is pulled and fully verified first; only then are cached versions outside that
     * set removed. A cached copy that no longer verifies is fetched again.
     */
    public SyncResult sync(ArtifactStore store, ImageName name, int keep) {
        String what = "sync the cache " + folder + " from " + store.describe();
        if (keep < 1) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "--keep must be at least 1");
        }
        prepare(what);
        KnownGood.Loaded loaded = KnownGood.load(store, name, Optional.of(keyring));
        KnownGood.Document knownGood = loaded.document();
        // The cache remembers the newest list it saw: an older one from the store is stale or replayed, not news. A kept
        // list that no longer verifies (its key since dropped or revoked, or the file damaged) vouches for no revision:
        // it is replaced by the store's verified one. Refusing instead would protect nothing (whoever can change the file
        // can delete it) and would stop every sync after a key rotation, and a list signed by a compromised key could
        // claim any revision.
        OptionalLong seen = revisionSeen(name);
        if (seen.isPresent()) {
            KnownGood.requireNotOlder(knownGood, seen.getAsLong(), store.describe());
        }
        List<ImageVersion> wanted = knownGood.entries().stream().map(KnownGood.Entry::version).limit(keep).toList();
        if (wanted.isEmpty()) {
            throw IngotException.tried(ErrorCode.NOT_FOUND, what, "no version of " + name + " is marked known-good")
                    .withHint("mark one: ingot image promote VERSION --known-good");
        }
        SyncResult result = fill(store, name, wanted, what);
        loaded.envelope().ifPresent(envelope -> remember(name, envelope, what));
        return result;
    }

    /**
     * Makes the cache hold exactly {@code wanted} of {@code name} as a control plane names them (the device agent, whose
     * store is the control plane's downloads and has no signed known-good list): each missing version is pulled and
     * fully verified against the keyring first, and only then are the others removed. The known-good list the cache
     * keeps, if any, is left as it is: only a signed list replaces it ({@link #sync}).
     */
    public SyncResult keep(ArtifactStore store, ImageName name, List<ImageVersion> wanted) {
        String what = "keep " + wanted + " in the cache " + folder + " from " + store.describe();
        if (wanted.isEmpty()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "no version is named");
        }
        prepare(what);
        return fill(store, name, List.copyOf(wanted), what);
    }

    private void prepare(String what) {
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "the folder cannot be made (" + e.getMessage() + ")")
                    .withHint("is the USB drive mounted and writable?");
        }
        removeLeftovers();
    }

    /** Every wanted version verified in the cache (pulled when missing or damaged), then the rest of {@code name} removed. */
    private SyncResult fill(ArtifactStore store, ImageName name, List<ImageVersion> wanted, String what) {
        List<ImageVersion> fetched = new ArrayList<>();
        List<ImageVersion> kept = new ArrayList<>();
        FolderStore local = new FolderStore(folder);
        for (ImageVersion version : wanted) {
            ReleaseFiles files = new ReleaseFiles(name, version);
            if (Files.exists(folder.resolve(files.manifest()))
                    && new ReleaseVerifier(keyring, progress, false, false).verify(local, "", name, version).ok()) {
                kept.add(version);
                continue;
            }
            requireSpace(store, files, what);
            remove(files); // a damaged copy: take it out (manifest first) before fetching it again
            new Pull(store, keyring, progress).pull(name, version, folder, false);
            fetched.add(version);
        }
        List<ImageVersion> removed = new ArrayList<>();
        for (ReleaseFiles files : releases()) {
            if (files.name().equals(name) && !wanted.contains(files.version())) {
                remove(files);
                removed.add(files.version());
            }
        }
        return new SyncResult(wanted, fetched, kept, removed);
    }

    /**
     * The known-good list of {@code name} as the cache last took it from the store (its signature checked), or empty
     * for a cache that has none yet. A rollback without network chooses from it.
     */
    public Optional<KnownGood.Document> knownGood(ImageName name) {
        Path file = folder.resolve(knownGoodFile(name));
        if (!Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try {
            return Optional.of(KnownGood.read(Files.readAllBytes(file), name, keyring, file.toString()));
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read " + file, String.valueOf(e.getMessage()));
        }
    }

    /**
     * The revision of the known-good list the cache keeps, when that list still verifies: the lowest revision a store's
     * list may have (sync and rollback refuse an older one). A kept list that no longer verifies bounds nothing.
     */
    public OptionalLong revisionSeen(ImageName name) {
        try {
            return knownGood(name).map(document -> OptionalLong.of(document.revision())).orElse(OptionalLong.empty());
        } catch (IngotException e) {
            if (e.code() != ErrorCode.CHECK_FAILED) {
                throw e;
            }
            return OptionalLong.empty();
        }
    }

    private static String knownGoodFile(ImageName name) {
        return ReleaseFiles.knownGoodKey(name).substring(ReleaseFiles.STORE_FOLDER.length());
    }

    private void remember(ImageName name, byte[] envelope, String what) {
        Path target = folder.resolve(knownGoodFile(name));
        try {
            Path temp = Files.createTempFile(folder, ".ingot-known-good-", ".part");
            Files.write(temp, envelope);
            Files.move(temp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "the known-good list could not be kept (" + e.getMessage() + ")");
        }
    }

    /** The releases whose manifest is in the folder. */
    private List<ReleaseFiles> releases() {
        return releasesIn(folder);
    }

    /**
     * The releases whose readable manifest is in {@code folder}, by name and version, without verifying
     * anything (cheap: the health report counts them every minute; {@link #list} verifies).
     */
    public static List<ReleaseFiles> releasesIn(Path folder) {
        List<ReleaseFiles> releases = new ArrayList<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : files.filter(path -> path.getFileName().toString().endsWith(MANIFEST_SUFFIX)).sorted().toList()) {
                // Anyone may have written the drive: a FIFO would hang every health report, a huge file exhaust memory.
                if (!Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS) || Files.size(file) > MANIFEST_LIMIT) {
                    continue;
                }
                try {
                    Manifest manifest = ManifestJson.parse(Files.readAllBytes(file), file.getFileName().toString());
                    ReleaseFiles release = new ReleaseFiles(manifest.name(), manifest.version());
                    if (release.manifest().equals(file.getFileName().toString())) {
                        releases.add(release);
                    }
                } catch (IngotException e) {
                    // not a manifest we can read: list and sync leave it alone
                }
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read the cache " + folder, String.valueOf(e.getMessage()));
        }
        return releases;
    }

    private void requireSpace(ArtifactStore store, ReleaseFiles files, String what) {
        long needed = 0;
        for (String name : List.of(files.payload(), files.bmap(), files.checksums(), files.manifest(), files.signature())) {
            needed += store.stat(ReleaseFiles.STORE_FOLDER + name).map(ArtifactStore.ObjectInfo::size).orElse(0L);
        }
        try {
            long free = Files.getFileStore(folder).getUsableSpace();
            if (free < needed + (16L << 20)) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, what, files.base() + " needs " + needed + " bytes but the drive has "
                                + free + " free (older images are removed only after the newer one is complete)")
                        .withHint("use a larger drive, or remove unneeded files from it");
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "free space cannot be read (" + e.getMessage() + ")");
        }
    }

    /** Removes a release, manifest first: an interrupted removal leaves files that no longer count as a cached release. */
    private void remove(ReleaseFiles files) {
        try {
            List<String> names = new ArrayList<>(List.of(files.signature(), files.payload(), files.bmap(), files.checksums(), files.rawImage()));
            Path manifest = folder.resolve(files.manifest());
            if (Files.isRegularFile(manifest, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                try {
                    // A release's slot files too (their names checked as every manifest name is, before they touch a path).
                    for (Manifest.Slot slot : ManifestJson.parse(Files.readAllBytes(manifest), files.manifest()).slots()) {
                        dev.ingot.image.PayloadSet set = dev.ingot.image.PayloadSet.slot(slot.partition().name());
                        for (Manifest.Role role : Manifest.Role.values()) {
                            names.add(files.nameFor(set, role));
                        }
                    }
                } catch (IngotException e) {
                    // an unreadable manifest names nothing more
                }
            }
            Files.deleteIfExists(manifest);
            for (String name : names) {
                Files.deleteIfExists(folder.resolve(name));
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "remove " + files.base() + " from " + folder, String.valueOf(e.getMessage()));
        }
    }

    /** Work folders of interrupted pulls. */
    private void removeLeftovers() {
        try (Stream<Path> files = Files.list(folder)) {
            for (Path leftover : files.filter(path -> path.getFileName().toString().startsWith(".ingot-pull-")).toList()) {
                try (Stream<Path> inside = Files.walk(leftover)) {
                    for (Path path : inside.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(path);
                    }
                }
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "clean the cache " + folder, String.valueOf(e.getMessage()));
        }
    }
}
