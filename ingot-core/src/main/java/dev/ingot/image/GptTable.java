package dev.ingot.image;

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
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * The GUID partition table of a disk or disk image (UEFI 2.10 §5.3.2), checked as firmware checks it: the primary
 * header at LBA 1 and the backup header at the last LBA, each with its signature ("EFI PART"), its size, its own
 * CRC32 (computed with the field zeroed), its place (MyLBA) and its partner's (AlternateLBA), and the CRC32 of the
 * partition entry array it points to; both arrays the same; partitions inside the usable LBAs, disjoint, with unique
 * names. {@link java.util.zip.CRC32} is the CRC-32 UEFI specifies, so no library is needed. The one GPT reader:
 * publishing (slot payloads), flashing into a partition and the offline image tests use it.
 */
public record GptTable(int sectorSize, long diskSize, String diskGuid, long firstUsableLba, long lastUsableLba,
        List<Partition> partitions) {
    private static final long SIGNATURE = 0x5452415020494645L; // "EFI PART", little-endian
    private static final int MIN_HEADER_SIZE = 92;

    public GptTable {
        partitions = List.copyOf(partitions);
    }

    /** One used partition entry. */
    public record Partition(int number, String name, long firstLba, long lastLba, int sectorSize, String typeGuid, String uniqueGuid) {
        /** Byte offset of the partition on the disk. */
        public long offset() {
            return firstLba * sectorSize;
        }

        /** Size of the partition in bytes. */
        public long size() {
            return (lastLba - firstLba + 1) * sectorSize;
        }
    }

    public Optional<Partition> partition(String name) {
        return partitions.stream().filter(partition -> partition.name().equals(name)).findFirst();
    }

    /** The names, for messages: {@code 'esp', 'root-a', …}. */
    public String names() {
        return String.join(", ", partitions.stream().map(partition -> "'" + partition.name() + "'").toList());
    }

    /** Whether {@code image} has a GPT at all (the signature at LBA 1, 512- or 4096-byte sectors); nothing is checked. */
    public static boolean present(Path image) {
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.READ)) {
            return signatureAt(channel) > 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** Reads and checks the table of a disk image file. */
    public static GptTable read(Path image) {
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.READ)) {
            return read(channel, channel.size(), image.toString());
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the partition table of " + image, String.valueOf(e.getMessage()))
                    .withCause(e);
        }
    }

    /**
     * Reads and checks the table of a disk of {@code diskSize} bytes open on {@code channel} (a block device's size
     * comes from BLKGETSIZE64: its channel's size is 0). Throws CHECK_FAILED naming the header or array that is wrong.
     */
    public static GptTable read(FileChannel channel, long diskSize, String disk) throws IOException {
        String what = "read the partition table of " + disk;
        int sectorSize = signatureAt(channel);
        if (sectorSize == 0) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, what, "it has no GPT header (no \"EFI PART\" at LBA 1)")
                    .withHint("is it a raw disk image from the Packer build?");
        }
        long lastLba = diskSize / sectorSize - 1;
        Header primary = header(channel, 1, sectorSize, "primary", what);
        if (primary.alternateLba() != lastLba) {
            throw damaged(what, "the primary GPT header says the backup header is at LBA " + primary.alternateLba()
                    + ", but the disk's last LBA is " + lastLba + " (a truncated image, or one grown without moving the backup)");
        }
        Header backup = header(channel, lastLba, sectorSize, "backup", what);
        if (backup.alternateLba() != 1) {
            throw damaged(what, "the backup GPT header points to LBA " + backup.alternateLba() + " for the primary, not 1");
        }
        if (primary.entriesCrc() != backup.entriesCrc() || primary.count() != backup.count() || primary.entrySize() != backup.entrySize()
                || primary.firstUsable() != backup.firstUsable() || primary.lastUsable() != backup.lastUsable()) {
            throw damaged(what, "the primary and backup GPT headers describe different tables");
        }
        ByteBuffer entries = primary.entries();
        List<Partition> partitions = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int index = 0; index < primary.count(); index++) {
            int base = index * primary.entrySize();
            String type = guid(entries, base);
            if (type.equals("00000000-0000-0000-0000-000000000000")) {
                continue;
            }
            byte[] nameBytes = new byte[72];
            entries.get(base + 56, nameBytes);
            String name = new String(nameBytes, StandardCharsets.UTF_16LE);
            int end = name.indexOf('\0');
            name = end < 0 ? name : name.substring(0, end);
            long first = entries.getLong(base + 32);
            long last = entries.getLong(base + 40);
            if (first < primary.firstUsable() || last > primary.lastUsable() || last < first) {
                throw damaged(what, "partition " + (index + 1) + " ('" + name + "') spans LBA " + first + "-" + last
                        + ", outside the usable LBAs " + primary.firstUsable() + "-" + primary.lastUsable());
            }
            for (Partition other : partitions) {
                if (first <= other.lastLba() && other.firstLba() <= last) {
                    throw damaged(what, "partitions " + other.number() + " and " + (index + 1) + " overlap");
                }
            }
            if (!name.isEmpty() && !names.add(name)) {
                throw damaged(what, "two partitions are named '" + name + "'");
            }
            partitions.add(new Partition(index + 1, name, first, last, sectorSize, type, guid(entries, base + 16)));
        }
        return new GptTable(sectorSize, diskSize, guid(primary.raw(), 56), primary.firstUsable(), primary.lastUsable(), partitions);
    }

    private record Header(ByteBuffer raw, long alternateLba, long firstUsable, long lastUsable, int count, int entrySize,
            int entriesCrc, ByteBuffer entries) {}

    /** One header and its entry array, each CRC checked. */
    private static Header header(FileChannel channel, long lba, int sectorSize, String which, String what) throws IOException {
        ByteBuffer raw = read(channel, lba * sectorSize, sectorSize);
        if (raw.remaining() < MIN_HEADER_SIZE || raw.getLong(0) != SIGNATURE) {
            throw damaged(what, "the " + which + " GPT header (LBA " + lba + ") is missing");
        }
        int size = raw.getInt(12);
        if (size < MIN_HEADER_SIZE || size > sectorSize) {
            throw damaged(what, "the " + which + " GPT header says it is " + size + " bytes");
        }
        int stored = raw.getInt(16);
        byte[] bytes = new byte[size];
        raw.get(0, bytes);
        java.util.Arrays.fill(bytes, 16, 20, (byte) 0);
        int computed = crc(bytes, bytes.length);
        if (stored != computed) {
            throw damaged(what, String.format(Locale.ROOT, "the %s GPT header's CRC32 is %08x, computed %08x", which, stored, computed));
        }
        long myLba = raw.getLong(24);
        if (myLba != lba) {
            throw damaged(what, "the " + which + " GPT header at LBA " + lba + " says it is at LBA " + myLba);
        }
        long entriesLba = raw.getLong(72);
        int count = raw.getInt(80);
        int entrySize = raw.getInt(84);
        if (count <= 0 || count > 1024 || entrySize < 128 || entrySize > 4096 || entrySize % 8 != 0) {
            throw damaged(what, "the " + which + " GPT header announces " + count + " entries of " + entrySize + " bytes");
        }
        ByteBuffer entries = read(channel, entriesLba * sectorSize, count * entrySize);
        if (entries.remaining() != count * entrySize) {
            throw damaged(what, "the " + which + " GPT partition entries end past the end of the disk");
        }
        byte[] array = new byte[count * entrySize];
        entries.get(0, array);
        int entriesCrc = raw.getInt(88);
        int computedEntries = crc(array, array.length);
        if (entriesCrc != computedEntries) {
            throw damaged(what, String.format(Locale.ROOT, "the %s GPT partition entry array's CRC32 is %08x, computed %08x", which,
                    entriesCrc, computedEntries));
        }
        return new Header(raw, raw.getLong(32), raw.getLong(40), raw.getLong(48), count, entrySize, entriesCrc, entries);
    }

    /** 512 or 4096 where "EFI PART" stands at LBA 1, else 0. */
    private static int signatureAt(FileChannel channel) throws IOException {
        for (int sectorSize : new int[] {512, 4096}) {
            ByteBuffer header = read(channel, sectorSize, 8);
            if (header.remaining() == 8 && header.getLong(0) == SIGNATURE) {
                return sectorSize;
            }
        }
        return 0;
    }

    private static int crc(byte[] bytes, int length) {
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }

    /** A GUID as text: the first three fields are little-endian on disk, the rest big-endian (UEFI 2.10 Appendix A). */
    private static String guid(ByteBuffer buffer, int offset) {
        return String.format(Locale.ROOT, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X", buffer.getInt(offset),
                buffer.getShort(offset + 4), buffer.getShort(offset + 6), buffer.get(offset + 8), buffer.get(offset + 9),
                buffer.get(offset + 10), buffer.get(offset + 11), buffer.get(offset + 12), buffer.get(offset + 13),
                buffer.get(offset + 14), buffer.get(offset + 15));
    }

    private static IngotException damaged(String what, String reason) {
        return IngotException.tried(ErrorCode.CHECK_FAILED, what, reason).withHint("repair it (sgdisk -e / sgdisk -v) or rebuild the image");
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
