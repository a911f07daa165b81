package dev.ingot.imagetest;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Stream;

/**
 * An {@link ImageTree} in a folder: a file system dumped from an image, or a host's own root. Symbolic links are
 * resolved by hand against the tree's root, so an absolute link in an image never reaches the host's files.
 */
public final class DirectoryTree implements ImageTree {
    private static final int MAXIMUM_LINKS = 40;

    private final Path root;
    private final String description;

    public DirectoryTree(Path root, String description) {
        this.root = requireNonNull(root, "root").toAbsolutePath().normalize();
        this.description = requireNonNull(description, "description");
    }

    public Path root() {
        return root;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public Optional<String> read(String path) {
        return resolve(path).filter(Files::isRegularFile).map(file -> {
            try {
                return Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                try {
                    return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                } catch (IOException again) {
                    throw new UncheckedIOException("cannot read " + path + " in " + description, again);
                }
            }
        });
    }

    @Override
    public List<String> list(String folder) {
        Optional<Path> resolved = resolve(folder).filter(Files::isDirectory);
        if (resolved.isEmpty()) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(resolved.get())) {
            return entries.map(entry -> entry.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + folder + " in " + description, e);
        }
    }

    @Override
    public boolean exists(String path) {
        Path parent = resolve(parentOf(path)).orElse(null);
        return parent != null && Files.exists(parent.resolve(nameOf(path)), LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public OptionalInt fileMode(String path) {
        Optional<Path> file = resolve(path).filter(Files::isRegularFile);
        if (file.isEmpty()) {
            return OptionalInt.empty();
        }
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file.get());
            int mode = 0;
            for (PosixFilePermission permission : permissions) {
                // PosixFilePermission's order is owner rwx, group rwx, others rwx: bit 8 down to bit 0.
                mode |= 1 << (8 - permission.ordinal());
            }
            return OptionalInt.of(mode);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the mode of " + path + " in " + description, e);
        }
    }

    @Override
    public void forEachFile(FileVisitor visitor) throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            walk.filter(path -> Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)).forEach(files::add);
        }
        files.sort(null);
        for (Path file : files) {
            try (InputStream content = Files.newInputStream(file)) {
                visitor.visit("/" + root.relativize(file).toString().replace('\\', '/'), Files.size(file), content);
            }
        }
    }

    /** The host path of {@code path} with every link inside the tree followed; empty when something on the way is missing. */
    Optional<Path> resolve(String path) {
        List<String> pending = new ArrayList<>(components(path));
        List<String> done = new ArrayList<>();
        int links = 0;
        while (!pending.isEmpty()) {
            String component = pending.removeFirst();
            if (component.equals("..")) {
                if (!done.isEmpty()) {
                    done.removeLast();
                }
                continue;
            }
            Path candidate = hostPath(done).resolve(component);
            if (Files.isSymbolicLink(candidate)) {
                if (++links > MAXIMUM_LINKS) {
                    return Optional.empty();
                }
                String target;
                try {
                    target = Files.readSymbolicLink(candidate).toString();
                } catch (IOException e) {
                    return Optional.empty();
                }
                if (target.startsWith("/")) {
                    done.clear();
                }
                pending.addAll(0, components(target));
            } else if (Files.exists(candidate, LinkOption.NOFOLLOW_LINKS)) {
                done.add(component);
            } else {
                return Optional.empty();
            }
        }
        return Optional.of(hostPath(done));
    }

    private Path hostPath(List<String> components) {
        Path path = root;
        for (String component : components) {
            path = path.resolve(component);
        }
        return path;
    }

    private static List<String> components(String path) {
        List<String> components = new ArrayList<>();
        for (String part : path.split("/")) {
            if (!part.isEmpty() && !part.equals(".")) {
                components.add(part);
            }
        }
        return components;
    }

    private static String parentOf(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    private static String nameOf(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
