package dev.ingot.imagetest;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A root file system the image checks read: a tree extracted from an image's {@code root-a} partition, or a running
 * host's {@code /}. Paths are absolute inside the tree ({@code /etc/passwd}); symbolic links resolve inside it.
 */
public interface ImageTree {
    /** The content of a regular file as UTF-8 text, or empty when there is none at {@code path}. */
    Optional<String> read(String path);

    /** The names in a folder, sorted; empty when there is no such folder. */
    List<String> list(String folder);

    /** Whether anything (a file, a folder, a link, even a dangling one) is at {@code path}. */
    boolean exists(String path);

    /** The permission bits of the regular file at {@code path} (links followed inside the tree), or empty when there is none. */
    OptionalInt fileMode(String path);

    /** Whether {@code path} is a regular file with an execute bit set (for anyone). */
    default boolean isExecutable(String path) {
        return fileMode(path).stream().anyMatch(mode -> (mode & 0111) != 0);
    }

    /** Calls {@code visitor} with every regular file of the tree, in path order, for the secret scan. */
    void forEachFile(FileVisitor visitor) throws IOException;

    /** A describing name for reports: the image and partition, or the host. */
    String describe();

    @FunctionalInterface
    interface FileVisitor {
        void visit(String path, long size, InputStream content) throws IOException;
    }
}
