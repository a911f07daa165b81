package dev.ingot.flash;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The few Linux calls the JDK has no API for, through the FFM API: ioctl BLKGETSIZE64 and
 * BLKZEROOUT (linux/fs.h), fallocate FALLOC_FL_PUNCH_HOLE (fallocate(2)), sync_file_range(2) and
 * posix_fadvise POSIX_FADV_DONTNEED (posix_fadvise(2)). Each works on a file descriptor this class
 * opens itself; writes go through the JDK's FileChannel. Hand-written: no maintained Java library
 * wraps these calls.
 */
final class LinuxIo implements AutoCloseable {
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;
    private static final int O_CLOEXEC = 0x80000;
    private static final int O_CREAT = 0x40;
    /**
     * Fail with ELOOP when the last component is a symbolic link (open(2)). Its value depends on the architecture:
     * 0400000 in asm-generic (x86-64, RISC-V), 0100000 on arm, arm64 and powerpc (arch/.../uapi/asm/fcntl.h).
     */
    private static final int O_NOFOLLOW = switch (System.getProperty("os.arch", "")) {
        case "aarch64", "arm", "ppc64", "ppc64le" -> 0100000;
        default -> 0400000;
    };
    private static final int ELOOP = 40;
    private static final int EEXIST = 17;
    /** On a block device without O_CREAT: open exclusively, EBUSY while the kernel has it or a partition claimed (open(2)). */
    private static final int O_EXCL = 0x80;
    private static final int EBUSY = 16;
    private static final long BLKGETSIZE64 = 0x80081272L;
    private static final long BLKZEROOUT = 0x127fL;
    private static final int FALLOC_FL_KEEP_SIZE = 0x01;
    private static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    private static final int POSIX_FADV_DONTNEED = 4;
    /** sync_file_range(2): wait for earlier writeback, start writeback of the range, wait for it. */
    private static final int SYNC_FILE_RANGE_ALL = 1 | 2 | 4;

    private static final Optional<Calls> CALLS = Calls.load();

    private final int fd;
    private final Path path;

    private LinuxIo(int fd, Path path) {
        this.fd = fd;
        this.path = path;
    }

    static boolean available() {
        return CALLS.isPresent();
    }

    /** Opens {@code path} for the calls below; {@code write} for zeroing and hole punching. */
    static LinuxIo open(Path path, boolean write) throws IOException {
        return openWith(path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC, 0, "");
    }

