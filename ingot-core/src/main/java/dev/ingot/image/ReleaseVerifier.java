package dev.ingot.image;

import static java.util.Objects.requireNonNull;

import com.github.luben.zstd.ZstdInputStream;
import dev.ingot.digest.DigestingInputStream;
import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.VerifiedSignature;
import dev.ingot.store.ArtifactStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks a release end to end: the manifest's signature against the trusted keyring, the manifest
 * against the version asked for, every file's size and SHA-256, the bmap's own checksum and its fit
 * to the image, the sha256sum file, and the payload decompressed: the whole image's SHA-256 and
 * every mapped range's. Nothing is trusted before the signature checks out.
 *
 * <p>Works on a store ({@code golden-images/} prefix) and on a flat folder of release files (a pulled
 * copy, a USB cache): the prefix says which.
 */
public final class ReleaseVerifier {
    /** The most a manifest or its signature file may hold: each is a few KiB; anything larger is not read. */
    static final long SMALL_FILE_LIMIT = 1L << 20;

    private final Keyring keyring;
    private final Progress progress;
    private final boolean decompress;
    private final boolean includeRaw;

    public ReleaseVerifier(Keyring keyring, Progress progress) {
        this(keyring, progress, true, true);
    }

    /**
     * With {@code decompress} false the payload is checked by its digest only, not decompressed (a
     * quick check); with {@code includeRaw} false a raw image the manifest lists is not expected (a
     * pulled copy or a USB cache keeps only the payload).
     */
    public ReleaseVerifier(Keyring keyring, Progress progress, boolean decompress, boolean includeRaw) {
        this.keyring = requireNonNull(keyring, "keyring");
        this.progress = requireNonNull(progress, "progress");
        this.decompress = decompress;
        this.includeRaw = includeRaw;
    }

    /** The outcome of one check on one file. */
    public record Finding(String file, boolean ok, String detail) {}

    public record Report(ImageName name, ImageVersion version, Optional<Manifest> manifest,
            Optional<VerifiedSignature> signature, List<Finding> findings, Optional<TrustedRelease> trusted) {
        public boolean ok() {
            return findings.stream().allMatch(Finding::ok);
        }

        public List<Finding> failures() {
            return findings.stream().filter(finding -> !finding.ok()).toList();
        }
    }

    /**
     * The one way to a {@link TrustedRelease}: reads the manifest, its signature and the bmap from {@code store}
     * under {@code prefix} and checks them (signature against the keyring, the manifest against the name and
     * version asked for, its file names, the bmap's SHA-256 and fit). Throws CHECK_FAILED naming the bad file, or
     * NOT_FOUND when the manifest is not there. The payload is not read: its reader checks it as it streams.
     */
    public TrustedRelease trust(ArtifactStore store, String prefix, ImageName name, ImageVersion version) {
        ReleaseFiles files = new ReleaseFiles(name, version);
        Established established = establish(store, prefix, files, new ArrayList<>());
        return established.trusted().orElseThrow(() -> {
            Finding bad = established.findings().stream().filter(finding -> !finding.ok()).findFirst().orElseThrow();
            return IngotException.tried(ErrorCode.CHECK_FAILED, "trust " + files.base() + " from " + store.describe(),
                            bad.file() + ": " + bad.detail())
                    .withHint("nothing was used; `ingot image verify " + version + "` checks every file of the release");
        });
    }

    public Report verify(ArtifactStore store, String prefix, ImageName name, ImageVersion version) {
        ReleaseFiles files = new ReleaseFiles(name, version);
        List<Finding> findings = new ArrayList<>();
        Established established = establish(store, prefix, files, findings);
        if (established.trusted().isPresent()) {
            TrustedRelease trusted = established.trusted().get();
            for (PayloadSet set : trusted.sets()) {
                for (Manifest.FileEntry entry : trusted.files(set)) {
                    if (entry.role() == Manifest.Role.BMAP || entry.role() == Manifest.Role.CHECKSUMS
                            || (entry.role() == Manifest.Role.RAW && !includeRaw)) {
                        continue;
                    }
                    if (set instanceof PayloadSet.Slot && !includeRaw && store.stat(prefix + entry.name()).isEmpty()) {
                        // A copy (a pull for a USB cache) keeps the disk's payload; a slot's is optional there.
                        findings.add(new Finding(entry.name(), true, "not in this copy (a slot payload is optional in a copy)"));
                        continue;
                    }
                    checkFile(store, prefix, trusted, set, entry, findings);
                }
            }
        }
        return new Report(name, version, established.manifest(), established.signature(), findings, established.trusted());
    }

