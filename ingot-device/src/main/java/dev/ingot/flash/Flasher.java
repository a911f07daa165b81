package dev.ingot.flash;

import static java.util.Objects.requireNonNull;

import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fetch.Concatenated;
import dev.ingot.fetch.FileRange;
import dev.ingot.fetch.OrderedFetch;
import dev.ingot.fetch.RangeReadable;
import dev.ingot.image.BlockMap;
import dev.ingot.image.Manifest;
import dev.ingot.image.ReleaseVerifier;
import dev.ingot.image.TrustedRelease;
import dev.ingot.progress.Progress;
import dev.ingot.store.WorkFolder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * Writes an image onto a disk or into a partition in one pass over its payload, from any source, verified: the
 * payload is hashed as it streams in, each mapped range is decompressed and its SHA-256 checked against the signed
 * block map before it is written ({@link CheckedRange}), hole frames are never decompressed and the target's unmapped
 * blocks are zeroed where that is cheap, each written range is read back from the device (direct I/O) and checked
 * again while later ranges are written, and the payload's digest is confirmed at the end. Direct I/O writes where the
 * target allows it. A flash that is interrupted leaves a partly written target; running it again rewrites every range,
 * so it always finishes correct, and with a kept copy ({@link FlashJob#keepingIn}) the download resumes where it stopped.
 *
 * <p>The entry point for every writer of images — {@code ingot flash}, {@code ingot rollback} and the device agent's
 * A/B update: {@code new Flasher(clock, progress, spool).flash(job, target, options)}.
 */
public final class Flasher {
    private static final int READ_BACK_THREADS = 2;

    private final Clock clock;
    private final Progress progress;
    private final Supplier<Path> spoolFolder;
    private final TargetIo.Opener opener;

    /** Direct I/O on the target: where eligible ({@code auto}), required ({@code on}), or never ({@code off}). */
    public enum Direct { AUTO, ON, OFF }

    /**
     * {@code spoolFolder} holds, one at a time, a range longer than a buffer (only a foreign bmap has them) while it is
     * hashed: it reaches the target only from there, once its SHA-256 matched. Use a {@link WorkFolder}'s.
     */
    public Flasher(Clock clock, Progress progress, Path spoolFolder) {
        this(clock, progress, () -> spoolFolder, TargetIo.Opener.DEFAULT);
        requireNonNull(spoolFolder, "spoolFolder");
    }

    /** Spools long ranges in the caller's default work folder ({@link WorkFolder}), made only when needed. */
    public Flasher(Clock clock, Progress progress) {
        this(clock, progress, () -> WorkFolder.forCaller(System.getenv()).folder("spool"), TargetIo.Opener.DEFAULT);
    }

    /** Spools long ranges in a folder made only when one is needed (a command that fails early leaves no folder behind). */
    public Flasher(Clock clock, Progress progress, Supplier<Path> spoolFolder) {
        this(clock, progress, spoolFolder, TargetIo.Opener.DEFAULT);
    }

    /** With another way to open the target's channels: tests play a file system that refuses O_DIRECT. */
    Flasher(Clock clock, Progress progress, Supplier<Path> spoolFolder, TargetIo.Opener opener) {
        this.clock = requireNonNull(clock, "clock");
        this.progress = requireNonNull(progress, "progress");
        this.spoolFolder = requireNonNull(spoolFolder, "spoolFolder");
        this.opener = requireNonNull(opener, "opener");
    }

    /**
     * How to write: zero unmapped blocks (else they keep old data, as with bmaptool), read back what was written, direct
     * I/O, and how the source is fetched (connections, chunk size, retries).
     */
    public record Options(boolean zeroUnmapped, boolean readBack, Direct direct, OrderedFetch.Policy fetch) {
        public Options {
            requireNonNull(direct, "direct");
            requireNonNull(fetch, "fetch");
        }

        public static Options defaults() {
            return new Options(true, true, Direct.AUTO, OrderedFetch.Policy.defaults());
        }

        public Options(boolean zeroUnmapped, boolean readBack) {
            this(zeroUnmapped, readBack, Direct.AUTO, OrderedFetch.Policy.defaults());
        }
    }

    /** Wall time and bytes of one phase. */
    public record Phase(String name, Duration duration, long bytes) {}

    /** CPU time (all threads of the stage together) and bytes of one stage of the pass. */
    public record Stage(String name, long cpuMillis, long bytes) {}

    /**
     * What a flash did. {@code source} says where the payload came from; {@code replayedBytes} came from a kept copy of
     * an earlier run; {@code resumes} counts reads resumed after a cut; {@code kept} is the folder that now holds a
     * verified copy.
     */
    public record Report(Path target, String targetDescription, long imageSize, long mappedBytes, long writtenBytes, long zeroedBytes,
            String zeroing, String decompression, boolean readBack, String directIo, String source, long payloadBytes, int resumes,
            long replayedBytes, Optional<Path> kept, List<Phase> phases, List<Stage> stages) {
        public Duration total() {
            return phases.stream().map(Phase::duration).reduce(Duration.ZERO, Duration::plus);
        }
    }

    public Report flash(FlashJob job, FlashTarget target, Options options) {
        String what = "flash " + job.description() + " onto " + target.describe();
        target.refuseIfReadFrom(readsFrom(job), what);
        BlockMap map = job.map();
        if (target.capacity() < map.imageSize()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, (target.window().whole() ? "it" : target.window().partition().get())
                            + " holds " + target.capacity() + " bytes but the image needs " + map.imageSize())
                    .withHint(target.window().whole() ? "flash a disk at least as large as the image"
                            : "the partitions of this disk are smaller than the image's: re-image the whole disk");
        }
        long sourceSize = sizeOf(job.source(), what);
        Optional<Manifest.FileEntry> entry = job.payloadEntry();
        if (entry.isPresent() && sourceSize != entry.get().size()) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, what, entry.get().name() + " is " + sourceSize + " bytes but the signed "
                    + "manifest says " + entry.get().size() + " (truncated or replaced); nothing was written")
                    .withHint("fetch it again (ingot cache sync, or ingot image pull)");
        }
        if (job.format() == FlashJob.Format.RAW && sourceSize != map.imageSize()) {
            throw IngotException.tried(job.release().isPresent() ? ErrorCode.CHECK_FAILED : ErrorCode.BAD_INPUT, what,
                    "the block map is for a " + map.imageSize() + "-byte image but " + job.source().describe() + " is " + sourceSize
                            + " bytes (the bmap belongs to another image); nothing was written");
        }
        List<Phase> phases = new ArrayList<>();
        Stages stages = new Stages();
        if (job.rawImageSha256().isPresent()) {
            Instant started = clock.instant();
            verifyRawImage(job, sourceSize, options, what);
            phases.add(new Phase("verify image", Duration.between(started, clock.instant()), sourceSize));
        }
        if (job.release().isEmpty()) {
            // Unsigned: only the bmap vouches, so every range is checked in a dry pass before anything is written.
            Instant started = clock.instant();
            progress.start("check " + job.description(), map.mappedBytes());
            try {
                new FlashPass(job, job.source(), Optional.empty(), 0, range -> false, new Stages(), progress, spoolFolder, clock,
                        options.fetch(), 4096).run();
            } catch (IngotException e) {
                throw reworded(e, what, "nothing was written");
            } catch (FlashPass.UncheckedIOExceptionWrapper e) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, what, e.getMessage() + "; nothing was written").withCause(e.getCause());
            } finally {
                progress.done();
            }
            phases.add(new Phase("check ranges", Duration.between(started, clock.instant()), map.mappedBytes()));
        }

        Kept kept = Kept.none(job.source());
        try {
            if (job.keep().isPresent()) {
                kept = Kept.open(job, sourceSize, what);
            }
            return write(job, target, options, kept, phases, stages, what);
        } finally {
            kept.close();
        }
    }

    private Report write(FlashJob job, FlashTarget target, Options options, Kept kept, List<Phase> phases, Stages stages, String what) {
        BlockMap map = job.map();
        try (TargetIo io = TargetIo.claim(target, map, options.direct(), opener, what)) {
            TargetSink sink = new TargetSink(io, target, map, options, stages, what);
            FlashPass pass = new FlashPass(job, kept.source(), kept.tee(), kept.teeFrom(), sink, stages, progress, spoolFolder, clock,
                    options.fetch(), io.alignment());
            sink.pass = pass;
            Instant started = clock.instant();
            progress.start("flash " + job.description(), map.mappedBytes());
            FlashPass.Outcome outcome;
            try {
                outcome = pass.run();
                if (!io.prepared()) {
                    sink.prepare(); // an image without mapped ranges: its size and zeroed holes are all there is
                }
            } catch (IngotException e) {
                kept.failed(pass.failedFrame());
                throw reworded(e, what, sink.state());
            } catch (FlashPass.UncheckedIOExceptionWrapper e) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "writing the target failed: " + e.getMessage() + " ("
                        + sink.state() + ")").withCause(e.getCause());
            } finally {
                sink.shutdownIfFailed();
                progress.done();
            }
            // Zeroing happens inside the pass (when the first checked range is ready); shown on its own.
            phases.add(new Phase("zero unmapped", sink.zeroingTime, sink.zeroedBytes));
            phases.add(new Phase("write", Duration.between(started, clock.instant()).minus(sink.zeroingTime), map.mappedBytes()));

            started = clock.instant();
            io.force();
            phases.add(new Phase("sync", Duration.between(started, clock.instant()), 0));
            if (options.readBack()) {
                started = clock.instant();
                sink.awaitReadBack();
                phases.add(new Phase("read back", Duration.between(started, clock.instant()), map.mappedBytes()));
            }
            Optional<Manifest.FileEntry> entry = job.payloadEntry();
            if (entry.isPresent() && !outcome.payloadSha256().orElseThrow().equals(entry.get().sha256())) {
                kept.damaged();
                throw IngotException.tried(ErrorCode.CHECK_FAILED, what, "the payload's SHA-256 is " + outcome.payloadSha256().get()
                                + ", the signed manifest says " + entry.get().sha256() + "; every written range matched the signed block map"
                                + (options.readBack() ? " and read back right" : "") + ", so the target holds the image: the source copy is "
                                + "what is damaged (outside the ranges: a hole's frame, or bytes after the last frame)")
                        .withHint("discard that copy (ingot cache sync fetches it again); the target need not be flashed again");
            }
            Optional<Path> keptIn = kept.finish(job, what);
            return new Report(target.path(), target.describe(), map.imageSize(), map.mappedBytes(), map.mappedBytes(), sink.zeroedBytes,
                    sink.zeroing, outcome.decompression(), options.readBack(), io.directIo(), job.source().describe(),
                    outcome.payloadBytes(), outcome.resumes(), kept.teeFrom(), keptIn, phases, stages.report());
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "writing the target failed: " + e.getMessage()
                    + " (the target is partly written; run the flash again)").withCause(e);
        }
    }

    /** The local files a job reads: its source file, and the kept copy's files ({@code --keep}). */
    private static List<Path> readsFrom(FlashJob job) {
        List<Path> files = new ArrayList<>();
        if (job.source() instanceof FileRange file) {
            files.add(file.file());
        }
        job.keep().ifPresent(folder -> job.payloadEntry().ifPresent(entry -> {
            files.add(folder.resolve(entry.name()));
            files.add(folder.resolve(entry.name() + ".part"));
        }));
        return files;
    }

    private static IngotException reworded(IngotException e, String what, String state) {
        IngotException reworded = IngotException.tried(e.code(), what, ReleaseVerifier.reasonOf(e) + "; " + state).withCause(e);
        return e.hint().map(reworded::withHint).orElse(reworded);
    }

    private static long sizeOf(RangeReadable source, String what) {
        try {
            return source.size();
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, source.describe() + " cannot be read (" + e.getMessage() + ")")
                    .withCause(e);
        }
    }

    /** A signed raw image: the manifest pins its whole digest, holes included, so it is hashed before anything is written. */
    private void verifyRawImage(FlashJob job, long size, Options options, String what) {
        Sha256 expected = job.rawImageSha256().orElseThrow();
        progress.start("verify " + job.description(), size);
        try (OrderedFetch in = OrderedFetch.open(job.source(), 0, size, options.fetch(), clock, OrderedFetch.Sleeper.REAL)) {
            MessageDigest digest = dev.ingot.digest.Sha256.newDigest();
            byte[] buffer = new byte[1 << 20];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                digest.update(buffer, 0, n);
                progress.advance(n);
            }
            Sha256 actual = Sha256.fromBytes(digest.digest());
            if (!actual.equals(expected)) {
                throw IngotException.tried(ErrorCode.CHECK_FAILED, what, job.source().describe() + " has SHA-256 " + actual
                        + " but the signed manifest says " + expected + " for the image; nothing was written")
                        .withHint("fetch the image again (ingot image pull)");
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "reading " + job.source().describe() + " failed: " + e.getMessage());
        } finally {
            progress.done();
        }
    }

    /**
     * The target side of the pass: the first checked range readies the target (size, zeroed holes); each range is
     * written, then read back by one of two threads while later ranges are written.
     */
    private final class TargetSink implements FlashPass.Sink {
        private final TargetIo io;
        private final FlashTarget target;
        private final BlockMap map;
        private final Options options;
        private final Stages stages;
        private final String what;
        private final ExecutorService readers;
        private final List<Future<?>> checks = new ArrayList<>();
        private final ThreadLocal<ByteBuffer> readBuffers;
        private ByteBuffer spoolBuffer;
        private volatile int written;
        private long zeroedBytes;
        private String zeroing = "nothing written";
        private Duration zeroingTime = Duration.ZERO;
        FlashPass pass;

        TargetSink(TargetIo io, FlashTarget target, BlockMap map, Options options, Stages stages, String what) {
            this.io = io;
            this.target = target;
            this.map = map;
            this.options = options;
            this.stages = stages;
            this.what = what;
            this.readers = Executors.newFixedThreadPool(READ_BACK_THREADS, runnable -> {
                Thread thread = new Thread(runnable, "ingot-read-back");
                thread.setDaemon(true);
                return thread;
            });
            int align = Math.max(4096, io.alignment());
            this.readBuffers = ThreadLocal.withInitial(() -> FlashPass.aligned(FlashPass.PIECE + align, align));
        }

        void prepare() throws IOException {
            Instant started = clock.instant();
            long cpu = Stages.threadCpu();
            io.prepare();
            Zeroing done = options.zeroUnmapped() ? zeroUnmapped(io, target, map)
                    : new Zeroing(0, "skipped (--no-zero: unmapped blocks keep old data)");
            zeroedBytes = done.bytes();
            zeroing = done.method();
            stages.stage("zero unmapped").add(Stages.threadCpu() - cpu, zeroedBytes);
            zeroingTime = Duration.between(started, clock.instant());
        }

        @Override
        public boolean write(CheckedRange range) throws IOException {
            if (!io.prepared()) {
                prepare();
            }
            if (range.data() != null) {
                io.write(range.offset(), range.data(), (int) range.length());
            } else {
                if (spoolBuffer == null) {
                    spoolBuffer = FlashPass.aligned(FlashPass.PIECE, Math.max(4096, io.alignment()));
                }
                FlashPass.copySpool(range, spoolBuffer, io::write);
            }
            written++;
            if (!options.readBack()) {
                return false;
            }
            int index = range.index();
            ByteBuffer checked = range.data();
            checks.add(readers.submit(() -> readBack(index, checked)));
            return checked != null;
        }

        /**
         * Reads a written range back and compares it with the checked bytes still in memory (byte for byte: equal bytes
         * have the signed digest, and comparing costs a fraction of hashing again), then frees the buffer; a spooled range
         * is hashed and compared with the signed map instead.
         */
        private void readBack(int index, ByteBuffer checked) {
            long cpu = Stages.threadCpu();
            Stages.Stage comparing = stages.stage("read-back compare or hash");
            long before = comparing.cpuNanos();
            try {
                BlockMap.Range range = map.ranges().get(index);
                long start = map.startOffset(range);
                int length = (int) Math.min(Integer.MAX_VALUE, map.endOffset(range) - start);
                boolean same;
                if (checked != null) {
                    ByteBuffer read = readBuffers.get();
                    io.readBack(start, length, read);
                    long compare = Stages.threadCpu();
                    same = read.mismatch(checked.duplicate().position(0).limit(length)) < 0;
                    comparing.add(Stages.threadCpu() - compare, length);
                } else {
                    same = io.readBackDigest(start, map.endOffset(range) - start, readBuffers.get(), comparing).equals(range.sha256());
                }
                if (!same) {
                    throw IngotException.tried(ErrorCode.CHECK_FAILED, what, "reading back blocks " + range.first() + "-" + range.last()
                                    + " gave other bytes than were written (and checked): the disk did not keep what was written")
                            .withHint("the disk may be failing; try again, then replace it");
                }
            } catch (IOException e) {
                fail(IngotException.tried(ErrorCode.UNAVAILABLE, what, "reading back the target failed: " + e.getMessage()));
            } catch (RuntimeException e) {
                fail(e);
            } finally {
                if (checked != null && pass != null) {
                    pass.giveBack(checked);
                }
                stages.stage("read back").add(Stages.threadCpu() - cpu - (comparing.cpuNanos() - before), 0);
            }
        }

        private void fail(RuntimeException e) {
            if (pass != null) {
                pass.fail(e);
            }
            throw e;
        }

        /** Waits for every read-back; throws the first mismatch. */
        void awaitReadBack() {
            progress.start("read back " + target.path().getFileName(), checks.size());
            try {
                for (Future<?> check : checks) {
                    try {
                        check.get();
                        progress.advance(1);
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof IngotException ingot) {
                            throw ingot;
                        }
                        throw IngotException.tried(ErrorCode.INTERNAL, what, "reading back failed: " + e.getCause());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw IngotException.tried(ErrorCode.INTERNAL, what, "interrupted while reading back");
                    }
                }
            } finally {
                readers.shutdownNow();
                progress.done();
            }
        }

        void shutdownIfFailed() {
            if (!options.readBack()) {
                readers.shutdownNow();
            }
        }

        /** What a failure leaves on the target, for its message. */
        String state() {
            readers.shutdownNow();
            if (!io.prepared()) {
                return "nothing was written";
            }
            return "the target is incomplete: " + written + " of " + map.ranges().size() + " ranges were written, each checked "
                    + "against the block map (run the flash again)";
        }
    }

    private record Zeroing(long bytes, String method) {}

    private static Zeroing zeroUnmapped(TargetIo targetIo, FlashTarget target, BlockMap map) throws IOException {
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
        long window = target.window().offset();
        try (LinuxIo io = targetIo.linux(true)) {
            if (target.kind() == FlashTarget.Kind.FILE) {
                for (long[] gap : gaps) {
                    io.punchHole(window + gap[0], gap[1]);
                }
                return new Zeroing(total, "holes punched (fallocate)");
            }
            if (!offloadsWriteZeroes(target)) {
                return new Zeroing(0, "skipped: the device cannot zero without writing every block (unmapped blocks keep old data)");
            }
            for (long[] gap : gaps) {
                io.zeroOut(window + gap[0], gap[1]);
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
     * A kept copy of the payload ({@code --keep DIR}): bytes already there are replayed from it, the rest fetched and
     * appended to {@code NAME.part} as they are read; renamed into place with the release's small files (manifest last)
     * only when the payload's digest matched. Locked while in use: two flashes never append to one copy.
     */
    private static final class Kept implements AutoCloseable {
        private final RangeReadable source;
        private final Optional<FileChannel> tee;
        private final long teeFrom;
        private final Path part;
        private final Path complete;
        private final FileLock lock;
        private final List<AutoCloseable> closeables;

        private Kept(RangeReadable source, Optional<FileChannel> tee, long teeFrom, Path part, Path complete, FileLock lock,
                List<AutoCloseable> closeables) {
            this.source = source;
            this.tee = tee;
            this.teeFrom = teeFrom;
            this.part = part;
            this.complete = complete;
            this.lock = lock;
            this.closeables = closeables;
        }

        static Kept none(RangeReadable source) {
            return new Kept(source, Optional.empty(), 0, null, null, null, List.of());
        }

        static Kept open(FlashJob job, long size, String what) {
            Path folder = job.keep().orElseThrow();
            String name = job.payloadEntry().orElseThrow().name();
            if (Files.isSymbolicLink(folder)) {
                // As with a file target: whoever can write the folder above could point the link at any folder the
                // flashing user may write, and the payload and the release's files would be written there.
                Path resolved;
                try {
                    resolved = folder.toRealPath();
                } catch (IOException e) {
                    resolved = null;
                }
                throw IngotException.tried(ErrorCode.BAD_INPUT, what, "--keep " + folder + " is a symbolic link"
                                + (resolved == null ? " to nothing" : " (to " + resolved + ")") + "; a kept copy is written only into a folder "
                                + "named as itself; nothing was written")
                        .withHint(resolved == null ? "name a folder of your own" : "name the folder itself, once you are sure it is the one: --keep " + resolved);
            }
            try {
                Files.createDirectories(folder);
                Path complete = folder.resolve(name);
                if (WorkFolder.isPlainFile(complete) && Files.size(complete) == size) {
                    // Kept whole by an earlier run: read it instead of the remote copy (checked again as it is read).
                    FileRange local = FileRange.open(complete);
                    return new Kept(local, Optional.empty(), size, null, complete, null, List.of(local));
                }
                Path part = folder.resolve(name + ".part");
                if (Files.exists(part, LinkOption.NOFOLLOW_LINKS) && !WorkFolder.isPlainFile(part)) {
                    throw IngotException.tried(ErrorCode.CONFLICT, what, part + " is not a plain file (a link?)").withHint("remove it");
                }
                FileChannel channel = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ,
                        LinkOption.NOFOLLOW_LINKS);
                FileLock lock;
                try {
                    lock = channel.tryLock();
                } catch (OverlappingFileLockException e) {
                    lock = null;
                }
                if (lock == null) {
                    channel.close();
                    throw IngotException.tried(ErrorCode.CONFLICT, what, "another ingot is downloading into " + folder)
                            .withHint("wait for it to finish, or keep the copy elsewhere");
                }
                long have = channel.size();
                if (have > size) {
                    channel.truncate(0);
                    have = 0;
                }
                channel.position(have);
                List<AutoCloseable> closeables = new ArrayList<>();
                closeables.add(channel);
                RangeReadable source = job.source();
                if (have > 0) {
                    FileRange prefix = FileRange.open(part);
                    closeables.add(prefix);
                    source = new Concatenated(prefix, have, job.source());
                }
                return new Kept(source, Optional.of(channel), have, part, complete, lock, closeables);
            } catch (IOException e) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "the kept copy in " + folder + " cannot be used (" + e.getMessage() + ")")
                        .withCause(e);
            }
        }

        RangeReadable source() {
            return source;
        }

        Optional<FileChannel> tee() {
            return tee;
        }

        /** Bytes replayed from the kept copy. */
        long teeFrom() {
            return teeFrom;
        }

        /** A range failed its check: cut the copy back to the frame that brought it, so a rerun fetches it again. */
        void failed(long frameOffset) {
            if (frameOffset < 0) {
                return; // not the copy's fault (the target, the network): it stays for the rerun
            }
            // An interrupted caller's FileChannel I/O would close the channel instead (and drop the copy's lock).
            boolean interrupted = Thread.interrupted();
            try {
                if (tee.isPresent()) {
                    tee.get().truncate(Math.min(frameOffset, tee.get().size()));
                } else if (complete != null) {
                    // A whole kept copy that failed a range: back to a .part that ends before the damaged frame.
                    Path back = complete.resolveSibling(complete.getFileName() + ".part");
                    Files.move(complete, back, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    try (FileChannel channel = FileChannel.open(back, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                        channel.truncate(frameOffset);
                    }
                }
            } catch (IOException ignored) {
                // the signed digests still catch it on the next run
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        /** The payload's digest failed: the copy is not kept. */
        void damaged() {
            try {
                if (part != null) {
                    Files.deleteIfExists(part);
                } else if (complete != null) {
                    Files.deleteIfExists(complete);
                }
            } catch (IOException ignored) {
                // the next run checks it again
            }
        }

        /** Puts the verified copy in place with the release's files beside it (manifest last); the folder then serves as a --cache. */
        Optional<Path> finish(FlashJob job, String what) {
            if (complete == null) {
                return Optional.empty();
            }
            Path folder = complete.getParent();
            TrustedRelease release = job.release().orElseThrow();
            try {
                if (tee.isPresent()) {
                    tee.get().force(true);
                    Files.move(part, complete, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                }
                FlashSources.placeRelease(folder, release, job.set(), what);
                return Optional.of(folder);
            } catch (IOException e) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "the flash succeeded but the copy in " + folder
                        + " could not be kept (" + e.getMessage() + ")").withCause(e);
            }
        }

        @Override
        public void close() {
            try {
                if (lock != null && lock.isValid()) {
                    lock.release();
                }
            } catch (IOException ignored) {
                // closing releases it too
            }
            for (AutoCloseable closeable : closeables) {
                try {
                    closeable.close();
                } catch (Exception ignored) {
                    // read-only or already flushed
                }
            }
        }
    }
}
