package dev.ingot.flash;

import com.sun.nio.file.ExtendedOpenOption;
import dev.ingot.digest.Sha256;
import dev.ingot.image.BlockMap;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The target as the engine writes it: the O_EXCL claim on a block device (held for the whole flash, so nothing can
 * mount it or build on it meanwhile), a write channel opened with O_DIRECT where the file system allows it and every
 * range is aligned (the page cache is neither copied through nor filled; a live device keeps its working set), a
 * buffered channel for the unaligned tail (an image whose size is no multiple of 4096), and a read channel for the
 * read-back, direct too where possible. Data goes through the JDK's channels; the claim's descriptor is only held.
 *
 * <p>Nothing is changed before the first checked range is written ({@link #prepare}): a flash refused on its first
 * range leaves the target as it was. The window is where the image lands: offset 0 on a disk or a partition device,
 * the partition's offset inside a disk image file.
 */
final class TargetIo implements AutoCloseable {
    /** Opens channels; a seam so that tests can play a file system that refuses O_DIRECT. */
    @FunctionalInterface
    interface Opener {
        Opener DEFAULT = FileChannel::open;

        FileChannel open(Path path, Set<? extends OpenOption> options) throws IOException;
    }

    private final FlashTarget target;
    private final BlockMap map;
    private final Flasher.Direct mode;
    private final Opener opener;
    private final long window;
    private final Optional<LinuxIo> claim;
    private final int align;
    private final List<FileChannel> opened = new ArrayList<>();
    private FileChannel direct;
    private FileChannel buffered;
    private FileChannel reader;
    private boolean directReads;
    private Optional<LinuxIo> pages = Optional.empty();
    private String directIo;

    private TargetIo(FlashTarget target, BlockMap map, Flasher.Direct mode, Opener opener, Optional<LinuxIo> claim, int align) {
        this.target = target;
        this.map = map;
        this.mode = mode;
        this.opener = opener;
        this.window = target.window().offset();
        this.claim = claim;
        this.align = align;
        this.directIo = mode == Flasher.Direct.OFF ? "off (--direct off)" : "not decided";
    }

    /** Claims a block device (O_EXCL); nothing is opened for writing yet. */
    static TargetIo claim(FlashTarget target, BlockMap map, Flasher.Direct mode, Opener opener, String what) throws IOException {
        Optional<LinuxIo> claim = Optional.empty();
        if (target.kind() != FlashTarget.Kind.FILE && LinuxIo.available()) {
            claim = Optional.of(LinuxIo.claim(target.path()).orElseThrow(() -> FlashTarget.busy(target.path(), what)));
        }
        int align = 4096;
        try {
            align = (int) Math.max(512, Files.getFileStore(target.path().getParent() == null ? target.path() : target.path()).getBlockSize());
        } catch (IOException | UnsupportedOperationException e) {
            // a store that cannot say: 4096 covers 512e and 4Kn devices
        }
        return new TargetIo(target, map, mode, opener, claim, align);
    }

    /** "on", or "off: why". */
    String directIo() {
        return directIo;
    }

    int alignment() {
        return align;
    }

    /** Readies the target for the first write: a file gets the image's size (with a hole), the channels open. */
    void prepare() throws IOException {
        if (target.kind() == FlashTarget.Kind.FILE && target.window().whole()) {
            try (RandomAccessFile file = new RandomAccessFile(target.path().toFile(), "rw")) {
                if (file.length() != map.imageSize()) {
                    file.setLength(map.imageSize()); // grows with a hole, or cuts a longer file to the image's size
                }
            }
        }
        buffered = open(Set.of(StandardOpenOption.WRITE));
        Optional<String> ineligible = ineligible();
        if (mode != Flasher.Direct.OFF) {
            if (ineligible.isPresent()) {
                directIo = "off: " + ineligible.get();
            } else {
                try {
                    direct = open(Set.of(StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT));
                    directIo = "on";
                } catch (IOException | UnsupportedOperationException e) {
                    directIo = "off: the file system refused O_DIRECT (" + e.getMessage() + ")";
                }
            }
            if (direct == null && mode == Flasher.Direct.ON) {
                throw new IOException("--direct on, but direct I/O is " + directIo);
            }
        }
        if (ineligible.isEmpty()) {
            try {
                reader = open(Set.of(StandardOpenOption.READ, ExtendedOpenOption.DIRECT));
                directReads = true;
            } catch (IOException | UnsupportedOperationException e) {
                reader = null;
            }
        }
        if (reader == null) {
            reader = open(Set.of(StandardOpenOption.READ));
            pages = LinuxIo.available() ? Optional.of(LinuxIo.open(target.path(), false)) : Optional.empty();
        }
    }

    private Optional<String> ineligible() {
        if (map.blockSize() % align != 0) {
            return Optional.of("the bmap's " + map.blockSize() + "-byte blocks are not multiples of the " + align + "-byte alignment");
        }
        if (window % align != 0) {
            return Optional.of("the partition starts at byte " + window + ", not a multiple of " + align);
        }
        return Optional.empty();
    }

    private FileChannel open(Set<? extends OpenOption> options) throws IOException {
        FileChannel channel = opener.open(target.path(), options);
        opened.add(channel);
        return channel;
    }

    /** Writes {@code data[0, length)} (a buffer aligned at 0) at {@code offset} of the image. */
    void write(long offset, ByteBuffer data, int length) throws IOException {
        long at = window + offset;
        int aligned = direct == null ? 0 : length - length % align;
        if (aligned > 0) {
            writeFully(direct, data.duplicate().position(0).limit(aligned), at);
        }
        if (aligned < length) {
            writeFully(buffered, data.duplicate().position(aligned).limit(length), at + aligned);
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer data, long position) throws IOException {
        long at = position;
        while (data.hasRemaining()) {
            at += channel.write(data, at);
        }
    }

    /**
     * Reads {@code [offset, offset + length)} of the image back from the target into {@code buffer} (aligned at 0, with
     * room for {@code length} rounded up to the alignment) and leaves the bytes at {@code [0, length)}. Direct reads go
     * to the device (the kernel writes back dirty pages of the range first, so they are right even after buffered
     * writes); without them the range's pages are written back and dropped (sync_file_range, POSIX_FADV_DONTNEED) and
     * read again.
     */
    void readBack(long offset, int length, ByteBuffer buffer) throws IOException {
        if (!directReads && pages.isPresent()) {
            pages.get().writeBackAndDrop(window + offset, length);
        }
        // A direct read must be aligned: read whole blocks (the last one may end past the image) and keep what is wanted.
        int ask = directReads ? (length + align - 1) / align * align : length;
        buffer.clear().limit(ask);
        long at = window + offset;
        while (buffer.position() < length) {
            int n = reader.read(buffer, at + buffer.position());
            if (n <= 0) {
                throw new IOException("the target ended at byte " + (at + buffer.position()) + " while reading back");
            }
        }
        buffer.position(0).limit(length);
    }

    /** Reads a range of any length back, a buffer at a time, and returns its SHA-256 (for a spooled range, held in no buffer). */
    Sha256 readBackDigest(long offset, long length, ByteBuffer buffer, Stages.Stage hashing) throws IOException {
        MessageDigest digest = Sha256.newDigest();
        long position = offset;
        long end = offset + length;
        while (position < end) {
            int want = (int) Math.min(buffer.capacity() - align, end - position);
            readBack(position, want, buffer);
            long cpu = Stages.threadCpu();
            digest.update(buffer);
            hashing.add(Stages.threadCpu() - cpu, want);
            position += want;
        }
        return Sha256.fromBytes(digest.digest());
    }

    /** fdatasync (and, for a file, its size too). */
    void force() throws IOException {
        boolean metadata = target.kind() == FlashTarget.Kind.FILE;
        if (direct != null) {
            direct.force(metadata);
        }
        if (buffered != null) {
            buffered.force(metadata);
        }
    }

    boolean prepared() {
        return buffered != null;
    }

    @Override
    public void close() {
        for (FileChannel channel : opened) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing after the last force: nothing more to save
            }
        }
        pages.ifPresent(LinuxIo::close);
        claim.ifPresent(LinuxIo::close);
    }
}
