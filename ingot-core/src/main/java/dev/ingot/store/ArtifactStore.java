package dev.ingot.store;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fetch.RangeReadable;
import dev.ingot.progress.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where published artifacts live: a folder, or an S3 bucket. Keys are '/'-separated relative
 * paths ({@code golden-images/edge-golden-v1.4.img.zst}). Implementations throw
 * {@link dev.ingot.error.IngotException} with {@code UNAVAILABLE} when the store cannot be reached
 * and {@code NOT_FOUND} when a key that must exist does not.
 */
public interface ArtifactStore extends AutoCloseable {

    /** The store as a user wrote it, for messages: {@code ./store}, {@code s3://bucket/prefix}. */
    String describe();

    /** Size and entity tag of a key, or empty when the key does not exist. */
    Optional<ObjectInfo> stat(String key);

    /** Opens a key for streaming. Throws NOT_FOUND when absent. */
    InputStream open(String key);

    /**
     * A key for reading at any offset (the flash engine streams payloads through it, resuming cut reads). Throws
     * NOT_FOUND when absent. This default streams from the start and skips to the offset: correct for any store, fast
     * for none; the folder store reads the file in place, S3 sends ranged GETs with {@code If-Match}.
     */
    default RangeReadable range(String key) {
        ObjectInfo info = stat(key).orElseThrow(() -> IngotException.tried(ErrorCode.NOT_FOUND, "read " + key + " from " + describe(),
                "it does not exist"));
        ArtifactStore store = this;
        return new RangeReadable() {
            @Override
            public String describe() {
                return store.describe() + "/" + key;
            }

            @Override
            public long size() {
                return info.size();
            }

            @Override
            public InputStream open(long offset, long length) throws IOException {
                InputStream in = store.open(key);
                in.skipNBytes(offset);
                return new dev.ingot.fetch.BoundedInputStream(in, length);
            }
        };
    }

    /** The whole (small) object with its entity tag, or empty when absent. */
    Optional<VersionedBytes> read(String key);

    /**
     * A small document read whole (a manifest, a signature, the known-good list), or empty when absent. Its size is asked
     * first: one larger than {@code limit} bytes is refused unread (CHECK_FAILED), so a huge or endless object that
     * anyone with write access put there cannot exhaust the reader's memory; a folder store also sees a FIFO or a device
     * as absent rather than waiting on it.
     */
    default Optional<VersionedBytes> readAtMost(String key, long limit) {
        Optional<ObjectInfo> info = stat(key);
        if (info.isEmpty()) {
            return Optional.empty();
        }
        if (info.get().size() > limit) {
            throw tooLarge(describe(), key, info.get().size(), limit);
        }
        Optional<VersionedBytes> content = read(key);
        if (content.isPresent() && content.get().content().length > limit) {
            throw tooLarge(describe(), key, content.get().content().length, limit); // grew between the two calls
        }
        return content;
    }

    /** What {@link #readAtMost} throws for a document over its limit (also for stores that read it their own way). */
    static IngotException tooLarge(String store, String key, long size, long limit) {
        return IngotException.tried(ErrorCode.CHECK_FAILED, "read " + key + " from " + store, "it is " + size
                + " bytes, more than such a file ever holds (" + limit + "); it was not read")
                .withHint("the file was replaced or damaged: `ingot image verify` names what else is wrong");
    }

    /**
     * Stores a file under a key, replacing what is there. For payload files written before a
     * release's commit point (its manifest), so an abandoned upload can be redone.
     */
    void put(String key, Path file, Progress progress);

    /**
     * Stores a file the caller no longer needs under a key, replacing what is there. A folder store
     * on the same file system renames it into place instead of copying it.
     */
    default void putMoving(String key, Path file, Progress progress) {
        put(key, file, progress);
    }

    /**
     * Moves an object to another key, replacing what is there: a rename in a folder store, a server-side copy and
     * a delete on S3. Throws NOT_FOUND when {@code fromKey} is absent (somebody else may have moved it already).
     */
    default void move(String fromKey, String toKey) {
        throw new UnsupportedOperationException(describe() + " cannot move objects");
    }

    /** Where a publish stages its bytes before the manifest makes them visible: {@code .ingot-staging/ID/} (docs/formats.md). */
    String STAGING_PREFIX = ".ingot-staging/";

    /** A folder where work files may be staged so that {@link #putMoving} can rename them; empty when any temp folder will do. */
    default Optional<Path> stagingDirectory() {
        return Optional.empty();
    }

    /**
     * Writes {@code content} under {@code key} only if the key's current entity tag equals
     * {@code expectedEtag}, or, when {@code expectedEtag} is empty, only if the key is absent
     * (S3: {@code If-Match} / {@code If-None-Match: *}). Returns false when the condition failed,
     * i.e. somebody else wrote first; nothing is changed then.
     */
    boolean compareAndSet(String key, Optional<String> expectedEtag, byte[] content);

    /** Creates a key that must not exist yet; false when it already exists. */
    default boolean createIfAbsent(String key, byte[] content) {
        return compareAndSet(key, Optional.empty(), content);
    }

    /** All keys under a prefix (which may be empty), sorted. */
    List<String> list(String prefix);

    /** Removes a key; no error when it is absent. */
    void delete(String key);

    /**
     * A URL anyone may GET the key with (Range requests too) until {@code lifetime} has passed, holding no credential of their
     * own: a presigned S3 URL. Empty for a store that cannot make one (a folder). The key need not exist yet.
     */
    default Optional<java.net.URI> presignedGet(String key, java.time.Duration lifetime) {
        return Optional.empty();
    }

    @Override
    default void close() {}

    record ObjectInfo(String key, long size, String etag) {}

    record VersionedBytes(byte[] content, String etag) {}
}
