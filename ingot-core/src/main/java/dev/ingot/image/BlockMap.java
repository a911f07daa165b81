package dev.ingot.image;

import static java.util.Objects.requireNonNull;

import dev.ingot.digest.Sha256;
import java.util.List;

/**
 * Which blocks of an image hold data, with a SHA-256 per range: the content of a bmaptool
 * block map (format 2.0). Blocks not in any range are holes, to be read as zeros.
 */
public record BlockMap(long imageSize, int blockSize, List<Range> ranges) {

    public BlockMap {
        requireNonNull(ranges, "ranges");
        if (imageSize < 0 || blockSize <= 0 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("image size " + imageSize + ", block size " + blockSize);
        }
        ranges = List.copyOf(ranges);
        long previousLast = -1;
        long blocks = blocksCount(imageSize, blockSize);
        for (Range range : ranges) {
            if (range.first() <= previousLast || range.last() >= blocks) {
                throw new IllegalArgumentException("ranges must be sorted, disjoint and inside the image: " + range);
            }
            previousLast = range.last();
        }
    }

    /** One run of mapped blocks, first and last inclusive, and the SHA-256 of its bytes. */
    public record Range(long first, long last, Sha256 sha256) {
        public Range {
            requireNonNull(sha256, "sha256");
            if (first < 0 || last < first) {
                throw new IllegalArgumentException("range " + first + "-" + last);
            }
        }

        public long blocks() {
            return last - first + 1;
        }
    }

    public long blocksCount() {
        return blocksCount(imageSize, blockSize);
    }

    public long mappedBlocksCount() {
        return ranges.stream().mapToLong(Range::blocks).sum();
    }

    /** Bytes inside mapped ranges; the last block of the image may be short. */
    public long mappedBytes() {
        return ranges.stream().mapToLong(range -> endOffset(range) - startOffset(range)).sum();
    }

    public long startOffset(Range range) {
        return range.first() * blockSize;
    }

    /** Exclusive end of a range in bytes, clipped to the image size. */
    public long endOffset(Range range) {
        return Math.min((range.last() + 1) * blockSize, imageSize);
    }

    private static long blocksCount(long imageSize, int blockSize) {
        return (imageSize + blockSize - 1) / blockSize;
    }
}