    private record Established(Optional<Manifest> manifest, Optional<VerifiedSignature> signature, Optional<TrustedRelease> trusted,
            List<Finding> findings) {}

    /** Every check up to a trusted release, in order, each one a finding; stops at the first that fails. */
    private Established establish(ArtifactStore store, String prefix, ReleaseFiles files, List<Finding> findings) {
        ImageName name = files.name();
        ImageVersion version = files.version();
        byte[] manifestBytes;
        Optional<byte[]> signatureBytes;
        String reading = files.manifest();
        try {
            manifestBytes = store.readAtMost(prefix + files.manifest(), SMALL_FILE_LIMIT).map(ArtifactStore.VersionedBytes::content)
                    .orElseThrow(() -> IngotException.tried(ErrorCode.NOT_FOUND, "verify " + files.base(),
                                    files.manifest() + " is not in " + store.describe() + " (" + version + " is not published there)")
                            .withHint("`ingot image list --store " + store.describe() + "` shows the published versions"));
            reading = files.signature();
            signatureBytes = store.readAtMost(prefix + files.signature(), SMALL_FILE_LIMIT).map(ArtifactStore.VersionedBytes::content);
        } catch (IngotException e) {
            if (e.code() != ErrorCode.CHECK_FAILED) {
                throw e; // not published there, or the store cannot be read
            }
            findings.add(new Finding(reading, false, reasonOf(e))); // too large to be what its name says
            return new Established(Optional.empty(), Optional.empty(), Optional.empty(), findings);
        }
        if (signatureBytes.isEmpty()) {
            findings.add(new Finding(files.signature(), false, "the signature file is missing"));
            return new Established(Optional.empty(), Optional.empty(), Optional.empty(), findings);
        }
        VerifiedSignature signature;
        try {
            signature = keyring.verify(manifestBytes, signatureBytes.get(), files.manifest());
            findings.add(new Finding(files.signature(), true, "good signature by " + signature.signer()
                    + (signature.userId().isEmpty() ? "" : " (" + signature.userId() + ")")));
        } catch (IngotException e) {
            findings.add(new Finding(files.signature(), false, reasonOf(e)));
            return new Established(Optional.empty(), Optional.empty(), Optional.empty(), findings);
        }

        Manifest manifest;
        try {
            manifest = ManifestJson.parse(manifestBytes, files.manifest());
        } catch (IngotException e) {
            findings.add(new Finding(files.manifest(), false, reasonOf(e)));
            return new Established(Optional.empty(), Optional.of(signature), Optional.empty(), findings);
        }
        Optional<String> problem = manifestProblem(manifest, signature, files);
        if (problem.isPresent()) {
            findings.add(new Finding(files.manifest(), false, problem.get()));
            return new Established(Optional.of(manifest), Optional.of(signature), Optional.empty(), findings);
        }
        findings.add(new Finding(files.manifest(), true, "describes " + name + " " + version + ", built " + manifest.buildDate()));

        Map<PayloadSet, TrustedRelease.Parts> sets = new java.util.LinkedHashMap<>();
        List<PayloadSet> wanted = new ArrayList<>();
        wanted.add(PayloadSet.DISK);
        manifest.slots().forEach(slot -> wanted.add(PayloadSet.slot(slot.partition().name())));
        for (PayloadSet set : wanted) {
            Optional<TrustedRelease.Parts> parts = checkSet(store, prefix, manifest, set, findings);
            if (parts.isEmpty()) {
                return new Established(Optional.of(manifest), Optional.of(signature), Optional.empty(), findings);
            }
            sets.put(set, parts.get());
        }
        for (Manifest.Slot slot : manifest.slots()) {
            // The slot's map must be the disk's ranges inside the partition: a slot file from another build fails here.
            BlockMap slotMap = sets.get(PayloadSet.slot(slot.partition().name())).blockMap();
            Optional<String> disagreement = disagreement(sets.get(PayloadSet.DISK).blockMap(), slot, slotMap);
            if (disagreement.isPresent()) {
                findings.add(new Finding(slot.file(Manifest.Role.BMAP).orElseThrow().name(), false, disagreement.get()));
                return new Established(Optional.of(manifest), Optional.of(signature), Optional.empty(), findings);
            }
        }
        return new Established(Optional.of(manifest), Optional.of(signature),
                Optional.of(TrustedRelease.of(files, manifest, signature, sets, manifestBytes, signatureBytes.get())), findings);
    }

