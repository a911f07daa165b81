package dev.ingot.store;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The caller's own folder for downloads, staged uploads and spooled ranges: {@code $XDG_CACHE_HOME/ingot} (else
 * {@code ~/.cache/ingot}) for a user, {@code /var/cache/ingot} for root (XDG Base Directory Specification, "cache").
 * Never a shared path in the system temp folder: there another local user could plant a symbolic link and have root
 * write through it. Every folder is created 0700 and checked, without following links, to be a real folder owned by
 * the caller; files are created with {@code O_CREAT|O_EXCL} (which never follows a link) and moved into place.
 */
public final class WorkFolder {
    private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final Path root;
    private final int uid;

    private WorkFolder(Path root, int uid) {
        this.root = root;
        this.uid = uid;
    }

    /** The default folder for the caller, from the environment given (not the JVM's: tests and the CLI pass theirs). */
    public static Path defaultRoot(Map<String, String> environment) {
        return defaultRoot(environment, currentUid(), System.getProperty("user.home"));
    }

    /**
     * The default folder for {@code uid}. A relative (or empty) {@code XDG_CACHE_HOME} or {@code HOME} is ignored, as the
     * XDG spec says of relative paths: it would put the folder under whatever directory the command runs in. Then the
     * account's home ({@code userHome}, from the password database) is used.
     */
    static Path defaultRoot(Map<String, String> environment, int uid, String userHome) {
        if (uid == 0) {
            return Path.of("/var/cache/ingot");
        }
        String xdg = environment.getOrDefault("XDG_CACHE_HOME", "");
        if (!xdg.isEmpty() && Path.of(xdg).isAbsolute()) {
            return Path.of(xdg, "ingot");
        }
        String home = environment.getOrDefault("HOME", "");
        if (home.isEmpty() || !Path.of(home).isAbsolute()) {
            home = userHome == null ? "" : userHome;
        }
        if (home.isEmpty() || !Path.of(home).isAbsolute()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "find the work folder", "neither XDG_CACHE_HOME nor HOME is an absolute path")
                    .withHint("set HOME, or pass --work-dir DIR");
        }
        return Path.of(home, ".cache", "ingot");
    }

    /** The caller's default work folder, created and checked. */
    public static WorkFolder forCaller(Map<String, String> environment) {
        return at(defaultRoot(environment));
    }

    /** A work folder at {@code root} (e.g. {@code --work-dir}), created 0700 and checked to be the caller's own. */
    public static WorkFolder at(Path root) {
        requireNonNull(root, "root");
        int uid = currentUid();
        Path absolute = root.toAbsolutePath().normalize();
        try {
            if (absolute.getParent() != null) {
                Files.createDirectories(absolute.getParent());
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "create the work folder " + absolute, String.valueOf(e.getMessage()));
        }
        WorkFolder folder = new WorkFolder(absolute, uid);
        folder.ensurePrivate(absolute);
        return folder;
    }

    public Path root() {
        return root;
    }

    /** A sub-folder, e.g. {@code folder("flash", "edge-golden-v1.4")}: each level created 0700 and checked as the root is. */
    public Path folder(String... names) {
        Path folder = root;
        for (String name : names) {
            if (!NAME.matcher(name).matches()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "use the work folder " + root, "'" + name + "' is not a plain folder name");
            }
            folder = folder.resolve(name);
            ensurePrivate(folder);
        }
        return folder;
    }

    /** A new, empty file with a unique name in {@code folder} (mode 0600, created exclusively). */
    public static Path newFile(Path folder, String prefix) {
        try {
            return Files.createTempFile(folder, prefix, ".part");
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "create a work file in " + folder, String.valueOf(e.getMessage()));
        }
    }

    /** Opens a file that must not exist yet, for writing; a planted link or file makes it fail rather than be followed. */
    public static OutputStream createNew(Path file) throws IOException {
        return Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    }

    /** Whether {@code file} is a regular file itself, not a link to one. */
    public static boolean isPlainFile(Path file) {
        return Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS);
    }

    private void ensurePrivate(Path folder) {
        String what = "use the work folder " + folder;
        try {
            try {
                Files.createDirectory(folder, PosixFilePermissions.asFileAttribute(PRIVATE));
            } catch (FileAlreadyExistsException e) {
                // checked below
            }
            if (Files.isSymbolicLink(folder) || !Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS)) {
                throw IngotException.tried(ErrorCode.CONFLICT, what, "it is " + (Files.isSymbolicLink(folder) ? "a symbolic link" : "not a folder")
                                + ", not a folder of its own")
                        .withHint("remove it, or pass --work-dir to a folder of your own");
            }
            int owner = (Integer) Files.getAttribute(folder, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != uid) {
                throw IngotException.tried(ErrorCode.CONFLICT, what, "it belongs to uid " + owner + ", not to the caller (uid " + uid + ")")
                        .withHint("remove it, or pass --work-dir to a folder of your own");
            }
            if (!Files.getPosixFilePermissions(folder, LinkOption.NOFOLLOW_LINKS).equals(PRIVATE)) {
                Files.setPosixFilePermissions(folder, PRIVATE); // ours, but readable by others: close it
            }
        } catch (IOException | UnsupportedOperationException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, String.valueOf(e.getMessage()));
        }
    }

    /** The caller's user id: the owner of {@code /proc/self} is the process's effective uid (proc(5)). */
    static int currentUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            throw IngotException.tried(ErrorCode.INTERNAL, "find the caller's user id", String.valueOf(e.getMessage()));
        }
    }

    @Override
    public String toString() {
        return root.toString();
    }
}
