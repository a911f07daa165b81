package dev.ingot.flash;

import static java.util.Objects.requireNonNull;

import com.github.luben.zstd.ZstdInputStream;
import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.BlockMap;
import dev.ingot.image.TrustedRelease;
import dev.ingot.store.WorkFolder;
import dev.ingot.progress.Progress;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Writes an image onto a disk, block-map-aware and verified: only mapped ranges are written, each
 * range's SHA-256 is checked before the range reaches the disk, unmapped ranges are made to read
 * as zeros where that is cheap (hole punching on a file, BLKZEROOUT on a device that offloads it),
 * then everything is fsynced and read back from the disk, not the cache, and checked again.
 *
 * <p>Three threads overlap the work: one decompresses the payload into range buffers, one hashes
 * each range and compares it with the block map, one writes. A flash that is interrupted leaves a
 * partly written disk; running it again rewrites every mapped range, so it always finishes correct.
 */
public final class Flasher {
    private static final int PIECE_SIZE = 16 << 20;
    private static final int BUFFERS = 4;

    private final Clock clock;
    private final Progress progress;
    private final java.util.function.Supplier<Path> spoolFolder;

    /**
     * {@code spoolFolder} holds, one at a time, a range longer than a piece (only a foreign bmap has them) while it
     * is hashed: it reaches the target only from there, once its SHA-256 matched. Use a {@link WorkFolder}'s.
     */
    public Flasher(Clock clock, Progress progress, Path spoolFolder) {
        this(clock, progress, () -> spoolFolder);
        requireNonNull(spoolFolder, "spoolFolder");
    }

    /** Spools long ranges in the caller's default work folder ({@link WorkFolder}), made only when needed. */
    public Flasher(Clock clock, Progress progress) {
        this(clock, progress, () -> WorkFolder.forCaller(System.getenv()).folder("spool"));
    }

    private Flasher(Clock clock, Progress progress, java.util.function.Supplier<Path> spoolFolder) {
        this.clock = requireNonNull(clock, "clock");
        this.progress = requireNonNull(progress, "progress");
        this.spoolFolder = spoolFolder;
    }

    /**
     * What to flash. A signed source carries its {@link TrustedRelease}: the map is the release's signed block map,
     * a compressed payload must have the release's payload SHA-256 and a raw one the image's, checked by the end of the
     * read, and every range is checked against the signed map before it is written. An unsigned source
     * ({@code --allow-unsigned}) has only its bmap's own checksums: every range is checked in a dry pass first, and
     * again before it is written.
     */
    public record Source(Path payload, boolean compressed, BlockMap map, Optional<TrustedRelease> release, String description) {
        public Source {
            requireNonNull(payload, "payload");
            requireNonNull(map, "map");
            requireNonNull(release, "release");
            requireNonNull(description, "description");
            if (release.isPresent() && !release.get().blockMap().equals(map)) {
                throw new IllegalArgumentException("a signed source flashes with its release's own block map");
            }
        }

        public static Source signed(TrustedRelease release, Path payload, boolean compressed, String description) {
            return new Source(payload, compressed, release.blockMap(), Optional.of(release), description);
        }

        public static Source unsigned(Path payload, boolean compressed, BlockMap map, String description) {
            return new Source(payload, compressed, map, Optional.empty(), description);
        }

        /** The SHA-256 the whole payload file must have: a signed compressed payload's, or a signed raw image's. */
        Optional<Sha256> payloadSha256() {
            return release.map(trusted -> compressed ? trusted.payload().sha256() : trusted.imageSha256());
        }

        /** The SHA-256 the whole decompressed image must have, when a release vouches for it. */
        Optional<Sha256> imageSha256() {
            return release.map(TrustedRelease::imageSha256);
        }
    }

    public record Options(boolean zeroUnmapped, boolean readBack) {}

    /** Time and bytes of one phase. */
    public record Phase(String name, Duration duration, long bytes) {}

