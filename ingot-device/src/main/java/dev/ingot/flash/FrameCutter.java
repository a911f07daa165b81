package dev.ingot.flash;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.EOFException;
import java.io.IOException;
import java.util.Arrays;

/**
 * Finds zstd frame boundaries in a stream as it arrives, from the frame and block headers alone (RFC 8878 §3.1.1):
 * the frame header descriptor gives the sizes of the window descriptor, dictionary id and content size fields; then
 * come blocks, each with a 3-byte header (Last_Block, Block_Type, Block_Size; an RLE block holds one byte), and an
 * optional 4-byte checksum. Skippable frames (magic 0x184D2A5?, §3.1.2) are skipped. Nothing is decompressed here.
 * Written by hand: zstd-jni finds a frame's size only once the whole frame is in memory, and the payload arrives as a
 * stream (a download), so a frame has to be recognised before it is complete.
 */
final class FrameCutter {
    static final int ZSTD_MAGIC = 0xFD2FB528;
    private static final int MAX_BLOCK = 128 << 10;

    /** A frame's header: its bytes (to be copied or fed to a decoder) and its content size, or -1 when it names none. */
    record Header(byte[] bytes, long contentSize, boolean checksum, boolean skippable, long skippableSize, long payloadOffset) {}

    private final PayloadStream in;

    FrameCutter(PayloadStream in) {
        this.in = in;
    }

    /** The next frame's header, or null at the end of the payload. */
    Header next() throws IOException {
        long start = in.offset();
        int first = in.read();
        if (first < 0) {
            return null;
        }
        byte[] magicBytes = new byte[4];
        magicBytes[0] = (byte) first;
        in.readFully(magicBytes, 1, 3);
        int magic = littleEndian(magicBytes, 0, 4);
        if ((magic & 0xFFFFFFF0) == 0x184D2A50) {
            byte[] size = new byte[4];
            in.readFully(size, 0, 4);
            return new Header(concat(magicBytes, size), 0, false, true, Integer.toUnsignedLong(littleEndian(size, 0, 4)), start);
        }
        if (magic != ZSTD_MAGIC) {
            throw damaged(start, "there is no zstd frame at payload byte " + start + " (magic " + Integer.toHexString(magic) + ")");
        }
        int descriptor = in.read();
        if (descriptor < 0) {
            throw new EOFException("the payload ended inside a frame header");
        }
        if ((descriptor & 0x08) != 0) {
            throw damaged(start, "the frame at payload byte " + start + " sets a reserved bit");
        }
        int fcsFlag = descriptor >>> 6;
        boolean singleSegment = (descriptor & 0x20) != 0;
        boolean checksum = (descriptor & 0x04) != 0;
        int dictionaryLength = new int[] {0, 1, 2, 4}[descriptor & 0x03];
        int windowLength = singleSegment ? 0 : 1;
        int contentLength = fcsFlag == 0 ? (singleSegment ? 1 : 0) : new int[] {0, 2, 4, 8}[fcsFlag];
        byte[] rest = new byte[windowLength + dictionaryLength + contentLength];
        in.readFully(rest, 0, rest.length);
        long contentSize = -1;
        if (contentLength > 0) {
            contentSize = 0;
            for (int i = contentLength - 1; i >= 0; i--) {
                contentSize = (contentSize << 8) | (rest[windowLength + dictionaryLength + i] & 0xff);
            }
            if (contentLength == 2) {
                contentSize += 256;
            }
        }
        byte[] header = concat(concat(magicBytes, new byte[] {(byte) descriptor}), rest);
        return new Header(header, contentSize, checksum, false, 0, start);
    }

    /**
     * Copies the frame whose header was just read, header included, into {@code frame}; returns its length. A frame
     * that does not fit is damaged: the caller sized {@code frame} for the largest frame its content size allows.
     */
    int copy(Header header, byte[] frame) throws IOException {
        int length = header.bytes().length;
        System.arraycopy(header.bytes(), 0, frame, 0, length);
        boolean last = false;
        while (!last) {
            need(header, frame, length, 3);
            in.readFully(frame, length, 3);
            int block = littleEndian(frame, length, 3);
            length += 3;
            last = (block & 1) != 0;
            int size = blockContent(header, block);
            need(header, frame, length, size);
            in.readFully(frame, length, size);
            length += size;
        }
        if (header.checksum()) {
            need(header, frame, length, 4);
            in.readFully(frame, length, 4);
            length += 4;
        }
        return length;
    }

    /** Reads past the frame whose header was just read (its bytes still feed the payload digest). */
    void skip(Header header) throws IOException {
        if (header.skippable()) {
            in.skipFully(header.skippableSize());
            return;
        }
        byte[] blockHeader = new byte[3];
        boolean last = false;
        while (!last) {
            in.readFully(blockHeader, 0, 3);
            int block = littleEndian(blockHeader, 0, 3);
            last = (block & 1) != 0;
            in.skipFully(blockContent(header, block));
        }
        if (header.checksum()) {
            in.skipFully(4);
        }
    }

    private static int blockContent(Header header, int block) {
        int type = (block >>> 1) & 0x03;
        int size = block >>> 3;
        if (type == 3 || size > MAX_BLOCK) {
            throw damaged(header.payloadOffset(), "the frame at payload byte " + header.payloadOffset() + " has a block of "
                    + (type == 3 ? "the reserved type" : size + " bytes, more than zstd allows"));
        }
        return type == 1 ? 1 : size; // an RLE block stores its one byte
    }

    private static void need(Header header, byte[] frame, int length, int more) {
        if (length + more > frame.length) {
            throw damaged(header.payloadOffset(), "the frame at payload byte " + header.payloadOffset() + " is larger than a frame of "
                    + header.contentSize() + " bytes can be");
        }
    }

    static IngotException damaged(long offset, String reason) {
        return IngotException.tried(ErrorCode.CHECK_FAILED, "read the payload", reason);
    }

    private static int littleEndian(byte[] bytes, int offset, int count) {
        int value = 0;
        for (int i = count - 1; i >= 0; i--) {
            value = (value << 8) | (bytes[offset + i] & 0xff);
        }
        return value;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] joined = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }
}