    /** A set's bmap and sha256sum file, each checked against the signed manifest; empty (with a finding) when one fails. */
    private Optional<TrustedRelease.Parts> checkSet(ArtifactStore store, String prefix, Manifest manifest, PayloadSet set,
            List<Finding> findings) {
        Manifest.Image image = imageOf(manifest, set);
        List<Manifest.FileEntry> setFiles = filesOf(manifest, set);
        Manifest.FileEntry bmapEntry = role(setFiles, Manifest.Role.BMAP);
        Optional<BlockMap> map = checkBmap(store, prefix + bmapEntry.name(), image, bmapEntry, findings);
        if (map.isEmpty()) {
            return Optional.empty();
        }
        // The sha256sum file is small: checked here, so no reader hands on a release whose runbook file lies.
        Manifest.FileEntry checksumsEntry = role(setFiles, Manifest.Role.CHECKSUMS);
        Optional<ArtifactStore.ObjectInfo> checksumsInfo = store.stat(prefix + checksumsEntry.name());
        if (checksumsInfo.isEmpty()) {
            findings.add(new Finding(checksumsEntry.name(), false, "the file is missing"));
            return Optional.empty();
        }
        if (checksumsInfo.get().size() != checksumsEntry.size()) {
            findings.add(sizeMismatch(checksumsEntry, checksumsInfo.get().size()));
            return Optional.empty();
        }
        int before = findings.size();
        checkChecksums(store, prefix + checksumsEntry.name(), image, setFiles, checksumsEntry, findings);
        if (findings.subList(before, findings.size()).stream().anyMatch(finding -> !finding.ok())) {
            return Optional.empty();
        }
        byte[] bmapBytes = readSmall(store, prefix + bmapEntry.name(), bmapEntry);
        byte[] checksumsBytes = readSmall(store, prefix + checksumsEntry.name(), checksumsEntry);
        if (!Sha256.of(bmapBytes).equals(bmapEntry.sha256()) || !Sha256.of(checksumsBytes).equals(checksumsEntry.sha256())) {
            // Changed between the check and this read: trust neither.
            findings.add(new Finding(bmapEntry.name(), false, "it or " + checksumsEntry.name() + " changed while being read"));
            return Optional.empty();
        }
        return Optional.of(new TrustedRelease.Parts(image, setFiles, map.get(), bmapBytes, checksumsBytes));
    }

    private static Manifest.Image imageOf(Manifest manifest, PayloadSet set) {
        return switch (set) {
            case PayloadSet.Disk disk -> manifest.image();
            case PayloadSet.Slot slot -> manifest.slot(slot.partition()).orElseThrow().image();
        };
    }

    private static List<Manifest.FileEntry> filesOf(Manifest manifest, PayloadSet set) {
        return switch (set) {
            case PayloadSet.Disk disk -> manifest.files();
            case PayloadSet.Slot slot -> manifest.slot(slot.partition()).orElseThrow().files();
        };
    }

    private static Manifest.FileEntry role(List<Manifest.FileEntry> files, Manifest.Role role) {
        return files.stream().filter(entry -> entry.role() == role).findFirst().orElseThrow();
    }