    public record Report(Path target, long imageSize, long mappedBytes, long writtenBytes, long zeroedBytes, String zeroing,
            String decompression, boolean readBack, List<Phase> phases) {
        public Duration total() {
            return phases.stream().map(Phase::duration).reduce(Duration.ZERO, Duration::plus);
        }
    }

    public Report flash(Source source, FlashTarget target, Options options) {
        String what = "flash " + source.description() + " onto " + target.path();
        BlockMap map = source.map();
        List<Phase> phases = new ArrayList<>();
        if (!source.compressed()) {
            long size = fileSize(source.payload(), what);
            if (size != map.imageSize()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, what, "the block map is for a " + map.imageSize() + "-byte image but "
                        + source.payload().getFileName() + " is " + size + " bytes (the bmap belongs to another image)");
            }
        }
        if (target.kind() == FlashTarget.Kind.BLOCK_DEVICE && target.size() < map.imageSize()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "the target holds " + target.size() + " bytes, the image " + map.imageSize());
        }

        Optional<List<FrameIndex.Frame>> frames = Optional.empty();
        if (source.payloadSha256().isPresent()) {
            Instant started = clock.instant();
            Scan scan = scanPayload(source, what);
            Sha256 actual = scan.sha256();
            frames = scan.frames().filter(table -> alignedWithRanges(table, map));
            if (!actual.equals(source.payloadSha256().get())) {
                throw IngotException.tried(ErrorCode.CHECK_FAILED, what, source.payload().getFileName() + " has SHA-256 " + actual
                                + " but the signed manifest says " + source.payloadSha256().get() + " for "
                                + (source.compressed() ? "the payload" : "the image") + "; nothing was written")
                        .withHint("fetch the image again (ingot cache sync, or ingot image pull)");
            }
            phases.add(new Phase(source.compressed() ? "verify payload" : "verify image", Duration.between(started, clock.instant()),
                    fileSize(source.payload(), what)));
        }
        if (source.release().isEmpty()) {
            Instant started = clock.instant();
            stream(source, what, "check ranges", piece -> { }, true);
            phases.add(new Phase("check ranges", Duration.between(started, clock.instant()), map.mappedBytes()));
        }

        // A block device is claimed (O_EXCL) for the whole write: nothing can mount it or build on it meanwhile.
        try (Claim claim = claim(target, what); RandomAccessFile file = new RandomAccessFile(target.path().toFile(), "rw")) {
            FileChannel channel = file.getChannel();
            if (target.kind() == FlashTarget.Kind.FILE && file.length() != map.imageSize()) {
                file.setLength(map.imageSize()); // grows with a hole, or cuts a longer file to the image's size
            }
            Instant started = clock.instant();
            Zeroing zeroing = options.zeroUnmapped() ? zeroUnmapped(target, map) : new Zeroing(0, "skipped (--no-zero: unmapped blocks keep old data)");
            phases.add(new Phase("zero unmapped", Duration.between(started, clock.instant()), zeroing.bytes()));

            started = clock.instant();
            if (frames.isPresent()) {
                writeFrames(source, frames.get(), writerOnto(channel), what);
            } else {
                writeStreamed(source, channel, what);
            }
            phases.add(new Phase("write", Duration.between(started, clock.instant()), map.mappedBytes()));

            started = clock.instant();
            channel.force(true);
            phases.add(new Phase("sync", Duration.between(started, clock.instant()), 0));

            if (options.readBack()) {
                started = clock.instant();
                readBack(target, channel, map, what);
                phases.add(new Phase("read back", Duration.between(started, clock.instant()), map.mappedBytes()));
            }
            String decompression = !source.compressed() ? "none (raw image)"
                    : frames.isPresent() ? "parallel: one frame per range, hole frames skipped" : "one stream";
            return new Report(target.path(), map.imageSize(), map.mappedBytes(), map.mappedBytes(), zeroing.bytes(), zeroing.method(),
                    decompression, options.readBack(), phases);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "writing the target failed: " + e.getMessage()
                    + " (the target is partly written; run the flash again)").withCause(e);
        }
    }

    /**
     * The streamed write pass: every range read in order and checked before it is written onto {@code channel}, a
     * range longer than a piece through the spool. It never relies on an earlier pass: a source that changed since
     * (or a dry pass that was skipped) still gets no unchecked byte onto the target.
     */
    void writeStreamed(Source source, FileChannel channel, String what) {
        stream(source, what, "write", writerOnto(channel), false);
    }

    private static PieceWriter writerOnto(FileChannel channel) {
        return piece -> {
            ByteBuffer buffer = ByteBuffer.wrap(piece.data(), 0, piece.length());
            while (buffer.hasRemaining()) {
                channel.write(buffer, piece.offset() + buffer.position());
            }
        };
    }

    /** An exclusive hold on a block device, released on close (nothing to hold for a file). */
    private interface Claim extends AutoCloseable {
        @Override
        void close();
    }

    private static Claim claim(FlashTarget target, String what) throws IOException {
        if (target.kind() != FlashTarget.Kind.BLOCK_DEVICE || !LinuxIo.available()) {
            return () -> { };
        }
        LinuxIo claimed = LinuxIo.claim(target.path()).orElseThrow(() -> FlashTarget.busy(target.path(), what));
        return claimed::close;
    }

    private record Zeroing(long bytes, String method) {}

    private static Zeroing zeroUnmapped(FlashTarget target, BlockMap map) throws IOException {
        List<long[]> gaps = new ArrayList<>();
        long position = 0;
        for (BlockMap.Range range : map.ranges()) {
            long start = map.startOffset(range);
            if (start > position) {
                gaps.add(new long[] {position, start - position});
            }
            position = map.endOffset(range);
        }
        if (position < map.imageSize()) {
            gaps.add(new long[] {position, map.imageSize() - position});
        }
        long total = gaps.stream().mapToLong(gap -> gap[1]).sum();
        if (total == 0) {
            return new Zeroing(0, "nothing unmapped");
        }
        if (!LinuxIo.available()) {
            return new Zeroing(0, "skipped: this system offers no cheap way to zero (unmapped blocks keep old data)");
        }
        try (LinuxIo io = LinuxIo.open(target.path(), true)) {
            if (target.kind() == FlashTarget.Kind.FILE) {
                for (long[] gap : gaps) {
                    io.punchHole(gap[0], gap[1]);
                }
                return new Zeroing(total, "holes punched (fallocate)");
            }
            if (!offloadsWriteZeroes(target)) {
                return new Zeroing(0, "skipped: the device cannot zero without writing every block (unmapped blocks keep old data)");
            }
            for (long[] gap : gaps) {
                io.zeroOut(gap[0], gap[1]);
            }
            return new Zeroing(total, "BLKZEROOUT");
        }
    }

    /** Whether the device zeroes ranges without data transfer (sysfs queue/write_zeroes_max_bytes > 0). */
    private static boolean offloadsWriteZeroes(FlashTarget target) {
        if (target.device().isEmpty()) {
            return false;
        }
        Path sysfs = Path.of("/sys/dev/block", target.device().get().toString());
        for (Path candidate : new Path[] {sysfs.resolve("queue/write_zeroes_max_bytes"), sysfs.resolve("../queue/write_zeroes_max_bytes")}) {
            try {
                if (Files.isReadable(candidate)) {
                    return Long.parseLong(Files.readString(candidate).strip()) > 0;
                }
            } catch (IOException | NumberFormatException ignored) {
                // unknown: treat as not offloaded
            }
        }
        return false;
    }

    /**
     * A piece of a mapped range: at most {@link #PIECE_SIZE} bytes in {@code data}; or, for a range longer than a
     * piece, the whole checked range in a spool file ({@code spool}, {@code spooledLength} bytes).
     */
    private record Piece(long offset, byte[] data, int length, int range, boolean lastOfRange, Path spool, long spooledLength) {
        static final Piece END = new Piece(-1, null, 0, -1, true, null, 0);

        Piece(long offset, byte[] data, int length, int range, boolean lastOfRange) {
            this(offset, data, length, range, lastOfRange, null, 0);
        }
    }

    @FunctionalInterface
    private interface PieceWriter {
        void write(Piece piece) throws IOException;
    }

    /**
     * Reads the mapped ranges out of the payload and hands them, hashed and checked, to {@code writer}.
     * A range that fits one piece is checked before it is handed over; a longer one (only from a
     * foreign bmap, which the dry pass has checked already) is checked as its last piece passes.
     */
    private void stream(Source source, String what, String phase, PieceWriter writer, boolean dryRun) {
        BlockMap map = source.map();
        BlockingQueue<byte[]> pool = new ArrayBlockingQueue<>(BUFFERS);
        for (int i = 0; i < BUFFERS; i++) {
            pool.add(new byte[PIECE_SIZE]);
        }
        BlockingQueue<Piece> toHash = new ArrayBlockingQueue<>(BUFFERS + 1);
        BlockingQueue<Piece> toWrite = new ArrayBlockingQueue<>(BUFFERS + 1);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean writerStopped = new AtomicBoolean();
        ExecutorService threads = Executors.newFixedThreadPool(2, runnable -> {
            Thread thread = new Thread(runnable, "ingot-flash");
            thread.setDaemon(true);
            return thread;
        });
        progress.start(phase + " " + source.payload().getFileName(), map.mappedBytes());
        Future<?> hasher = threads.submit(() -> {
            MessageDigest digest = Sha256.newDigest();
            Path spool = null;
            FileChannel spooled = null;
            try {
                while (true) {
                    Piece piece = toHash.take();
                    if (piece == Piece.END) {
                        return null;
                    }
                    digest.update(piece.data(), 0, piece.length());
                    BlockMap.Range range = map.ranges().get(piece.range());
                    long rangeStart = map.startOffset(range);
                    long rangeLength = map.endOffset(range) - rangeStart;
                    boolean spooling = !dryRun && rangeLength > PIECE_SIZE;
                    if (spooling) {
                        // Nothing of a range reaches the target before its SHA-256 is known: a long one waits in the spool.
                        if (spooled == null) {
                            spool = WorkFolder.newFile(spoolFolder.get(), "range-");
                            spooled = FileChannel.open(spool, StandardOpenOption.WRITE, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                        }
                        ByteBuffer bytes = ByteBuffer.wrap(piece.data(), 0, piece.length());
                        while (bytes.hasRemaining()) {
                            spooled.write(bytes, piece.offset() - rangeStart + bytes.position());
                        }
                        pool.put(piece.data());
                    } else if (!piece.lastOfRange()) {
                        offer(toWrite, piece, writerStopped); // a dry pass writes nothing: its pieces only return their buffers
                        continue;
                    }
                    if (!piece.lastOfRange()) {
                        continue;
                    }
                    Sha256 actual = Sha256.fromBytes(digest.digest());
                    if (!actual.equals(range.sha256())) {
                        throw IngotException.tried(ErrorCode.CHECK_FAILED, what, "blocks " + range.first() + "-" + range.last()
                                + " of the image have SHA-256 " + actual + " but the block map says " + range.sha256()
                                + (dryRun ? "; nothing was written (the bmap does not belong to this image)"
                                        : "; the range was not written, the target is incomplete"));
                    }
                    if (spooling) {
                        spooled.close();
                        spooled = null;
                        offer(toWrite, new Piece(rangeStart, null, 0, piece.range(), true, spool, rangeLength), writerStopped);
                        spool = null;
                    } else {
                        offer(toWrite, piece, writerStopped);
                    }
                }
            } finally {
                if (spooled != null) {
                    spooled.close();
                }
                if (spool != null) {
                    Files.deleteIfExists(spool);
                }
                if (!writerStopped.get()) {
                    offer(toWrite, Piece.END, writerStopped);
                }
            }
        });
        Future<?> writing = threads.submit(() -> {
            try {
                while (true) {
                    Piece piece = toWrite.take();
                    if (piece == Piece.END) {
                        return null;
                    }
                    if (piece.spool() != null) {
                        try {
                            if (!stop.get()) {
                                writeSpooled(piece, writer);
                            }
                            progress.advance(piece.spooledLength());
                        } finally {
                            Files.deleteIfExists(piece.spool());
                        }
                        continue;
                    }
                    if (!stop.get()) {
                        writer.write(piece);
                    }
                    progress.advance(piece.length());
                    pool.put(piece.data());
                }
            } finally {
                writerStopped.set(true);
            }
        });
        Throwable failure = null;
        try {
            readRanges(source, pool, toHash, stop, hasher, writing);
        } catch (Throwable e) {
            failure = e;
            stop.set(true);
        } finally {
            endQuietly(toHash, hasher);
        }
        for (Future<?> future : List.of(hasher, writing)) {
            try {
                future.get();
            } catch (ExecutionException e) {
                stop.set(true);
                if (failure == null || failure instanceof InterruptedException) {
                    failure = e.getCause();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = e;
            }
        }
        threads.shutdownNow();
        progress.done();
        if (failure != null) {
            throw switch (failure) {
                case IngotException ingot -> ingot;
                case IOException io -> IngotException.tried(ErrorCode.UNAVAILABLE, what, io.getMessage()).withCause(io);
                default -> IngotException.tried(ErrorCode.INTERNAL, what, failure.toString()).withCause(failure);
            };
        }
    }

    /** Copies a checked range from its spool file to the target, a piece at a time. */
    private static void writeSpooled(Piece spooled, PieceWriter writer) throws IOException {
        byte[] buffer = new byte[PIECE_SIZE];
        try (FileChannel in = FileChannel.open(spooled.spool(), StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            for (long done = 0; done < spooled.spooledLength(); ) {
                int length = (int) Math.min(PIECE_SIZE, spooled.spooledLength() - done);
                ByteBuffer target = ByteBuffer.wrap(buffer, 0, length);
                while (target.hasRemaining()) {
                    if (in.read(target, done + target.position()) < 0) {
                        throw new IOException("the spool file " + spooled.spool() + " ended early");
                    }
                }
                writer.write(new Piece(spooled.offset() + done, buffer, length, spooled.range(), false));
                done += length;
            }
        }
    }

    /**
     * Reads the image in order (decompressed, or the raw file), handing every mapped range over in pieces; every byte,
     * mapped or not, feeds the image's SHA-256, which must be the signed one by the end (when a release vouches for it).
     */
    private static void readRanges(Source source, BlockingQueue<byte[]> pool, BlockingQueue<Piece> toHash, AtomicBoolean stop,
            Future<?> hasher, Future<?> writer) throws IOException, InterruptedException {
        BlockMap map = source.map();
        MessageDigest image = Sha256.newDigest();
        InputStream file = new BufferedInputStream(Files.newInputStream(source.payload()), 1 << 20);
        try (InputStream in = source.compressed() ? new ZstdInputStream(file) : file) {
            byte[] skip = new byte[1 << 20];
            long position = 0;
            for (int index = 0; index < map.ranges().size() && !stop.get(); index++) {
                BlockMap.Range range = map.ranges().get(index);
                position = skipTo(in, skip, image, position, map.startOffset(range), source);
                long end = map.endOffset(range);
                while (position < end && !stop.get()) {
                    byte[] buffer = takeBuffer(pool, hasher, writer);
                    int length = (int) Math.min(PIECE_SIZE, end - position);
                    int filled = 0;
                    while (filled < length) {
                        int n = in.read(buffer, filled, length - filled);
                        if (n < 0) {
                            throw imageEnded(source, position + filled);
                        }
                        filled += n;
                    }
                    image.update(buffer, 0, length);
                    handOver(toHash, new Piece(position, buffer, length, index, position + length == end), hasher);
                    position += length;
                }
            }
            if (stop.get()) {
                return;
            }
            // The rest must be there too: a payload shorter than the bmap's image is not this image.
            skipTo(in, skip, image, position, map.imageSize(), source);
            Optional<Sha256> expected = source.imageSha256();
            Sha256 actual = Sha256.fromBytes(image.digest());
            if (expected.isPresent() && !actual.equals(expected.get())) {
                throw IngotException.tried(ErrorCode.CHECK_FAILED, "flash " + source.description(), "the image read while writing has SHA-256 "
                        + actual + ", not the signed " + expected.get() + ": it changed after it was checked (every range written "
                        + "matched the signed block map)").withHint("run the flash again");
            }
        }
    }

    /** Reads from {@code position} up to {@code target}, feeding the image digest; returns {@code target}. */
    private static long skipTo(InputStream in, byte[] skip, MessageDigest image, long position, long target, Source source)
            throws IOException {
        while (position < target) {
            int n = in.read(skip, 0, (int) Math.min(skip.length, target - position));
            if (n < 0) {
                throw imageEnded(source, position);
            }
            image.update(skip, 0, n);
            position += n;
        }
        return position;
    }

    /** Queues a piece for the writer, but gives up when the writer has stopped (it would never take it). */
    private static void offer(BlockingQueue<Piece> toWrite, Piece piece, AtomicBoolean writerStopped) throws InterruptedException {
        while (!toWrite.offer(piece, 100, TimeUnit.MILLISECONDS)) {
            if (writerStopped.get()) {
                throw new InterruptedException("the writer stopped");
            }
        }
    }

    /** Queues a piece for the hasher, but gives up when the hasher has stopped (it would never take it). */
    private static void handOver(BlockingQueue<Piece> toHash, Piece piece, Future<?> hasher) throws InterruptedException {
        while (!toHash.offer(piece, 100, TimeUnit.MILLISECONDS)) {
            if (hasher.isDone()) {
                throw new InterruptedException("the hasher stopped");
            }
        }
    }

    /** Waits for a free buffer, but gives up when a worker has failed (it would never return one). */
    private static byte[] takeBuffer(BlockingQueue<byte[]> pool, Future<?> hasher, Future<?> writer) throws InterruptedException {
        while (true) {
            byte[] buffer = pool.poll(100, TimeUnit.MILLISECONDS);
            if (buffer != null) {
                return buffer;
            }
            if (hasher.isDone() || writer.isDone()) {
                throw new InterruptedException("a flash worker stopped");
            }
        }
    }

    private static IngotException imageEnded(Source source, long position) {
        return IngotException.tried(ErrorCode.CHECK_FAILED, "flash " + source.description(),
                "the image ended at byte " + position + ", before the end the block map describes (" + source.map().imageSize()
                        + " bytes): the payload is truncated or the bmap belongs to another image");
    }

    /**
     * Reads every mapped range back from the disk (its cache dropped first) and checks its SHA-256.
     * Ranges are read and hashed by a pool of threads; results are checked in order.
     */
    private void readBack(FlashTarget target, FileChannel channel, BlockMap map, String what) throws IOException {
        if (LinuxIo.available()) {
            try (LinuxIo io = LinuxIo.open(target.path(), false)) {
                if (target.kind() == FlashTarget.Kind.BLOCK_DEVICE) {
                    io.flushBuffers();
                } else {
                    io.dropCache();
                }
            }
        }
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        ExecutorService workers = Executors.newFixedThreadPool(threads, runnable -> {
            Thread thread = new Thread(runnable, "ingot-read-back");
            thread.setDaemon(true);
            return thread;
        });
        ThreadLocal<ByteBuffer> buffers = ThreadLocal.withInitial(() -> ByteBuffer.allocate(PIECE_SIZE));
        java.util.ArrayDeque<Future<Sha256>> inFlight = new java.util.ArrayDeque<>();
        progress.start("read back " + target.path().getFileName(), map.mappedBytes());
        try {
            int checked = 0;
            for (int index = 0; index < map.ranges().size(); index++) {
                if (inFlight.size() >= threads * 2) {
                    checkReadBack(inFlight.poll(), map.ranges().get(checked++), what);
                }
                BlockMap.Range range = map.ranges().get(index);
                long start = map.startOffset(range);
                long end = map.endOffset(range);
                inFlight.add(workers.submit(() -> {
                    ByteBuffer buffer = buffers.get();
                    MessageDigest digest = Sha256.newDigest();
                    for (long position = start; position < end; ) {
                        buffer.clear().limit((int) Math.min(PIECE_SIZE, end - position));
                        while (buffer.hasRemaining()) {
                            if (channel.read(buffer, position + buffer.position()) < 0) {
                                throw IngotException.tried(ErrorCode.CHECK_FAILED, what, "the target ended at "
                                        + (position + buffer.position()) + " bytes while reading back");
                            }
                        }
                        digest.update(buffer.array(), 0, buffer.limit());
                        position += buffer.limit();
                        progress.advance(buffer.limit());
                    }
                    return Sha256.fromBytes(digest.digest());
                }));
            }
            while (!inFlight.isEmpty()) {
                checkReadBack(inFlight.poll(), map.ranges().get(checked++), what);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw IngotException.tried(ErrorCode.INTERNAL, what, "interrupted while reading back");
        } finally {
            inFlight.forEach(future -> future.cancel(true));
            workers.shutdownNow();
            progress.done();
        }
    }

    private static void checkReadBack(Future<Sha256> result, BlockMap.Range range, String what) throws IOException, InterruptedException {
        Sha256 actual;
        try {
            actual = result.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IngotException ingot) {
                throw ingot;
            }
            throw new IOException(String.valueOf(e.getCause().getMessage()), e.getCause());
        }
        if (!actual.equals(range.sha256())) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, what, "reading back blocks " + range.first() + "-" + range.last()
                    + " gave SHA-256 " + actual + " instead of " + range.sha256() + ": the disk did not keep what was written")
                    .withHint("the disk may be failing; try again, then replace it");
        }
    }

    private record Scan(Sha256 sha256, Optional<List<FrameIndex.Frame>> frames) {}

    /** One read of the payload: its SHA-256, and for a zstd payload its frame table. */
    private Scan scanPayload(Source source, String what) {
        Path file = source.payload();
        progress.start("verify " + file.getFileName(), fileSize(file, what));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MessageDigest digest = Sha256.newDigest();
            if (source.compressed()) {
                Optional<List<FrameIndex.Frame>> frames = FrameIndex.scan(channel, digest, progress::advance);
                return new Scan(Sha256.fromBytes(digest.digest()), frames);
            }
            ByteBuffer buffer = ByteBuffer.allocate(4 << 20);
            while (channel.read(buffer.clear()) >= 0) {
                digest.update(buffer.array(), 0, buffer.position());
                progress.advance(buffer.position());
            }
            return new Scan(Sha256.fromBytes(digest.digest()), Optional.empty());
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "reading " + file + " failed: " + e.getMessage());
        } finally {
            progress.done();
        }
    }

    /** Whether every mapped range is exactly one frame (as Ingot publishes): then frames can be decompressed independently. */
    private static boolean alignedWithRanges(List<FrameIndex.Frame> frames, BlockMap map) {
        java.util.Map<Long, FrameIndex.Frame> byOffset = new java.util.HashMap<>();
        long end = 0;
        for (FrameIndex.Frame frame : frames) {
            byOffset.put(frame.imageOffset(), frame);
            end = frame.imageOffset() + frame.contentSize();
        }
        if (end != map.imageSize()) {
            return false;
        }
        for (BlockMap.Range range : map.ranges()) {
            FrameIndex.Frame frame = byOffset.get(map.startOffset(range));
            if (frame == null || frame.contentSize() != map.endOffset(range) - map.startOffset(range) || frame.contentSize() > PIECE_SIZE) {
                return false;
            }
        }
        return true;
    }

    /**
     * The fast path for a payload whose frames are the mapped ranges: frames of holes are never
     * touched; each range's frame is read, decompressed and hashed by a pool of threads, and written
     * in order by this thread only after its SHA-256 matched.
     */
    private void writeFrames(Source source, List<FrameIndex.Frame> frames, PieceWriter writer, String what) {
        BlockMap map = source.map();
        java.util.Map<Long, FrameIndex.Frame> byOffset = new java.util.HashMap<>();
        frames.forEach(frame -> byOffset.put(frame.imageOffset(), frame));
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        BlockingQueue<byte[]> buffers = new ArrayBlockingQueue<>(threads + 2);
        for (int i = 0; i < threads + 2; i++) {
            buffers.add(new byte[PIECE_SIZE]);
        }
        ExecutorService workers = Executors.newFixedThreadPool(threads, runnable -> {
            Thread thread = new Thread(runnable, "ingot-decompress");
            thread.setDaemon(true);
            return thread;
        });
        java.util.ArrayDeque<Future<Piece>> inFlight = new java.util.ArrayDeque<>();
        progress.start("write " + source.payload().getFileName(), map.mappedBytes());
        try (FileChannel payload = FileChannel.open(source.payload(), StandardOpenOption.READ)) {
            for (int index = 0; index < map.ranges().size(); index++) {
                if (inFlight.size() >= threads + 1) {
                    writeNext(inFlight.poll(), writer, buffers);
                }
                BlockMap.Range range = map.ranges().get(index);
                FrameIndex.Frame frame = byOffset.get(map.startOffset(range));
                byte[] buffer = buffers.take();
                int rangeIndex = index;
                inFlight.add(workers.submit(() -> decompressAndCheck(payload, frame, buffer, map, rangeIndex, what)));
            }
            while (!inFlight.isEmpty()) {
                writeNext(inFlight.poll(), writer, buffers);
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, e.getMessage()).withCause(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw IngotException.tried(ErrorCode.INTERNAL, what, "interrupted");
        } finally {
            inFlight.forEach(future -> future.cancel(true));
            workers.shutdownNow();
            progress.done();
        }
    }

    private void writeNext(Future<Piece> next, PieceWriter writer, BlockingQueue<byte[]> buffers) throws IOException, InterruptedException {
        Piece piece;
        try {
            piece = next.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IngotException ingot) {
                throw ingot;
            }
            throw new IOException(String.valueOf(e.getCause().getMessage()), e.getCause());
        }
        writer.write(piece);
        progress.advance(piece.length());
        buffers.add(piece.data());
    }

    private static Piece decompressAndCheck(FileChannel payload, FrameIndex.Frame frame, byte[] buffer, BlockMap map, int rangeIndex,
            String what) throws IOException {
        byte[] compressed = new byte[frame.compressedSize()];
        ByteBuffer target = ByteBuffer.wrap(compressed);
        while (target.hasRemaining()) {
            if (payload.read(target, frame.compressedOffset() + target.position()) < 0) {
                throw new IOException("the payload ended inside a frame");
            }
        }
        long size = com.github.luben.zstd.Zstd.decompressByteArray(buffer, 0, frame.contentSize(), compressed, 0, compressed.length);
        if (com.github.luben.zstd.Zstd.isError(size) || size != frame.contentSize()) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, what, "the payload's frame at byte " + frame.compressedOffset()
                    + " does not decompress (" + (com.github.luben.zstd.Zstd.isError(size) ? com.github.luben.zstd.Zstd.getErrorName(size) : size + " bytes") + ")");
        }
        BlockMap.Range range = map.ranges().get(rangeIndex);
        MessageDigest digest = Sha256.newDigest();
        digest.update(buffer, 0, frame.contentSize());
        Sha256 actual = Sha256.fromBytes(digest.digest());
        if (!actual.equals(range.sha256())) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, what, "blocks " + range.first() + "-" + range.last() + " of the image have SHA-256 "
                    + actual + " but the block map says " + range.sha256() + "; the range was not written, the target is incomplete");
        }
        return new Piece(map.startOffset(range), buffer, frame.contentSize(), rangeIndex, true);
    }

    private static long fileSize(Path file, String what) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, file + " cannot be read (" + e.getMessage() + ")");
        }
    }

    private static void endQuietly(BlockingQueue<Piece> queue, Future<?> hasher) {
        boolean interrupted = false;
        while (!hasher.isDone()) {
            try {
                if (queue.offer(Piece.END, 100, TimeUnit.MILLISECONDS)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