    /**
     * Opens a file target for writing under its own name only: O_NOFOLLOW refuses a symbolic link put at the name
     * (ELOOP), and with {@code create} O_CREAT|O_EXCL makes a new file and refuses anything already there, a link
     * included (EEXIST). Mode 0666 less the umask, as any new file.
     */
    static LinuxIo openFile(Path path, boolean create) throws IOException {
        int flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0);
        return openWith(path, flags, 0666, create ? " (O_CREAT|O_EXCL|O_NOFOLLOW)" : " (O_NOFOLLOW)");
    }

    private static LinuxIo openWith(Path path, int flags, int mode, String how) throws IOException {
        Calls calls = CALLS.orElseThrow(() -> new IOException("Linux system calls are not available here"));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(calls.callState());
            int fd = (int) calls.open().invokeExact(state, arena.allocateFrom(path.toString()), flags, mode);
            if (fd < 0) {
                int errno = calls.errno(state);
                String why = switch (errno) {
                    case ELOOP -> "it is a symbolic link";
                    case EEXIST -> "something is there already";
                    default -> "errno " + errno;
                };
                throw new IOException("open(" + path + how + ") failed: " + why);
            }
            return new LinuxIo(fd, path);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException(e);
        }
    }

    /**
     * This descriptor as a path ({@code /proc/self/fd/N}, proc(5)): opening it opens the very file this descriptor
     * has open again, whatever its old name points at by now, and its attributes are that file's.
     */
    Path reopenPath() {
        return Path.of("/proc/self/fd/" + fd);
    }
    /**
     * Claims a block device for as long as the result stays open: open(2) with O_EXCL fails with EBUSY while the
     * device or any of its partitions is mounted, held by device-mapper (LVM, LUKS), md, or swap, or claimed by another
     * program. Empty when it is busy.
     */
    static Optional<LinuxIo> claim(Path device) throws IOException {
        Calls calls = CALLS.orElseThrow(() -> new IOException("Linux system calls are not available here"));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(calls.callState());
            int fd = (int) calls.open().invokeExact(state, arena.allocateFrom(device.toString()), O_RDONLY | O_EXCL | O_CLOEXEC, 0);
            if (fd < 0) {
                int errno = calls.errno(state);
                if (errno == EBUSY) {
                    return Optional.empty();
                }
                throw new IOException("open(" + device + ", O_EXCL) failed: errno " + errno);
            }
            return Optional.of(new LinuxIo(fd, device));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException(e);
        }
    }

    /** The size of a block device in bytes (ioctl BLKGETSIZE64). */
    long blockDeviceSize() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(ValueLayout.JAVA_LONG);
            ioctl(BLKGETSIZE64, size, "BLKGETSIZE64");
            return size.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** Makes [offset, offset + length) of a block device read as zeros (ioctl BLKZEROOUT; offloaded where the device supports WRITE ZEROES). */
    void zeroOut(long offset, long length) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment range = arena.allocate(ValueLayout.JAVA_LONG, 2);
            range.setAtIndex(ValueLayout.JAVA_LONG, 0, offset);
            range.setAtIndex(ValueLayout.JAVA_LONG, 1, length);
            ioctl(BLKZEROOUT, range, "BLKZEROOUT");
        }
    }

    /** Turns [offset, offset + length) of a regular file into a hole that reads as zeros, keeping the size. */
    void punchHole(long offset, long length) throws IOException {
        Calls calls = CALLS.orElseThrow();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(calls.callState());
            int result = (int) calls.fallocate().invokeExact(state, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
            if (result != 0) {
                throw new IOException("fallocate(PUNCH_HOLE) on " + path + " failed: errno " + calls.errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException(e);
        }
    }

    /**
     * Writes back the cached pages of {@code [offset, offset + length)} and drops them, so that a buffered read of that
     * range reads the disk (the read-back's way where direct I/O is refused). sync_file_range accepts regular files and
     * block devices (fs/sync.c); DONTNEED drops only clean pages, hence the write-back first.
     */
    void writeBackAndDrop(long offset, long length) throws IOException {
        Calls calls = CALLS.orElseThrow();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(calls.callState());
            int synced = (int) calls.syncFileRange().invokeExact(state, fd, offset, length, SYNC_FILE_RANGE_ALL);
            if (synced != 0) {
                throw new IOException("sync_file_range on " + path + " failed: errno " + calls.errno(state));
            }
            int result = (int) calls.fadvise().invokeExact(fd, offset, length, POSIX_FADV_DONTNEED);
            if (result != 0) {
                throw new IOException("posix_fadvise(DONTNEED) on " + path + " failed: " + result);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException(e);
        }
    }

    private void ioctl(long request, MemorySegment argument, String name) throws IOException {
        Calls calls = CALLS.orElseThrow();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(calls.callState());
            int result = (int) calls.ioctl().invokeExact(state, fd, request, argument);
            if (result != 0) {
                throw new IOException("ioctl(" + name + ") on " + path + " failed: errno " + calls.errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException(e);
        }
    }

    @Override
    public void close() {
        try {
            int ignored = (int) CALLS.orElseThrow().close().invokeExact(fd);
        } catch (Throwable e) {
            // closing a descriptor we opened cannot usefully fail
        }
    }

    private record Calls(MethodHandle open, MethodHandle ioctl, MethodHandle fallocate, MethodHandle fadvise, MethodHandle syncFileRange,
            MethodHandle close, StructLayout callState, VarHandle errnoHandle) {

        static Optional<Calls> load() {
            if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
                return Optional.empty();
            }
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                StructLayout callState = Linker.Option.captureStateLayout();
                VarHandle errno = callState.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                Linker.Option capture = Linker.Option.captureCallState("errno");
                MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                        capture, Linker.Option.firstVariadicArg(2));
                MethodHandle ioctl = linker.downcallHandle(libc.find("ioctl").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS),
                        capture, Linker.Option.firstVariadicArg(2));
                MethodHandle fallocate = linker.downcallHandle(libc.find("fallocate").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_LONG),
                        capture);
                MethodHandle fadvise = linker.downcallHandle(libc.find("posix_fadvise").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_INT));
                MethodHandle syncFileRange = linker.downcallHandle(libc.find("sync_file_range").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_INT),
                        capture);
                MethodHandle close = linker.downcallHandle(libc.find("close").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                return Optional.of(new Calls(open, ioctl, fallocate, fadvise, syncFileRange, close, callState, errno));
            } catch (RuntimeException | LinkageError e) {
                return Optional.empty();
            }
        }

        int errno(MemorySegment state) {
            return (int) errnoHandle.get(state, 0L);
        }
    }
}
