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

    /** What one pass produced. */
    public record Result(long imageSize, Sha256 imageSha256, BlockMap blockMap, long payloadSize, Sha256 payloadSha256) {}

    /** How to compress: zstd level and worker threads (0 = single-threaded, as zstd without -T). */
    public record Compression(int level, int workers) {}

    private record Chunk(long offset, byte[] data, int length, boolean zero, int range, boolean endsRange,
            AtomicInteger references) {
        static final Chunk END = new Chunk(-1, null, 0, true, -1, false, null);
    }

    private ImageScanner() {}

    public static Result scan(Path image, int blockSize, Path payload, Optional<Path> rawCopy, Compression compression,
            Progress progress) throws IOException {
        long size = Files.size(image);
        List<SparseFile.Extent> mapped = SparseFile.split(
                SparseFile.alignToBlocks(SparseFile.dataExtents(image), blockSize, size), MAX_RANGE_BYTES);

        BlockingQueue<byte[]> pool = new ArrayBlockingQueue<>(POOL_SIZE);
        for (int i = 0; i < POOL_SIZE; i++) {
            pool.add(new byte[CHUNK_SIZE]);
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Consumer> consumers = new ArrayList<>();
        WholeHash whole = new WholeHash();
        Compressor compressor = new Compressor(payload, compression, mapped.size(), pool);
        consumers.add(whole);
        consumers.add(compressor);
        RawCopy raw = null;
        if (rawCopy.isPresent()) {
            raw = new RawCopy(rawCopy.get(), size);
            consumers.add(raw);
        }

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
                position = feedZeros(consumers, position, extent.offset(), progress, failure);
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
            feedZeros(consumers, position, size, progress, failure);
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
            if (raw != null) {
                raw.closeQuietly();
            }
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
        return new Result(size, whole.result, new BlockMap(size, blockSize, blockRanges), compressor.size,
                compressor.sha256);
    }

    private static long feedZeros(List<Consumer> consumers, long from, long to, Progress progress,
            AtomicReference<Throwable> failure) throws InterruptedException {
        long position = from;
        while (position < to && failure.get() == null) {
            int length = (int) Math.min(CHUNK_SIZE, to - position);
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

    private static final class WholeHash extends Consumer {
        private final MessageDigest digest = Sha256.newDigest();
        Sha256 result;

        @Override
        void accept(Chunk chunk) {
            digest.update(chunk.data(), 0, chunk.length());
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
        private static final Future<byte[]> END = java.util.concurrent.CompletableFuture.completedFuture(new byte[0]);

        private final DigestingOutputStream counted;
        private final OutputStream file;
        private final int level;
        private final BlockingQueue<byte[]> pool;
        private final ExecutorService workers;
        private final BlockingQueue<Future<byte[]>> frames;
        private final Thread writer;
        private final java.util.concurrent.ConcurrentHashMap<Integer, byte[]> zeroFrames = new java.util.concurrent.ConcurrentHashMap<>();
        private final AtomicReference<Throwable> writeFailure = new AtomicReference<>();
        final Sha256[] rangeDigests;
        long size;
        Sha256 sha256;

        Compressor(Path payload, Compression compression, int ranges, BlockingQueue<byte[]> pool) throws IOException {
            file = Files.newOutputStream(payload, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            counted = new DigestingOutputStream(new BufferedOutputStream(file, 1 << 20));
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
            try {
                while (!frames.offer(frame, 100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
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
                    Future<byte[]> frame = frames.take();
                    if (frame == END) {
                        counted.flush();
                        return;
                    }
                    counted.write(frame.get());
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
        }

        void closeQuietly() {
            workers.shutdownNow();
            writer.interrupt();
            try {
                file.close();
            } catch (IOException ignored) {
                // the pass already failed; the partial payload is discarded by the caller
            }
        }
    }

    private static final class RawCopy extends Consumer {
        private final Path target;
        private final FileChannel channel;
        private final long size;

        RawCopy(Path target, long size) throws IOException {
            this.target = target;
            this.channel = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
            this.size = size;
        }

        @Override
        void accept(Chunk chunk) throws IOException {
            if (chunk.zero()) {
                return; // stays a hole
            }
            ByteBuffer source = ByteBuffer.wrap(chunk.data(), 0, chunk.length());
            while (source.hasRemaining()) {
                channel.write(source, chunk.offset() + source.position());
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
