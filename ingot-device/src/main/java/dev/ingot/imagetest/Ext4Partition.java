package dev.ingot.imagetest;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
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
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Reads an ext4 partition inside a disk image without root and without mounting: e2fsprogs' {@code debugfs} opens
 * {@code IMAGE?offset=BYTES} (unix_io's offset parameter, e2fsprogs 1.43+) and {@code rdump / DIR} copies the whole
 * tree out (debugfs(8)). The copy is then an ordinary {@link DirectoryTree}.
 */
public final class Ext4Partition {
    private Ext4Partition() {}

    /** Dumps partition {@code partitionName} of {@code image} into the empty folder {@code into}. */
    public static DirectoryTree dump(Path image, String partitionName, Path into, Map<String, String> environment) {
        GptTable table = GptTable.read(image);
        GptTable.Partition partition = table.partition(partitionName).orElseThrow(() -> IngotException.tried(ErrorCode.CHECK_FAILED,
                "find the " + partitionName + " partition of " + image,
                "the GPT names only " + table.partitions().stream().map(p -> "'" + p.name() + "'").toList())
                .withHint("the golden image's partitions are esp, root-a, root-b and data (packer/http/user-data)"));
        String device = image.toAbsolutePath() + "?offset=" + partition.offset();
        try {
            Files.createDirectories(into);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> command = List.of("debugfs", "-R", "rdump / " + into.toAbsolutePath(), device);
        String output = run(command, environment, "read " + partitionName + " of " + image);
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

    private static String run(List<String> command, Map<String, String> environment, String attempt) {
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            builder.environment().putAll(environment);
            Process process = builder.start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(30, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "debugfs did not finish in 30 minutes");
            }
            if (process.exitValue() != 0) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "debugfs exited " + process.exitValue() + ": " + lastLine(output));
            }
            return output;
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
