package dev.ingot.fetch;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A local file (a USB cache, a folder store, a kept download), read with positional reads; one channel for all ranges. */
public final class FileRange implements RangeReadable {
    private final Path file;
    private final FileChannel channel;

    private FileRange(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
    }

    /** Opens {@code file} for reading, never through a symbolic link (a planted link in a cache folder is not followed). */
    public static FileRange open(Path file) throws IOException {
        requireNonNull(file, "file");
        return new FileRange(file, FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS));
    }

    public Path file() {
        return file;
    }

    @Override
    public String describe() {
        return file.toString();
    }

    @Override
    public long size() throws IOException {
        return channel.size();
    }

    @Override
    public InputStream open(long offset, long length) {
        return new InputStream() {
            private long position = offset;
            private final long end = offset + length;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] bytes, int from, int count) throws IOException {
                if (position >= end) {
                    return -1;
                }
                int n = channel.read(ByteBuffer.wrap(bytes, from, (int) Math.min(count, end - position)), position);
                if (n > 0) {
                    position += n;
                }
                return n;
            }
        };
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // read-only: nothing is lost
        }
    }
}
