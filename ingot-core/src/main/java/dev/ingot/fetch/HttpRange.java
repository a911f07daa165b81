package dev.ingot.fetch;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A file behind an HTTP(S) URL read with range requests (RFC 9110 §14): a presigned S3 URL, the control plane's
 * download endpoint, any server that serves files. Only GET is used (a presigned URL is signed for one method). The
 * first contact, {@code Range: bytes=0-0}, learns the size (Content-Range's total), the entity tag and whether the
 * server honours ranges. Every later request carries {@code If-Match} with a strong entity tag (§13.1.1) and every
 * 206 is checked: its Content-Range must start where asked, end no later than asked, and have the same total; its
 * entity tag must be the first one. A lie is CHECK_FAILED, never bytes used. {@code If-Range} is not used: its
 * fallback, a silent 200 with the whole body, would restart a half-written flash.
 *
 * <p>A server that ignores Range (a 200) still works: the body is read from its start and the bytes before the offset
 * are dropped, and {@link #preferredConnections} falls to 1. A body that delivers no byte for the stall timeout is
 * abandoned (an {@link IOException}: the caller resumes). A 401 or 403 asks {@code location} once for a fresh URL (a
 * presigned URL that expired mid-download); the same URL again is UNAVAILABLE. Only 408, 429 and 5xx are worth
 * another try; any other status (a redirect not followed, 400, 405) fails at once. Bodies must come as they are
 * ({@code Accept-Encoding: identity}; a Content-Encoding is a lie about the bytes).
 */
public final class HttpRange implements RangeReadable {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
    private static final Pattern UNSATISFIED = Pattern.compile("bytes \\*/(\\d+)");
    /** The least time a server gets to answer with headers, however short the stall timeout of a body is. */
    static final Duration HEADERS = Duration.ofSeconds(10);

    private final HttpClient client;
    private final Supplier<URI> location;
    private final String description;
    private final Duration stallTimeout;
    private final Function<URI, Map<String, String>> headers;
    private volatile URI uri;
    private volatile long size = -1;
    private volatile Optional<String> etag = Optional.empty();
    private volatile boolean rangesHonoured = true;

    /**
     * @param location where the file is; asked again when the server refuses access (a new presigned URL)
     * @param stallTimeout how long a body may deliver nothing before it is abandoned (and the read resumed)
     */
    public HttpRange(HttpClient client, Supplier<URI> location, String description, Duration stallTimeout) {
        this(client, location, description, stallTimeout, uri -> Map.of());
    }

    /**
     * @param headers extra request headers for the URL a request goes to, asked per request: the agent's credential for
     *     the control plane's own endpoint, nothing for a presigned URL on another host (a refreshed URL may move hosts)
     */
    public HttpRange(HttpClient client, Supplier<URI> location, String description, Duration stallTimeout,
            Function<URI, Map<String, String>> headers) {
        this.headers = requireNonNull(headers, "headers");
        this.client = requireNonNull(client, "client");
        this.location = requireNonNull(location, "location");
        this.description = requireNonNull(description, "description");
        this.stallTimeout = requireNonNull(stallTimeout, "stallTimeout");
        this.uri = requireNonNull(location.get(), "location");
    }

    @Override
    public String describe() {
        return description;
    }

    /** Whether the server answered the first ranged request with 206. */
    public boolean rangesHonoured() {
        return rangesHonoured;
    }

    /** The strong entity tag learnt on first contact, if the server sent one. */
    public Optional<String> etag() {
        return etag;
    }

    @Override
    public int preferredConnections() {
        return rangesHonoured ? 4 : 1;
    }

    @Override
    public long size() throws IOException {
        if (size < 0) {
            probe();
        }
        return size;
    }

    private synchronized void probe() throws IOException {
        if (size >= 0) {
            return;
        }
        HttpResponse<Flow.Publisher<List<ByteBuffer>>> response = send(0, 1, false);
        try {
            checkIdentity(response);
            switch (response.statusCode()) {
                case 206 -> {
                    Range range = contentRange(response, 0, 0);
                    size = range.total();
                }
                case 200 -> {
                    rangesHonoured = false;
                    size = response.headers().firstValueAsLong("Content-Length").orElseThrow(
                            () -> lie("it answered a ranged request with the whole file and no Content-Length"));
                }
                case 416 -> {
                    // Only an empty file cannot satisfy bytes=0-0.
                    Matcher matcher = UNSATISFIED.matcher(response.headers().firstValue("Content-Range").orElse(""));
                    if (!matcher.matches()) {
                        throw lie("it answered bytes=0-0 with 416 and no Content-Range: bytes */SIZE");
                    }
                    size = Long.parseLong(matcher.group(1));
                }
                default -> throw failure(response.statusCode(), 0);
            }
            etag = strong(response.headers().firstValue("ETag"));
        } finally {
            discard(response);
        }
    }

    @Override
    public InputStream open(long offset, long length) throws IOException {
        long total = size();
        if (offset < 0 || length < 0 || offset + length > total) {
            throw new IllegalArgumentException("bytes " + offset + "+" + length + " of a " + total + "-byte file");
        }
        if (length == 0) {
            return InputStream.nullInputStream();
        }
        HttpResponse<Flow.Publisher<List<ByteBuffer>>> response = send(offset, length, true);
        boolean used = false;
        try {
            checkIdentity(response);
            Optional<String> tag = strong(response.headers().firstValue("ETag"));
            InputStream body;
            switch (response.statusCode()) {
                case 206 -> {
                    Range range = contentRange(response, offset, offset + length - 1);
                    checkTag(tag);
                    body = new BoundedInputStream(new Body(response.body(), stallTimeout), range.last() - range.first() + 1);
                }
                case 200 -> {
                    // The server ignores Range: take the whole body and drop what comes before the offset.
                    rangesHonoured = false;
                    long contentLength = response.headers().firstValueAsLong("Content-Length").orElse(total);
                    if (contentLength != total) {
                        throw lie("it answered with the whole file at " + contentLength + " bytes, not the " + total + " it said first");
                    }
                    checkTag(tag);
                    body = new Body(response.body(), stallTimeout);
                    body.skipNBytes(offset);
                    body = new BoundedInputStream(body, length);
                }
                case 412 -> throw IngotException.tried(ErrorCode.CHECK_FAILED, "read " + description,
                        "it changed on the server during the download (412: the entity tag " + etag.orElse("?") + " no longer matches)")
                        .withHint("a published release never changes: check the store; the rerun starts over");
                default -> throw failure(response.statusCode(), offset);
            }
            used = true;
            return body;
        } finally {
            if (!used) {
                discard(response);
            }
        }
    }

    private void checkTag(Optional<String> tag) {
        if (etag.isPresent() && tag.isPresent() && !etag.get().equals(tag.get())) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, "read " + description, "its entity tag changed from " + etag.get()
                    + " to " + tag.get() + " during the download: it is another object now").withHint("a published release never changes: check the store");
        }
    }

    private HttpResponse<Flow.Publisher<List<ByteBuffer>>> send(long offset, long length, boolean conditional) throws IOException {
        boolean refreshed = false;
        while (true) {
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).GET().timeout(headerTimeout(stallTimeout))
                    .header("Range", "bytes=" + offset + "-" + (offset + length - 1)).header("Accept-Encoding", "identity");
            headers.apply(uri).forEach(request::header);
            if (conditional && etag.isPresent()) {
                request.header("If-Match", etag.get());
            }
            HttpResponse<Flow.Publisher<List<ByteBuffer>>> response;
            try {
                response = client.send(request.build(), HttpResponse.BodyHandlers.ofPublisher());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while connecting to " + description);
            }
            int status = response.statusCode();
            if ((status == 401 || status == 403) && !refreshed) {
                discard(response);
                URI fresh = location.get();
                refreshed = true;
                if (fresh != null && !fresh.equals(uri)) {
                    uri = fresh;
                    continue;
                }
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "read " + description, "the server refused access (" + status + ")")
                        .withHint("a presigned URL may have expired: ask for a new one");
            }
            return response;
        }
    }

    private record Range(long first, long last, long total) {}

    private Range contentRange(HttpResponse<?> response, long first, long last) {
        String header = response.headers().firstValue("Content-Range").orElseThrow(
                () -> lie("it answered 206 without a Content-Range"));
        Matcher matcher = CONTENT_RANGE.matcher(header.strip());
        if (!matcher.matches()) {
            throw lie("its Content-Range '" + header + "' is not bytes FIRST-LAST/TOTAL");
        }
        long start = Long.parseLong(matcher.group(1));
        long end = Long.parseLong(matcher.group(2));
        long total = matcher.group(3).equals("*") ? -1 : Long.parseLong(matcher.group(3));
        if (start != first || end < start || end > last || (size >= 0 && total != size) || total < 0) {
            throw lie("it returned bytes " + start + "-" + end + "/" + total + " for a request of " + first + "-" + last
                    + (size >= 0 ? "/" + size : ""));
        }
        return new Range(start, end, total);
    }

    private IngotException lie(String reason) {
        return IngotException.tried(ErrorCode.CHECK_FAILED, "read " + description, "the server broke the range contract: " + reason
                + "; nothing from that answer was used").withHint("docs/formats.md lists what a server must do (Downloads)");
    }

    /** Throws for a status no retry can fix; returns the IOException for one worth another try. */
    private IOException failure(int status, long offset) {
        if (status == 404 || status == 410) {
            throw IngotException.tried(ErrorCode.NOT_FOUND, "read " + description, "the server has no such file (" + status + ")");
        }
        if (status == 416) {
            throw lie("bytes from " + offset + " are beyond its end (416)");
        }
        if (status == 408 || status == 429 || status >= 500) {
            // A timeout, throttling or a server error: worth another try.
            return new IOException(description + " answered " + status + " for bytes from " + offset);
        }
        // Anything else (a redirect that was not followed, e.g. from https to http; 400, 405, ...) says the same on every
        // try: retrying it would only wait out the whole patience.
        throw IngotException.tried(ErrorCode.UNAVAILABLE, "read " + description, "the server answered " + status + " for bytes from "
                + offset + (status / 100 == 3 ? " (a redirect Ingot does not follow: to another scheme, or without a Location)" : ""))
                .withHint("check the URL: a store served over HTTP(S) must answer GET with Range (docs/formats.md, Downloads)");
    }

    /**
     * Refuses an answer whose body is encoded (gzip, br, ...): ranges and sizes are of the file's own bytes, and a body
     * the server compressed on its own is neither (RFC 9110 §8.4). Asked for with {@code Accept-Encoding: identity}.
     */
    private void checkIdentity(HttpResponse<?> response) {
        if (response.statusCode() != 200 && response.statusCode() != 206) {
            return; // no bytes of the file: an error page may be encoded as it likes
        }
        Optional<String> encoding = response.headers().firstValue("Content-Encoding").map(String::strip)
                .filter(value -> !value.isEmpty() && !value.equalsIgnoreCase("identity"));
        if (encoding.isPresent()) {
            throw lie("it sent the bytes with Content-Encoding: " + encoding.get() + " although the request asked for identity");
        }
    }

    /** How long to wait for a response's headers: the stall timeout, but never less than {@link #HEADERS}. */
    public static Duration headerTimeout(Duration stall) {
        return stall.compareTo(HEADERS) < 0 ? HEADERS : stall;
    }

    private static Optional<String> strong(Optional<String> tag) {
        return tag.filter(value -> !value.startsWith("W/"));
    }

    private static void discard(HttpResponse<Flow.Publisher<List<ByteBuffer>>> response) {
        // Subscribing and cancelling releases the connection without reading the body.
        response.body().subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                subscription.cancel();
            }

            @Override
            public void onNext(List<ByteBuffer> item) {}

            @Override
            public void onError(Throwable throwable) {}

            @Override
            public void onComplete() {}
        });
    }

    /**
     * A response body as a stream that gives up when nothing arrives for {@code stall}: the JDK's own
     * {@code ofInputStream} blocks without a limit, and a connection that stays open but sends nothing is exactly the
     * failure a flaky site link produces. One list of buffers is requested at a time (backpressure).
     */
    private static final class Body extends InputStream implements Flow.Subscriber<List<ByteBuffer>> {
        private static final Object END = new Object();
        private final LinkedBlockingQueue<Object> items = new LinkedBlockingQueue<>();
        private final Duration stall;
        private volatile Flow.Subscription subscription;
        private Iterator<ByteBuffer> current = List.<ByteBuffer>of().iterator();
        private ByteBuffer buffer = ByteBuffer.allocate(0);
        private boolean ended;

        Body(Flow.Publisher<List<ByteBuffer>> publisher, Duration stall) {
            this.stall = stall;
            publisher.subscribe(this);
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            subscription.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            items.add(item);
        }

        @Override
        public void onError(Throwable throwable) {
            items.add(throwable);
        }

        @Override
        public void onComplete() {
            items.add(END);
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] bytes, int from, int count) throws IOException {
            if (count == 0) {
                return 0;
            }
            while (!buffer.hasRemaining()) {
                if (current.hasNext()) {
                    buffer = current.next();
                    continue;
                }
                if (ended) {
                    return -1;
                }
                Object item;
                try {
                    item = items.poll(stall.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    close();
                    throw new java.io.InterruptedIOException("interrupted while downloading");
                }
                if (item == null) {
                    close();
                    throw new IOException("no byte arrived for " + stall.toSeconds() + " s (the connection stalled)");
                }
                if (item == END) {
                    ended = true;
                    return -1;
                }
                if (item instanceof Throwable failure) {
                    ended = true;
                    throw failure instanceof IOException io ? io : new IOException(failure.getMessage(), failure);
                }
                @SuppressWarnings("unchecked")
                List<ByteBuffer> list = (List<ByteBuffer>) item;
                current = list.iterator();
                subscription.request(1);
            }
            int n = Math.min(count, buffer.remaining());
            buffer.get(bytes, from, n);
            return n;
        }

        @Override
        public void close() {
            Flow.Subscription held = subscription;
            if (held != null) {
                held.cancel();
            }
            ended = true;
        }
    }
}
