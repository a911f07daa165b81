package dev.ingot.store;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fetch.HttpRange;
import dev.ingot.fetch.RangeReadable;
import dev.ingot.progress.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A read-only store behind HTTP(S): a store's folder served by any web server ({@code --store https://host/store}),
 * the control plane's download endpoint, or the presigned URLs an agent is handed, one per file. Keys map to URLs
 * through {@code locate}; every read is a GET (a presigned URL is signed for GET only), large files are read through
 * {@link HttpRange} (ranged, validated, resumable), and the one trust path ({@code ReleaseVerifier.trust}) reads the
 * manifest, signature and bmap through it as through any store. Writing is refused.
 */
public final class HttpStore implements ArtifactStore {
    /** How long a response may deliver nothing before the read is abandoned and resumed. */
    public static final Duration STALL_TIMEOUT = Duration.ofSeconds(30);

    private final HttpClient client;
    private final Function<String, Optional<URI>> locate;
    private final String description;
    private final Duration stall;
    private final Function<URI, Map<String, String>> headers;

    /** Keys resolved by {@code locate} (empty: no such file); {@code locate} is asked again when a URL is refused (expired). */
    public HttpStore(HttpClient client, Function<String, Optional<URI>> locate, String description, Duration stall) {
        this(client, locate, description, stall, uri -> Map.of());
    }

    /** @param headers extra request headers for each URL (see {@link HttpRange}): a credential only its own host may see */
    public HttpStore(HttpClient client, Function<String, Optional<URI>> locate, String description, Duration stall,
            Function<URI, Map<String, String>> headers) {
        this.headers = requireNonNull(headers, "headers");
        this.client = requireNonNull(client, "client");
        this.locate = requireNonNull(locate, "locate");
        this.description = requireNonNull(description, "description");
        this.stall = requireNonNull(stall, "stall");
    }

    /** A store's folder at {@code base} ({@code https://host/store/}): key {@code golden-images/X} is {@code base/golden-images/X}. */
    public static HttpStore at(URI base) {
        String text = base.toString().endsWith("/") ? base.toString() : base + "/";
        URI root = URI.create(text);
        return new HttpStore(defaultClient(), key -> Optional.of(root.resolve(key)), base.toString(), STALL_TIMEOUT);
    }

    /** A client that connects within 10 s and follows redirects (a presigned URL behind the control plane's redirect). */
    public static HttpClient defaultClient() {
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).followRedirects(HttpClient.Redirect.NORMAL).build();
    }

    @Override
    public String describe() {
        return description;
    }

    private URI uriOf(String key) {
        return locate.apply(key).orElseThrow(() -> IngotException.tried(ErrorCode.NOT_FOUND, "read " + key + " from " + description,
                "no URL was given for it"));
    }

    @Override
    public Optional<ObjectInfo> stat(String key) {
        if (locate.apply(key).isEmpty()) {
            return Optional.empty();
        }
        HttpRange range = newRange(key);
        try {
            return Optional.of(new ObjectInfo(key, range.size(), range.etag().orElse("")));
        } catch (IngotException e) {
            if (e.code() == ErrorCode.NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        } catch (IOException e) {
            throw unavailable("read " + key, e);
        }
    }

    @Override
    public InputStream open(String key) {
        HttpRange range = newRange(key);
        try {
            return range.open(0, range.size());
        } catch (IOException e) {
            throw unavailable("read " + key, e);
        }
    }

    @Override
    public RangeReadable range(String key) {
        HttpRange range = newRange(key);
        try {
            range.size(); // first contact: a missing file is NOT_FOUND here, not later
        } catch (IOException e) {
            throw unavailable("read " + key, e);
        }
        return range;
    }

    private HttpRange newRange(String key) {
        return new HttpRange(client, () -> uriOf(key), description + (description.endsWith("/") ? "" : "/") + key, stall, headers);
    }

    @Override
    public Optional<VersionedBytes> read(String key) {
        return readAtMost(key, Long.MAX_VALUE);
    }

    /**
     * Through the one ranged reader, never a plain GET: its size is the first contact's, the limit is checked before a
     * byte of the body is read, and the body is cut at that size, so a server whose answer never ends (or is longer
     * than it said) costs no more memory than the size it announced.
     */
    @Override
    public Optional<VersionedBytes> readAtMost(String key, long limit) {
        if (locate.apply(key).isEmpty()) {
            return Optional.empty();
        }
        HttpRange range = newRange(key);
        try {
            long size = range.size();
            if (size > Math.min(limit, Integer.MAX_VALUE - 8)) {
                throw ArtifactStore.tooLarge(description, key, size, Math.min(limit, Integer.MAX_VALUE - 8));
            }
            byte[] content;
            try (InputStream in = range.open(0, size)) {
                content = in.readNBytes((int) size);
            }
            if (content.length != size) {
                throw new IOException("the server sent " + content.length + " of its " + size + " bytes");
            }
            return Optional.of(new VersionedBytes(content, range.etag().orElse("")));
        } catch (IngotException e) {
            if (e.code() == ErrorCode.NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        } catch (IOException e) {
            throw unavailable("read " + key, e);
        }
    }

    private IngotException unavailable(String attempt, IOException e) {
        return IngotException.tried(ErrorCode.UNAVAILABLE, attempt + " from " + description, String.valueOf(e.getMessage()))
                .withHint("check the URL and the network").withCause(e);
    }

    private IngotException readOnly(String attempt) {
        return IngotException.tried(ErrorCode.BAD_INPUT, attempt + " in " + description, "an HTTP(S) store is read-only")
                .withHint("publish to a folder or an s3:// store; serve that over HTTP");
    }

    @Override
    public void put(String key, Path file, Progress progress) {
        throw readOnly("write " + key);
    }

    @Override
    public boolean compareAndSet(String key, Optional<String> expectedEtag, byte[] content) {
        throw readOnly("write " + key);
    }

    @Override
    public void move(String fromKey, String toKey) {
        throw readOnly("move " + fromKey);
    }

    @Override
    public List<String> list(String prefix) {
        throw IngotException.tried(ErrorCode.BAD_INPUT, "list " + prefix + " in " + description, "HTTP has no listing")
                .withHint("name the version (ingot flash v1.5 --store URL); list the catalog from the store itself");
    }

    @Override
    public void delete(String key) {
        throw readOnly("delete " + key);
    }
}
