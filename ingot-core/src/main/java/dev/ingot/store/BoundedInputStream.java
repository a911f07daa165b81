package dev.ingot.store;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A stream that ends after a limit, so that a range of an object (an upload part, an HTTP byte range) ends where the next
 * begins; closing it closes the stream below. Written here because the JDK has none (Guava's ByteStreams.limit and
 * Commons IO's BoundedInputStream are whole libraries for these few lines).
 */
public final class BoundedInputStream extends InputStream {
    private final InputStream delegate;
    private long remaining;

    public BoundedInputStream(InputStream delegate, long limit) {
        this.delegate = requireNonNull(delegate, "delegate");
        if (limit < 0) {
            throw new IllegalArgumentException("a limit is not negative: " + limit);
        }
        this.remaining = limit;
    }

    /** {@code length} bytes of a file from {@code offset} on, read through the file's own position (nothing before it is read). */
    public static InputStream ofFile(Path file, long offset, long length) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            channel.position(offset);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        return new BoundedInputStream(Channels.newInputStream(channel), length);
    }

    @Override
    public int read() throws IOException {
        if (remaining <= 0) {
            return -1;
        }
        int b = delegate.read();
        if (b >= 0) {
            remaining--;
        }
        return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        if (remaining <= 0) {
            return -1;
        }
        int n = delegate.read(buffer, offset, (int) Math.min(length, remaining));
        if (n > 0) {
            remaining -= n;
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long skipped = delegate.skip(Math.min(Math.max(n, 0), remaining));
        remaining -= skipped;
        return skipped;
    }

    @Override
    public int available() throws IOException {
        return (int) Math.min(delegate.available(), remaining);
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }
}
