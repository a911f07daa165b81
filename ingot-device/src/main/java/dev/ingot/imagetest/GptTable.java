package dev.ingot.imagetest;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The GUID partition table of a disk image (UEFI 2.10 §5.3): the header at LBA 1 ("EFI PART"), then the partition
 * entries it points to, each with its first and last LBA and a 36-character UTF-16LE name. Read-only, no root needed.
 */
public record GptTable(int sectorSize, List<Partition> partitions) {
    private static final long SIGNATURE = 0x5452415020494645L; // "EFI PART", little-endian

    public GptTable {
        partitions = List.copyOf(partitions);
    }

    /** One used partition entry. */
    public record Partition(int number, String name, long firstLba, long lastLba, int sectorSize) {
        public long offset() {
            return firstLba * sectorSize;
        }

        public long size() {
            return (lastLba - firstLba + 1) * sectorSize;
        }
    }

    public Optional<Partition> partition(String name) {
        return partitions.stream().filter(partition -> partition.name().equals(name)).findFirst();
    }

    /** Reads the table of {@code image}, trying 512- and then 4096-byte sectors. */
    public static GptTable read(Path image) {
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.READ)) {
            for (int sectorSize : new int[] {512, 4096}) {
                ByteBuffer header = read(channel, sectorSize, 92);
                if (header.remaining() == 92 && header.getLong(0) == SIGNATURE) {
                    return parse(channel, header, sectorSize);
                }
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the partition table of " + image, e.getMessage())
                    .withCause(e);
        }
        throw IngotException.tried(ErrorCode.CHECK_FAILED, "read the partition table of " + image,
                "it has no GPT header (no \"EFI PART\" at LBA 1)").withHint("is it a raw disk image from the Packer build?");
    }

    private static GptTable parse(FileChannel channel, ByteBuffer header, int sectorSize) throws IOException {
        long entriesLba = header.getLong(72);
        int count = header.getInt(80);
        int entrySize = header.getInt(84);
        if (count <= 0 || count > 1024 || entrySize < 128 || entrySize > 4096) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, "read the GPT partition entries",
                    "the header announces " + count + " entries of " + entrySize + " bytes");
        }
        ByteBuffer entries = read(channel, entriesLba * sectorSize, count * entrySize);
        List<Partition> partitions = new ArrayList<>();
        for (int index = 0; index < count && (index + 1) * entrySize <= entries.limit(); index++) {
            int base = index * entrySize;
            boolean unused = entries.getLong(base) == 0 && entries.getLong(base + 8) == 0;
            if (unused) {
                continue;
            }
            byte[] nameBytes = new byte[72];
            entries.get(base + 56, nameBytes);
            String name = new String(nameBytes, StandardCharsets.UTF_16LE);
            int end = name.indexOf('\0');
            partitions.add(new Partition(index + 1, end < 0 ? name : name.substring(0, end), entries.getLong(base + 32),
                    entries.getLong(base + 40), sectorSize));
        }
        return new GptTable(sectorSize, partitions);
    }

    private static ByteBuffer read(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, position + buffer.position());
            if (read < 0) {
                break;
            }
        }
        return buffer.flip();
    }
}
