package dev.ingot.image;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.sign.Fingerprint;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.sign.VerifiedSignature;
import dev.ingot.store.ArtifactStore;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Which versions of an image line are known-good: one signed document per line in the store
 * ({@code golden-images/edge-golden.known-good.json}). The document and its detached signature
 * travel together in one JSON envelope, so a single conditional write replaces both: two operators
 * promoting at once cannot lose each other's change (compare-and-set on the entity tag, then retry).
 */
public final class KnownGood {
    private static final int MAX_ATTEMPTS = 20;
    /** The most a known-good envelope may hold (an entry is about 200 bytes): a larger one is refused unread. */
    static final long LIST_LIMIT = 16L << 20;

    /** One promoted version: when, and by which key. */
    public record Entry(ImageVersion version, Instant promotedAt, Fingerprint promotedBy) {}

    /** The document: a revision that increases with every change, and the known-good versions, newest first. */
    public record Document(ImageName name, long revision, Instant updatedAt, List<Entry> entries) {
        public Document {
            requireNonNull(name, "name");
            entries = entries.stream().sorted(Comparator.comparing(Entry::version).reversed()).toList();
        }

        public static Document empty(ImageName name) {
            return new Document(name, 0, Instant.EPOCH, List.of());
        }

        public boolean contains(ImageVersion version) {
            return entries.stream().anyMatch(entry -> entry.version().equals(version));
        }
    }

    /** A document as read from the store, with the tag to update it against and who signed it. */
    public record Loaded(Document document, Optional<String> etag, Optional<VerifiedSignature> signature, Optional<byte[]> envelope) {}

    private KnownGood() {}