    /**
     * Why a slot's block map is not the disk map's ranges inside the slot's partition (rebased to it), or empty. Every
     * disk range lies wholly inside or outside a slot (publish cuts ranges at partition boundaries).
     */
    static Optional<String> disagreement(BlockMap disk, Manifest.Slot slot, BlockMap slotMap) {
        long offset = slot.partition().offset();
        long end = offset + slot.partition().size();
        if (slotMap.blockSize() != disk.blockSize() || offset % disk.blockSize() != 0) {
            return Optional.of("the " + slot.partition().name() + " slot's blocks do not line up with the disk's");
        }
        long shift = offset / disk.blockSize();
        List<BlockMap.Range> inside = new ArrayList<>();
        for (BlockMap.Range range : disk.ranges()) {
            long start = disk.startOffset(range);
            long stop = disk.endOffset(range);
            if (start < end && stop > offset) {
                if (start < offset || stop > end) {
                    return Optional.of("disk blocks " + range.first() + "-" + range.last() + " cross the " + slot.partition().name()
                            + " partition's boundary");
                }
                inside.add(new BlockMap.Range(range.first() - shift, range.last() - shift, range.sha256()));
            }
        }
        if (!inside.equals(slotMap.ranges())) {
            return Optional.of("it does not map the disk's blocks inside " + slot.partition().name() + " (a slot file from another build?)");
        }
        return Optional.empty();
    }

    /** What is wrong with a signed manifest for the release asked for, or empty. */
    private static Optional<String> manifestProblem(Manifest manifest, VerifiedSignature signature, ReleaseFiles files) {
        if (!manifest.name().equals(files.name()) || !manifest.version().equals(files.version())) {
            return Optional.of("it describes " + manifest.name() + " " + manifest.version() + ", not " + files.name() + " "
                    + files.version() + " (a file swapped in from another release)");
        }
        if (!manifest.signer().fingerprint().equals(signature.signer())) {
            return Optional.of("it names signer " + manifest.signer().fingerprint() + " but was signed by " + signature.signer());
        }
        if (!manifest.imageVersionFile().equals(Manifest.imageVersionFile(files.name(), files.version(), manifest.buildDate()))) {
            return Optional.of("its image_version_file does not state " + files.name() + " " + files.version() + " built "
                    + manifest.buildDate());
        }
        if (!manifest.image().file().equals(files.rawImage())) {
            return Optional.of("its image file is '" + manifest.image().file() + "', not " + files.rawImage());
        }
        return filesProblem(files, manifest);
    }

    /**
     * What is wrong with the names and roles of a manifest's files, the disk's and each slot's, or empty. Also the check
     * a publish that finishes a committed release runs before it uses any name as a key (it holds no keyring).
     */
    static Optional<String> filesProblem(ReleaseFiles files, Manifest manifest) {
        Optional<String> diskProblem = filesProblem(files, PayloadSet.DISK, manifest.files());
        if (diskProblem.isPresent()) {
            return diskProblem;
        }
        java.util.Set<String> slotNames = new java.util.HashSet<>();
        for (Manifest.Slot slot : manifest.slots()) {
            String partition = slot.partition().name();
            if (!PayloadSet.SLOT_NAME.matcher(partition).matches() || !slotNames.add(partition)) {
                return Optional.of("it names the slot '" + partition.replace("\n", "\\n") + "' (not a safe, unique partition name)");
            }
            PayloadSet set = PayloadSet.slot(partition);
            if (!slot.image().file().equals(files.nameFor(set, Manifest.Role.RAW))) {
                return Optional.of("its " + partition + " image file is '" + slot.image().file() + "', not " + files.nameFor(set, Manifest.Role.RAW));
            }
            Manifest.Partition entry = slot.partition();
            if ((entry.sectorSize() != 512 && entry.sectorSize() != 4096) || entry.lastLba() < entry.firstLba()
                    || slot.image().size() != entry.size() || entry.offset() + entry.size() > manifest.image().size()) {
                return Optional.of("its " + partition + " slot does not fit the disk image (LBA " + entry.firstLba() + "-" + entry.lastLba()
                        + " of " + entry.sectorSize() + " bytes, image " + slot.image().size() + " bytes)");
            }
            Optional<String> slotProblem = filesProblem(files, set, slot.files());
            if (slotProblem.isPresent()) {
                return slotProblem;
            }
        }
        return Optional.empty();
    }

