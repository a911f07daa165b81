package dev.ingot.flash;

import com.sun.nio.file.ExtendedOpenOption;
import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.BlockMap;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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
    private final String what;
    private final int align;
    /** A file target's own descriptor (opened under its name without following a link, its identity compared). */
    private Optional<LinuxIo> file;
    /** What the channels are opened through: the checked descriptor's /proc/self/fd path, or the target's path. */
    private Path through;
    private final List<FileChannel> opened = new ArrayList<>();
    private FileChannel direct;
    private FileChannel buffered;
    private FileChannel reader;
    private boolean directReads;
    private Optional<LinuxIo> pages = Optional.empty();
    private String directIo;

    private TargetIo(FlashTarget target, BlockMap map, Flasher.Direct mode, Opener opener, Optional<LinuxIo> claim,
            Optional<LinuxIo> file, String what, int align) {
        this.target = target;
        this.map = map;
        this.mode = mode;
        this.opener = opener;
        this.window = target.window().offset();
        this.claim = claim;
        this.file = file;
        this.what = what;
        this.align = align;
        this.through = claim.or(() -> file).map(LinuxIo::reopenPath).orElse(target.path());
        this.directIo = mode == Flasher.Direct.OFF ? "off (--direct off)" : "not decided";
    }

    /**
     * Claims a block device (O_EXCL) or opens an existing file target under its own name; either must still be what
     * {@link FlashTarget#inspect} checked (the device number; the file's st_dev and st_ino), else CONFLICT: between the
     * check and the write lie the trust checks and the operator's answer, time enough to swap a file for a link.
     * Nothing is written yet.
     */
    static TargetIo claim(FlashTarget target, BlockMap map, Flasher.Direct mode, Opener opener, String what) throws IOException {
        Optional<LinuxIo> claim = Optional.empty();
        Optional<LinuxIo> file = Optional.empty();
        if (target.kind() != FlashTarget.Kind.FILE && LinuxIo.available()) {
            claim = Optional.of(LinuxIo.claim(target.path()).orElseThrow(() -> FlashTarget.busy(target.path(), what)));
            SystemView.DeviceNumber claimed = SystemView.DeviceNumber.fromRdev((Long) Files.getAttribute(claim.get().reopenPath(), "unix:rdev"));
            if (target.device().isPresent() && !target.device().get().equals(claimed)) {
                claim.get().close();
                throw changed(target, "it is device " + claimed + " now, it was " + target.device().get(), what);
            }
        } else if (target.kind() == FlashTarget.Kind.FILE && target.inode().isPresent()) {
            file = openChecked(target, what);
        }
        int align = 4096;
        try {
            align = (int) Math.max(512, Files.getFileStore(target.path().getParent() == null ? target.path() : target.path()).getBlockSize());
        } catch (IOException | UnsupportedOperationException e) {
            // a store that cannot say: 4096 covers 512e and 4Kn devices
        }
        return new TargetIo(target, map, mode, opener, claim, file, what, align);
    }

    /**
     * The file target that was checked, opened without following a link, its identity compared; empty where there are
     * no Linux calls (the channels then open by name with NOFOLLOW_LINKS, the identity compared by name just before).
     */
    private static Optional<LinuxIo> openChecked(FlashTarget target, String what) throws IOException {
        FlashTarget.Inode checked = target.inode().orElseThrow();
        if (!LinuxIo.available()) {
            FlashTarget.Inode now = identity(target.path(), what, target);
            if (!now.equals(checked)) {
                throw changed(target, "it is another file now", what);
            }
            return Optional.empty();
        }
        LinuxIo io;
        try {
            io = LinuxIo.openFile(target.path(), false);
        } catch (IOException e) {
            throw changed(target, e.getMessage(), what);
        }
        FlashTarget.Inode now = FlashTarget.Inode.of(io.reopenPath());
        if (!now.equals(checked)) {
            io.close();
            throw changed(target, "it is another file now (inode " + now.number() + ", it was " + checked.number() + ")", what);
        }
        return Optional.of(io);
    }

    private static FlashTarget.Inode identity(Path path, String what, FlashTarget target) {
        try {
            return FlashTarget.Inode.of(path, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw changed(target, "it cannot be examined (" + e.getMessage() + ")", what);
        }
    }

    private static IngotException changed(FlashTarget target, String how, String what) {
        return IngotException.tried(ErrorCode.CONFLICT, what, target.path() + " changed after it was "
                        + "checked: " + how + "; nothing was written to it")
                .withHint("someone else can write its folder: check what is there now, then flash again");
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
        if (target.kind() == FlashTarget.Kind.FILE && target.inode().isEmpty()) {
            create();
        }
        if (target.kind() == FlashTarget.Kind.FILE && target.window().whole()) {
            try (RandomAccessFile resized = new RandomAccessFile(through.toFile(), "rw")) {
                if (resized.length() != map.imageSize()) {
                    resized.setLength(map.imageSize()); // grows with a hole, or cuts a longer file to the image's size
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
            pages = LinuxIo.available() ? Optional.of(LinuxIo.open(through, false)) : Optional.empty();
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

    /** A file target that did not exist when it was checked: made now, and refused if anything took its name meanwhile. */
    private void create() {
        try {
            if (LinuxIo.available()) {
                file = Optional.of(LinuxIo.openFile(target.path(), true));
                through = file.get().reopenPath();
            } else {
                FileChannel.open(target.path(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)
                        .close();
            }
        } catch (IOException e) {
            throw changed(target, "it did not exist, and now " + e.getMessage().replaceFirst("^.*failed: ", ""), what);
        }
    }

    private FileChannel open(Set<? extends OpenOption> options) throws IOException {
        Set<OpenOption> all = new java.util.HashSet<>(options);
        if (through.equals(target.path()) && target.kind() == FlashTarget.Kind.FILE) {
            all.add(LinkOption.NOFOLLOW_LINKS); // no descriptor of our own: at least never through a link
        }
        FileChannel channel = opener.open(through, all);
        opened.add(channel);
        return channel;
    }

    /** A descriptor on the target for the calls the JDK lacks (zeroing, hole punching, write-back), on the checked file or device. */
    LinuxIo linux(boolean write) throws IOException {
        return LinuxIo.open(through, write);
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
        file.ifPresent(LinuxIo::close);
        claim.ifPresent(LinuxIo::close);
    }
}
