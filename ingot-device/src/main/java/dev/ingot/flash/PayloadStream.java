package dev.ingot.flash;

import dev.ingot.digest.Sha256;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * The payload's bytes, in order, as they arrive: every byte is hashed once (the payload digest the signed manifest
 * pins) and, with {@code --keep}, appended to the kept copy, before anyone reads it. Reads are buffered (1 MiB), so
 * hashing and teeing happen a buffer at a time; the frame cutter's many small header reads cost nothing extra.
 */
final class PayloadStream extends InputStream {
    private static final int BUFFER = 1 << 20;

    private final InputStream source;
    private final MessageDigest digest = Sha256.newDigest();
    private final Optional<Tee> tee;
    private final long teeFrom;
    private final Stages.Stage hashing;
    private final byte[] buffer = new byte[BUFFER];
    private int position;
    private int limit;
    private long offset;
    private long fetched;

    /**
     * @param tee where bytes at payload offsets from {@code teeFrom} on are appended (the kept {@code .part}; the bytes
     *     before came from it)
     */
    PayloadStream(InputStream source, Optional<Tee> tee, long teeFrom, Stages.Stage hashing) {
        this.source = source;
        this.tee = tee;
        this.teeFrom = teeFrom;
        this.hashing = hashing;
    }

    /** Where teed bytes go: the kept {@code .part}, all of {@code bytes} appended before it returns. */
    @FunctionalInterface
    interface Tee {
        void append(ByteBuffer bytes) throws IOException;
    }

    /** The payload offset of the next byte to be read. */
    long offset() {
        return offset;
    }

    private boolean fill() throws IOException {
        if (position < limit) {
            return true;
        }
        int n = source.read(buffer, 0, BUFFER);
        if (n < 0) {
            return false;
        }
        position = 0;
        limit = n;
        long cpu = Stages.threadCpu();
        digest.update(buffer, 0, n);
        hashing.add(Stages.threadCpu() - cpu, n);
        if (tee.isPresent() && fetched + n > teeFrom) {
            int skip = (int) Math.max(0, teeFrom - fetched);
            tee.get().append(ByteBuffer.wrap(buffer, skip, n - skip));
        }
        fetched += n;
        return true;
    }

    @Override
    public int read() throws IOException {
        if (!fill()) {
            return -1;
        }
        offset++;
        return buffer[position++] & 0xff;
    }

    @Override
    public int read(byte[] bytes, int from, int count) throws IOException {
        if (count == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(count, limit - position);
        System.arraycopy(buffer, position, bytes, from, n);
        position += n;
        offset += n;
        return n;
    }

    /** Exactly {@code count} bytes into {@code bytes}; EOFException when the payload ends first. */
    void readFully(byte[] bytes, int from, int count) throws IOException {
        int done = 0;
        while (done < count) {
            int n = read(bytes, from + done, count - done);
            if (n < 0) {
                throw new EOFException("the payload ended at byte " + offset + ", inside a frame");
            }
            done += n;
        }
    }

    /** Reads and drops {@code count} bytes (they are hashed: the digest covers every byte). */
    void skipFully(long count) throws IOException {
        long left = count;
        while (left > 0) {
            if (!fill()) {
                throw new EOFException("the payload ended at byte " + offset + ", inside a frame");
            }
            int n = (int) Math.min(left, limit - position);
            position += n;
            offset += n;
            left -= n;
        }
    }

    /** Reads what is left; returns how many bytes that was. */
    long drain() throws IOException {
        long drained = 0;
        while (fill()) {
            drained += limit - position;
            offset += limit - position;
            position = limit;
        }
        return drained;
    }

    Sha256 sha256() {
        return Sha256.fromBytes(digest.digest());
    }

    @Override
    public void close() throws IOException {
        source.close();
    }
}
