package dev.ingot.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

/**
 * Builds small sparse disk images for tests: holes stay holes (the file is extended with
 * ftruncate, data written only where asked), and content comes from a seeded generator, so the
 * same call gives the same bytes on every run.
 */
public final class SparseImages {
    private SparseImages() {}

    /** One region of data: at {@code offset}, {@code length} bytes. */
    public record Region(long offset, int length) {}

    public static Path create(Path file, long size, long seed, Region... regions) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(0);
            raf.setLength(size);
        }
        Random random = new Random(seed);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            for (Region region : regions) {
                byte[] data = new byte[region.length()];
                fillCompressible(random, data);
                ByteBuffer buffer = ByteBuffer.wrap(data);
                while (buffer.hasRemaining()) {
                    channel.write(buffer, region.offset() + buffer.position());
                }
            }
        }
        return file;
    }

    /** A typical test image: 8 MiB with a partition-table-like head, scattered data, and a short tail block. */
    public static Path typical(Path file) throws IOException {
        return create(file, 8L * 1024 * 1024 + 1000, 42,
                new Region(0, 64 * 1024),
                new Region(1024 * 1024 + 512, 300 * 1024),
                new Region(3L * 1024 * 1024, 4096),
                new Region(5L * 1024 * 1024 + 100, 1),
                new Region(8L * 1024 * 1024, 1000));
    }

    /** Half random, half text-like bytes: compressible like a file system, not trivially so. */
    static void fillCompressible(Random random, byte[] data) {
        String words = "golden image edge device nvidia docker chrony site rollout kernel driver ";
        for (int i = 0; i < data.length; i++) {
            data[i] = (i / 512) % 2 == 0 ? (byte) random.nextInt(256) : (byte) words.charAt(random.nextInt(words.length()));
        }
    }
}
