package dev.ingot.provision;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Replaces a set of files so that, at every instant and after a crash at any instant, each file holds either
 * its old content or its new content, never a mix. Every new content is first written to a temporary file
 * beside its target and fsynced; only when all of them are safely on disk are they renamed over their targets,
 * one by one, in order (rename(2) is atomic), and the folders fsynced so the renames survive a power cut.
 * A crash between two renames leaves the earlier files new and the later ones old; running again finishes.
 * The project's one atomic-write path: provisioning's files, the agent's state, the container tag and the ESP's
 * GRUB environment all go through it.
 */
public final class AtomicFiles {
    /**
     * Temporary files are hidden and end in '~', the backup-file convention: apt, systemd and run-parts skip
     * such names, so one left behind by a crash is never read as configuration. The next run removes it.
     */
    static final String TEMP_PREFIX = ".";
    static final String TEMP_SUFFIX = ".ingot-new~";

    private AtomicFiles() {}

    /**
     * One file to put in place ({@code content} present) or to remove (empty), with its mode; without one the file
     * gets the mode new files get (a FAT file system, like the ESP's, has no modes to set).
     */
    record Replacement(Path target, Optional<byte[]> content, Optional<Set<PosixFilePermission>> permissions) {
        Replacement {
            requireNonNull(target, "target");
            requireNonNull(content, "content");
            permissions = permissions.map(Set::copyOf);
        }

        Replacement(Path target, Optional<byte[]> content, Set<PosixFilePermission> permissions) {
            this(target, content, Optional.of(permissions));
        }
    }

    /**
     * Replaces one file atomically: a crash at any instant leaves its old content or {@code content}, never a mix.
     *
     * @param permissions the file's mode; empty for the mode new files get
     * @throws IOException why it could not be written; the file then still holds its old content
     */
    public static void replace(Path target, byte[] content, Optional<Set<PosixFilePermission>> permissions) throws IOException {
        List<Path> targets = List.of(target);
        try {
            removeLeftovers(targets);
            replaceAll(List.of(new Replacement(target, Optional.of(content.clone()), permissions)));
        } catch (Failure failure) {
            throw failure.getCause();
        }
    }

    /** Why a step failed, and where: the file being written and how far the replacement had got. */
    static final class Failure extends Exception {
        private final Path file;
        private final List<Path> replaced;

        Failure(Path file, List<Path> replaced, IOException cause) {
            super(cause.getMessage(), cause);
            this.file = file;
            this.replaced = List.copyOf(replaced);
        }

        Path file() {
            return file;
        }

        /** The targets already replaced (new) when it failed; every other target is untouched (old). */
        List<Path> replaced() {
            return replaced;
        }

        @Override
        public synchronized IOException getCause() {
            return (IOException) super.getCause();
        }
    }

    static Path tempFor(Path target) {
        return target.resolveSibling(TEMP_PREFIX + target.getFileName() + TEMP_SUFFIX);
    }

    /** Removes one file durably (its folder fsynced): a power cut after the call cannot bring it back. */
    public static void remove(Path target) throws IOException {
        try {
            replaceAll(List.of(new Replacement(target, Optional.empty(), Optional.empty())));
        } catch (Failure failure) {
            throw failure.getCause();
        }
    }

    /** Removes temporary files a killed run left beside these targets. */
    static void removeLeftovers(List<Path> targets) throws Failure {
        for (Path target : targets) {
            Path temp = tempFor(target);
            try {
                Files.deleteIfExists(temp);
            } catch (IOException e) {
                throw new Failure(target, List.of(), e);
            }
        }
    }

    static void replaceAll(List<Replacement> replacements) throws Failure {
        List<Path> written = new ArrayList<>();
        try {
            for (Replacement replacement : replacements) {
                if (replacement.content().isPresent()) {
                    Path temp = tempFor(replacement.target());
                    try {
                        createFolders(replacement.target().getParent());
                        writeSynced(temp, replacement.content().get(), replacement.permissions());
                    } catch (IOException e) {
                        throw new Failure(replacement.target(), List.of(), e);
                    }
                    written.add(temp);
                }
            }
            List<Path> replaced = new ArrayList<>();
            Set<Path> folders = new LinkedHashSet<>();
            for (Replacement replacement : replacements) {
                Path target = replacement.target();
                try {
                    if (replacement.content().isPresent()) {
                        renameOver(tempFor(target), target);
                        written.remove(tempFor(target));
                    } else {
                        Files.deleteIfExists(target);
                    }
                } catch (IOException e) {
                    throw new Failure(target, replaced, e);
                }
                replaced.add(target);
                folders.add(target.getParent());
            }
            for (Path folder : folders) {
                try {
                    fsync(folder);
                } catch (IOException e) {
                    throw new Failure(folder, replaced, e);
                }
            }
        } finally {
            for (Path temp : written) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException e) {
                    // The next run removes it; the failure being reported matters more.
                }
            }
        }
    }

    private static void renameOver(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system cannot rename atomically", e);
        }
    }

    private static void writeSynced(Path temp, byte[] content, Optional<Set<PosixFilePermission>> permissions) throws IOException {
        Files.deleteIfExists(temp);
        // Created with its final mode (a 0600 file is never readable by others, not even for an instant); set again
        // after, since the umask may have taken bits away.
        FileAttribute<?>[] attributes = permissions.map(mode -> new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(mode)})
                .orElse(new FileAttribute<?>[0]);
        try (SeekableByteChannel channel = Files.newByteChannel(temp, EnumSet.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), attributes)) {
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            ((FileChannel) channel).force(true);
        }
        if (permissions.isPresent()) {
            Files.setPosixFilePermissions(temp, permissions.get());
        }
    }

    /** Creates missing folders (mode 0755) one level at a time, fsyncing each new folder's parent. */
    private static void createFolders(Path folder) throws IOException {
        if (Files.isDirectory(folder)) {
            return;
        }
        createFolders(folder.getParent());
        try {
            Files.createDirectory(folder, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(folder)) {
                throw e;
            }
            return;
        }
        fsync(folder.getParent());
    }

    static void fsync(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, Files.isDirectory(path) ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }
}
