package dev.ingot.flash;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongConsumer;

/**
 * Where each zstd frame of a payload sits, found in one sequential read that also feeds a digest.
 * Ingot's publisher writes one frame per mapped range and per hole piece (RFC 8878 §3.1: frames
 * may be concatenated), each with its content size in the header; with that table a flasher skips
 * the frames of holes and decompresses the others in parallel. A payload made otherwise (one large
 * frame, or frames without a content size) has no usable table, and is streamed instead.
 */
final class FrameIndex {
    /** One frame: where its compressed bytes are in the payload, and which image bytes it holds. */
    record Frame(long compressedOffset, int compressedSize, long imageOffset, int contentSize) {}

    private static final int MAX_FRAME = 32 << 20;
    private static final int BUFFER = 2 * MAX_FRAME + (1 << 20);

    private FrameIndex() {}

    /**
     * Reads the whole payload once, updating {@code digest} with every byte, and returns its frame
     * table, or empty when the payload is not made of frames of at most 32 MiB with known sizes.
     */
    static Optional<List<Frame>> scan(FileChannel channel, MessageDigest digest, LongConsumer progress) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
        byte[] bytes = buffer.array();
        List<Frame> frames = new ArrayList<>();
        boolean usable = true;
        long bufferStart = 0; // payload offset of bytes[0]
        int position = 0;     // next frame's start within the buffer
        long imageOffset = 0;
        boolean endOfFile = false;
        buffer.limit(0);
        while (true) {
            int available = buffer.limit() - position;
            if (!endOfFile && available < MAX_FRAME + 64) {
                // Move what is left to the front and read more.
                System.arraycopy(bytes, position, bytes, 0, available);
                bufferStart += position;
                position = 0;
                buffer.limit(BUFFER).position(available);
                while (buffer.hasRemaining()) {
                    int read = channel.read(buffer);
                    if (read < 0) {
                        endOfFile = true;
                        break;
                    }
                    digest.update(bytes, buffer.position() - read, read);
                    progress.accept(read);
                }
                buffer.limit(buffer.position());
                available = buffer.limit() - position;
            }
            if (available == 0) {
                return usable ? Optional.of(frames) : Optional.empty();
            }
            if (!usable) {
                position = buffer.limit(); // only the digest is still wanted
                continue;
            }
            try {
                long size = Zstd.findFrameCompressedSize(bytes, position, available);
                long content = Zstd.getFrameContentSize(bytes, position, available);
                if (size <= 0 || content < 0 || content > MAX_FRAME) {
                    usable = false;
                    continue;
                }
                frames.add(new Frame(bufferStart + position, (int) size, imageOffset, (int) content));
                imageOffset += content;
                position += (int) size;
            } catch (ZstdException e) {
                usable = false; // a frame larger than the window, or not zstd at all: stream it instead
            }
        }
    }
}
