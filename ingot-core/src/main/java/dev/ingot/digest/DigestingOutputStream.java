package dev.ingot.digest;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;

/** Hashes and counts the bytes that stream past on their way to the delegate (as Jib's CountingDigestOutputStream). */
public final class DigestingOutputStream extends FilterOutputStream {
    private final MessageDigest digest = Sha256.newDigest();
    private long count;

    public DigestingOutputStream(OutputStream delegate) {
        super(delegate);
    }

    @Override
    public void write(int b) throws IOException {
        out.write(b);
        digest.update((byte) b);
        count++;
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        out.write(bytes, offset, length);
        digest.update(bytes, offset, length);
        count += length;
    }

    public long count() {
        return count;
    }

    /** The digest of everything written so far; call once, after the last write. */
    public Sha256 sha256() {
        return Sha256.fromBytes(digest.digest());
    }
}
