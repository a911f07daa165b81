package dev.ingot.flash;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import com.github.luben.zstd.ZstdIOException;
import com.github.luben.zstd.ZstdInputStream;
import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fetch.OrderedFetch;
import dev.ingot.fetch.RangeReadable;
import dev.ingot.image.BlockMap;
import dev.ingot.progress.Progress;
import dev.ingot.store.WorkFolder;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * One pass over a payload: a reader thread pulls the payload in order from its source (hashing every byte, teeing it
 * to a kept copy) and cuts it into zstd frames; a frame that is exactly one mapped range goes to a pool of workers that
 * decompress it into an aligned buffer and check its SHA-256 ({@link CheckedRange}); a frame of a hole is hashed and
 * dropped, never decompressed; one writer thread takes the checked ranges in image order and hands them to the
 * {@link Sink}. A payload whose frames do not match its block map (one big frame from the zstd CLI, an old release) is
 * decoded as one stream from the first frame that does not fit, and cut into ranges the same way; a range longer than
 * a buffer is checked in a private spool file before it is written. A raw image is read range by range.
 *
 * <p>Every queue is bounded by its buffer pool, so memory is (workers + 5) decompressed buffers and (workers + 2)
 * frames of 16 MiB whatever the image's size. The first failure anywhere stops every stage.
 */
final class FlashPass {
    static final int PIECE = 16 << 20;
    private static final int FRAME_CAPACITY = (int) Zstd.compressBound(PIECE) + 64;
    private static final Future<CheckedRange> END = CompletableFuture.completedFuture(null);

    /** Where checked ranges go, in image order: the target (write and read back), or nowhere (a dry pass). */
    interface Sink {
        /**
         * Takes one checked range. Returns true when it keeps the range's buffer (to compare the read-back with it) and
         * gives it back later through {@link FlashPass#giveBack}; false when the pass may reuse it at once.
         */
        boolean write(CheckedRange range) throws IOException;
    }

    /** What the pass saw: the payload's SHA-256 and size (a zstd pass), how it decoded, how many ranges it handed on. */
    record Outcome(Optional<Sha256> payloadSha256, long payloadBytes, String decompression, int ranges, int resumes) {}

    private final FlashJob job;
    private final BlockMap map;
    private final Sink sink;
    private final Stages stages;
    private final Progress progress;
    private final Supplier<Path> spoolFolder;
    private final Clock clock;
    private final OrderedFetch.Policy fetchPolicy;
    private final Optional<FileChannel> tee;
    private final long teeFrom;
    private final RangeReadable source;
    private final int workers;
    private final int align;
    private final BlockingQueue<ByteBuffer> buffers;
    private final BlockingQueue<byte[]> frames;
    private final BlockingQueue<Future<CheckedRange>> ordered;
    private final ExecutorService pool;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Semaphore spoolPermit = new Semaphore(1);
    private final Set<Path> spools = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<ZstdDecompressCtx> contexts = ThreadLocal.withInitial(ZstdDecompressCtx::new);
    private final AtomicLong failedFrame = new AtomicLong(-1);
    /**
     * Held by the reader while it appends to the kept copy, and by {@link #fail} while it interrupts the reader: an
     * interrupt during a FileChannel's I/O closes the channel (InterruptibleChannel), which would drop the copy's lock
     * and leave the flasher unable to cut a damaged frame back out of it.
     */
    private final Object teeing = new Object();
    /** The payload offset of the frame the reader is at, and of the frame one-stream decoding began with (-1: none). */
    private volatile long currentFrame = -1;
    private volatile long streamFrom = -1;
    private final java.util.concurrent.atomic.AtomicInteger buffersMade = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger framesMade = new java.util.concurrent.atomic.AtomicInteger();
    private volatile InputStream fetch;
    private volatile String decompression = "none (raw image)";
    private volatile Sha256 payloadSha256;
    private volatile long payloadBytes;
    private volatile int handedOn;
    private volatile int resumes;
    private Thread readerThread;
    private Thread writerThread;

