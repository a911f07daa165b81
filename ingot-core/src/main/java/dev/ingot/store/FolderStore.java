package dev.ingot.store;

import static java.util.Objects.requireNonNull;

import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.progress.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * An artifact store in a local folder. Every write lands in a temporary file in the same folder,
 * is fsynced, then appears under its name in one step: {@code rename} to replace, {@code link} to
 * create only when absent (link(2) fails with EEXIST, so two creators cannot both win).
 * Entity tags are the SHA-256 of the content. Compare-and-set holds an exclusive lock on
 * {@code .ingot.lock} in the store's root while it compares and renames.
 */
public final class FolderStore implements ArtifactStore {
    private static final String LOCK_FILE = ".ingot.lock";
    private static final String TEMP_PREFIX = ".ingot-tmp-";
    private static final java.util.concurrent.ConcurrentMap<Path, java.util.concurrent.locks.ReentrantLock> LOCKS =
            new java.util.concurrent.ConcurrentHashMap<>();

    private final Path root;
    private final String description;

    public FolderStore(Path root, String description) {
        this.root = requireNonNull(root, "root").toAbsolutePath().normalize();
        this.description = requireNonNull(description, "description");
    }

    public FolderStore(Path root) {
        this(root, root.toString());
    }

    public Path root() {
        return root;
    }

    /** The file that holds a key; the key must stay inside the store. */
    public Path pathOf(String key) {
        Path path = root.resolve(key).normalize();
        if (key.isEmpty() || !path.startsWith(root) || path.equals(root)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "address '" + key + "' in store " + description,
                    "the key leaves the store's folder");
        }
        return path;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public Optional<ObjectInfo> stat(String key) {
        Path path = pathOf(key);
        if (!Files.isRegularFile(path)) {
            return Optional.empty();
        }
        try {
            // A cheap tag for large files: size and modification time; small documents use their digest.
            long size = Files.size(path);
            String etag = size <= SMALL_DOCUMENT ? Sha256.of(Files.readAllBytes(path)).hex()
                    : size + "-" + Files.getLastModifiedTime(path).toMillis();
            return Optional.of(new ObjectInfo(key, size, etag));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw unavailable("read " + key, e);
        }
    }

    private static final long SMALL_DOCUMENT = 1 << 20;

    @Override
    public InputStream open(String key) {
        Path path = pathOf(key);
        try {
            return Files.newInputStream(path);
        } catch (NoSuchFileException e) {
            throw IngotException.tried(ErrorCode.NOT_FOUND, "read " + key + " from " + description, "it does not exist");
        } catch (IOException e) {
            throw unavailable("read " + key, e);
        }
    }

