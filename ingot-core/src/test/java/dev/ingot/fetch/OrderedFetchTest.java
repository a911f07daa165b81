package dev.ingot.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class OrderedFetchTest {
    private static final int CHUNK = 64 << 10;
    private static final byte[] DATA = new byte[CHUNK * 20 + 123];

    static {
        new Random(7).nextBytes(DATA);
    }

    private static OrderedFetch.Policy policy(int connections) {
        return new OrderedFetch.Policy(connections, CHUNK, Duration.ofMillis(1), Duration.ofMillis(4), Duration.ofMinutes(15));
    }

    /** An in-memory file; each open may be slowed, cut or refused by the test. */
    private abstract static class Memory implements RangeReadable {
        final List<long[]> opens = new CopyOnWriteArrayList<>();

        @Override
        public String describe() {
            return "memory";
        }

        @Override
        public long size() {
            return DATA.length;
        }

        @Override
        public int preferredConnections() {
            return 4;
        }

        @Override
        public InputStream open(long offset, long length) throws IOException {
            opens.add(new long[] {offset, length});
            return stream(offset, length);
        }

        abstract InputStream stream(long offset, long length) throws IOException;

        static InputStream slice(long offset, long length) {
            return new ByteArrayInputStream(DATA, (int) offset, (int) length);
        }
    }

    private static byte[] readAll(OrderedFetch fetch) throws IOException {
        try (fetch) {
            return fetch.readAllBytes();
        }
    }

    @Test
    void chunksThatArriveInReverseOrderAreReadInOrderWithinABoundedWindow() throws IOException {
        AtomicLong consumed = new AtomicLong();
        AtomicLong furthestAhead = new AtomicLong();
        Memory slowFirst = new Memory() {
            @Override
            InputStream stream(long offset, long length) {
                furthestAhead.accumulateAndGet(offset + length - consumed.get(), Math::max);
                try {
                    Thread.sleep(Math.max(0, 40 - offset / CHUNK * 10)); // the earlier the chunk, the later it comes
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return slice(offset, length);
            }
        };
        OrderedFetch fetch = OrderedFetch.open(slowFirst, 0, DATA.length, policy(4), Clock.systemUTC(), OrderedFetch.Sleeper.REAL);
        byte[] read = new byte[DATA.length];
        int done = 0;
        int n;
        while ((n = fetch.read(read, done, Math.min(4096, read.length - done))) > 0) {
            done += n;
            consumed.set(done);
        }
        fetch.close();

        assertThat(Sha256.of(read)).isEqualTo(Sha256.of(DATA));
        assertThat(fetch.connections()).isEqualTo(4);
        // Never more than connections + 2 chunks ahead of the reader.
        assertThat(furthestAhead.get()).isLessThanOrEqualTo(6L * CHUNK + CHUNK);
    }

    @Test
    void aReadCutShortResumesWhereItStoppedWithOneConnectionOrSeveral() throws IOException {
        for (int connections : new int[] {1, 4}) {
            long cut = CHUNK * 7L + 1000;
            AtomicBoolean cutDone = new AtomicBoolean();
            Memory cutting = new Memory() {
                @Override
                InputStream stream(long offset, long length) {
                    if (offset < cut && offset + length > cut && cutDone.compareAndSet(false, true)) {
                        return slice(offset, cut - offset); // the connection ends early
                    }
                    return slice(offset, length);
                }
            };
            OrderedFetch fetch = OrderedFetch.open(cutting, 0, DATA.length, policy(connections), Clock.systemUTC(), duration -> { });

            assertThat(readAll(fetch)).isEqualTo(DATA);
            assertThat(fetch.resumes()).isEqualTo(1);
            assertThat(cutting.opens).anySatisfy(open -> assertThat(open[0]).isEqualTo(cut));
        }
    }

    @Test
    void aLieFromTheSourceEndsTheReadAtOnceWithoutRetrying() {
        AtomicInteger attempts = new AtomicInteger();
        Memory lying = new Memory() {
            @Override
            InputStream stream(long offset, long length) {
                attempts.incrementAndGet();
                throw IngotException.tried(ErrorCode.CHECK_FAILED, "read memory", "it returned other bytes");
            }
        };
        OrderedFetch fetch = OrderedFetch.open(lying, 0, DATA.length, policy(1), Clock.systemUTC(), duration -> { });

        assertThatThrownBy(() -> readAll(fetch)).isInstanceOfSatisfying(IngotException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED));
        assertThat(attempts.get()).isEqualTo(1);
    }

    @Test
    void aSourceThatNeverAnswersIsGivenUpOnlyAfterTheWholePatienceWithBackoffUpToItsCeiling() {
        Instant[] now = {Instant.parse("2026-11-29T00:00:00Z")};
        Clock clock = new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now[0];
            }
        };
        List<Duration> waits = new CopyOnWriteArrayList<>();
        Memory down = new Memory() {
            @Override
            InputStream stream(long offset, long length) throws IOException {
                throw new IOException("connection refused");
            }
        };
        OrderedFetch fetch = OrderedFetch.open(down, 0, DATA.length, OrderedFetch.Policy.defaults().withConnections(1), clock, duration -> {
            waits.add(duration);
            now[0] = now[0].plus(duration);
        });

        assertThatThrownBy(() -> readAll(fetch)).isInstanceOfSatisfying(IngotException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE)).hasMessageContaining("no byte arrived for 15 min");
        assertThat(waits.subList(0, 6)).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4),
                Duration.ofSeconds(8), Duration.ofSeconds(16), Duration.ofSeconds(30));
        assertThat(waits).last().isEqualTo(Duration.ofSeconds(30));
    }
}
