package dev.ingot.fetch;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bytes {@code [from, to)} of a {@link RangeReadable} as one stream, in order, whatever happens on the way: a cut
 * or stalled read resumes where it stopped ({@code open(position, rest)} again, after a backoff of 1, 2, 4 … 30 s), and
 * with several connections the range is fetched in chunks at once into a bounded reorder window, so memory stays at
 * (connections + 2) chunks whatever the file's size. The reader sees bytes only in order, so a digest over the stream is
 * the file's digest. Gives up with UNAVAILABLE only after {@code patience} without one byte of progress; a fatal
 * answer from the source (a lie, a changed object: {@link IngotException}) ends it at once.
 */
public final class OrderedFetch extends InputStream {
    /** How a fetch behaves; {@code connections} 0 means the source's own preference. */
    public record Policy(int connections, int chunkBytes, Duration firstBackoff, Duration maxBackoff, Duration patience) {
        public Policy {
            requireNonNull(firstBackoff, "firstBackoff");
            requireNonNull(maxBackoff, "maxBackoff");
            requireNonNull(patience, "patience");
            if (connections < 0 || chunkBytes <= 0) {
                throw new IllegalArgumentException("connections " + connections + ", chunk " + chunkBytes);
            }
        }

        public static Policy defaults() {
            return new Policy(0, 8 << 20, Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofMinutes(15));
        }

        public Policy withConnections(int count) {
            return new Policy(count, chunkBytes, firstBackoff, maxBackoff, patience);
        }
    }

    /** Waits between attempts; tests pass one that does not sleep. */
    @FunctionalInterface
    public interface Sleeper {
        Sleeper REAL = duration -> Thread.sleep(duration);

        void sleep(Duration duration) throws InterruptedException;
    }

    private final RangeReadable source;
    private final long from;
    private final long to;
    private final Policy policy;
    private final Clock clock;
    private final Sleeper sleeper;
    private final int connections;
    private final AtomicInteger resumes = new AtomicInteger();
    private final AtomicLong lastProgress;
    private final Engine engine;

    private OrderedFetch(RangeReadable source, long from, long to, Policy policy, Clock clock, Sleeper sleeper) {
        this.source = source;
        this.from = from;
        this.to = to;
        this.policy = policy;
        this.clock = clock;
        this.sleeper = sleeper;
        int wanted = policy.connections() > 0 ? policy.connections() : source.preferredConnections();
        long chunks = (to - from + policy.chunkBytes() - 1) / policy.chunkBytes();
        this.connections = (int) Math.max(1, Math.min(wanted, chunks));
        this.lastProgress = new AtomicLong(clock.millis());
        this.engine = connections == 1 ? new Sequential() : new Parallel();
    }