    @Override
    public Optional<VersionedBytes> read(String key) {
        Path path = pathOf(key);
        try {
            byte[] content = Files.readAllBytes(path);
            return Optional.of(new VersionedBytes(content, content.length <= SMALL_DOCUMENT ? Sha256.of(content).hex()
                    : content.length + "-" + Files.getLastModifiedTime(path).toMillis()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw unavailable("read " + key, e);
        }
    }

    @Override
    public void put(String key, Path file, Progress progress) {
        Path target = pathOf(key);
        try {
            Path temp = tempBeside(target);
            try {
                progress.start("store " + target.getFileName(), Files.size(file));
                try (InputStream in = Files.newInputStream(file);
                        OutputStream out = Files.newOutputStream(temp, StandardOpenOption.WRITE)) {
                    byte[] buffer = new byte[1 << 20];
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        out.write(buffer, 0, n);
                        progress.advance(n);
                    }
                }
                fsync(temp);
                moveReplacing(temp, target);
                fsync(target.getParent());
            } finally {
                Files.deleteIfExists(temp);
                progress.done();
            }
        } catch (IOException e) {
            throw unavailable("store " + key, e);
        }
    }

    @Override
    public void putMoving(String key, Path file, Progress progress) {
        Path target = pathOf(key);
        try {
            Files.createDirectories(target.getParent());
            fsync(file);
            moveReplacing(file, target);
            fsync(target.getParent());
        } catch (IOException e) {
            // Another file system, or a rename the system refused: copy instead.
            put(key, file, progress);
        }
    }

    @Override
    public void move(String fromKey, String toKey) {
        Path source = pathOf(fromKey);
        Path target = pathOf(toKey);
        try {
            Files.createDirectories(target.getParent());
            moveReplacing(source, target);
            fsync(target.getParent());
        } catch (NoSuchFileException e) {
            throw IngotException.tried(ErrorCode.NOT_FOUND, "move " + fromKey + " in store " + description, "it does not exist");
        } catch (IOException e) {
            throw unavailable("move " + fromKey + " to " + toKey, e);
        }
    }

    @Override
    public Optional<Path> stagingDirectory() {
        return Optional.of(root.resolve(STAGING_FOLDER));
    }

    /** Where publishing stages its work files, so they can be renamed into the store. */
    public static final String STAGING_FOLDER = ".ingot-staging";

    @Override
    @SuppressWarnings("try") // the lock is held by being open; the block never reads the variable
    public boolean compareAndSet(String key, Optional<String> expectedEtag, byte[] content) {
        Path target = pathOf(key);
        try {
            Path temp = tempBeside(target);
            try {
                Files.write(temp, content, StandardOpenOption.WRITE);
                fsync(temp);
                if (expectedEtag.isEmpty()) {
                    try {
                        Files.createLink(target, temp);
                    } catch (FileAlreadyExistsException e) {
                        return false;
                    }
                    fsync(target.getParent());
                    return true;
                }
                // The file lock keeps other processes out; it does not exclude threads of this JVM, so take a per-root lock first.
                java.util.concurrent.locks.ReentrantLock inProcess = LOCKS.computeIfAbsent(root, path -> new java.util.concurrent.locks.ReentrantLock());
                inProcess.lock();
                try (FileChannel lockChannel = FileChannel.open(root.resolve(LOCK_FILE),
                                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                        FileLock lock = lockChannel.lock()) {
                    Optional<VersionedBytes> current = read(key);
                    if (current.isEmpty() || !current.get().etag().equals(expectedEtag.get())) {
                        return false;
                    }
                    moveReplacing(temp, target);
                    fsync(target.getParent());
                    return true;
                } finally {
                    inProcess.unlock();
                }
            } finally {
                Files.deleteIfExists(temp);
            }
        } catch (IOException e) {
            throw unavailable("write " + key, e);
        }
    }

    @Override
    public List<String> list(String prefix) {
        Path start = prefix.isEmpty() ? root : pathOf(prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix);
        Path walkFrom = Files.isDirectory(start) ? start : start.getParent();
        if (walkFrom == null || !Files.isDirectory(walkFrom)) {
            return List.of(); // a store folder is created by its first write; until then it is empty
        }
        try (Stream<Path> files = Files.walk(walkFrom)) {
            return files.filter(Files::isRegularFile)
                    .filter(path -> !path.getFileName().toString().startsWith(TEMP_PREFIX))
                    .filter(path -> !path.getFileName().toString().equals(LOCK_FILE))
                    // Staged bytes are no release's until a manifest names them: listed only when asked for by their prefix.
                    .filter(path -> prefix.startsWith(STAGING_PREFIX) || !root.relativize(path).startsWith(STAGING_FOLDER))
                    .map(path -> root.relativize(path).toString().replace('\\', '/'))
                    .filter(key -> key.startsWith(prefix))
                    .sorted()
                    .toList();
        } catch (IOException | UncheckedIOException e) {
            throw unavailable("list " + prefix, e instanceof UncheckedIOException u ? u.getCause() : (IOException) e);
        }
    }

    @Override
    public void delete(String key) {
        try {
            Files.deleteIfExists(pathOf(key));
        } catch (IOException e) {
            throw unavailable("delete " + key, e);
        }
    }

    private Path tempBeside(Path target) throws IOException {
        try {
            Files.createDirectories(target.getParent());
        } catch (IOException e) {
            throw unavailable("create folder " + target.getParent(), e);
        }
        return Files.createFile(target.resolveSibling(TEMP_PREFIX + UUID.randomUUID()));
    }

    private static void moveReplacing(Path source, Path target) throws IOException {
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system cannot rename atomically", e);
        }
    }

    private static void fsync(Path path) throws IOException {
        boolean directory = Files.isDirectory(path);
        try (FileChannel channel = FileChannel.open(path, directory ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    private IngotException unavailable(String attempt, IOException cause) {
        return IngotException.tried(ErrorCode.UNAVAILABLE, attempt + " in store " + description, describe(cause))
                .withCause(cause);
    }

    static String describe(IOException e) {
        String what = e.getClass().getSimpleName();
        return switch (e) {
            case NoSuchFileException n -> n.getFile() + " does not exist";
            case java.nio.file.AccessDeniedException a -> "permission to " + a.getFile() + " was denied";
            case java.nio.file.FileSystemException f when f.getReason() != null -> f.getFile() + ": " + f.getReason();
            default -> e.getMessage() == null ? what : e.getMessage();
        };
    }
}
