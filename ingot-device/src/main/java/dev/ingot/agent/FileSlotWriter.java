package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.boot.Slot;
import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.ImageVersion;
import dev.ingot.progress.Progress;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.function.Function;

/**
 * The stand-in slot writer until the streaming flash engine takes over: copies a raw slot image, verified and
 * local, into a slot's partition (a block device or, in tests, a file), chunk by chunk, each flushed before its
 * checkpoint, then reads the whole slot back against the payload's SHA-256. A resumed write first reads back what
 * is already there and starts over if it does not match. No block map and no compression: those are the engine's.
 */
public final class FileSlotWriter implements SlotWriter {
    static final int CHUNK = 4 << 20;

    private final Function<Slot, Path> partitions;

    /** @param partitions where each slot's partition is: {@code /dev/disk/by-partlabel/root-b} on a device */
    public FileSlotWriter(Function<Slot, Path> partitions) {
        this.partitions = requireNonNull(partitions, "partitions");
    }

    /** The slots by GPT partition name, as udev links them on a device. */
    public static FileSlotWriter byPartitionLabel() {
        return new FileSlotWriter(slot -> Path.of("/dev/disk/by-partlabel", slot.partitionLabel()));
    }

    /** A raw slot image on a local disk, its SHA-256 already checked against the signed manifest. */
    public record RawSlotPayload(ImageVersion version, Path file, long size, Sha256 digest) implements SlotPayload {
        public RawSlotPayload {
            requireNonNull(version, "version");
            requireNonNull(file, "file");
            requireNonNull(digest, "digest");
        }

        @Override
        public String describe() {
            return file.toString();
        }
    }

    @Override
    public void write(SlotPayload payload, Slot slot, long resumeFrom, Checkpoint checkpoint, Progress progress) {
        if (!(payload instanceof RawSlotPayload raw)) {
            throw new IllegalArgumentException("this writer takes raw slot images, not " + payload.describe());
        }
        Path target = partitions.apply(slot);
        String attempt = "write " + raw.version() + " into slot " + slot + " (" + target + ")";
        try (FileChannel source = FileChannel.open(raw.file(), StandardOpenOption.READ);
                FileChannel sink = FileChannel.open(target, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long capacity = sink.size();
            if (capacity < raw.size()) {
                throw IngotException.tried(ErrorCode.CHECK_FAILED, attempt, "the partition holds " + capacity + " bytes, the payload "
                        + raw.size()).withHint("the slot partitions of this disk are smaller than the image's: re-image the whole disk");
            }
            long position = resumeFrom > 0 && resumeFrom <= raw.size() && resumeFrom % CHUNK == 0 && samePrefix(source, sink, resumeFrom)
                    ? resumeFrom : 0;
            progress.start("write slot " + slot, raw.size());
            progress.advance(position);
            ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
            while (position < raw.size()) {
                buffer.clear().limit((int) Math.min(CHUNK, raw.size() - position));
                readFully(source, buffer, position);
                buffer.flip();
                while (buffer.hasRemaining()) {
                    sink.write(buffer, position + buffer.position());
                }
                sink.force(false);
                position += buffer.limit();
                progress.advance(buffer.limit());
                checkpoint.reached(position);
            }
            Sha256 written = digest(sink, raw.size());
            progress.done();
            if (!written.equals(raw.digest())) {
                throw IngotException.tried(ErrorCode.CHECK_FAILED, attempt, "what was read back has SHA-256 " + written + ", the payload "
                        + raw.digest()).withHint("the disk may be failing; the running slot stays the default");
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt, String.valueOf(e.getMessage())).withCause(e);
        }
    }

    private static boolean samePrefix(FileChannel source, FileChannel sink, long length) throws IOException {
        ByteBuffer a = ByteBuffer.allocate(CHUNK);
        ByteBuffer b = ByteBuffer.allocate(CHUNK);
        for (long position = 0; position < length; position += CHUNK) {
            int size = (int) Math.min(CHUNK, length - position);
            a.clear().limit(size);
            b.clear().limit(size);
            readFully(source, a, position);
            readFully(sink, b, position);
            if (!Arrays.equals(a.array(), 0, size, b.array(), 0, size)) {
                return false;
            }
        }
        return true;
    }

    private static Sha256 digest(FileChannel channel, long length) throws IOException {
        MessageDigest sha256 = Sha256.newDigest();
        ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
        for (long position = 0; position < length; position += CHUNK) {
            buffer.clear().limit((int) Math.min(CHUNK, length - position));
            readFully(channel, buffer, position);
            buffer.flip();
            sha256.update(buffer);
        }
        return Sha256.fromBytes(sha256.digest());
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, at);
            if (read < 0) {
                throw new IOException("unexpected end at byte " + at);
            }
            at += read;
        }
    }
}
