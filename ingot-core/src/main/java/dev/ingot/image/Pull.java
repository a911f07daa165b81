package dev.ingot.image;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fetch.OrderedFetch;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.store.ArtifactStore;
import dev.ingot.store.FolderStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.LinkOption;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Downloads a release into a flat folder and verifies the downloaded copy (the copy is what will
 * be flashed). Files are fetched into a hidden work folder beside the destination and renamed into
 * place only after every check passed, so a failed or interrupted pull leaves no half release.
 */
public final class Pull {
    private final ArtifactStore store;
    private final Keyring keyring;
    private final Progress progress;
    private final java.time.Clock clock;

    public Pull(ArtifactStore store, Keyring keyring, Progress progress) {
        this(store, keyring, progress, java.time.Clock.systemUTC());
    }

    /** {@code clock} measures how long a download has made no progress (it gives up after 15 minutes of none). */
    public Pull(ArtifactStore store, Keyring keyring, Progress progress, java.time.Clock clock) {
        this.store = requireNonNull(store, "store");
        this.keyring = requireNonNull(keyring, "keyring");
        this.progress = requireNonNull(progress, "progress");
        this.clock = requireNonNull(clock, "clock");
    }

    public record Result(ReleaseVerifier.Report report, List<Path> files) {}

    public Result pull(ImageName name, ImageVersion version, Path destination) {
        return pull(name, version, destination, true);
    }

    /**
     * As {@link #pull(ImageName, ImageVersion, Path)}; {@code includeRaw} false takes only the disk's payload (a USB cache
     * needs nothing else): no raw image, no slot payloads (their small files still come: the trust path reads them).
     */
    public Result pull(ImageName name, ImageVersion version, Path destination, boolean includeRaw) {
        ReleaseFiles files = new ReleaseFiles(name, version);
        String what = "pull " + files.base() + " into " + destination;
        String prefix = ReleaseFiles.STORE_FOLDER;
        Path work;
        try {
            Files.createDirectories(destination);
            work = Files.createTempDirectory(destination, ".ingot-pull-");
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "the folder cannot be written (" + e.getMessage() + ")");
        }
        try {
            // Trust first (signature, manifest, file names, bmap), from the store itself; only then fetch what it names.
            ReleaseVerifier verifier = new ReleaseVerifier(keyring, progress, true, includeRaw);
            TrustedRelease trusted = verifier.trust(store, prefix, name, version);
            writeNew(work.resolve(files.manifest()), trusted.manifestBytes());
            writeNew(work.resolve(files.signature()), trusted.signatureBytes());
            List<Manifest.FileEntry> wanted = new ArrayList<>();
            for (PayloadSet set : trusted.sets()) {
                // Every set's small files always (the trust path reads them); its large files as asked.
                writeNew(work.resolve(trusted.bmapEntry(set).name()), trusted.bmapBytes(set));
                writeNew(work.resolve(trusted.checksumsEntry(set).name()), trusted.checksumsBytes(set));
                wanted.add(trusted.bmapEntry(set));
                wanted.add(trusted.checksumsEntry(set));
                if (includeRaw || set instanceof PayloadSet.Disk) {
                    wanted.add(trusted.payload(set));
                    download(prefix + trusted.payload(set).name(), work.resolve(trusted.payload(set).name()), what);
                }
                if (includeRaw && trusted.raw(set).isPresent()) {
                    wanted.add(trusted.raw(set).get());
                    download(prefix + trusted.raw(set).get().name(), work.resolve(trusted.raw(set).get().name()), what);
                }
            }
            // The copy is what will be used: check it in full, as it lies on the disk.
            ReleaseVerifier.Report report = verifier.verify(new FolderStore(work, destination.toString()), "", name, version);
            if (!report.ok()) {
                ReleaseVerifier.Finding first = report.failures().getFirst();
                throw IngotException.tried(ErrorCode.CHECK_FAILED, what, first.file() + ": " + first.detail())
                        .withHint("nothing was kept; `ingot image verify " + version + "` checks the store itself");
            }
            List<Path> placed = new ArrayList<>();
            List<String> names = new ArrayList<>();
            wanted.forEach(entry -> names.add(entry.name()));
            names.add(files.signature());
            names.add(files.manifest()); // last, as in the store: a manifest means the rest is there
            for (String fileName : names) {
                Path target = destination.resolve(fileName);
                Files.move(work.resolve(fileName), target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                placed.add(target);
            }
            return new Result(report, placed);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, String.valueOf(e.getMessage())).withCause(e);
        } finally {
            Publisher.deleteRecursively(work);
        }
    }

    /** Creates a file that must not exist yet, never through a link (O_CREAT|O_EXCL: a planted symlink makes it fail). */
    static void writeNew(Path file, byte[] content) throws IOException {
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            out.write(content);
        }
    }

    /**
     * The one download path flashing uses too ({@link OrderedFetch}): ranged reads, several at once from S3 or HTTP,
     * a cut or stalled connection resumed where it stopped; the copy is verified in full afterwards.
     */
    private void download(String key, Path target, String what) {
        dev.ingot.fetch.RangeReadable source = store.range(key);
        long size;
        try {
            size = source.size();
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "downloading " + key + " failed: " + e.getMessage()).withCause(e);
        }
        progress.start("download " + target.getFileName(), size);
        try (source; InputStream in = OrderedFetch.open(source, 0, size, OrderedFetch.Policy.defaults(), clock, OrderedFetch.Sleeper.REAL);
                OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                        LinkOption.NOFOLLOW_LINKS)) {
            byte[] buffer = new byte[1 << 20];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                progress.advance(n);
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "downloading " + key + " failed: " + e.getMessage()).withCause(e);
        } finally {
            progress.done();
        }
    }
}
