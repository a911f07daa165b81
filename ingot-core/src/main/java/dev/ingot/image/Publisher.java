package dev.ingot.image;

import static java.util.Objects.requireNonNull;

import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.progress.Progress;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.ArtifactStore;
import dev.ingot.store.WorkFolder;
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
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Turns a raw disk image into an immutable, signed release in a store. The steps, in order: scan (one read of
 * the image: hash, block map, compression), write the bmap and the sha256sum file, write and sign the manifest and
 * check the signature; stage every file under this publish's own prefix ({@code .ingot-staging/ID/}) and read it
 * back; create the manifest, create-only: the commit point; then move the staged files to the release's names.
 * Two publishes of one version never mix their bytes (only the one that created the manifest moves its files), a
 * publish that failed before the commit leaves nothing visible, and one that died after it is finished by a rerun.
 */
public final class Publisher {
    private final ArtifactStore store;
    private final SigningKey key;
    private final Clock clock;
    private final Progress progress;
    private final java.util.function.Supplier<WorkFolder> workFolder;

    public Publisher(ArtifactStore store, SigningKey key, Clock clock, Progress progress, WorkFolder workFolder) {
        this(store, key, clock, progress, () -> workFolder);
        requireNonNull(workFolder, "workFolder");
    }

    /** With the caller's default work folder, made only when needed (for stores that cannot stage inside themselves). */
    public Publisher(ArtifactStore store, SigningKey key, Clock clock, Progress progress) {
        this(store, key, clock, progress, () -> WorkFolder.forCaller(System.getenv()));
    }

    private Publisher(ArtifactStore store, SigningKey key, Clock clock, Progress progress,
            java.util.function.Supplier<WorkFolder> workFolder) {
        this.store = requireNonNull(store, "store");
        this.key = requireNonNull(key, "key");
        this.clock = requireNonNull(clock, "clock");
        this.progress = requireNonNull(progress, "progress");
        this.workFolder = workFolder;
    }

    /**
     * What to publish. {@code slots}: the GPT partitions that get their own payload set; empty means the default,
     * {@code root-a} when the image's (checked) GPT has it, and an empty list means none.
     */
    public record Request(Path image, ImageName name, ImageVersion version, Optional<Instant> buildDate, boolean raw,
            Optional<Manifest.Source> source, ImageScanner.Compression compression, int blockSize, Optional<List<String>> slots) {
        public static final String DEFAULT_SLOT = "root-a";

        public Request {
            requireNonNull(image, "image");
            requireNonNull(name, "name");
            requireNonNull(version, "version");
            requireNonNull(buildDate, "buildDate");
            requireNonNull(source, "source");
            requireNonNull(compression, "compression");
            requireNonNull(slots, "slots");
            slots = slots.map(List::copyOf);
        }

        /** With the default slots ({@code root-a} when the image has it). */
        public Request(Path image, ImageName name, ImageVersion version, Optional<Instant> buildDate, boolean raw,
                Optional<Manifest.Source> source, ImageScanner.Compression compression, int blockSize) {
            this(image, name, version, buildDate, raw, source, compression, blockSize, Optional.empty());
        }
    }

    public record Result(Manifest manifest, Sha256 manifestSha256, List<String> keys, Duration scanTime, Duration uploadTime) {}

