package dev.ingot.digest;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/** Hashes and counts the bytes read through it. */
public final class DigestingInputStream extends FilterInputStream {
    private final MessageDigest digest = Sha256.newDigest();
    private long count;

    public DigestingInputStream(InputStream delegate) {
        super(delegate);
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
            digest.update((byte) b);
            count++;
        }
        return b;
    }

    @Override
    public int read(byte[] bytes, int offset, int length) throws IOException {
        int n = in.read(bytes, offset, length);
        if (n > 0) {
            digest.update(bytes, offset, n);
            count += n;
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // Skipping would leave bytes out of the digest: read them instead.
        byte[] buffer = new byte[8192];
        long skipped = 0;
        while (skipped < n) {
            int read = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
            if (read < 0) {
                break;
            }
            skipped += read;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    public long count() {
        return count;
    }

    /** Reads what is left, then returns the digest of everything read. */
    public Sha256 drainAndDigest() throws IOException {
        byte[] buffer = new byte[1 << 16];
        while (read(buffer, 0, buffer.length) >= 0) {
            // reading is the point
        }
        return Sha256.fromBytes(digest.digest());
    }
}
