package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.agent.ControlPlane.ReleaseDownload;
import dev.ingot.agent.EngineSlotWriter.StreamedSlotPayload;
import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fetch.FileRange;
import dev.ingot.fetch.RangeReadable;
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
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The agent's {@link SlotPayloadFetcher} over the streaming flash engine: trusts the release through the one trust path
 * ({@link ReleaseVerifier#trust}: the signed manifest against the keyring baked into the image, then the slot's block
 * map), and hands its {@link EngineSlotWriter} a source to stream the {@code root-a} slot payload from. The USB cache
 * comes first when it holds the release and its copy of the slot payload hashes to the signed digest (the slot payload
 * itself, or its bytes inside the cached disk payload, {@code disk_payload_bytes}); otherwise the control plane's
 * download URLs ({@link ControlPlaneReleases}). Nothing of the payload is downloaded here: the writer streams it, checking
 * every range before it reaches the disk, and keeps what it read so that a cut or a crash resumes the download.
 */
public final class EngineSlotFetcher implements SlotPayloadFetcher {
    /** Every release carries one slot payload, made from root-a at publish; it is written into whichever slot is inactive. */
    public static final PayloadSet.Slot ROOT_SLOT = new PayloadSet.Slot("root-a");

    private final Supplier<Keyring> keyring;
    private final Path usbCache;
    private final ImageName name;
    private final Function<ReleaseDownload, ArtifactStore> remote;
    private final Consumer<String> log;

    /**
     * @param keyring the keyring baked into the image, read at each fetch (a missing one fails the re-image, not the agent)
     * @param remote the store a poll answer's download names (the control plane's URLs)
     */
    public EngineSlotFetcher(Supplier<Keyring> keyring, Path usbCache, ImageName name, Function<ReleaseDownload, ArtifactStore> remote,
            Consumer<String> log) {
        this.keyring = requireNonNull(keyring, "keyring");
        this.usbCache = requireNonNull(usbCache, "usbCache");
        this.name = requireNonNull(name, "name");
        this.remote = requireNonNull(remote, "remote");
        this.log = requireNonNull(log, "log");
    }

    @Override
    public StreamedSlotPayload fetch(ReleaseDownload download, Progress progress) {
        Keyring keys = keyring.get();
        ImageVersion version = download.version();
        Optional<StreamedSlotPayload> cached = fromUsbCache(keys, version, progress);
        if (cached.isPresent()) {
            return cached.get();
        }
        ArtifactStore store = remote.apply(download);
        TrustedRelease trusted = new ReleaseVerifier(keys, progress).trust(store, ReleaseFiles.STORE_FOLDER, name, version);
        requireSlot(trusted, store.describe());
        RangeReadable source = store.range(ReleaseFiles.STORE_FOLDER + trusted.payload(ROOT_SLOT).name());
        return new StreamedSlotPayload(trusted, source, true);
    }

    private static void requireSlot(TrustedRelease trusted, String from) {
        if (!trusted.has(ROOT_SLOT)) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, "fetch the root-slot payload of " + trusted.version() + " from " + from,
                    trusted.files().base() + " was published without a " + ROOT_SLOT.partition() + " slot payload")
                    .withHint("republish the image with this Ingot (ingot image publish extracts root-a from a GPT image)");
        }
    }

    /** The release from the USB cache, when its manifest verifies and its copy of the slot payload hashes right. */
    private Optional<StreamedSlotPayload> fromUsbCache(Keyring keys, ImageVersion version, Progress progress) {
        ReleaseFiles files = new ReleaseFiles(name, version);
        if (!Files.isRegularFile(usbCache.resolve(files.manifest()))) {
            return Optional.empty();
        }
        TrustedRelease trusted;
        try {
            trusted = new ReleaseVerifier(keys, progress).trust(new FolderStore(usbCache), "", name, version);
        } catch (IngotException e) {
            log.accept("the USB cache's copy of " + version + " is not used: " + e.oneLine());
            return Optional.empty();
        }
        if (!trusted.has(ROOT_SLOT)) {
            return Optional.empty();
        }
        Manifest.FileEntry slotPayload = trusted.payload(ROOT_SLOT);
        Optional<RangeReadable> source = slotFile(usbCache.resolve(slotPayload.name()))
                .or(() -> insideDiskPayload(trusted, usbCache.resolve(trusted.payload(PayloadSet.DISK).name())));
        if (source.isEmpty()) {
            return Optional.empty();
        }
        try {
            Sha256 digest = digest(source.get(), slotPayload.size());
            if (!digest.equals(slotPayload.sha256())) {
                source.get().close();
                log.accept("the USB cache's copy of " + slotPayload.name() + " (" + source.get().describe() + ") has SHA-256 " + digest
                        + ", the signed manifest " + slotPayload.sha256() + "; it is fetched from the control plane instead");
                return Optional.empty();
            }
        } catch (IOException e) {
            source.get().close();
            log.accept("the USB cache's copy of " + version + " cannot be read (" + e.getMessage() + "); it is fetched from the control plane");
            return Optional.empty();
        }
        return Optional.of(new StreamedSlotPayload(trusted, source.get(), false));
    }

    private static Optional<RangeReadable> slotFile(Path file) {
        if (!WorkFolder.isPlainFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(FileRange.open(file));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** A cache holds the disk payload only (what ingot cache sync pulls); the slot payload is a run of its frames. */
    private static Optional<RangeReadable> insideDiskPayload(TrustedRelease trusted, Path diskPayload) {
        Optional<Manifest.ByteRange> bytes = trusted.slots().stream().filter(slot -> slot.partition().name().equals(ROOT_SLOT.partition()))
                .findFirst().flatMap(Manifest.Slot::diskPayloadBytes);
        if (bytes.isEmpty()) {
            return Optional.empty();
        }
        return slotFile(diskPayload).map(file -> file.window(bytes.get().offset(), bytes.get().length()));
    }

    private static Sha256 digest(RangeReadable source, long size) throws IOException {
        if (source.size() != size) {
            return Sha256.fromBytes(new byte[32]);
        }
        MessageDigest sha256 = Sha256.newDigest();
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = source.open(0, size)) {
            long left = size;
            while (left > 0) {
                int read = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (read < 0) {
                    throw new IOException(source.describe() + " ended " + left + " bytes early");
                }
                sha256.update(buffer, 0, read);
                left -= read;
            }
        }
        return Sha256.fromBytes(sha256.digest());
    }
}
