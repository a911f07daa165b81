package dev.ingot.flash;

import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.BlockMap;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * One mapped range whose bytes matched the block map's SHA-256. The writer takes nothing else, and this class has no
 * public way in but {@link #check}: issue 9's rule ("nothing reaches the target before its range is checked") is a
 * fact of the types, as {@code TrustedRelease} is for the release. A range longer than a buffer (only a foreign bmap
 * has them) is checked while it is written to a private spool file ({@link #spooled}) and written from there.
 */
final class CheckedRange {
    private final int index;
    private final long offset;
    private final long length;
    private final ByteBuffer data;
    private final Path spool;

    private CheckedRange(int index, long offset, long length, ByteBuffer data, Path spool) {
        this.index = index;
        this.offset = offset;
        this.length = length;
        this.data = data;
        this.spool = spool;
    }

    /**
     * Hashes {@code data[0, length)} and compares it with range {@code index} of {@code map}; throws CHECK_FAILED naming the
     * blocks when they differ.
     */
    static CheckedRange check(BlockMap map, int index, ByteBuffer data, int length, Stages.Stage hashing) {
        BlockMap.Range range = map.ranges().get(index);
        long start = map.startOffset(range);
        if (map.endOffset(range) - start != length) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, "check blocks " + range.first() + "-" + range.last(),
                    "the payload gave " + length + " bytes for them, the block map says " + (map.endOffset(range) - start));
        }
        long cpu = Stages.threadCpu();
        MessageDigest digest = Sha256.newDigest();
        digest.update(data.duplicate().position(0).limit(length));
        Sha256 actual = Sha256.fromBytes(digest.digest());
        hashing.add(Stages.threadCpu() - cpu, length);
        compare(range, actual);
        return new CheckedRange(index, start, length, data, null);
    }

    /**
     * A long range that {@code spoolDigest} hashed as it was written to {@code spool} (a file created exclusively in the
     * caller's own 0700 work folder, read by nobody else before it is written to the target).
     */
    static CheckedRange spooled(BlockMap map, int index, Path spool, long length, Sha256 spoolDigest) {
        BlockMap.Range range = map.ranges().get(index);
        compare(range, spoolDigest);
        return new CheckedRange(index, map.startOffset(range), length, null, spool);
    }

    private static void compare(BlockMap.Range range, Sha256 actual) {
        if (!actual.equals(range.sha256())) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, "check blocks " + range.first() + "-" + range.last(),
                    "blocks " + range.first() + "-" + range.last() + " of the image have SHA-256 " + actual
                            + " but the block map says " + range.sha256() + "; that range was not written");
        }
    }

    int index() {
        return index;
    }

    /** Offset in the image. */
    long offset() {
        return offset;
    }

    long length() {
        return length;
    }

    /** The checked bytes in memory ({@code [0, length)}), or null for a spooled range. */
    ByteBuffer data() {
        return data;
    }

    /** The spool file of a long range, or null. */
    Path spool() {
        return spool;
    }
}
