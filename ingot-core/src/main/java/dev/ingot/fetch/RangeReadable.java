package dev.ingot.fetch;

import java.io.IOException;
import java.io.InputStream;

/**
 * A file that can be read from any offset: a local file, a store object, an HTTP(S) URL. The flash engine streams a
 * payload out of one of these through {@link OrderedFetch}, which resumes cut reads and runs several at once.
 *
 * <p>The contract every implementation keeps: {@link #open} returns exactly the bytes asked for, from the same object
 * every time, or fewer (a cut connection: the caller asks again for the rest). It never returns other bytes
 * silently: a server that answers with another range, another length, or an object that changed (another entity
 * tag) makes it throw {@link dev.ingot.error.IngotException} (CHECK_FAILED), which no retry can fix. A transient
 * failure (a dropped connection, a stall, a 5xx) is an {@link IOException}: worth another try.
 */
public interface RangeReadable extends AutoCloseable {
    /** Where the bytes come from, for messages: {@code /media/usb/ingot/X.img.zst}, {@code s3://b/golden-images/X}, a URL. */
    String describe();

    /** The object's size in bytes, learnt on first contact (a ranged request for one byte, a HEAD, a stat). */
    long size() throws IOException;

    /** Opens {@code [offset, offset + length)}; the stream may end early on a cut. */
    InputStream open(long offset, long length) throws IOException;

    /** How many ranges at once help: 1 for a local file, more for a store or a URL where one connection is slower than the link. */
    default int preferredConnections() {
        return 1;
    }

    @Override
    default void close() {}

    /**
     * The bytes {@code [offset, offset + length)} of this file as a file of their own: a slot payload inside a cached
     * disk payload (the manifest's {@code disk_payload_bytes}). Closing the window closes this file.
     */
    default RangeReadable window(long offset, long length) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("a window of " + length + " bytes at " + offset);
        }
        RangeReadable whole = this;
        return new RangeReadable() {
            @Override
            public String describe() {
                return whole.describe() + " (bytes " + offset + "-" + (offset + length - 1) + ")";
            }

            @Override
            public long size() throws IOException {
                if (offset + length > whole.size()) {
                    throw new IOException(whole.describe() + " is " + whole.size() + " bytes, shorter than the window's end " + (offset + length));
                }
                return length;
            }

            @Override
            public InputStream open(long from, long count) throws IOException {
                if (from < 0 || count < 0 || from + count > length) {
                    throw new IllegalArgumentException("bytes " + from + "+" + count + " of a " + length + "-byte window");
                }
                return whole.open(offset + from, count);
            }

            @Override
            public int preferredConnections() {
                return whole.preferredConnections();
            }

            @Override
            public void close() {
                whole.close();
            }
        };
    }
}
