package dev.ingot.imagetest;

import static java.util.Objects.requireNonNull;

import dev.ingot.boot.GrubMenu;
import dev.ingot.error.IngotException;
import dev.ingot.health.ToolRunner;
import dev.ingot.image.GptTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the A/B boot of a disk image rests on, read without root or mounting: the GPT ({@link GptTable}) and, from the FAT
 * file system of its {@code esp} partition, GRUB's menu and environment ({@code /EFI/ubuntu/grub.cfg} and {@code grubenv}).
 * The FAT side is mtools' {@code mcopy -i IMAGE@@OFFSET} (mtools(1): "@@offset" opens a file system that starts that many
 * bytes into the file), as debugfs is for the ext4 partitions: no FAT reader is written here.
 *
 * @param unreadable why the ESP could not be read (no esp partition, not FAT, mtools missing), when it could not
 */
public record BootDisk(GptTable table, Optional<String> grubConfig, Optional<byte[]> grubEnv, Optional<String> unreadable) {
    static final String CONFIG_PATH = "/" + GrubMenu.ESP_FOLDER + "/" + GrubMenu.CONFIG_FILE;
    static final String ENV_PATH = "/" + GrubMenu.ESP_FOLDER + "/" + GrubMenu.ENV_FILE;
    private static final Duration TIMEOUT = Duration.ofMinutes(1);

    public BootDisk {
        requireNonNull(table, "table");
        requireNonNull(grubConfig, "grubConfig");
        requireNonNull(grubEnv, "grubEnv");
        requireNonNull(unreadable, "unreadable");
    }

    /** Reads {@code image}'s GPT and its ESP's two GRUB files; {@code environment} gives mcopy's PATH. */
    public static BootDisk read(Path image, Map<String, String> environment) {
        GptTable table = GptTable.read(image);
        Optional<GptTable.Partition> esp = table.partition("esp");
        if (esp.isEmpty()) {
            return new BootDisk(table, Optional.empty(), Optional.empty(), Optional.of("the GPT has no partition named esp"));
        }
        Map<String, String> tools = new HashMap<>(environment);
        // mtools checks a FAT's geometry against the disk's and refuses odd sizes unless told to skip it (mtools(1)).
        tools.put("MTOOLS_SKIP_CHECK", "1");
        ToolRunner runner = new ToolRunner(tools);
        Path scratch;
        try {
            scratch = Files.createTempDirectory("ingot-esp-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            String device = image.toAbsolutePath() + "@@" + esp.get().offset();
            Optional<byte[]> config = Optional.empty();
            Optional<byte[]> env = Optional.empty();
            for (String path : List.of(CONFIG_PATH, ENV_PATH)) {
                Path copy = scratch.resolve(path.substring(path.lastIndexOf('/') + 1));
                ToolRunner.Outcome outcome = runner.run(TIMEOUT, "mcopy", List.of("-n", "-i", device, "::" + path, copy.toString()));
                switch (outcome) {
                    case ToolRunner.Outcome.Exited exited when exited.exitCode() == 0 -> {
                        byte[] bytes = Files.readAllBytes(copy);
                        if (path.equals(CONFIG_PATH)) {
                            config = Optional.of(bytes);
                        } else {
                            env = Optional.of(bytes);
                        }
                    }
                    case ToolRunner.Outcome.Exited exited when exited.stderr().contains("not found") -> { }
                    case ToolRunner.Outcome.Exited exited -> {
                        return unreadable(table, "mcopy cannot read the esp partition as FAT (" + lastLine(exited.stderr()) + ")");
                    }
                    case ToolRunner.Outcome.NotFound notFound -> {
                        return unreadable(table, "mcopy is not installed (apt-get install mtools)");
                    }
                    case ToolRunner.Outcome.TimedOut timedOut -> {
                        return unreadable(table, "mcopy did not finish in " + TIMEOUT.toSeconds() + " s");
                    }
                    case ToolRunner.Outcome.FailedToStart failed -> {
                        return unreadable(table, "mcopy could not be started (" + failed.reason() + ")");
                    }
                }
            }
            return new BootDisk(table, config.map(bytes -> new String(bytes, java.nio.charset.StandardCharsets.UTF_8)), env, Optional.empty());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (IngotException e) {
            return unreadable(table, e.getMessage());
        } finally {
            try {
                for (String name : List.of(GrubMenu.CONFIG_FILE, GrubMenu.ENV_FILE)) {
                    Files.deleteIfExists(scratch.resolve(name));
                }
                Files.deleteIfExists(scratch);
            } catch (IOException e) {
                // A scratch folder left in /tmp is no reason to fail the test.
            }
        }
    }

    private static BootDisk unreadable(GptTable table, String why) {
        return new BootDisk(table, Optional.empty(), Optional.empty(), Optional.of(why));
    }

    private static String lastLine(String output) {
        List<String> lines = output.strip().lines().toList();
        return lines.isEmpty() ? "no output" : lines.getLast();
    }
}