    /** The one name check for a set's files, each role once, payload, bmap and sha256sum file present. */
    private static Optional<String> filesProblem(ReleaseFiles files, PayloadSet set, List<Manifest.FileEntry> entries) {
        java.util.EnumSet<Manifest.Role> seen = java.util.EnumSet.noneOf(Manifest.Role.class);
        String of = set instanceof PayloadSet.Slot slot ? " for the " + slot.partition() + " slot" : "";
        for (Manifest.FileEntry entry : entries) {
            Optional<String> nameProblem = files.problemWith(entry.name(), set, entry.role());
            if (nameProblem.isPresent()) {
                return nameProblem;
            }
            if (!seen.add(entry.role())) {
                return Optional.of("it lists more than one " + entry.role().json() + " file" + of);
            }
        }
        for (Manifest.Role required : List.of(Manifest.Role.PAYLOAD, Manifest.Role.BMAP, Manifest.Role.CHECKSUMS)) {
            if (!seen.contains(required)) {
                return Optional.of("it lists no " + required.json() + " file" + of);
            }
        }
        return Optional.empty();
    }

    private void checkFile(ArtifactStore store, String prefix, TrustedRelease trusted, PayloadSet set, Manifest.FileEntry entry,
            List<Finding> findings) {
        String key = prefix + entry.name();
        Optional<ArtifactStore.ObjectInfo> info = store.stat(key);
        if (info.isEmpty()) {
            findings.add(new Finding(entry.name(), false, "the file is missing"));
            return;
        }
        if (info.get().size() != entry.size()) {
            findings.add(sizeMismatch(entry, info.get().size()));
            return;
        }
        switch (entry.role()) {
            case BMAP -> { /* checked before the release was trusted */ }
            case CHECKSUMS -> { /* checked before the release was trusted */ }
            case PAYLOAD -> {
                if (decompress) {
                    checkPayload(store, key, trusted.image(set), trusted.blockMap(set), entry, findings);
                } else {
                    checkDigest(store, key, entry, findings);
                }
            }
            case RAW -> checkRaw(store, key, trusted.image(set), entry, findings);
        }
    }

    private static Finding sizeMismatch(Manifest.FileEntry entry, long size) {
        return new Finding(entry.name(), false, "it is " + size + " bytes but the manifest says "
                + entry.size() + (size < entry.size() ? " (truncated or an incomplete upload)" : ""));
    }

    private Optional<BlockMap> checkBmap(ArtifactStore store, String key, Manifest.Image image, Manifest.FileEntry entry,
            List<Finding> findings) {
        Optional<ArtifactStore.ObjectInfo> info = store.stat(key);
        if (info.isEmpty()) {
            findings.add(new Finding(entry.name(), false, "the file is missing"));
            return Optional.empty();
        }
        if (info.get().size() != entry.size()) {
            findings.add(sizeMismatch(entry, info.get().size()));
            return Optional.empty();
        }
        byte[] content = readSmall(store, key, entry);
        Sha256 actual = Sha256.of(content);
        if (!actual.equals(entry.sha256())) {
            findings.add(digestMismatch(entry, actual));
            return Optional.empty();
        }
        try {
            BlockMap map = BmapXml.parse(content, entry.name());
            if (map.imageSize() != image.size() || map.blockSize() != image.blockSize()
                    || map.mappedBlocksCount() != image.mappedBlocksCount()) {
                findings.add(new Finding(entry.name(), false, "it maps a " + map.imageSize() + "-byte image in "
                        + map.blockSize() + "-byte blocks, but the manifest's image is " + image.size() + " bytes in "
                        + image.blockSize() + "-byte blocks"));
                return Optional.empty();
            }
            findings.add(new Finding(entry.name(), true, "SHA-256 and BmapFileChecksum match; " + map.ranges().size()
                    + " ranges, " + map.mappedBlocksCount() + " of " + map.blocksCount() + " blocks mapped"));
            return Optional.of(map);
        } catch (IngotException e) {
            findings.add(new Finding(entry.name(), false, reasonOf(e)));
            return Optional.empty();
        }
    }

