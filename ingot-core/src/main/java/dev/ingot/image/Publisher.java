package dev.ingot.image;

import static java.util.Objects.requireNonNull;

import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.progress.Progress;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.ArtifactStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Turns a raw disk image into an immutable, signed release in a store. The steps, in order:
 * scan (one read of the image: hash, block map, compression), write the bmap and the sha256sum
 * file, write and sign the manifest and check the signature, upload the payload files, then the
 * signature, then the manifest with a create-only write. The manifest is the commit point: until
 * it exists the version is not published, and a failed publish can simply be run again.
 */
public final class Publisher {
    private final ArtifactStore store;
    private final SigningKey key;
    private final Clock clock;
    private final Progress progress;

    public Publisher(ArtifactStore store, SigningKey key, Clock clock, Progress progress) {
        this.store = requireNonNull(store, "store");
        this.key = requireNonNull(key, "key");
        this.clock = requireNonNull(clock, "clock");
        this.progress = requireNonNull(progress, "progress");
    }

    public record Request(Path image, ImageName name, ImageVersion version, Optional<Instant> buildDate, boolean raw,
            Optional<Manifest.Source> source, ImageScanner.Compression compression, int blockSize) {
        public Request {
            requireNonNull(image, "image");
            requireNonNull(name, "name");
            requireNonNull(version, "version");
            requireNonNull(buildDate, "buildDate");
            requireNonNull(source, "source");
            requireNonNull(compression, "compression");
        }
    }

    public record Result(Manifest manifest, Sha256 manifestSha256, List<String> keys, Duration scanTime, Duration uploadTime) {}

    public Result publish(Request request) {
        ReleaseFiles files = new ReleaseFiles(request.name(), request.version());
        String what = "publish " + files.base();
        checkImage(request.image(), what);
        String manifestKey = ReleaseFiles.STORE_FOLDER + files.manifest();
        if (store.stat(manifestKey).isPresent()) {
            throw IngotException.tried(ErrorCode.CONFLICT, what,
                            request.version() + " is already published in " + store.describe() + " (releases are immutable)")
                    .withHint("publish the new image under a new version; `ingot image list` shows the versions taken");
        }

        refuseAnotherSpellingOf(request, what);

        Path staging = createStaging(what);
        try {
            Instant started = clock.instant();
            Path payload = staging.resolve(files.payload());
            Optional<Path> raw = request.raw() ? Optional.of(staging.resolve(files.rawImage())) : Optional.empty();
            ImageScanner.Result scan;
            try {
                scan = ImageScanner.scan(request.image(), request.blockSize(), payload, raw, request.compression(), progress);
            } catch (IOException e) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "reading " + request.image() + " or writing "
                        + staging + " failed: " + e.getMessage()).withCause(e);
            }
            Instant scanned = clock.instant();

            byte[] bmap = BmapXml.write(scan.blockMap());
            Sha256 bmapSha256 = Sha256.of(bmap);
            byte[] checksums = checksumFile(List.of(
                    new String[] {scan.imageSha256().hex(), files.rawImage()},
                    new String[] {scan.payloadSha256().hex(), files.payload()},
                    new String[] {bmapSha256.hex(), files.bmap()}));

            List<Manifest.FileEntry> entries = new ArrayList<>();
            entries.add(new Manifest.FileEntry(files.payload(), Manifest.Role.PAYLOAD, scan.payloadSize(), scan.payloadSha256()));
            entries.add(new Manifest.FileEntry(files.bmap(), Manifest.Role.BMAP, bmap.length, bmapSha256));
            entries.add(new Manifest.FileEntry(files.checksums(), Manifest.Role.CHECKSUMS, checksums.length, Sha256.of(checksums)));
            raw.ifPresent(path -> entries.add(new Manifest.FileEntry(files.rawImage(), Manifest.Role.RAW, scan.imageSize(),
                    scan.imageSha256())));

            Instant buildDate = request.buildDate().orElse(clock.instant()).truncatedTo(ChronoUnit.SECONDS);
            BlockMap map = scan.blockMap();
            Manifest manifest = new Manifest(request.name(), request.version(), buildDate,
                    Manifest.imageVersionFile(request.name(), request.version(), buildDate),
                    new Manifest.Image(files.rawImage(), scan.imageSize(), scan.imageSha256(), map.blockSize(),
                            map.blocksCount(), map.mappedBlocksCount(), map.mappedBytes()),
                    entries, new Manifest.Compression("zstd", request.compression().level()), request.source(),
                    new Manifest.Signer(key.fingerprint(), key.userId()));
            byte[] manifestBytes = ManifestJson.write(manifest);
            // Signed now, not at the build date: gpg rejects a signature older than its key ("Time conflict").
            byte[] signature = key.sign(manifestBytes, clock.instant()).getBytes(StandardCharsets.US_ASCII);
            key.asKeyring().verify(manifestBytes, signature, files.manifest()); // as JReleaser does: never ship an unchecked signature

