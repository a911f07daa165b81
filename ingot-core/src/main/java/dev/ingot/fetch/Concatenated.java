package dev.ingot.fetch;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;

/**
 * The first {@code split} bytes from one source, the rest from another: a download kept from an earlier run (a
 * {@code .part} file) followed by the remote file from where it stopped. Both must be the same file; the signed
 * digests that the reader checks make sure of that, not this class.
 */
public final class Concatenated implements RangeReadable {
    private final RangeReadable head;
    private final long split;
    private final RangeReadable tail;

    public Concatenated(RangeReadable head, long split, RangeReadable tail) {
        this.head = requireNonNull(head, "head");
        this.tail = requireNonNull(tail, "tail");
        if (split < 0) {
            throw new IllegalArgumentException("split " + split);
        }
        this.split = split;
    }

    @Override
    public String describe() {
        return tail.describe() + " (first " + split + " bytes from " + head.describe() + ")";
    }

    @Override
    public long size() throws IOException {
        return tail.size();
    }

    @Override
    public InputStream open(long offset, long length) throws IOException {
        long end = offset + length;
        if (end <= split) {
            return head.open(offset, length);
        }
        if (offset >= split) {
            return tail.open(offset, length);
        }
        return new SequenceInputStream(head.open(offset, split - offset), tail.open(split, end - split));
    }

    @Override
    public int preferredConnections() {
        return tail.preferredConnections();
    }

    @Override
    public void close() {
        head.close();
        tail.close();
    }
}