    private void checkChecksums(ArtifactStore store, String key, Manifest.Image image, List<Manifest.FileEntry> setFiles,
            Manifest.FileEntry entry, List<Finding> findings) {
        byte[] content = readSmall(store, key, entry);
        Sha256 actual = Sha256.of(content);
        if (!actual.equals(entry.sha256())) {
            findings.add(digestMismatch(entry, actual));
            return;
        }
        Map<String, Sha256> expected = new HashMap<>();
        expected.put(image.file(), image.sha256());
        for (Manifest.FileEntry file : setFiles) {
            if (file.role() == Manifest.Role.PAYLOAD || file.role() == Manifest.Role.BMAP) {
                expected.put(file.name(), file.sha256());
            }
        }
        for (String line : new String(content, StandardCharsets.UTF_8).split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] parts = line.split(" [ *]", 2);
            Sha256 listed = parts.length == 2 ? parseOrNull(parts[0]) : null;
            Sha256 wanted = parts.length == 2 ? expected.remove(parts[1]) : null;
            if (listed == null || wanted == null || !listed.equals(wanted)) {
                findings.add(new Finding(entry.name(), false, "its line '" + line + "' does not agree with the manifest"));
                return;
            }
        }
        if (!expected.isEmpty()) {
            findings.add(new Finding(entry.name(), false, "it does not list " + String.join(", ", expected.keySet())));
            return;
        }
        findings.add(new Finding(entry.name(), true, "SHA-256 matches and its lines agree with the manifest"));
    }

    private void checkPayload(ArtifactStore store, String key, Manifest.Image image, BlockMap blockMap, Manifest.FileEntry entry,
            List<Finding> findings) {
        Optional<BlockMap> map = Optional.of(blockMap);
        RangeChecker ranges = new RangeChecker(map);
        MessageDigest imageDigest = Sha256.newDigest();
        long imageBytes = 0;
        String decompressError = null;
        Sha256 compressedDigest;
        progress.start("verify " + entry.name(), image.size());
        try (InputStream raw = store.open(key)) {
            // The digest sits below the decompressor's buffer, so it sees every byte of the file once.
            DigestingInputStream compressed = new DigestingInputStream(raw);
            ZstdInputStream zstd = new ZstdInputStream(new java.io.BufferedInputStream(compressed, 1 << 20));
            try {
                byte[] buffer = new byte[1 << 20];
                int n;
                while ((n = zstd.read(buffer)) >= 0) {
                    imageDigest.update(buffer, 0, n);
                    ranges.accept(imageBytes, buffer, n);
                    imageBytes += n;
                    progress.advance(n);
                }
            } catch (IOException | RuntimeException e) {
                decompressError = String.valueOf(e.getMessage());
            }
            // Read what the decompressor left (trailing garbage, or all of it after an error) so the digest covers the file.
            compressedDigest = compressed.drainAndDigest();
            zstd.close();
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read " + key + " from " + store.describe(),
                    String.valueOf(e.getMessage())).withCause(e);
        } catch (UncheckedIOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read " + key + " from " + store.describe(),
                    String.valueOf(e.getCause().getMessage())).withCause(e);
        } finally {
            progress.done();
        }
        if (!compressedDigest.equals(entry.sha256())) {
            findings.add(digestMismatch(entry, compressedDigest));
            return;
        }
        if (decompressError != null) {
            findings.add(new Finding(entry.name(), false, "it is not a valid zstd stream (" + decompressError + ")"));
            return;
        }
        if (imageBytes != image.size()) {
            findings.add(new Finding(entry.name(), false, "it decompresses to " + imageBytes + " bytes, but the image is "
                    + image.size()));
            return;
        }
        Sha256 imageSha256 = Sha256.fromBytes(imageDigest.digest());
        if (!imageSha256.equals(image.sha256())) {
            findings.add(new Finding(entry.name(), false, "it decompresses to an image with SHA-256 " + imageSha256
                    + ", but the manifest says " + image.sha256()));
            return;
        }
        Optional<String> rangeProblem = ranges.problem();
        if (rangeProblem.isPresent()) {
            findings.add(new Finding(entry.name(), false, rangeProblem.get()));
            return;
        }
        findings.add(new Finding(entry.name(), true, "SHA-256 matches; decompresses to the image (" + image.size()
                + " bytes, SHA-256 " + image.sha256().hex().substring(0, 12) + "…)"
                + (map.isPresent() ? " and all " + map.get().ranges().size() + " bmap ranges match" : "")));
    }

    private void checkDigest(ArtifactStore store, String key, Manifest.FileEntry entry, List<Finding> findings) {
        progress.start("verify " + entry.name(), entry.size());
        try (InputStream in = store.open(key)) {
            Sha256 actual = new DigestingInputStream(new ProgressInputStream(in, progress)).drainAndDigest();
            findings.add(actual.equals(entry.sha256()) ? new Finding(entry.name(), true, "SHA-256 matches (not decompressed)")
                    : digestMismatch(entry, actual));
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read " + key + " from " + store.describe(),
                    String.valueOf(e.getMessage())).withCause(e);
        } finally {
            progress.done();
        }
    }

    private void checkRaw(ArtifactStore store, String key, Manifest.Image image, Manifest.FileEntry entry, List<Finding> findings) {
        progress.start("verify " + entry.name(), entry.size());
        try (InputStream in = store.open(key)) {
            DigestingInputStream digesting = new DigestingInputStream(new ProgressInputStream(in, progress));
            Sha256 actual = digesting.drainAndDigest();
            if (!actual.equals(entry.sha256()) || !actual.equals(image.sha256())) {
                findings.add(digestMismatch(entry, actual));
            } else {
                findings.add(new Finding(entry.name(), true, "SHA-256 matches"));
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read " + key + " from " + store.describe(),
                    String.valueOf(e.getMessage())).withCause(e);
        } finally {
            progress.done();
        }
    }

    /** A file the signed manifest lists, read whole: never more than the size the manifest gives it. */
    private static byte[] readSmall(ArtifactStore store, String key, Manifest.FileEntry entry) {
        return store.readAtMost(key, entry.size()).map(ArtifactStore.VersionedBytes::content)
                .orElseThrow(() -> IngotException.tried(ErrorCode.NOT_FOUND, "read " + key, "it is missing"));
    }

    private static Finding digestMismatch(Manifest.FileEntry entry, Sha256 actual) {
        return new Finding(entry.name(), false, "its SHA-256 is " + actual + " but the manifest says " + entry.sha256()
                + " (the file was changed, damaged or swapped)");
    }

    private static Sha256 parseOrNull(String hex) {
        try {
            return Sha256.fromHex(hex);
        } catch (IngotException e) {
            return null;
        }
    }

    /** The reason part of a "Tried to X but failed because Y" message (to reword it for another attempt). */
    public static String reasonOf(IngotException e) {
        String message = e.getMessage();
        int because = message.indexOf(" but failed because ");
        return because < 0 ? message : message.substring(because + " but failed because ".length());
    }

    /** Checks each bmap range's SHA-256 as the decompressed image streams past. */
    private static final class RangeChecker {
        private final Optional<BlockMap> map;
        private final MessageDigest digest = Sha256.newDigest();
        private int index;
        private String problem;

        RangeChecker(Optional<BlockMap> map) {
            this.map = map;
        }

        void accept(long offset, byte[] buffer, int length) {
            if (map.isEmpty() || problem != null) {
                return;
            }
            BlockMap blockMap = map.get();
            long end = offset + length;
            while (index < blockMap.ranges().size()) {
                BlockMap.Range range = blockMap.ranges().get(index);
                long start = blockMap.startOffset(range);
                long stop = blockMap.endOffset(range);
                if (start >= end) {
                    return;
                }
                long from = Math.max(start, offset);
                long to = Math.min(stop, end);
                if (to > from) {
                    digest.update(buffer, (int) (from - offset), (int) (to - from));
                }
                if (stop > end) {
                    return;
                }
                Sha256 actual = Sha256.fromBytes(digest.digest());
                if (!actual.equals(range.sha256())) {
                    problem = "bmap range " + range.first() + "-" + range.last() + " of the decompressed image has SHA-256 "
                            + actual + ", the bmap says " + range.sha256();
                    return;
                }
                index++;
            }
        }

        Optional<String> problem() {
            if (problem == null && map.isPresent() && index < map.get().ranges().size()) {
                return Optional.of("the image ended before bmap range " + map.get().ranges().get(index).first());
            }
            return Optional.ofNullable(problem);
        }
    }

    /** Reports bytes read to a progress listener. */
    private static final class ProgressInputStream extends java.io.FilterInputStream {
        private final Progress progress;

        ProgressInputStream(InputStream in, Progress progress) {
            super(in);
            this.progress = progress;
        }

        @Override
        public int read(byte[] bytes, int offset, int length) throws IOException {
            int n = in.read(bytes, offset, length);
            if (n > 0) {
                progress.advance(n);
            }
            return n;
        }
    }
}