            List<String> keys = new ArrayList<>();
            String prefix = ReleaseFiles.STORE_FOLDER;
            store.putMoving(prefix + files.payload(), payload, progress);
            keys.add(prefix + files.payload());
            if (raw.isPresent()) {
                store.putMoving(prefix + files.rawImage(), raw.get(), progress);
                keys.add(prefix + files.rawImage());
            }
            putBytes(prefix + files.bmap(), bmap, staging);
            keys.add(prefix + files.bmap());
            putBytes(prefix + files.checksums(), checksums, staging);
            keys.add(prefix + files.checksums());
            putBytes(prefix + files.signature(), signature, staging);
            keys.add(prefix + files.signature());
            if (!store.createIfAbsent(manifestKey, manifestBytes)) {
                throw IngotException.tried(ErrorCode.CONFLICT, what,
                        "another publish of " + request.version() + " finished first; its files now stand in " + store.describe())
                        .withHint("run `ingot image verify " + request.version() + "` to check what was published");
            }
            keys.add(manifestKey);
            checkReadBack(files, manifestBytes, signature, what);
            checkSizes(entries, what);
            return new Result(manifest, Sha256.of(manifestBytes), keys, Duration.between(started, scanned),
                    Duration.between(scanned, clock.instant()));
        } finally {
            deleteRecursively(staging);
        }
    }

    /** v1.4 and v1.4.0 would sort as one release and confuse every "newest known-good" decision: refuse the second. */
    private void refuseAnotherSpellingOf(Request request, String what) {
        String prefix = ReleaseFiles.STORE_FOLDER + request.name() + "-";
        for (String key : store.list(ReleaseFiles.STORE_FOLDER)) {
            if (!key.startsWith(prefix) || !key.endsWith(".manifest.json")) {
                continue;
            }
            String versionText = key.substring(prefix.length(), key.length() - ".manifest.json".length());
            try {
                ImageVersion existing = ImageVersion.parse(versionText);
                if (existing.sameReleaseAs(request.version()) && !existing.equals(request.version())) {
                    throw IngotException.tried(ErrorCode.CONFLICT, what, request.version() + " is the same release number as the published "
                            + existing).withHint("publish a new version number");
                }
            } catch (IngotException e) {
                if (e.code() == ErrorCode.CONFLICT) {
                    throw e;
                }
                // not a version of ours (another name that shares the prefix): ignore
            }
        }
    }

    private void checkReadBack(ReleaseFiles files, byte[] manifestBytes, byte[] signature, String what) {
        byte[] storedManifest = store.read(ReleaseFiles.STORE_FOLDER + files.manifest()).map(ArtifactStore.VersionedBytes::content)
                .orElse(new byte[0]);
        byte[] storedSignature = store.read(ReleaseFiles.STORE_FOLDER + files.signature()).map(ArtifactStore.VersionedBytes::content)
                .orElse(new byte[0]);
        if (!java.util.Arrays.equals(storedManifest, manifestBytes) || !java.util.Arrays.equals(storedSignature, signature)) {
            throw IngotException.tried(ErrorCode.CONFLICT, what,
                    "the manifest or signature read back from " + store.describe() + " differs from what was written "
                            + "(a concurrent publish of the same version?)")
                    .withHint("run `ingot image verify " + files.version() + "`");
        }
    }

    /**
     * A cheap guard against a concurrent publish of the same version that lost the manifest race but
     * overwrote payload files: every file must still have the size the manifest records.
     * (`ingot image verify` checks digests; re-reading the payload here would double the upload cost.)
     */
    private void checkSizes(List<Manifest.FileEntry> entries, String what) {
        for (Manifest.FileEntry entry : entries) {
            long stored = store.stat(ReleaseFiles.STORE_FOLDER + entry.name()).map(ArtifactStore.ObjectInfo::size).orElse(-1L);
            if (stored != entry.size()) {
                throw IngotException.tried(ErrorCode.CONFLICT, what, entry.name() + " in " + store.describe() + " is " + stored
                        + " bytes after publishing, not " + entry.size() + " (was another publish of this version running?)")
                        .withHint("run `ingot image verify` on this version");
            }
        }
    }

    private static void checkImage(Path image, String what) {
        if (!Files.exists(image)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "the image " + image + " does not exist");
        }
        if (!Files.isRegularFile(image)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, image + " is not a regular file")
                    .withHint("publish a raw disk image file (.img), e.g. Packer's output");
        }
        if (!Files.isReadable(image)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "the image " + image + " is not readable");
        }
        try {
            if (Files.size(image) == 0) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, what, "the image " + image + " is empty");
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "the image " + image + " cannot be read: " + e.getMessage());
        }
    }

    /** {@code sha256sum} output format: digest, two spaces (text mode), file name, newline (coreutils manual, sha2 utilities). */
    static byte[] checksumFile(List<String[]> digestAndName) {
        StringBuilder text = new StringBuilder();
        for (String[] line : digestAndName) {
            text.append(line[0]).append("  ").append(line[1]).append('\n');
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    private void putBytes(String key, byte[] content, Path staging) {
        Path file = staging.resolve(key.substring(key.lastIndexOf('/') + 1));
        try {
            Files.write(file, content);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "stage " + file, String.valueOf(e.getMessage()));
        }
        store.putMoving(key, file, Progress.NONE);
    }

    private Path createStaging(String what) {
        Path parent = store.stagingDirectory().orElse(Path.of(System.getProperty("java.io.tmpdir")));
        try {
            Files.createDirectories(parent);
            return Files.createTempDirectory(parent, "publish-");
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "no work folder could be made in " + parent + ": "
                    + e.getMessage()).withCause(e);
        }
    }

    static void deleteRecursively(Path folder) {
        try (Stream<Path> paths = Files.walk(folder)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (NoSuchFileException ignored) {
            // already gone
        } catch (IOException ignored) {
            // a leftover work folder is harmless and is named as such
        }
    }
}