    /** Streams {@code [from, to)} of {@code source}. */
    public static OrderedFetch open(RangeReadable source, long from, long to, Policy policy, Clock clock, Sleeper sleeper) {
        requireNonNull(source, "source");
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("bytes " + from + "-" + to);
        }
        return new OrderedFetch(source, from, to, requireNonNull(policy, "policy"), requireNonNull(clock, "clock"),
                requireNonNull(sleeper, "sleeper"));
    }

    /** How many times a read was resumed after a cut, a stall or an error. */
    public int resumes() {
        return resumes.get();
    }

    /** How many connections it runs. */
    public int connections() {
        return connections;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] bytes, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        return engine.read(bytes, offset, length);
    }

    @Override
    public void close() {
        engine.close();
    }

    private interface Engine {
        int read(byte[] bytes, int offset, int length) throws IOException;

        void close();
    }

    private void progressed() {
        lastProgress.set(clock.millis());
    }

    /** Waits before the next attempt, or gives up when nothing has moved for too long. */
    private Duration pause(Duration backoff, Exception cause) throws IOException {
        long still = clock.millis() - lastProgress.get();
        if (still >= policy.patience().toMillis()) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read " + source.describe(), "no byte arrived for "
                            + Duration.ofMillis(still).toMinutes() + " min (last: " + cause.getMessage() + ")")
                    .withHint("check the network; a rerun with --keep DIR resumes where the download stopped").withCause(cause);
        }
        try {
            sleeper.sleep(backoff);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to retry " + source.describe());
        }
        Duration doubled = backoff.multipliedBy(2);
        return doubled.compareTo(policy.maxBackoff()) > 0 ? policy.maxBackoff() : doubled;
    }

    /** One connection: the whole range in one request, resumed from where it stopped. */
    private final class Sequential implements Engine {
        private long position = from;
        private InputStream current;
        private boolean opened;
        private Duration backoff = policy.firstBackoff();
        private volatile boolean closed;

        @Override
        public int read(byte[] bytes, int offset, int length) throws IOException {
            while (true) {
                if (closed) {
                    throw new IOException("closed");
                }
                if (position >= to) {
                    return -1;
                }
                try {
                    if (current == null) {
                        if (opened) {
                            resumes.incrementAndGet();
                        }
                        opened = true;
                        current = source.open(position, to - position);
                    }
                    int n = current.read(bytes, offset, (int) Math.min(length, to - position));
                    if (n > 0) {
                        position += n;
                        backoff = policy.firstBackoff();
                        progressed();
                        return n;
                    }
                    throw new IOException("the connection ended at byte " + position + " of " + to);
                } catch (IOException e) {
                    if (closed || e instanceof InterruptedIOException) {
                        throw e;
                    }
                    closeCurrent();
                    backoff = pause(backoff, e);
                }
            }
        }

        private void closeCurrent() {
            if (current != null) {
                try {
                    current.close();
                } catch (IOException ignored) {
                    // a broken connection: nothing to save
                }
                current = null;
            }
        }

        @Override
        public void close() {
            closed = true;
            closeCurrent();
        }
    }

    /** Several connections, each fetching whole chunks, at most (connections + 2) chunks ahead of the reader. */
    private final class Parallel implements Engine {
        private final int chunkBytes = policy.chunkBytes();
        private final long chunks = (to - from + chunkBytes - 1) / chunkBytes;
        private final int window = connections + 2;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        private final Map<Long, Chunk> inFlight = new HashMap<>();
        private final ArrayDeque<byte[]> pool = new ArrayDeque<>();
        private final List<Thread> fetchers = new ArrayList<>();
        private long nextClaim;
        private long reading;
        private int consumed;
        private Throwable failure;
        private boolean closed;

        private final class Chunk {
            final long start;
            final int length;
            final byte[] data;
            int filled;

            Chunk(long index, byte[] data) {
                this.start = from + index * chunkBytes;
                this.length = (int) Math.min(chunkBytes, to - start);
                this.data = data;
            }
        }

        Parallel() {
            for (int i = 0; i < connections; i++) {
                fetchers.add(Thread.ofVirtual().name("ingot-fetch-" + i).start(this::fetchChunks));
            }
        }

        private void fetchChunks() {
            try {
                while (true) {
                    Chunk chunk;
                    lock.lock();
                    try {
                        while (!closed && failure == null && nextClaim < chunks && nextClaim >= reading + window) {
                            changed.await();
                        }
                        if (closed || failure != null || nextClaim >= chunks) {
                            return;
                        }
                        byte[] data = pool.isEmpty() ? new byte[chunkBytes] : pool.pop();
                        chunk = new Chunk(nextClaim, data);
                        inFlight.put(nextClaim, chunk);
                        nextClaim++;
                    } finally {
                        lock.unlock();
                    }
                    fill(chunk);
                }
            } catch (InterruptedException | InterruptedIOException e) {
                // closed
            } catch (IOException | RuntimeException | Error e) {
                lock.lock();
                try {
                    if (failure == null && !closed) {
                        failure = e;
                    }
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        }

        private void fill(Chunk chunk) throws IOException {
            Duration backoff = policy.firstBackoff();
            boolean first = true;
            while (chunk.filled < chunk.length) {
                if (!first) {
                    resumes.incrementAndGet();
                }
                first = false;
                try (InputStream in = source.open(chunk.start + chunk.filled, chunk.length - chunk.filled)) {
                    while (chunk.filled < chunk.length) {
                        int n = in.read(chunk.data, chunk.filled, chunk.length - chunk.filled);
                        if (n < 0) {
                            throw new IOException("the connection ended at byte " + (chunk.start + chunk.filled));
                        }
                        lock.lock();
                        try {
                            chunk.filled += n;
                            changed.signalAll();
                        } finally {
                            lock.unlock();
                        }
                        backoff = policy.firstBackoff();
                        progressed();
                    }
                } catch (IOException e) {
                    if (isClosed() || e instanceof InterruptedIOException) {
                        throw e;
                    }
                    backoff = pause(backoff, e);
                }
            }
        }

        private boolean isClosed() {
            lock.lock();
            try {
                return closed;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public int read(byte[] bytes, int offset, int length) throws IOException {
            lock.lock();
            try {
                while (true) {
                    if (failure != null) {
                        switch (failure) {
                            case IOException io -> throw new IOException(io.getMessage(), io);
                            case IngotException ingot -> throw ingot;
                            case RuntimeException runtime -> throw runtime;
                            case Error error -> throw error;
                            default -> throw new IOException(failure);
                        }
                    }
                    if (closed) {
                        throw new IOException("closed");
                    }
                    if (reading >= chunks) {
                        return -1;
                    }
                    Chunk chunk = inFlight.get(reading);
                    if (chunk != null && chunk.filled > consumed) {
                        int n = Math.min(length, chunk.filled - consumed);
                        System.arraycopy(chunk.data, consumed, bytes, offset, n);
                        consumed += n;
                        if (consumed == chunk.length) {
                            inFlight.remove(reading);
                            pool.push(chunk.data);
                            reading++;
                            consumed = 0;
                            changed.signalAll();
                        }
                        return n;
                    }
                    try {
                        changed.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted while reading " + source.describe());
                    }
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void close() {
            lock.lock();
            try {
                closed = true;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            fetchers.forEach(Thread::interrupt);
        }
    }
}
