package dev.ingot.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A file server on loopback that speaks HTTP range requests on the wire as RFC 9110 says (206 with Content-Range,
 * Accept-Ranges, a strong ETag, If-Match answered 412), built on the JDK's own server, with switches that make it
 * misbehave the ways real servers and links do: drop the connection in the middle of a file, stall, serve a wrong
 * byte or other bytes in a range, lie in Content-Range, change the object (its ETag) mid-download, ignore Range, compress
 * bodies nobody asked to be compressed, send bodies that never end, or answer a status of its choosing.
 * It records every request's Range and If-Match headers. Serves the files under one folder at {@code /PATH}.
 */
public final class RangeHttpServer implements AutoCloseable {
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d*)");

    /** One request as it arrived. */
    public record Request(String path, String range, String ifMatch) {}

    private final Path root;
    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "range-http-server");
        thread.setDaemon(true);
        return thread;
    });
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Map<String, Long> cutOnce = new ConcurrentHashMap<>();
    private final Map<String, Long> stallOnce = new ConcurrentHashMap<>();
    private final Map<String, Map<Long, byte[]>> replaced = new ConcurrentHashMap<>();
    private final AtomicBoolean ignoreRange = new AtomicBoolean();
    private final AtomicBoolean lieInContentRange = new AtomicBoolean();
    private final AtomicBoolean ignoreIfMatch = new AtomicBoolean();
    private final java.util.Set<String> refused = ConcurrentHashMap.newKeySet();
    private final AtomicReference<String> etagSuffix = new AtomicReference<>("");
    private volatile int changeEtagAfterRequests = -1;
    private volatile URI redirect;
    private volatile int statusAfterRequests = -1;
    private volatile int statusAfter;
    private final AtomicBoolean gzip = new AtomicBoolean();
    private final AtomicBoolean endless = new AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicLong sentPastEnd = new java.util.concurrent.atomic.AtomicLong();
    private volatile Duration stall = Duration.ofSeconds(5);

    private RangeHttpServer(Path root) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(threads);
        server.start();
    }

    /** Serves the files under {@code root}. */
    public static RangeHttpServer serve(Path root) {
        try {
            return new RangeHttpServer(root);
        } catch (IOException e) {
            throw new IllegalStateException("the HTTP server did not start: " + e.getMessage(), e);
        }
    }

    /** {@code http://127.0.0.1:PORT/}. */
    public URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    public URI uri(String path) {
        return uri().resolve(path);
    }

    /** Every request so far, in order. */
    public List<Request> requests() {
        return List.copyOf(requests);
    }

    /** The first response that reaches byte {@code offset} of {@code path} stops there and drops the connection; once. */
    public RangeHttpServer cutOnceAt(String path, long offset) {
        cutOnce.put(path, offset);
        return this;
    }

    /** The first response that reaches byte {@code offset} of {@code path} sends nothing more for {@code duration}; once. */
    public RangeHttpServer stallOnceAt(String path, long offset, Duration duration) {
        stall = duration;
        stallOnce.put(path, offset);
        return this;
    }

    /** Serves {@code bytes} instead of the file's own at {@code offset} of {@code path} (a flipped byte, a frame of other content). */
    public RangeHttpServer serveInstead(String path, long offset, byte[] bytes) {
        replaced.computeIfAbsent(path, key -> new ConcurrentHashMap<>()).put(offset, bytes.clone());
        return this;
    }

    /** Answers every request with 200 and the whole file, as a server without range support does. */
    public RangeHttpServer ignoreRange() {
        ignoreRange.set(true);
        return this;
    }

    /** Answers 206 with a Content-Range that starts 4096 bytes later than the bytes it sends. */
    public RangeHttpServer lieInContentRange() {
        lieInContentRange.set(true);
        return this;
    }

    /** Serves a changed object's bytes without honouring If-Match (the ETag still tells). */
    public RangeHttpServer ignoreIfMatch() {
        ignoreIfMatch.set(true);
        return this;
    }

    /** Answers 403 for {@code path}, as S3 does for an expired presigned URL. */
    public RangeHttpServer refuse(String path) {
        refused.add(path);
        return this;
    }

    /** After {@code count} requests the object is another one: a new ETag (If-Match on the old one gets 412). */
    public RangeHttpServer changeEtagAfter(int count) {
        changeEtagAfterRequests = count;
        return this;
    }

    /** After {@code count} requests every request is answered with {@code status} and no body (400, 405, a 302 without Location). */
    public RangeHttpServer answerAfter(int count, int status) {
        statusAfter = status;
        statusAfterRequests = count;
        return this;
    }

    /** Answers every request with 307 to the same path under {@code base} (another host, as a CDN or S3 behind a redirect). */
    public RangeHttpServer redirectTo(URI base) {
        redirect = base;
        return this;
    }

    /** Compresses every body with gzip (Content-Encoding: gzip), whether the client asked for it or not. */
    public RangeHttpServer gzipBodies() {
        gzip.set(true);
        return this;
    }

    /**
     * Answers every request but the first contact ({@code bytes=0-0}) with 200 and a body that never ends: the file,
     * then more bytes until the client goes away (chunked, no Content-Length). {@link #sentPastEnd} counts the extra.
     */
    public RangeHttpServer endlessBodies() {
        endless.set(true);
        return this;
    }

    /** How many bytes past a file's end an endless body got onto the wire before the client went away. */
    public long sentPastEnd() {
        return sentPastEnd.get();
    }

    private String etag(Path file) throws IOException {
        if (changeEtagAfterRequests >= 0 && requests.size() > changeEtagAfterRequests) {
            etagSuffix.set("-changed");
        }
        return "\"" + Files.size(file) + "-" + Files.getLastModifiedTime(file).toMillis() + etagSuffix.get() + "\"";
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath().substring(1);
            String range = exchange.getRequestHeaders().getFirst("Range");
            String ifMatch = exchange.getRequestHeaders().getFirst("If-Match");
            requests.add(new Request(path, range, ifMatch));
            Path file = root.resolve(path).normalize();
            if (!file.startsWith(root) || !Files.isRegularFile(file) || !exchange.getRequestMethod().equals("GET")) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            if (redirect != null) {
                exchange.getResponseHeaders().add("Location", redirect.resolve(path).toString());
                exchange.sendResponseHeaders(307, -1);
                return;
            }
            if (statusAfterRequests >= 0 && requests.size() > statusAfterRequests) {
                exchange.sendResponseHeaders(statusAfter, -1);
                return;
            }
            if (refused.contains(path)) {
                exchange.sendResponseHeaders(403, -1);
                return;
            }
            long size = Files.size(file);
            String etag = etag(file);
            exchange.getResponseHeaders().add("ETag", etag);
            exchange.getResponseHeaders().add("Accept-Ranges", "bytes");
            if (ifMatch != null && !ifMatch.equals(etag) && !ignoreIfMatch.get()) {
                exchange.sendResponseHeaders(412, -1);
                return;
            }
            if (endless.get() && !"bytes=0-0".equals(range)) {
                exchange.sendResponseHeaders(200, 0);
                OutputStream out = exchange.getResponseBody();
                send(out, path, file, 0, size);
                byte[] more = new byte[64 << 10];
                java.util.Arrays.fill(more, (byte) '!');
                try {
                    while (true) {
                        out.write(more);
                        sentPastEnd.addAndGet(more.length);
                    }
                } catch (IOException gone) {
                    return; // the client closed the connection
                }
            }
            long first = 0;
            long last = size - 1;
            int status = 200;
            Matcher matcher = range == null ? null : RANGE.matcher(range);
            if (matcher != null && matcher.matches() && !ignoreRange.get()) {
                first = Long.parseLong(matcher.group(1));
                last = matcher.group(2).isEmpty() ? size - 1 : Math.min(size - 1, Long.parseLong(matcher.group(2)));
                if (first >= size) {
                    exchange.getResponseHeaders().add("Content-Range", "bytes */" + size);
                    exchange.sendResponseHeaders(416, -1);
                    return;
                }
                status = 206;
                long shown = lieInContentRange.get() ? first + 4096 : first;
                exchange.getResponseHeaders().add("Content-Range", "bytes " + shown + "-" + (shown + last - first) + "/" + size);
            }
            long length = last - first + 1;
            if (gzip.get()) {
                exchange.getResponseHeaders().add("Content-Encoding", "gzip");
                exchange.sendResponseHeaders(status, 0);
                try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(exchange.getResponseBody())) {
                    send(out, path, file, first, length);
                }
                return;
            }
            exchange.sendResponseHeaders(status, length);
            send(exchange.getResponseBody(), path, file, first, length);
        }
    }

    private void send(OutputStream out, String path, Path file, long first, long length) throws IOException {
        byte[] buffer = new byte[64 << 10];
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            long position = first;
            long end = first + length;
            while (position < end) {
                Long cut = cutOnce.get(path);
                Long stallAt = stallOnce.get(path);
                long limit = end;
                if (cut != null && cut >= position && cut < end) {
                    limit = cut;
                }
                if (stallAt != null && stallAt >= position && stallAt < limit) {
                    limit = stallAt;
                }
                if (position == limit && cut != null && cut == position && cutOnce.remove(path, cut)) {
                    out.flush();
                    throw new IOException("the test server drops the connection at byte " + cut + " of " + path);
                }
                if (position == limit && stallAt != null && stallAt == position && stallOnce.remove(path, stallAt)) {
                    out.flush();
                    try {
                        Thread.sleep(stall);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    throw new IOException("the test server stalled at byte " + stallAt + " of " + path);
                }
                int n = (int) Math.min(buffer.length, limit - position);
                in.seek(position);
                in.readFully(buffer, 0, n);
                for (Map.Entry<Long, byte[]> change : replaced.getOrDefault(path, Map.of()).entrySet()) {
                    for (int i = 0; i < change.getValue().length; i++) {
                        long at = change.getKey() + i;
                        if (at >= position && at < position + n) {
                            buffer[(int) (at - position)] = change.getValue()[i];
                        }
                    }
                }
                out.write(buffer, 0, n);
                position += n;
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