    FlashPass(FlashJob job, RangeReadable source, Optional<FileChannel> tee, long teeFrom, Sink sink, Stages stages, Progress progress,
            Supplier<Path> spoolFolder, Clock clock, OrderedFetch.Policy fetchPolicy, int align) {
        this.job = job;
        this.map = job.map();
        this.source = source;
        this.tee = tee;
        this.teeFrom = teeFrom;
        this.sink = sink;
        this.stages = stages;
        this.progress = progress;
        this.spoolFolder = spoolFolder;
        this.clock = clock;
        this.fetchPolicy = fetchPolicy;
        this.align = Math.max(4096, align);
        this.workers = Math.max(1, Runtime.getRuntime().availableProcessors());
        // Two more buffers than the workers and the write queue can hold: a range stays in memory until its read-back compared.
        this.buffers = new ArrayBlockingQueue<>(workers + 5);
        this.frames = new ArrayBlockingQueue<>(workers + 2);
        this.ordered = new ArrayBlockingQueue<>(workers + 1);
        this.pool = Executors.newFixedThreadPool(workers, runnable -> {
            Thread thread = new Thread(runnable, "ingot-decompress");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** A decompressed-range buffer: from the pool, or a new one while fewer than its size exist (small images need few). */
    private ByteBuffer takeBuffer() throws InterruptedException {
        ByteBuffer buffer = buffers.poll();
        if (buffer != null) {
            return buffer;
        }
        if (buffersMade.getAndIncrement() < buffers.remainingCapacity() + buffers.size()) {
            return aligned(PIECE, align);
        }
        return buffers.take();
    }

    /** A frame buffer, made as needed up to the pool's size. */
    private byte[] takeFrame() throws InterruptedException {
        byte[] frame = frames.poll();
        if (frame != null) {
            return frame;
        }
        if (framesMade.getAndIncrement() < frames.remainingCapacity() + frames.size()) {
            return new byte[job.format() == FlashJob.Format.ZSTD ? FRAME_CAPACITY : PIECE];
        }
        return frames.take();
    }

    /** An aligned direct buffer of at least {@code size} bytes: direct I/O needs its address, position and length aligned. */
    static ByteBuffer aligned(int size, int align) {
        return ByteBuffer.allocateDirect(size + align).alignedSlice(align).limit(size).clear();
    }

    /** The payload's name, for messages that must name the bad file. */
    private String payloadName() {
        return job.payloadEntry().map(dev.ingot.image.Manifest.FileEntry::name).orElse(source.describe());
    }

    /**
     * The payload offset from which the payload's bytes are in doubt (to cut a kept copy back to), or -1: the earliest
     * frame whose range failed its check, whose header or blocks are damaged, or, when the failure came out of the
     * one-stream decoder (which cannot say which frame made it), the frame where that decoding began.
     */
    long failedFrame() {
        return failedFrame.get();
    }

    /** Records that the payload's bytes from {@code offset} on failed a check; the earliest such offset wins. */
    private void payloadFailedAt(long offset) {
        if (offset >= 0) {
            failedFrame.accumulateAndGet(offset, (held, given) -> held < 0 ? given : Math.min(held, given));
        }
    }

    Outcome run() {
        writerThread = new Thread(this::writeAll, "ingot-write");
        readerThread = new Thread(this::readAll, "ingot-payload");
        writerThread.setDaemon(true);
        readerThread.setDaemon(true);
        writerThread.start();
        readerThread.start();
        // Every thread of the pass has ended before it returns or throws, even when the caller is interrupted: the reader
        // appends to the kept copy, and the flasher cuts that copy back or renames it only once nothing writes it.
        boolean interrupted = false;
        for (Thread thread : new Thread[] {readerThread, writerThread}) {
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                    fail(IngotException.tried(ErrorCode.INTERNAL, "flash", "interrupted"));
                }
            }
        }
        pool.shutdownNow();
        pool.close(); // waits for a worker still decompressing: it may yet record a failed frame
        closeFetch();
        for (Path spool : spools) {
            deleteQuietly(spool);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable problem = failure.get();
        if (problem != null) {
            switch (problem) {
                case IngotException ingot -> throw ingot;
                case RuntimeException runtime -> throw runtime;
                case Error error -> throw error;
                default -> throw new UncheckedIOExceptionWrapper(problem);
            }
        }
        return new Outcome(Optional.ofNullable(payloadSha256), payloadBytes, decompression, handedOn, resumes);
    }

    /** A checked failure carried out of the pass (I/O on the target or the source); the flasher words it. */
    static final class UncheckedIOExceptionWrapper extends RuntimeException {
        UncheckedIOExceptionWrapper(Throwable cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** Records the first failure and stops every stage: interrupts, and closes the source so a blocked read returns. */
    void fail(Throwable problem) {
        if (!failure.compareAndSet(null, problem)) {
            return;
        }
        pool.shutdownNow();
        closeFetch();
        Thread reader = readerThread;
        if (reader != null && reader != Thread.currentThread()) {
            synchronized (teeing) {
                reader.interrupt();
            }
        }
        Thread writer = writerThread;
        if (writer != null && writer != Thread.currentThread()) {
            writer.interrupt();
        }
    }

    /** Appends to the kept copy with no interrupt pending (see {@link #teeing}); one that was pending is set again after. */
    private void append(FileChannel channel, ByteBuffer bytes) throws IOException {
        synchronized (teeing) {
            boolean interrupted = Thread.interrupted();
            try {
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private void closeFetch() {
        InputStream open = fetch;
        if (open != null) {
            try {
                open.close();
            } catch (IOException ignored) {
                // stopping
            }
        }
    }

    private boolean stopping() {
        return failure.get() != null;
    }

    // ------------------------------------------------------------------ reader

    private void readAll() {
        long started = Stages.threadCpu();
        Stages.Stage hashing = stages.stage("payload hash");
        long hashedBefore = hashing.cpuNanos();
        try {
            switch (job.format()) {
                case ZSTD -> readFrames(hashing);
                case RAW -> readRaw();
            }
            ordered.put(END);
        } catch (Throwable e) {
            Throwable problem = stopping() ? failure.get() : readerFailure(e);
            if (problem instanceof IngotException ingot && ingot.code() == ErrorCode.CHECK_FAILED) {
                // The bytes did not hold up (a damaged header or block, a bad stream, a range that failed while decoding
                // as one stream): those from the frame in hand on are in doubt. (A server's lie lands here too: cutting
                // a kept copy back to the frame in hand only fetches that frame again.)
                payloadFailedAt(streamFrom >= 0 ? streamFrom : currentFrame);
            }
            fail(problem);
        } finally {
            long hashed = hashing.cpuNanos() - hashedBefore;
            stages.stage("read source and cut frames").add(Stages.threadCpu() - started - hashed, 0);
        }
    }

    private Throwable readerFailure(Throwable e) {
        if (e instanceof InterruptedException || e instanceof InterruptedIOException || e instanceof ClosedByInterruptException) {
            return IngotException.tried(ErrorCode.INTERNAL, "read the payload", "interrupted");
        }
        return switch (e) {
            case ZstdIOException zstd -> IngotException.tried(ErrorCode.CHECK_FAILED, "decompress the payload",
                    "it is not a valid zstd stream (" + zstd.getMessage() + ")");
            case EOFException eof -> IngotException.tried(ErrorCode.CHECK_FAILED, "read the payload", String.valueOf(eof.getMessage()));
            case IOException io -> IngotException.tried(ErrorCode.UNAVAILABLE, "read " + source.describe(), String.valueOf(io.getMessage()))
                    .withCause(io);
            default -> e;
        };
    }

    private OrderedFetch open(long from, long to) {
        OrderedFetch opened = OrderedFetch.open(source, from, to, fetchPolicy, clock, OrderedFetch.Sleeper.REAL);
        fetch = opened;
        return opened;
    }

    private void readFrames(Stages.Stage hashing) throws Exception {
        long size = source.size();
        OrderedFetch fetched = open(0, size);
        try (PayloadStream payload = new PayloadStream(fetched, tee.map(channel -> bytes -> append(channel, bytes)), teeFrom, hashing)) {
            decompression = "parallel: one frame per range, hole frames skipped";
            FrameCutter cutter = new FrameCutter(payload);
            List<BlockMap.Range> ranges = map.ranges();
            long cursor = 0;
            int next = 0;
            FrameCutter.Header header;
            while (true) {
                currentFrame = payload.offset();
                if ((header = cutter.next()) == null) {
                    break;
                }
                if (header.skippable()) {
                    cutter.skip(header);
                    continue;
                }
                long content = header.contentSize();
                long nextStart = next < ranges.size() ? map.startOffset(ranges.get(next)) : map.imageSize();
                if (content >= 0 && next < ranges.size() && cursor == nextStart
                        && content == map.endOffset(ranges.get(next)) - nextStart && content <= PIECE) {
                    byte[] frame = takeFrame();
                    int length = cutter.copy(header, frame);
                    int index = next;
                    long at = header.payloadOffset();
                    ordered.put(pool.submit(() -> decompressAndCheck(frame, length, index, (int) content, at)));
                    next++;
                    cursor += content;
                } else if (content >= 0 && content <= nextStart - cursor) { // not cursor + content: a declared size near 2^63 wraps
                    cutter.skip(header); // a hole: the payload digest covers it, the target's hole is zeroed separately
                    cursor += content;
                } else {
                    decompression = "one stream from payload byte " + header.payloadOffset()
                            + " (its frames do not match the block map's ranges)";
                    streamFrom = header.payloadOffset();
                    streamRest(header, payload, cursor, next);
                    finishPayload(payload, fetched);
                    return;
                }
            }
            if (next < ranges.size() || cursor != map.imageSize()) {
                throw IngotException.tried(ErrorCode.CHECK_FAILED, "read the payload", "its frames hold " + cursor
                        + " bytes of the image, which is " + map.imageSize() + " bytes (truncated, or the bmap belongs to another image)");
            }
            finishPayload(payload, fetched);
        }
    }

    private void finishPayload(PayloadStream payload, OrderedFetch fetched) throws IOException {
        payload.drain();
        payloadBytes = payload.offset();
        payloadSha256 = payload.sha256();
        resumes = fetched.resumes();
    }

    private CheckedRange decompressAndCheck(byte[] frame, int length, int index, int content, long payloadOffset) throws Exception {
        ByteBuffer target = takeBuffer();
        try {
            long cpu = Stages.threadCpu();
            int size;
            try {
                size = contexts.get().decompressByteArrayToDirectByteBuffer(target, 0, content, frame, 0, length);
            } catch (ZstdException e) {
                payloadFailedAt(payloadOffset);
                throw IngotException.tried(ErrorCode.CHECK_FAILED, "decompress the payload", "the frame at byte " + payloadOffset + " of "
                        + payloadName() + " does not decompress (" + e.getMessage() + "); that range was not written");
            } finally {
                frames.put(frame);
            }
            stages.stage("decompress").add(Stages.threadCpu() - cpu, content);
            if (size != content) {
                payloadFailedAt(payloadOffset);
                throw IngotException.tried(ErrorCode.CHECK_FAILED, "decompress the payload", "the frame at byte " + payloadOffset + " of "
                        + payloadName() + " holds " + size + " bytes, its header says " + content);
            }
            try {
                return CheckedRange.check(map, index, target, content, stages.stage("range hash"));
            } catch (IngotException e) {
                payloadFailedAt(payloadOffset);
                throw IngotException.tried(e.code(), "check the payload", dev.ingot.image.ReleaseVerifier.reasonOf(e) + " (it came from the "
                        + "frame at byte " + payloadOffset + " of " + payloadName() + ")");
            }
        } catch (Throwable e) {
            buffers.put(target);
            throw e;
        }
    }

    /** Image bytes in order from some position: a decoder's output, or a raw image read range by range. */
    private interface ImageBytes {
        long position();

        void skipTo(long offset) throws IOException;

        void readFully(byte[] bytes, int length) throws IOException;
    }

    /** The rest of the payload, from the frame whose header was just read, decoded as one stream (the digest stays below). */
    private void streamRest(FrameCutter.Header header, PayloadStream payload, long cursor, int next) throws Exception {
        // The decoder must not close the payload: what it leaves (nothing, or trailing bytes) is drained into the digest after.
        InputStream unclosed = new java.io.FilterInputStream(payload) {
            @Override
            public void close() {}
        };
        InputStream compressed = new SequenceInputStream(new ByteArrayInputStream(header.bytes()), unclosed);
        try (ZstdInputStream decoder = new ZstdInputStream(compressed)) {
            Stages.Stage decompress = stages.stage("decompress");
            ImageBytes image = new ImageBytes() {
                private long position = cursor;

                @Override
                public long position() {
                    return position;
                }

                @Override
                public void skipTo(long offset) throws IOException {
                    byte[] drop = new byte[1 << 16];
                    while (position < offset) {
                        int n = decoder.read(drop, 0, (int) Math.min(drop.length, offset - position));
                        if (n < 0) {
                            throw new EOFException("the payload decompresses to " + position + " bytes, the image is " + map.imageSize());
                        }
                        position += n;
                    }
                }

                @Override
                public void readFully(byte[] bytes, int length) throws IOException {
                    long cpu = Stages.threadCpu();
                    int done = 0;
                    while (done < length) {
                        int n = decoder.read(bytes, done, length - done);
                        if (n < 0) {
                            throw new EOFException("the payload decompresses to " + (position + done) + " bytes, the image is "
                                    + map.imageSize());
                        }
                        done += n;
                    }
                    position += length;
                    decompress.add(Stages.threadCpu() - cpu, length);
                }
            };
            cutRanges(image, next);
            image.skipTo(map.imageSize());
            if (decoder.read() >= 0) {
                throw IngotException.tried(ErrorCode.CHECK_FAILED, "read the payload", "it decompresses to more than the image's "
                        + map.imageSize() + " bytes");
            }
        }
    }

    private void readRaw() throws Exception {
        long size = source.size();
        if (size != map.imageSize()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read " + source.describe(), "the block map is for a " + map.imageSize()
                    + "-byte image but it is " + size + " bytes (the bmap belongs to another image)");
        }
        ImageBytes image = new ImageBytes() {
            private long position;
            private OrderedFetch current;

            @Override
            public long position() {
                return position;
            }

            @Override
            public void skipTo(long offset) throws IOException {
                if (current == null || offset != position) {
                    if (current != null) {
                        current.close();
                    }
                    current = open(offset, size);
                    position = offset;
                }
            }

            @Override
            public void readFully(byte[] bytes, int length) throws IOException {
                int done = 0;
                while (done < length) {
                    int n = current.read(bytes, done, length - done);
                    if (n < 0) {
                        throw new EOFException("the image ended at byte " + (position + done));
                    }
                    done += n;
                }
                position += length;
            }
        };
        cutRanges(image, 0);
    }

    /** Ranges {@code from} onwards out of in-order image bytes: short ones checked in memory by the workers, long ones spooled. */
    private void cutRanges(ImageBytes image, int from) throws Exception {
        List<BlockMap.Range> ranges = map.ranges();
        for (int index = from; index < ranges.size(); index++) {
            BlockMap.Range range = ranges.get(index);
            long start = map.startOffset(range);
            long length = map.endOffset(range) - start;
            image.skipTo(start);
            if (length <= PIECE) {
                byte[] frame = takeFrame();
                image.readFully(frame, (int) length);
                int at = index;
                ordered.put(pool.submit(() -> copyAndCheck(frame, (int) length, at)));
            } else {
                ordered.put(CompletableFuture.completedFuture(spool(image, index, length)));
            }
        }
    }

    private CheckedRange copyAndCheck(byte[] bytes, int length, int index) throws Exception {
        ByteBuffer target = takeBuffer();
        try {
            target.clear().put(bytes, 0, length);
        } finally {
            frames.put(bytes);
        }
        try {
            return CheckedRange.check(map, index, target, length, stages.stage("range hash"));
        } catch (IngotException e) {
            payloadFailedAt(streamFrom); // decoded as one stream (or a raw image, which is never kept)
            buffers.put(target);
            throw IngotException.tried(e.code(), "check the image", dev.ingot.image.ReleaseVerifier.reasonOf(e) + " (read from "
                    + payloadName() + ")");
        } catch (Throwable e) {
            buffers.put(target);
            throw e;
        }
    }

    /**
     * A range longer than a buffer: written to a new file in the caller's own work folder while it is hashed, and
     * handed on only if its SHA-256 matched. One spool at a time (the writer frees the permit), so the disk space is
     * bounded by the longest range.
     */
    private CheckedRange spool(ImageBytes image, int index, long length) throws Exception {
        spoolPermit.acquire();
        Path spool = WorkFolder.newFile(spoolFolder.get(), "range-");
        spools.add(spool);
        MessageDigest digest = Sha256.newDigest();
        byte[] piece = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(spool, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING,
                LinkOption.NOFOLLOW_LINKS)) {
            long left = length;
            while (left > 0) {
                int n = (int) Math.min(piece.length, left);
                image.readFully(piece, n);
                digest.update(piece, 0, n);
                out.write(piece, 0, n);
                left -= n;
            }
        } catch (Throwable e) {
            release(spool);
            throw e;
        }
        try {
            return CheckedRange.spooled(map, index, spool, length, Sha256.fromBytes(digest.digest()));
        } catch (IngotException e) {
            payloadFailedAt(streamFrom);
            release(spool);
            throw IngotException.tried(e.code(), "check the image", dev.ingot.image.ReleaseVerifier.reasonOf(e) + " (read from "
                    + payloadName() + ")");
        } catch (Throwable e) {
            release(spool);
            throw e;
        }
    }

    private void release(Path spool) {
        deleteQuietly(spool);
        spools.remove(spool);
        spoolPermit.release();
    }

    // ------------------------------------------------------------------ writer

    private void writeAll() {
        long started = Stages.threadCpu();
        try {
            while (true) {
                Future<CheckedRange> next = ordered.take();
                if (next == END) {
                    return;
                }
                CheckedRange range;
                try {
                    range = next.get();
                } catch (ExecutionException e) {
                    fail(e.getCause());
                    return;
                }
                boolean kept = false;
                try {
                    kept = sink.write(range);
                } finally {
                    if (range.data() != null) {
                        if (!kept) {
                            buffers.put(range.data());
                        }
                    } else {
                        release(range.spool());
                    }
                }
                handedOn++;
                progress.advance(range.length());
            }
        } catch (Throwable e) {
            fail(stopping() ? failure.get() : e);
        } finally {
            stages.stage("write").add(Stages.threadCpu() - started, 0);
        }
    }

    /** A buffer a sink kept (to compare a read-back with it) back into the pool. */
    void giveBack(ByteBuffer buffer) {
        if (!buffers.offer(buffer)) {
            throw new IllegalStateException("a buffer was given back twice");
        }
    }

    /** A spooled range's bytes, a buffer at a time (for the sink). */
    static void copySpool(CheckedRange range, ByteBuffer buffer, SpoolWriter writer) throws IOException {
        try (FileChannel in = FileChannel.open(range.spool(), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            long done = 0;
            while (done < range.length()) {
                int want = (int) Math.min(PIECE, range.length() - done);
                buffer.clear().limit(want);
                while (buffer.hasRemaining()) {
                    if (in.read(buffer, done + buffer.position()) < 0) {
                        throw new IOException("the spool of the range at " + range.offset() + " ended early");
                    }
                }
                writer.write(range.offset() + done, buffer, want);
                done += want;
            }
        }
    }

    @FunctionalInterface
    interface SpoolWriter {
        void write(long offset, ByteBuffer data, int length) throws IOException;
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a leftover spool in the caller's own work folder is harmless
        }
    }
}