    /** Reads the document; verifies its signature when a keyring is given (a bad signature is an error then). */
    public static Loaded load(ArtifactStore store, ImageName name, Optional<Keyring> keyring) {
        String key = ReleaseFiles.knownGoodKey(name);
        Optional<ArtifactStore.VersionedBytes> stored = store.readAtMost(key, LIST_LIMIT);
        if (stored.isEmpty()) {
            return new Loaded(Document.empty(name), Optional.empty(), Optional.empty(), Optional.empty());
        }
        JsonNode envelope;
        try {
            envelope = ManifestJson.MAPPER.readTree(stored.get().content());
        } catch (java.io.IOException e) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, "read " + key, "it is not JSON");
        }
        if (!"ingot-known-good/1".equals(envelope.path("format").asText())) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, "read " + key,
                    "its format is '" + envelope.path("format").asText() + "', not ingot-known-good/1").withHint("upgrade Ingot if it is newer");
        }
        String payload = envelope.path("document").asText("");
        String signature = envelope.path("signature").asText("");
        Optional<VerifiedSignature> verified = keyring.map(trusted ->
                trusted.verify(payload.getBytes(StandardCharsets.UTF_8), signature.getBytes(StandardCharsets.US_ASCII), key));
        Document document = parse(payload, key);
        if (!document.name().equals(name)) {
            // A signed list of another image line, copied over this one's: its versions mean nothing here.
            throw IngotException.tried(ErrorCode.CHECK_FAILED, "read " + key, "it is the known-good list of " + document.name()
                    + ", not of " + name);
        }
        return new Loaded(document, Optional.of(stored.get().etag()), verified, Optional.of(stored.get().content()));
    }

    /**
     * Refuses a list older than one already seen: revisions only grow, so a lower one is a replayed or stale copy
     * (it could bring back a version that was withdrawn). {@code highestSeen} is what the reader remembers.
     */
    public static void requireNotOlder(Document document, long highestSeen, String source) {
        if (document.revision() < highestSeen) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, "use the known-good list of " + document.name() + " from " + source,
                    "it is revision " + document.revision() + ", older than revision " + highestSeen + " seen before "
                            + "(a stale or replayed copy)").withHint("sync from the store the newer list came from");
        }
    }

    /**
     * The document inside a stored envelope, its signature checked against {@code keyring}; for a copy kept elsewhere (a USB
     * cache). {@code source} names the copy (its path) in every error: it is that file that is bad, not the store's.
     */
    public static Document read(byte[] envelope, ImageName name, Keyring keyring, String source) {
        try {
            return load(new SingleDocument(ReleaseFiles.knownGoodKey(name), envelope, source), name, Optional.of(keyring)).document();
        } catch (IngotException e) {
            throw IngotException.tried(e.code(), "read the known-good list kept in " + source, ReleaseVerifier.reasonOf(e)).withCause(e);
        }
    }

    /** One stored envelope seen as a store, so a copy is read by exactly the code that reads the store's. */
    private record SingleDocument(String key, byte[] content, String description) implements ArtifactStore {
        @Override
        public String describe() {
            return description;
        }

        @Override
        public Optional<ObjectInfo> stat(String wanted) {
            return read(wanted).map(bytes -> new ObjectInfo(wanted, content.length, "-"));
        }

        @Override
        public java.io.InputStream open(String wanted) {
            return new java.io.ByteArrayInputStream(read(wanted).orElseThrow().content());
        }

        @Override
        public Optional<VersionedBytes> read(String wanted) {
            return wanted.equals(key) ? Optional.of(new VersionedBytes(content.clone(), "-")) : Optional.empty();
        }

        @Override
        public void put(String wanted, java.nio.file.Path file, dev.ingot.progress.Progress progress) {
            throw new UnsupportedOperationException("read-only");
        }

        @Override
        public boolean compareAndSet(String wanted, Optional<String> expectedEtag, byte[] bytes) {
            throw new UnsupportedOperationException("read-only");
        }

        @Override
        public List<String> list(String prefix) {
            return key.startsWith(prefix) ? List.of(key) : List.of();
        }

        @Override
        public void delete(String wanted) {
            throw new UnsupportedOperationException("read-only");
        }
    }

    /**
     * Applies {@code change} to the current document and writes it back signed, retrying on a
     * concurrent update. The current document's signature must check out against {@code keyring}.
     */
    public static Document update(ArtifactStore store, ImageName name, SigningKey key, Keyring keyring, Clock clock,
            UnaryOperator<Document> change) {
        String storeKey = ReleaseFiles.knownGoodKey(name);
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            Loaded current = load(store, name, Optional.of(keyring));
            Document changed = change.apply(current.document());
            if (changed.equals(current.document())) {
                return changed;
            }
            Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
            Document next = new Document(name, current.document().revision() + 1, now, changed.entries());
            byte[] payload = write(next);
            String signature = key.sign(payload, now);
            ObjectNode envelope = ManifestJson.MAPPER.createObjectNode();
            envelope.put("format", "ingot-known-good/1");
            envelope.put("document", new String(payload, StandardCharsets.UTF_8));
            envelope.put("signature", signature);
            if (store.compareAndSet(storeKey, current.etag(), ManifestJson.serialize(envelope))) {
                return next;
            }
            try {
                Thread.sleep(Math.min(1000, 10L * attempt * attempt) + (long) (Math.random() * 20));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw IngotException.tried(ErrorCode.CONFLICT, "update " + storeKey,
                "it kept changing under us (" + MAX_ATTEMPTS + " attempts)").withHint("try again");
    }

    static byte[] write(Document document) {
        ObjectNode root = ManifestJson.MAPPER.createObjectNode();
        root.put("schema_version", 1);
        root.put("name", document.name().value());
        root.put("revision", document.revision());
        root.put("updated_at", document.updatedAt().toString());
        ArrayNode versions = root.putArray("known_good");
        for (Entry entry : document.entries()) {
            ObjectNode node = versions.addObject();
            node.put("version", entry.version().toString());
            node.put("promoted_at", entry.promotedAt().toString());
            node.put("promoted_by", entry.promotedBy().hex());
        }
        return ManifestJson.serialize(root);
    }

    private static Document parse(String payload, String source) {
        try {
            JsonNode root = ManifestJson.MAPPER.readTree(payload);
            if (root.path("schema_version").asInt(-1) != 1 || !root.path("schema_version").isIntegralNumber()) {
                throw new IllegalArgumentException("schema_version is not 1");
            }
            List<Entry> entries = new ArrayList<>();
            for (JsonNode node : root.path("known_good")) {
                entries.add(new Entry(ImageVersion.parse(node.path("version").asText()),
                        Instant.parse(node.path("promoted_at").asText()), Fingerprint.parse(node.path("promoted_by").asText())));
            }
            return new Document(new ImageName(root.path("name").asText()), root.path("revision").asLong(),
                    Instant.parse(root.path("updated_at").asText()), entries);
        } catch (java.io.IOException | RuntimeException e) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, "read " + source, "its document is malformed (" + e.getMessage() + ")");
        }
    }
}
