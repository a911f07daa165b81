package dev.ingot.image;

import dev.ingot.digest.DigestingOutputStream;
import dev.ingot.digest.Sha256;
import dev.ingot.progress.Progress;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Reads a raw image once and, in the same pass, computes everything a release needs: the SHA-256
 * of the whole image, a block map with a SHA-256 per mapped range, the zstd-compressed payload
 * (multi-threaded), and optionally a sparse copy of the raw image.
 *
 * <p>Only mapped extents are read from disk (found with SEEK_DATA/SEEK_HOLE); holes are fed to the
 * hash and the compressor as zeros from memory. One reader thread hands each chunk to one thread
 * per consumer (whole-image hash, range hashes, compressor, raw copy); chunk buffers come from a
 * small pool and return to it when every consumer is done with them.
 */
public final class ImageScanner {
    public static final int DEFAULT_BLOCK_SIZE = 4096;
    /**
     * Block map ranges are cut at 16 MiB, so a flasher can hold a whole range in memory and check
     * its SHA-256 before writing a byte of it (bmaptool reads adjacent ranges like any others). The
     * payload is one zstd frame per range and per hole piece of at most that size (RFC 8878 allows
     * concatenated frames; `zstd -d` restores them as one stream): frames compress in parallel, and
     * a flasher can skip the frames of holes and decompress the others in parallel.
     */
    public static final int MAX_RANGE_BYTES = 16 << 20;
    private static final int CHUNK_SIZE = MAX_RANGE_BYTES;
    private static final int POOL_SIZE = 6;
    private static final byte[] ZEROS = new byte[CHUNK_SIZE];

    /** What one pass produced; {@code slots} in the order of the windows asked for. */
    public record Result(long imageSize, Sha256 imageSha256, BlockMap blockMap, long payloadSize, Sha256 payloadSha256,
            List<SlotResult> slots) {}

    /**
     * A partition to publish as its own payload set: its bytes {@code [offset, offset + length)} of the image (both
     * multiples of the block size), written as the slot payload {@code payload} (and a raw copy, when asked).
     */
    public record Window(String name, long offset, long length, Path payload, Optional<Path> rawCopy) {
        public long end() {
            return offset + length;
        }

        boolean holds(long chunkOffset, int chunkLength) {
            return chunkOffset >= offset && chunkOffset + chunkLength <= end();
        }
    }

    /**
     * A slot payload made in the same pass: the partition's SHA-256, its block map (the disk's ranges inside it,
     * rebased), and its payload, which is byte for byte the disk payload's frames of the partition, at
     * {@code [diskPayloadOffset, diskPayloadOffset + payloadSize)} of the disk payload.
     */
    public record SlotResult(Window window, Sha256 imageSha256, BlockMap blockMap, long payloadSize, Sha256 payloadSha256,
            long diskPayloadOffset) {}

    /** How to compress: zstd level and worker threads (0 = single-threaded, as zstd without -T). */
    public record Compression(int level, int workers) {}

    private record Chunk(long offset, byte[] data, int length, boolean zero, int range, boolean endsRange,
            AtomicInteger references) {
        static final Chunk END = new Chunk(-1, null, 0, true, -1, false, null);
    }

    private ImageScanner() {}

    public static Result scan(Path image, int blockSize, Path payload, Optional<Path> rawCopy, Compression compression,
            Progress progress) throws IOException {
        return scan(image, blockSize, payload, rawCopy, compression, List.of(), progress);
    }

