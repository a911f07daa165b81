package dev.ingot.image;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds the data extents of a sparse file with {@code lseek(2)} SEEK_DATA/SEEK_HOLE, called through
 * the FFM API (the JDK has no Java API for it), so holes are never read. Where the system or file
 * system cannot tell (not Linux, EINVAL), the whole file counts as data, as bmaptool does.
 */
public final class SparseFile {
    /** A byte range [offset, offset + length) of a file. */
    public record Extent(long offset, long length) {
        public long end() {
            return offset + length;
        }
    }

    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final int ENXIO = 6;

    private static final Optional<Native> NATIVE = Native.load();

    private SparseFile() {}

    /** Data extents of {@code file}, sorted, not merged, not aligned; [0, size) when holes cannot be found. */
    public static List<Extent> dataExtents(Path file) throws IOException {
        long size = Files.size(file);
        if (size == 0) {
            return List.of();
        }
        if (NATIVE.isEmpty()) {
            return List.of(new Extent(0, size));
        }
        return NATIVE.get().extents(file, size);
    }

    /**
     * The extents grown to whole blocks and merged where they touch: the mapped ranges of a block
     * map. The last block may be short when the size is not a multiple of {@code blockSize}.
     */
    public static List<Extent> alignToBlocks(List<Extent> extents, int blockSize, long size) {
        List<Extent> aligned = new ArrayList<>();
        long currentStart = -1;
        long currentEnd = -1;
        for (Extent extent : extents) {
            long start = Math.floorDiv(extent.offset(), blockSize) * (long) blockSize;
            long end = Math.min(size, ceilToBlock(extent.end(), blockSize));
            if (start >= end) {
                continue;
            }
            if (currentEnd >= start) {
                currentEnd = Math.max(currentEnd, end);
            } else {
                if (currentStart >= 0) {
                    aligned.add(new Extent(currentStart, currentEnd - currentStart));
                }
                currentStart = start;
                currentEnd = end;
            }
        }
        if (currentStart >= 0) {
            aligned.add(new Extent(currentStart, currentEnd - currentStart));
        }
        return aligned;
    }

    /** Cuts extents longer than {@code maxLength} (a multiple of the block size) into pieces of at most that length. */
    public static List<Extent> split(List<Extent> extents, long maxLength) {
        List<Extent> pieces = new ArrayList<>();
        for (Extent extent : extents) {
            for (long offset = extent.offset(); offset < extent.end(); offset += maxLength) {
                pieces.add(new Extent(offset, Math.min(maxLength, extent.end() - offset)));
            }
        }
        return pieces;
    }

    /** Cuts extents at each of {@code boundaries} that falls inside one (a partition's edges: no range crosses them). */
    public static List<Extent> cutAt(List<Extent> extents, List<Long> boundaries) {
        List<Long> sorted = boundaries.stream().sorted().distinct().toList();
        List<Extent> pieces = new ArrayList<>();
        for (Extent extent : extents) {
            long start = extent.offset();
            for (long boundary : sorted) {
                if (boundary > start && boundary < extent.end()) {
                    pieces.add(new Extent(start, boundary - start));
                    start = boundary;
                }
            }
            pieces.add(new Extent(start, extent.end() - start));
        }
        return pieces;
    }

    private static long ceilToBlock(long offset, int blockSize) {
        return Math.floorDiv(offset + blockSize - 1, blockSize) * (long) blockSize;
    }

    /** libc's open, lseek and close with errno captured. */
    private record Native(MethodHandle open, MethodHandle lseek, MethodHandle close, StructLayout callState,
            VarHandle errno) {

        static Optional<Native> load() {
            if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
                return Optional.empty();
            }
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                StructLayout callState = Linker.Option.captureStateLayout();
                VarHandle errno = callState.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
                Linker.Option captureErrno = Linker.Option.captureCallState("errno");
                MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                        captureErrno, Linker.Option.firstVariadicArg(2));
                MethodHandle lseek = linker.downcallHandle(libc.find("lseek").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT),
                        captureErrno);
                MethodHandle close = linker.downcallHandle(libc.find("close").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                return Optional.of(new Native(open, lseek, close, callState, errno));
            } catch (RuntimeException | LinkageError e) {
                // Native access denied or symbols missing: fall back to reading the whole file.
                return Optional.empty();
            }
        }

        List<Extent> extents(Path file, long size) throws IOException {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(callState);
                MemorySegment path = arena.allocateFrom(file.toAbsolutePath().toString());
                int fd = (int) open.invokeExact(state, path, O_RDONLY | O_CLOEXEC, 0);
                if (fd < 0) {
                    throw new IOException("open(" + file + ") failed with errno " + errno(state));
                }
                try {
                    List<Extent> extents = new ArrayList<>();
                    long position = 0;
                    while (position < size) {
                        long data = (long) lseek.invokeExact(state, fd, position, SEEK_DATA);
                        if (data < 0) {
                            int error = errno(state);
                            if (error == ENXIO) {
                                break; // no data after position: the rest is a hole
                            }
                            return List.of(new Extent(0, size)); // SEEK_DATA unsupported here
                        }
                        long hole = (long) lseek.invokeExact(state, fd, data, SEEK_HOLE);
                        if (hole < 0) {
                            hole = size;
                        }
                        hole = Math.min(hole, size);
                        if (hole > data) {
                            extents.add(new Extent(data, hole - data));
                        }
                        position = hole;
                    }
                    return extents;
                } finally {
                    int ignored = (int) close.invokeExact(fd);
                }
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw IngotException.tried(ErrorCode.INTERNAL, "find the data extents of " + file, e.toString());
            }
        }

        private int errno(MemorySegment state) {
            return (int) errno.get(state, 0L);
        }
    }
}