    public Result publish(Request request) {
        ReleaseFiles files = new ReleaseFiles(request.name(), request.version());
        String what = "publish " + files.base();
        checkImage(request.image(), what);
        String prefix = ReleaseFiles.STORE_FOLDER;
        String manifestKey = prefix + files.manifest();
        if (store.stat(manifestKey).isPresent()) {
            return finishOrRefuse(request, files, what);
        }

        refuseAnotherSpellingOf(request, what);

        List<GptTable.Partition> partitions = slotPartitions(request, what);
        Path staging = createStaging(what);
        String stagingPrefix = ArtifactStore.STAGING_PREFIX + staging.getFileName() + "/";
        List<String> staged = new ArrayList<>();
        boolean committed = false;
        boolean unsettled = false;
        boolean inPlace = false;
        try {
            Instant started = clock.instant();
            Path payload = staging.resolve(files.payload());
            Optional<Path> raw = request.raw() ? Optional.of(staging.resolve(files.rawImage())) : Optional.empty();
            List<ImageScanner.Window> windows = new ArrayList<>();
            for (GptTable.Partition partition : partitions) {
                PayloadSet set = PayloadSet.slot(partition.name());
                windows.add(new ImageScanner.Window(partition.name(), partition.offset(), partition.size(),
                        staging.resolve(files.nameFor(set, Manifest.Role.PAYLOAD)),
                        request.raw() ? Optional.of(staging.resolve(files.nameFor(set, Manifest.Role.RAW))) : Optional.empty()));
            }
            ImageScanner.Result scan;
            try {
                scan = ImageScanner.scan(request.image(), request.blockSize(), payload, raw, request.compression(), windows, progress);
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

            List<Manifest.Slot> slots = new ArrayList<>();
            Map<String, byte[]> slotSmallFiles = new java.util.LinkedHashMap<>();
            for (int i = 0; i < scan.slots().size(); i++) {
                slots.add(slot(files, partitions.get(i), scan.slots().get(i), slotSmallFiles));
            }

            Instant buildDate = request.buildDate().orElse(clock.instant()).truncatedTo(ChronoUnit.SECONDS);
            BlockMap map = scan.blockMap();
            Manifest manifest = new Manifest(request.name(), request.version(), buildDate,
                    Manifest.imageVersionFile(request.name(), request.version(), buildDate),
                    new Manifest.Image(files.rawImage(), scan.imageSize(), scan.imageSha256(), map.blockSize(),
                            map.blocksCount(), map.mappedBlocksCount(), map.mappedBytes()),
                    entries, new Manifest.Compression("zstd", request.compression().level()), request.source(),
                    new Manifest.Signer(key.fingerprint(), key.userId()), slots);
            byte[] manifestBytes = ManifestJson.write(manifest);
            // Signed now, not at the build date: gpg rejects a signature older than its key ("Time conflict").
            byte[] signature = key.sign(manifestBytes, clock.instant()).getBytes(StandardCharsets.US_ASCII);
            key.asKeyring().verify(manifestBytes, signature, files.manifest()); // as JReleaser does: never ship an unchecked signature

            // 1. Stage every byte under this publish's own prefix: a racing publish of the same version stages under another.
            stageFile(stagingPrefix + files.payload(), payload, staged);
            if (raw.isPresent()) {
                stageFile(stagingPrefix + files.rawImage(), raw.get(), staged);
            }
            stageBytes(stagingPrefix + files.bmap(), bmap, staging, staged);
            stageBytes(stagingPrefix + files.checksums(), checksums, staging, staged);
            for (Manifest.Slot slot : slots) {
                for (Manifest.FileEntry entry : slot.files()) {
                    if (entry.role() == Manifest.Role.PAYLOAD || entry.role() == Manifest.Role.RAW) {
                        stageFile(stagingPrefix + entry.name(), staging.resolve(entry.name()), staged);
                    } else {
                        stageBytes(stagingPrefix + entry.name(), slotSmallFiles.get(entry.name()), staging, staged);
                    }
                }
            }
            stageBytes(stagingPrefix + files.signature(), signature, staging, staged);
            // The staged manifest lets a later run find these bytes if this one dies after the commit.
            stageBytes(stagingPrefix + files.manifest(), manifestBytes, staging, staged);
            // 2. Read the staged bytes back before anything is visible: a server that stored something else fails here.
            checkStaged(stagingPrefix, files, manifest.allFiles(), signature, manifestBytes, staging, what);
            // 3. The commit point: the manifest, create-only. Whoever creates it owns the version's names. Until the
            // read-back settles whose manifest stands, the staged bytes may be a committed release's: they are kept.
            unsettled = true;
            committed = commit(files, manifestBytes, what);
            unsettled = false;
            // 4. Make the committed bytes visible under the runbook's names.
            List<String> keys = moveIntoPlace(stagingPrefix, files, manifest, what);
            inPlace = true;
            keys.add(manifestKey);
            return new Result(manifest, Sha256.of(manifestBytes), keys, Duration.between(started, scanned),
                    Duration.between(scanned, clock.instant()));
        } catch (Settled e) {
            unsettled = false; // the read-back showed that our manifest does not stand: nothing of ours was committed
            throw e.failure();
        } finally {
            if (!committed && !unsettled) {
                // Newest first: the staged manifest copy goes first, so a kill meanwhile never leaves it without the rest.
                for (String key : staged.reversed()) {
                    deleteQuietly(key);
                }
            }
            // Committed (or maybe) but not all in place: the staged bytes are what a rerun finishes from (a folder store
            // stages in place).
            boolean keepStaged = (committed && !inPlace) || unsettled;
            if (!keepStaged || store.stagingDirectory().isEmpty()) {
                deleteRecursively(staging);
            }
        }
    }

    /**
     * A manifest already exists. When its files are all in place the version is published: refuse (releases are
     * immutable). When a publish died after its commit, finish it from its staged bytes; if the image asked for is
     * that release's image, this run has done what it was asked, else it is refused as above.
     */
    private Result finishOrRefuse(Request request, ReleaseFiles files, String what) {
        String prefix = ReleaseFiles.STORE_FOLDER;
        byte[] manifestBytes = store.read(prefix + files.manifest()).map(ArtifactStore.VersionedBytes::content).orElse(new byte[0]);
        Manifest manifest;
        try {
            manifest = ManifestJson.parse(manifestBytes, files.manifest());
        } catch (IngotException e) {
            throw alreadyPublished(request, what);
        }
        // Not verified here (a publisher holds no keyring), so its file names are checked before any is used as a key.
        Optional<String> problem = ReleaseVerifier.filesProblem(files, manifest);
        if (problem.isPresent()) {
            throw IngotException.tried(ErrorCode.CONFLICT, what, files.manifest() + " in " + store.describe() + " cannot be finished: "
                    + problem.get()).withHint("run `ingot image verify " + request.version() + "`; publish the image under a new version");
        }
        if (complete(files, manifest)) {
            throw alreadyPublished(request, what);
        }
        Optional<String> stagingPrefix = stagingOf(files, manifest, manifestBytes);
        if (stagingPrefix.isEmpty()) {
            throw IngotException.tried(ErrorCode.CONFLICT, what, request.version() + " is committed in " + store.describe()
                    + " but some of its files are missing and no staged copy of them is left")
                    .withHint("run `ingot image verify " + request.version() + "`; publish the image under a new version");
        }
        Instant started = clock.instant();
        List<String> keys = moveIntoPlace(stagingPrefix.get(), files, manifest, what);
        keys.add(prefix + files.manifest());
        Sha256 requested = imageSha256(request.image(), what);
        if (!requested.equals(manifest.image().sha256())) {
            throw IngotException.tried(ErrorCode.CONFLICT, what, request.version() + " was committed by an earlier publish of another image "
                            + "(SHA-256 " + manifest.image().sha256() + "); its files were put in place now")
                    .withHint("publish the new image under a new version");
        }
        return new Result(manifest, Sha256.of(manifestBytes), keys, Duration.ZERO, Duration.between(started, clock.instant()));
    }

    /**
     * The partitions to publish as slots: those asked for, or {@code root-a} by default when the image has a GPT that
     * names it. The GPT is checked (both headers, both entry arrays): a publisher never ships slots of a damaged table.
     * Each slot must start and end on the block size (modern partitioners align to 1 MiB).
     */
    private static List<GptTable.Partition> slotPartitions(Request request, String what) {
        List<String> names = request.slots().orElse(List.of(Request.DEFAULT_SLOT));
        if (names.isEmpty()) {
            return List.of();
        }
        if (!GptTable.present(request.image())) {
            if (request.slots().isPresent()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, what, request.image() + " has no GPT, so it has no partition "
                        + names.getFirst() + " to publish as a slot").withHint("publish a GPT disk image, or leave out --slot");
            }
            return List.of();
        }
        GptTable table;
        try {
            table = GptTable.read(request.image());
        } catch (IngotException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "its partition table is damaged: " + ReleaseVerifier.reasonOf(e))
                    .withHint("repair it (sgdisk -e) or rebuild the image; a release never ships slots of a damaged table");
        }
        List<GptTable.Partition> partitions = new ArrayList<>();
        for (String name : names) {
            PayloadSet.slot(name); // a safe name, or BAD_INPUT
            Optional<GptTable.Partition> partition = table.partition(name);
            if (partition.isEmpty()) {
                if (request.slots().isPresent()) {
                    throw IngotException.tried(ErrorCode.BAD_INPUT, what, "the image's GPT has no partition named '" + name + "' (it has "
                            + table.names() + ")");
                }
                continue;
            }
            GptTable.Partition found = partition.get();
            if (found.offset() % request.blockSize() != 0 || found.size() % request.blockSize() != 0) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, what, name + " spans bytes " + found.offset() + "-" + (found.offset()
                        + found.size()) + ", not on " + request.blockSize() + "-byte blocks").withHint("align partitions to 1 MiB (sfdisk, parted do)");
            }
            if (partitions.stream().anyMatch(other -> other.name().equals(name))) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, what, "--slot " + name + " is given twice");
            }
            partitions.add(found);
        }
        return partitions;
    }

    /** A slot's manifest entry and its small files (bmap, sha256sum file), from what the scan made of its window. */
    private static Manifest.Slot slot(ReleaseFiles files, GptTable.Partition partition, ImageScanner.SlotResult result,
            Map<String, byte[]> smallFiles) {
        PayloadSet set = PayloadSet.slot(partition.name());
        BlockMap map = result.blockMap();
        byte[] bmap = BmapXml.write(map);
        Sha256 bmapSha256 = Sha256.of(bmap);
        String rawName = files.nameFor(set, Manifest.Role.RAW);
        byte[] checksums = checksumFile(List.of(
                new String[] {result.imageSha256().hex(), rawName},
                new String[] {result.payloadSha256().hex(), files.nameFor(set, Manifest.Role.PAYLOAD)},
                new String[] {bmapSha256.hex(), files.nameFor(set, Manifest.Role.BMAP)}));
        smallFiles.put(files.nameFor(set, Manifest.Role.BMAP), bmap);
        smallFiles.put(files.nameFor(set, Manifest.Role.CHECKSUMS), checksums);
        List<Manifest.FileEntry> entries = new ArrayList<>();
        entries.add(new Manifest.FileEntry(files.nameFor(set, Manifest.Role.PAYLOAD), Manifest.Role.PAYLOAD, result.payloadSize(),
                result.payloadSha256()));
        entries.add(new Manifest.FileEntry(files.nameFor(set, Manifest.Role.BMAP), Manifest.Role.BMAP, bmap.length, bmapSha256));
        entries.add(new Manifest.FileEntry(files.nameFor(set, Manifest.Role.CHECKSUMS), Manifest.Role.CHECKSUMS, checksums.length,
                Sha256.of(checksums)));
        result.window().rawCopy().ifPresent(path -> entries.add(new Manifest.FileEntry(rawName, Manifest.Role.RAW, map.imageSize(),
                result.imageSha256())));
        return new Manifest.Slot(new Manifest.Partition(partition.name(), partition.number(), partition.firstLba(), partition.lastLba(),
                        partition.sectorSize(), partition.typeGuid(), partition.uniqueGuid()),
                new Manifest.Image(rawName, map.imageSize(), result.imageSha256(), map.blockSize(), map.blocksCount(),
                        map.mappedBlocksCount(), map.mappedBytes()),
                entries, Optional.of(new Manifest.ByteRange(result.diskPayloadOffset(), result.payloadSize())));
    }

    private IngotException alreadyPublished(Request request, String what) {
        return IngotException.tried(ErrorCode.CONFLICT, what,
                        request.version() + " is already published in " + store.describe() + " (releases are immutable)")
                .withHint("publish the new image under a new version; `ingot image list` shows the versions taken");
    }

    /** Whether every file the manifest names, and the signature, stand under their names with their sizes. */
    private boolean complete(ReleaseFiles files, Manifest manifest) {
        String prefix = ReleaseFiles.STORE_FOLDER;
        for (Manifest.FileEntry entry : manifest.allFiles()) {
            if (store.stat(prefix + entry.name()).map(ArtifactStore.ObjectInfo::size).orElse(-1L) != entry.size()) {
                return false;
            }
        }
        return store.stat(prefix + files.signature()).isPresent();
    }

    /**
     * The staging prefix whose staged manifest is byte for byte the committed one and that still holds every file not yet
     * in place. Two publishes of one image with one build date stage identical manifests; one that failed before its
     * commit may have been killed while removing its staged files, leaving a manifest copy without the rest.
     */
    private Optional<String> stagingOf(ReleaseFiles files, Manifest manifest, byte[] manifestBytes) {
        for (String key : store.list(ArtifactStore.STAGING_PREFIX)) {
            if (key.endsWith("/" + files.manifest()) && key.indexOf('/', ArtifactStore.STAGING_PREFIX.length()) == key.lastIndexOf('/')) {
                Optional<byte[]> staged = store.read(key).map(ArtifactStore.VersionedBytes::content);
                String prefix = key.substring(0, key.lastIndexOf('/') + 1);
                if (staged.isPresent() && java.util.Arrays.equals(staged.get(), manifestBytes) && holdsTheRest(prefix, files, manifest)) {
                    return Optional.of(prefix);
                }
            }
        }
        return Optional.empty();
    }

    /** Whether each file of the release stands staged under {@code prefix} or already under its name, with its size. */
    private boolean holdsTheRest(String prefix, ReleaseFiles files, Manifest manifest) {
        for (Manifest.FileEntry entry : manifest.allFiles()) {
            long size = entry.size();
            if (!hasSize(prefix + entry.name(), size) && !hasSize(ReleaseFiles.STORE_FOLDER + entry.name(), size)) {
                return false;
            }
        }
        return store.stat(prefix + files.signature()).isPresent() || store.stat(ReleaseFiles.STORE_FOLDER + files.signature()).isPresent();
    }

    private boolean hasSize(String key, long size) {
        return store.stat(key).map(ArtifactStore.ObjectInfo::size).orElse(-1L) == size;
    }

    /**
     * Moves the committed release's staged files to their names (payload files, then the signature), then removes
     * the staged manifest. Only a run that holds the committed manifest calls this, so the names only ever receive
     * that manifest's bytes; two runs finishing at once move the same bytes, and one finds the other's work done.
     */
    private List<String> moveIntoPlace(String stagingPrefix, ReleaseFiles files, Manifest manifest, String what) {
        String prefix = ReleaseFiles.STORE_FOLDER;
        List<String> keys = new ArrayList<>();
        List<String[]> moves = new ArrayList<>();
        for (Manifest.FileEntry entry : manifest.allFiles()) {
            moves.add(new String[] {entry.name(), Long.toString(entry.size())});
        }
        moves.add(new String[] {files.signature(), "-1"});
        for (String[] move : moves) {
            String name = move[0];
            long size = Long.parseLong(move[1]);
            try {
                store.move(stagingPrefix + name, prefix + name);
            } catch (IngotException e) {
                if (e.code() != ErrorCode.NOT_FOUND) {
                    throw IngotException.tried(ErrorCode.UNAVAILABLE, what, name + " could not be put in place ("
                            + ReleaseVerifier.reasonOf(e) + "); the release is committed but incomplete")
                            .withHint("run the same publish again: it finishes the release from its staged files");
                }
                // Moved by a run finishing the same release: it must be there now.
            }
            long stored = store.stat(prefix + name).map(ArtifactStore.ObjectInfo::size).orElse(-1L);
            if (stored < 0 || (size >= 0 && stored != size)) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, what, name + " is " + (stored < 0 ? "missing" : stored + " bytes")
                        + " in " + store.describe() + " after it was put in place" + (size >= 0 ? ", not " + size : ""))
                        .withHint("run the same publish again: it finishes the release from its staged files");
            }
            keys.add(prefix + name);
        }
        deleteQuietly(stagingPrefix + files.manifest());
        return keys;
    }

    /**
     * The staged files read back: each must have its size, the small ones their exact bytes, and a large one its
     * first MiB. An S3-compatible server that keeps an upload's transfer encoding (aws-chunked framing) fails here,
     * before the commit, so the version stays unpublished and a rerun can succeed.
     */
    private void checkStaged(String stagingPrefix, ReleaseFiles files, List<Manifest.FileEntry> entries, byte[] signature,
            byte[] manifestBytes, Path staging, String what) {
        for (Manifest.FileEntry entry : entries) {
            checkStagedFile(stagingPrefix + entry.name(), entry.size(), staging.resolve(entry.name()), what);
        }
        checkStagedBytes(stagingPrefix + files.signature(), signature, what);
        checkStagedBytes(stagingPrefix + files.manifest(), manifestBytes, what);
    }

    private void checkStagedFile(String key, long size, Path local, String what) {
        long stored = store.stat(key).map(ArtifactStore.ObjectInfo::size).orElse(-1L);
        if (stored != size) {
            throw stagedDamaged(key, stored < 0 ? "it is missing" : "it is " + stored + " bytes, not " + size, what);
        }
        int head = (int) Math.min(size, 1 << 20);
        try (java.io.InputStream in = store.open(key)) {
            byte[] storedHead = in.readNBytes(head);
            byte[] localHead;
            try (java.io.InputStream file = Files.newInputStream(local)) {
                localHead = file.readNBytes(head);
            }
            if (!java.util.Arrays.equals(storedHead, localHead)) {
                throw stagedDamaged(key, "its first " + head + " bytes differ from what was sent", what);
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "reading " + key + " back failed: " + e.getMessage()).withCause(e);
        }
    }

    private void checkStagedBytes(String key, byte[] content, String what) {
        byte[] stored = store.read(key).map(ArtifactStore.VersionedBytes::content).orElse(null);
        if (stored == null || !java.util.Arrays.equals(stored, content)) {
            throw stagedDamaged(key, stored == null ? "it is missing" : "it reads back as " + stored.length + " other bytes", what);
        }
    }

    private IngotException stagedDamaged(String key, String reason, String what) {
        return IngotException.tried(ErrorCode.UNAVAILABLE, what, store.describe() + " did not keep what was uploaded: " + key + ": "
                        + reason + "; nothing was published")
                .withHint("an S3-compatible server may store uploads differently; check it, then run the publish again");
    }

    /** A failure after which it is known that our manifest does not stand: the staged bytes may go. */
    private static final class Settled extends RuntimeException {
        private final IngotException failure;

        Settled(IngotException failure) {
            super(failure.getMessage(), null, false, false);
            this.failure = failure;
        }

        IngotException failure() {
            return failure;
        }
    }

    /**
     * The create-only write of the manifest, settled by reading it back: true when our bytes stand. The answer to the
     * write alone does not settle it: a write can land while its answer is lost (an error), and a client that retries
     * it finds its own first attempt (412, "somebody else won"). So: our bytes read back — committed, whatever the write
     * answered; absent — not committed; another valid manifest of this version — a racing publish won (on a server that
     * ignores {@code If-None-Match} ours may even have been overwritten); anything else after our write — the server
     * damaged it: it is removed. When the read-back fails too, nothing is settled: the error is thrown as it is and the
     * caller keeps the staged bytes, so a rerun can finish a release that did commit.
     */
    private boolean commit(ReleaseFiles files, byte[] manifestBytes, String what) {
        String manifestKey = ReleaseFiles.STORE_FOLDER + files.manifest();
        IngotException writeFailure = null;
        boolean created;
        try {
            created = store.createIfAbsent(manifestKey, manifestBytes);
        } catch (IngotException e) {
            if (e.code() != ErrorCode.UNAVAILABLE) {
                throw new Settled(e);
            }
            writeFailure = e;
            created = false;
        }
        Optional<byte[]> stored;
        try {
            stored = store.read(manifestKey).map(ArtifactStore.VersionedBytes::content);
        } catch (IngotException e) {
            IngotException unsettled = writeFailure != null ? writeFailure : e;
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "it is not known whether the manifest was committed ("
                            + ReleaseVerifier.reasonOf(unsettled) + "); the staged files are kept")
                    .withHint("run the same publish again: it finishes the release if it was committed, else publishes it afresh")
                    .withCause(unsettled);
        }
        if (stored.isPresent() && java.util.Arrays.equals(stored.get(), manifestBytes)) {
            return true;
        }
        if (stored.isEmpty()) {
            throw new Settled(writeFailure != null ? writeFailure : IngotException.tried(ErrorCode.UNAVAILABLE, what,
                    "the manifest was written but " + store.describe() + " does not have it; nothing was published")
                    .withHint("check the store, then run the publish again"));
        }
        try {
            Manifest other = ManifestJson.parse(stored.get(), files.manifest());
            if (other.name().equals(files.name()) && other.version().equals(files.version())) {
                throw new Settled(IngotException.tried(ErrorCode.CONFLICT, what, "another publish of " + files.version()
                                + " committed first; its files stand in " + store.describe())
                        .withHint("run `ingot image verify " + files.version() + "` to check what was published"));
            }
        } catch (IngotException e) {
            // not a manifest of this version: below
        }
        if (!created) {
            // Something else stands under the name, and it is not ours: leave it for `verify` to report.
            throw new Settled(writeFailure != null ? writeFailure : IngotException.tried(ErrorCode.CONFLICT, what,
                    files.manifest() + " already exists in " + store.describe() + " and is not a manifest of " + files.version())
                    .withHint("run `ingot image verify " + files.version() + "`"));
        }
        deleteQuietly(manifestKey);
        throw new Settled(IngotException.tried(ErrorCode.UNAVAILABLE, what, "the manifest read back from " + store.describe()
                        + " differs from what was written (" + stored.get().length + " bytes, not " + manifestBytes.length + "); it was removed, "
                        + "nothing was published")
                .withHint("an S3-compatible server may store uploads differently; check it, then run the publish again"));
    }

    private void stageFile(String key, Path file, List<String> staged) {
        staged.add(key);
        store.putMoving(key, file, progress);
    }

    private void stageBytes(String key, byte[] content, Path staging, List<String> staged) {
        Path file = staging.resolve(key.substring(key.lastIndexOf('/') + 1));
        try {
            Files.write(file, content);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "stage " + file, String.valueOf(e.getMessage()));
        }
        staged.add(key);
        store.putMoving(key, file, Progress.NONE);
    }

    private void deleteQuietly(String key) {
        try {
            store.delete(key);
        } catch (IngotException ignored) {
            // a leftover under .ingot-staging/ is harmless: no manifest names it (docs/formats.md: clean-up)
        }
    }

    private Sha256 imageSha256(Path image, String what) {
        try (java.io.InputStream in = Files.newInputStream(image)) {
            return new dev.ingot.digest.DigestingInputStream(in).drainAndDigest();
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "the image " + image + " cannot be read: " + e.getMessage());
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

    private Path createStaging(String what) {
        // A folder store stages inside itself (so staging is a rename); any other store in the caller's own work folder.
        Path parent = store.stagingDirectory().orElseGet(() -> workFolder.get().folder("publish"));
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