    /**
     * One pass that also makes a slot payload for each window: extents and hole pieces are cut at every window's
     * boundaries, so each frame lies wholly inside or outside a window, and the frames inside are teed into the slot
     * payload as the disk payload is written: no second read, no second compression. An image without windows is cut
     * exactly as before slots existed (the same image gives the same payload).
     */
    public static Result scan(Path image, int blockSize, Path payload, Optional<Path> rawCopy, Compression compression,
            List<Window> windows, Progress progress) throws IOException {
        long size = Files.size(image);
        List<Long> boundaries = new ArrayList<>();
        for (Window window : windows) {
            if (window.offset() % blockSize != 0 || window.length() % blockSize != 0 || window.end() > size) {
                throw new IllegalArgumentException("window " + window.name() + " is not block-aligned inside the image");
            }
            boundaries.add(window.offset());
            boundaries.add(window.end());
        }
        List<SparseFile.Extent> mapped = SparseFile.cutAt(SparseFile.split(
                SparseFile.alignToBlocks(SparseFile.dataExtents(image), blockSize, size), MAX_RANGE_BYTES), boundaries);

        BlockingQueue<byte[]> pool = new ArrayBlockingQueue<>(POOL_SIZE);
        for (int i = 0; i < POOL_SIZE; i++) {
            pool.add(new byte[CHUNK_SIZE]);
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Consumer> consumers = new ArrayList<>();
        WholeHash whole = new WholeHash(0, size);
        Compressor compressor = new Compressor(payload, compression, mapped.size(), pool, windows);
        consumers.add(whole);
        consumers.add(compressor);
        List<RawCopy> raws = new ArrayList<>();
        if (rawCopy.isPresent()) {
            raws.add(new RawCopy(rawCopy.get(), 0, size));
        }
        List<WholeHash> windowHashes = new ArrayList<>();
        for (Window window : windows) {
            // A slot's image digest covers its zeros too, as the disk's does: one more SHA-256 stream, on its own thread.
            WholeHash hash = new WholeHash(window.offset(), window.end());
            windowHashes.add(hash);
            consumers.add(hash);
            window.rawCopy().ifPresent(file -> {
                try {
                    raws.add(new RawCopy(file, window.offset(), window.length()));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
        consumers.addAll(raws);

        ExecutorService threads = Executors.newFixedThreadPool(consumers.size(), runnable -> {
            Thread thread = new Thread(runnable, "ingot-scan");
            thread.setDaemon(true);
            return thread;
        });
        List<Future<?>> running = new ArrayList<>();
        for (Consumer consumer : consumers) {
            running.add(threads.submit(() -> consumer.run(pool, failure)));
        }
        progress.start("publish " + image.getFileName(), size);
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.READ)) {
            long position = 0;
            for (int rangeIndex = 0; rangeIndex < mapped.size() && failure.get() == null; rangeIndex++) {
                SparseFile.Extent extent = mapped.get(rangeIndex);
                position = feedZeros(consumers, position, extent.offset(), boundaries, progress, failure);
                while (position < extent.end() && failure.get() == null) {
                    int length = (int) Math.min(CHUNK_SIZE, extent.end() - position);
                    byte[] buffer = pool.take();
                    readFully(channel, buffer, length, position);
                    boolean last = position + length == extent.end();
                    publish(consumers, new Chunk(position, buffer, length, false, rangeIndex, last,
                            new AtomicInteger(consumers.size())));
                    position += length;
                    progress.advance(length);
                }
            }
            feedZeros(consumers, position, size, boundaries, progress, failure);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure.compareAndSet(null, e);
        } catch (IOException | RuntimeException e) {
            failure.compareAndSet(null, e);
        } finally {
            for (Consumer consumer : consumers) {
                putUninterruptibly(consumer.queue, Chunk.END); // consumers always drain, so this returns
            }
            for (Future<?> future : running) {
                try {
                    future.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (ExecutionException e) {
                    failure.compareAndSet(null, e.getCause());
                }
            }
            threads.shutdown();
            compressor.closeQuietly();
            raws.forEach(RawCopy::closeQuietly);
            progress.done();
        }
        Throwable problem = failure.get();
        if (problem != null) {
            switch (problem) {
                case IOException io -> throw io;
                case UncheckedIOException unchecked -> throw unchecked.getCause();
                case RuntimeException runtime -> throw runtime;
                case Error error -> throw error;
                default -> throw new IOException(problem);
            }
        }
        List<BlockMap.Range> blockRanges = new ArrayList<>(mapped.size());
        for (int i = 0; i < mapped.size(); i++) {
            SparseFile.Extent extent = mapped.get(i);
            long first = extent.offset() / blockSize;
            long last = (extent.end() - 1) / blockSize;
            blockRanges.add(new BlockMap.Range(first, last, compressor.rangeDigests[i]));
        }
        BlockMap diskMap = new BlockMap(size, blockSize, blockRanges);
        List<SlotResult> slots = new ArrayList<>();
        for (int i = 0; i < windows.size(); i++) {
            Window window = windows.get(i);
            slots.add(new SlotResult(window, windowHashes.get(i).result, slotMap(diskMap, window), compressor.slotOutputs[i].count(),
                    compressor.slotOutputs[i].sha256(), compressor.slotStarts[i]));
        }
        return new Result(size, whole.result, diskMap, compressor.size, compressor.sha256, slots);
    }

    /** The disk's ranges inside a window, rebased to it: the slot's block map. */
    static BlockMap slotMap(BlockMap disk, Window window) {
        long shift = window.offset() / disk.blockSize();
        List<BlockMap.Range> ranges = new ArrayList<>();
        for (BlockMap.Range range : disk.ranges()) {
            if (window.holds(disk.startOffset(range), (int) Math.min(Integer.MAX_VALUE, disk.endOffset(range) - disk.startOffset(range)))) {
                ranges.add(new BlockMap.Range(range.first() - shift, range.last() - shift, range.sha256()));
            }
        }
        return new BlockMap(window.length(), disk.blockSize(), ranges);
    }

    private static long feedZeros(List<Consumer> consumers, long from, long to, List<Long> boundaries, Progress progress,
            AtomicReference<Throwable> failure) throws InterruptedException {
        long position = from;
        while (position < to && failure.get() == null) {
            long stop = to;
            for (long boundary : boundaries) {
                if (boundary > position && boundary < stop) {
                    stop = boundary; // a hole piece never crosses a window's edge
                }
            }
            int length = (int) Math.min(CHUNK_SIZE, stop - position);
            publish(consumers, new Chunk(position, ZEROS, length, true, -1, false, null));
            position += length;
            progress.advance(length);
        }
        return position;
    }

    private static void publish(List<Consumer> consumers, Chunk chunk) throws InterruptedException {
        for (Consumer consumer : consumers) {
            consumer.queue.put(chunk);
        }
    }

    private static void putUninterruptibly(BlockingQueue<Chunk> queue, Chunk chunk) {
        boolean interrupted = false;
        while (true) {
            try {
                queue.put(chunk);
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void readFully(FileChannel channel, byte[] buffer, int length, long position) throws IOException {
        ByteBuffer target = ByteBuffer.wrap(buffer, 0, length);
        while (target.hasRemaining()) {
            int read = channel.read(target, position + target.position());
            if (read < 0) {
                throw new IOException("the image ended at " + (position + target.position())
                        + " bytes while being read (was it changed during publishing?)");
            }
        }
    }

    /** One worker: takes chunks from its queue until END. After a failure it keeps draining, so the reader never blocks. */
    private abstract static class Consumer {
        final BlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(POOL_SIZE + 4);

        final void run(BlockingQueue<byte[]> pool, AtomicReference<Throwable> failure) {
            boolean failed = false;
            while (true) {
                Chunk chunk;
                try {
                    chunk = queue.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failure.compareAndSet(null, e);
                    return;
                }
                if (chunk == Chunk.END) {
                    if (!failed) {
                        try {
                            finish();
                        } catch (IOException | RuntimeException e) {
                            failure.compareAndSet(null, e);
                        }
                    }
                    return;
                }
                if (!failed && failure.get() == null) {
                    try {
                        accept(chunk);
                    } catch (IOException | RuntimeException e) {
                        failure.compareAndSet(null, e);
                        failed = true;
                    }
                }
                if (!chunk.zero() && chunk.references().decrementAndGet() == 0) {
                    pool.add(chunk.data());
                }
            }
        }

        abstract void accept(Chunk chunk) throws IOException;

        void finish() throws IOException {}
    }

    /** The SHA-256 of the image's bytes {@code [from, to)}: the whole image, or one window. */
    private static final class WholeHash extends Consumer {
        private final MessageDigest digest = Sha256.newDigest();
        private final long from;
        private final long to;
        Sha256 result;

        WholeHash(long from, long to) {
            this.from = from;
            this.to = to;
        }

        @Override
        void accept(Chunk chunk) {
            if (chunk.offset() >= from && chunk.offset() + chunk.length() <= to) {
                digest.update(chunk.data(), 0, chunk.length());
            }
        }

        @Override
        void finish() {
            result = Sha256.fromBytes(digest.digest());
        }
    }

    /**
     * Compresses each chunk (a whole mapped range, or a hole piece) into its own zstd frame on a pool
     * of worker threads, hashing mapped ranges there too; one thread writes the frames in image order.
     * One-shot compression with a fixed level gives the same bytes whatever the number of workers.
     */
    private static final class Compressor extends Consumer {
        /** A frame in the making, with the image bytes it holds (so the writer knows which slot payloads it also belongs to). */
        private record Pending(long offset, int length, Future<byte[]> frame) {}

        private static final Pending END = new Pending(-1, 0, java.util.concurrent.CompletableFuture.completedFuture(new byte[0]));

        private final DigestingOutputStream counted;
        private final OutputStream file;
        private final int level;
        private final BlockingQueue<byte[]> pool;
        private final ExecutorService workers;
        private final BlockingQueue<Pending> frames;
        private final List<Window> windows;
        final DigestingOutputStream[] slotOutputs;
        final long[] slotStarts;
        private final Thread writer;
        private final java.util.concurrent.ConcurrentHashMap<Integer, byte[]> zeroFrames = new java.util.concurrent.ConcurrentHashMap<>();
        private final AtomicReference<Throwable> writeFailure = new AtomicReference<>();
        final Sha256[] rangeDigests;
        long size;
        Sha256 sha256;

        Compressor(Path payload, Compression compression, int ranges, BlockingQueue<byte[]> pool, List<Window> windows) throws IOException {
            file = Files.newOutputStream(payload, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            counted = new DigestingOutputStream(new BufferedOutputStream(file, 1 << 20));
            this.windows = List.copyOf(windows);
            slotOutputs = new DigestingOutputStream[windows.size()];
            slotStarts = new long[windows.size()];
            for (int i = 0; i < windows.size(); i++) {
                slotOutputs[i] = new DigestingOutputStream(new BufferedOutputStream(Files.newOutputStream(windows.get(i).payload(),
                        StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE), 1 << 20));
                slotStarts[i] = -1;
            }
            level = compression.level();
            this.pool = pool;
            rangeDigests = new Sha256[ranges];
            int threads = Math.max(1, compression.workers());
            workers = Executors.newFixedThreadPool(threads, runnable -> {
                Thread thread = new Thread(runnable, "ingot-compress");
                thread.setDaemon(true);
                return thread;
            });
            frames = new ArrayBlockingQueue<>(threads + 2);
            writer = new Thread(this::writeFrames, "ingot-frames");
            writer.setDaemon(true);
            writer.start();
        }

        @Override
        void accept(Chunk chunk) throws IOException {
            Future<byte[]> frame;
            if (chunk.zero()) {
                frame = java.util.concurrent.CompletableFuture.completedFuture(
                        zeroFrames.computeIfAbsent(chunk.length(), length -> compress(ZEROS, length)));
            } else {
                chunk.references().incrementAndGet(); // held by the job until it is done with the buffer
                frame = workers.submit(() -> {
                    try {
                        if (chunk.endsRange()) {
                            rangeDigests[chunk.range()] = digestOf(chunk.data(), chunk.length());
                        }
                        return compress(chunk.data(), chunk.length());
                    } finally {
                        if (chunk.references().decrementAndGet() == 0) {
                            pool.add(chunk.data());
                        }
                    }
                });
            }
            Pending pending = new Pending(chunk.offset(), chunk.length(), frame);
            try {
                while (!frames.offer(pending, 100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    if (writeFailure.get() != null) {
                        throw new IOException("writing the payload failed", writeFailure.get());
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }

        private byte[] compress(byte[] data, int length) {
            byte[] target = new byte[(int) com.github.luben.zstd.Zstd.compressBound(length)];
            // The frame carries its content size and a checksum, so `zstd -d` checks it on its own.
            long written = com.github.luben.zstd.Zstd.compressByteArray(target, 0, target.length, data, 0, length, level, true);
            if (com.github.luben.zstd.Zstd.isError(written)) {
                throw new IllegalStateException("zstd: " + com.github.luben.zstd.Zstd.getErrorName(written));
            }
            return java.util.Arrays.copyOf(target, (int) written);
        }

        private static Sha256 digestOf(byte[] data, int length) {
            MessageDigest digest = Sha256.newDigest();
            digest.update(data, 0, length);
            return Sha256.fromBytes(digest.digest());
        }

        private void writeFrames() {
            try {
                while (true) {
                    Pending pending = frames.take();
                    if (pending == END) {
                        counted.flush();
                        for (DigestingOutputStream slot : slotOutputs) {
                            slot.flush();
                        }
                        return;
                    }
                    byte[] frame = pending.frame().get();
                    for (int i = 0; i < windows.size(); i++) {
                        if (windows.get(i).holds(pending.offset(), pending.length())) {
                            if (slotStarts[i] < 0) {
                                slotStarts[i] = counted.count();
                            }
                            slotOutputs[i].write(frame); // the same frame: a slot payload is the disk payload's frames of its partition
                        }
                    }
                    counted.write(frame);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                writeFailure.compareAndSet(null, e);
            } catch (ExecutionException e) {
                writeFailure.compareAndSet(null, e.getCause());
            } catch (IOException | RuntimeException e) {
                writeFailure.compareAndSet(null, e);
            } finally {
                if (writeFailure.get() != null) {
                    frames.clear(); // let a blocked producer go
                }
            }
        }

        @Override
        void finish() throws IOException {
            try {
                frames.put(END);
                writer.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            workers.shutdown();
            if (writeFailure.get() != null) {
                Throwable failure = writeFailure.get();
                throw failure instanceof IOException io ? io : new IOException(failure);
            }
            counted.close();
            size = counted.count();
            sha256 = counted.sha256();
            for (DigestingOutputStream slot : slotOutputs) {
                slot.close();
            }
        }

        void closeQuietly() {
            workers.shutdownNow();
            writer.interrupt();
            try {
                file.close();
                for (DigestingOutputStream slot : slotOutputs) {
                    slot.close();
                }
            } catch (IOException ignored) {
                // the pass already failed; the partial payload is discarded by the caller
            }
        }
    }

    /** A sparse copy of the image's bytes {@code [base, base + size)}: the raw image, or one slot's. */
    private static final class RawCopy extends Consumer {
        private final Path target;
        private final FileChannel channel;
        private final long base;
        private final long size;

        RawCopy(Path target, long base, long size) throws IOException {
            this.target = target;
            this.channel = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
            this.base = base;
            this.size = size;
        }

        @Override
        void accept(Chunk chunk) throws IOException {
            if (chunk.zero() || chunk.offset() < base || chunk.offset() + chunk.length() > base + size) {
                return; // a hole stays a hole; bytes outside the window are not this copy's
            }
            ByteBuffer source = ByteBuffer.wrap(chunk.data(), 0, chunk.length());
            while (source.hasRemaining()) {
                channel.write(source, chunk.offset() - base + source.position());
            }
        }

        @Override
        void finish() throws IOException {
            if (channel.size() < size) {
                // Extend with a hole: writing one byte would allocate a block, setting the length does not.
                try (var file = new java.io.RandomAccessFile(target.toFile(), "rw")) {
                    file.setLength(size);
                }
            }
            channel.force(true);
            channel.close();
        }

        void closeQuietly() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing more to do
            }
        }
    }
}
