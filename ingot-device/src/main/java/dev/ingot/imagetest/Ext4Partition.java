package dev.ingot.imagetest;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.ToolRunner;
import dev.ingot.image.GptTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Reads and writes an ext4 partition inside a disk image or on a disk without root and without mounting: e2fsprogs'
 * {@code debugfs} opens {@code IMAGE?offset=BYTES} (unix_io's offset parameter, e2fsprogs 1.43+); {@code rdump / DIR}
 * copies the whole tree out, {@code cat} prints one file, and with {@code -w} {@code mkdir}, {@code rm}, {@code write} and
 * {@code set_inode_field} change it (debugfs(8)). A dumped copy is then an ordinary {@link DirectoryTree}.
 */
public final class Ext4Partition {
    private Ext4Partition() {}

    /** Partition {@code partitionName} of the GPT on {@code image}, or a CHECK_FAILED naming the partitions there are. */
    public static GptTable.Partition locate(Path image, String partitionName) {
        GptTable table = GptTable.read(image);
        return table.partition(partitionName).orElseThrow(() -> IngotException.tried(ErrorCode.CHECK_FAILED,
                "find the " + partitionName + " partition of " + image,
                "the GPT names only " + table.partitions().stream().map(p -> "'" + p.name() + "'").toList())
                .withHint("the golden image's partitions are esp, root-a, root-b and data (packer/http/user-data)"));
    }

    /** Dumps partition {@code partitionName} of {@code image} into the empty folder {@code into}. */
    public static DirectoryTree dump(Path image, String partitionName, Path into, Map<String, String> environment) {
        GptTable.Partition partition = locate(image, partitionName);
        String device = device(image, partition);
        try {
            Files.createDirectories(into);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> command = List.of("debugfs", "-R", "rdump / " + into.toAbsolutePath(), device);
        String output = debugfs(command, environment, "read " + partitionName + " of " + image, partitionName).stderr();
        try {
            boolean empty;
            try (Stream<Path> entries = Files.list(into)) {
                empty = entries.findAny().isEmpty();
            }
            if (empty) {
                throw IngotException.tried(ErrorCode.CHECK_FAILED, "read the ext4 file system in " + partitionName + " of " + image,
                        "debugfs found nothing there: " + lastLine(output))
                        .withHint("is " + partitionName + " an ext4 file system? (debugfs -R stats '" + device + "')");
            }
            makeReadable(into);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new DirectoryTree(into, image.getFileName() + " (" + partitionName + ")");
    }

    /** debugfs's way of naming a partition: the image (or disk) with the partition's byte offset. */
    static String device(Path image, GptTable.Partition partition) {
        return image.toAbsolutePath() + "?offset=" + partition.offset();
    }

    /**
     * The content of {@code path} in the ext4 file system of partition {@code partitionName}, or empty when there is no
     * such file. Fails (CHECK_FAILED) when the partition holds no ext4 file system debugfs can open.
     */
    public static Optional<byte[]> readFile(Path image, String partitionName, String path, Map<String, String> environment) {
        GptTable.Partition partition = locate(image, partitionName);
        String device = device(image, partition);
        String attempt = "read " + path + " from the " + partitionName + " partition of " + image;
        String type = type(device, path, environment, attempt, partitionName);
        if (type.isEmpty()) {
            return Optional.empty();
        }
        if (!type.equals("regular")) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, attempt, path + " is " + described(type) + " there, not a file");
        }
        return Optional.of(debugfs(List.of("debugfs", "-R", "cat " + quoted(path), device), environment, attempt, partitionName).stdout());
    }

    /**
     * Writes {@code content} to {@code path} (absolute, its folders made as needed) in the ext4 file system of partition
     * {@code partitionName}, owned by root with {@code mode}, replacing a file already there, then reads it back. Refuses a
     * file system that is not clean (a journal to replay would undo the write at the next mount) or where {@code path} or
     * one of its folders is something else; a write debugfs could not do (a full file system) is found by the read-back.
     */
    public static void writeFile(Path image, String partitionName, String path, byte[] content, int mode, Map<String, String> environment) {
        GptTable.Partition partition = locate(image, partitionName);
        String device = device(image, partition);
        String attempt = "write " + path + " into the " + partitionName + " partition of " + image;
        String stats = debugfs(List.of("debugfs", "-R", "stats", device), environment, attempt, partitionName).stdoutText();
        if (stats.lines().anyMatch(line -> line.startsWith("Filesystem features:") && line.contains("needs_recovery"))
                || stats.lines().anyMatch(line -> line.startsWith("Filesystem state:") && !line.substring(17).strip().equals("clean"))) {
            throw IngotException.tried(ErrorCode.CONFLICT, attempt, "its file system was not cleanly unmounted (its journal needs "
                    + "recovery, which would undo this write)").withHint("check it with e2fsck, then write again");
        }
        List<String> commands = new ArrayList<>();
        StringBuilder folder = new StringBuilder();
        String[] parts = path.substring(1).split("/");
        for (int i = 0; i < parts.length - 1; i++) {
            folder.append('/').append(parts[i]);
            String type = type(device, folder.toString(), environment, attempt, partitionName);
            if (type.isEmpty()) {
                // mkdir on an existing name corrupts the file system (debugfs 1.47 allocates the inode first): only when absent.
                commands.add("mkdir " + quoted(folder.toString()));
                commands.add("sif " + quoted(folder.toString()) + " mode 040755");
                commands.add("sif " + quoted(folder.toString()) + " uid 0");
                commands.add("sif " + quoted(folder.toString()) + " gid 0");
            } else if (!type.equals("directory")) {
                throw IngotException.tried(ErrorCode.CONFLICT, attempt, folder + " is " + described(type) + " there, not a folder");
            }
        }
        String existing = type(device, path, environment, attempt, partitionName);
        if (existing.equals("directory")) {
            throw IngotException.tried(ErrorCode.CONFLICT, attempt, path + " is a folder there, not a file");
        }
        if (!existing.isEmpty()) {
            commands.add("rm " + quoted(path));
        }
        try {
            // debugfs copies from a file on this machine: a private folder (0700, a fresh name) keeps others away from it.
            Path work = Files.createTempDirectory("ingot-debugfs");
            Path local = work.resolve("content");
            Path script = work.resolve("commands");
            try {
                Files.write(local, content);
                commands.add("write " + quoted(local.toString()) + " " + quoted(path));
                commands.add("sif " + quoted(path) + " mode 0" + Integer.toOctalString(0100000 | mode));
                commands.add("sif " + quoted(path) + " uid 0");
                commands.add("sif " + quoted(path) + " gid 0");
                Files.writeString(script, String.join("\n", commands) + "\n");
                Output written = debugfs(List.of("debugfs", "-w", "-f", script.toString(), device), environment, attempt, partitionName);
                Optional<byte[]> back = readFile(image, partitionName, path, environment);
                if (back.isEmpty() || !java.util.Arrays.equals(back.get(), content)) {
                    String said = written.stderr().lines().filter(line -> !line.isBlank() && !line.startsWith("debugfs 1.")).findFirst()
                            .orElse("(no message)").strip();
                    throw IngotException.tried(ErrorCode.CONFLICT, attempt, "debugfs did not write it: " + said)
                            .withHint("is the partition's file system full? (debugfs -R stats '" + device + "')");
                }
            } finally {
                Files.deleteIfExists(local);
                Files.deleteIfExists(script);
                Files.deleteIfExists(work);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * What is at {@code path}: "regular", "directory", "symlink", …, or "" when nothing is (debugfs stat's "Type:"; a lookup
     * that fails says "File not found by ext2_lookup", or names the folder on the way that is none).
     */
    private static String type(String device, String path, Map<String, String> environment, String attempt, String partitionName) {
        Output stat = debugfs(List.of("debugfs", "-R", "stat " + quoted(path), device), environment, attempt, partitionName);
        if (!stat.stdoutText().contains("Type: ")) {
            return "";
        }
        return stat.stdoutText().lines().filter(line -> line.contains("Type: ")).findFirst()
                .map(line -> line.substring(line.indexOf("Type: ") + 6).strip().split("\\s+")[0]).orElse("unknown");
    }

    /** debugfs's type word as a person says it. */
    private static String described(String type) {
        return switch (type) {
            case "regular" -> "a file";
            case "directory" -> "a folder";
            case "symlink" -> "a symbolic link";
            default -> "a " + type;
        };
    }

    /** debugfs takes one command per line; a path with a space needs double quotes (parse_ulong's argv splitting). */
    private static String quoted(String path) {
        if (path.contains("\"") || path.contains("\n")) {
            throw new IllegalArgumentException("a path debugfs cannot take: " + path);
        }
        return path.contains(" ") ? "\"" + path + "\"" : path;
    }

    /** What a debugfs run printed, its two streams apart: stdout is a file's content for cat. */
    private record Output(byte[] stdout, String stderr) {
        String stdoutText() {
            return new String(stdout, StandardCharsets.UTF_8);
        }
    }

    /** debugfs on the environment's PATH (e2fsprogs installs it in /sbin, which a user's PATH may lack: callers add it). */
    public static Optional<Path> debugfs(Map<String, String> environment) {
        return ToolRunner.find("debugfs", environment.getOrDefault("PATH", "/usr/bin:/bin"));
    }

    /** Runs debugfs; an exit other than 0 means it could not open the file system (its commands' failures only print). */
    private static Output debugfs(List<String> command, Map<String, String> environment, String attempt, String partitionName) {
        try {
            List<String> resolved = new ArrayList<>(command);
            resolved.set(0, debugfs(environment).map(Path::toString).orElseThrow(() -> new IOException("not on PATH "
                    + environment.getOrDefault("PATH", "/usr/bin:/bin"))));
            ProcessBuilder builder = new ProcessBuilder(resolved);
            builder.environment().putAll(environment);
            Process process = builder.start();
            process.getOutputStream().close();
            java.util.concurrent.Future<byte[]> errors;
            try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                errors = executor.submit(() -> process.getErrorStream().readAllBytes());
                byte[] output = process.getInputStream().readAllBytes();
                if (!process.waitFor(30, TimeUnit.MINUTES)) {
                    process.destroyForcibly();
                    throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "debugfs did not finish in 30 minutes");
                }
                String stderr = new String(errors.get(), StandardCharsets.UTF_8);
                if (process.exitValue() != 0) {
                    throw IngotException.tried(ErrorCode.CHECK_FAILED, attempt, "the " + partitionName + " partition holds no ext4 file "
                            + "system debugfs can open (" + lastLine(stderr) + ")").withHint("is the partition too small, or not formatted?");
                }
                return new Output(output, stderr);
            }
        } catch (java.util.concurrent.ExecutionException e) {
            throw new UncheckedIOException(new IOException(e.getCause()));
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "debugfs could not be started (" + e.getMessage() + ")")
                    .withHint("install e2fsprogs (apt-get install e2fsprogs)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "it was interrupted");
        }
    }

    /** rdump keeps the image's modes (a 0000 /etc/shadow); without root the owner needs read access to check it. */
    private static void makeReadable(Path root) throws IOException {
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            walk.forEach(paths::add);
        }
        for (Path path : paths) {
            if (Files.isSymbolicLink(path)) {
                continue;
            }
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
            boolean folder = Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS);
            boolean changed = permissions.add(PosixFilePermission.OWNER_READ);
            if (folder) {
                changed |= permissions.add(PosixFilePermission.OWNER_EXECUTE);
                changed |= permissions.add(PosixFilePermission.OWNER_WRITE);
            }
            if (changed) {
                Files.setPosixFilePermissions(path, permissions);
            }
        }
    }

    private static String lastLine(String output) {
        List<String> lines = output.strip().lines().filter(line -> !line.startsWith("debugfs 1.")).toList();
        return lines.isEmpty() ? "(no output)" : lines.getLast();
    }
}
