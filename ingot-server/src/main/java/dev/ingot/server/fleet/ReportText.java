package dev.ingot.server.fleet;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * How a device's report is kept in {@code latest_reports} and {@code report_history}: the JSON as the device sent it,
 * compressed with zstd (RFC 8878; the frame carries its content size) and written as base64 text behind {@value #PREFIX},
 * in a TEXT column that both databases have. A ~5 KB report becomes ~2.6 KB: on PostgreSQL two versions of a device's latest
 * report then fit one page, so a poll's rewrite is a HOT update (no new page, no index entry) and writes half the WAL;
 * SQLite writes one page instead of a page and an overflow page. Compressed on the poller's thread, not the writer's.
 * A stored text that starts with '{' is plain JSON (written before this format, or by hand) and is read as it is.
 */
public final class ReportText {
    static final String PREFIX = "zstd1:";
    /** zstd's fastest level: a report is compressed at every poll, and level 3 gains a few bytes for twice the time. */
    private static final int LEVEL = 1;
    /** A report is at most a poll body (64 KiB); a stored frame claiming more is not one the server wrote. */
    private static final long MAX_REPORT = 1 << 20;

    private ReportText() {}

    /**
     * Compression contexts, reused: making one per report (Zstd.compress) allocates zstd's tables each time and cost three
     * times the compression itself. Pollers run on virtual threads, so a ThreadLocal would make one per poll too; a context
     * is taken from here for one report and put back, and there are never more than the pollers compressing at once.
     */
    private static final ConcurrentLinkedQueue<ZstdCompressCtx> CONTEXTS = new ConcurrentLinkedQueue<>();

    /** The stored form of a report's JSON. */
    public static String store(String json) {
        ZstdCompressCtx context = CONTEXTS.poll();
        if (context == null) {
            context = new ZstdCompressCtx().setLevel(LEVEL).setContentSize(true);
        }
        try {
            return PREFIX + Base64.getEncoder().encodeToString(context.compress(json.getBytes(StandardCharsets.UTF_8)));
        } finally {
            CONTEXTS.offer(context);
        }
    }

    /** The report's JSON from its stored form. */
    public static String read(String stored) {
        if (!stored.startsWith(PREFIX)) {
            return stored;
        }
        byte[] compressed = Base64.getDecoder().decode(stored.substring(PREFIX.length()));
        long size = Zstd.getFrameContentSize(compressed);
        if (size < 0 || size > MAX_REPORT) {
            throw new IllegalStateException("a stored report is a zstd frame of at most " + MAX_REPORT + " bytes that says its size");
        }
        return new String(Zstd.decompress(compressed, (int) size), StandardCharsets.UTF_8);
    }
}
