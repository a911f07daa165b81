package dev.ingot.boot;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.EdgeFiles;
import dev.ingot.health.ToolRunner;
import dev.ingot.provision.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * GRUB as {@link BootControl}: the environment block on the ESP ({@link GrubMenu#ENV_PATH}) that the golden image's
 * grub.cfg reads, the booted slot from the kernel command line, the boot id from the kernel. Reads parse the block
 * ({@link GrubEnv}); every change is made by the real {@code grub-editenv} on a private copy and then put in place
 * with {@link AtomicFiles}: grub-editenv itself truncates and rewrites the file in place, which a power cut can
 * leave empty, and an empty environment would boot slot a whatever was committed.
 */
public final class GrubBootControl implements BootControl {
    static final String BOOT_ID = "/proc/sys/kernel/random/boot_id";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final Path env;
    private final Path commandLine;
    private final Path bootId;
    private final ToolRunner tools;

    /**
     * @param root the device's root ({@code /}, or a stand-in in tests): the environment, {@code /proc/cmdline} and the
     *     boot id are read under it
     */
    public GrubBootControl(Path root, ToolRunner tools) {
        this(root.resolve(GrubMenu.ENV_PATH.substring(1)), root.resolve(EdgeFiles.KERNEL_COMMAND_LINE.substring(1)),
                root.resolve(BOOT_ID.substring(1)), tools);
    }

    GrubBootControl(Path env, Path commandLine, Path bootId, ToolRunner tools) {
        this.env = requireNonNull(env, "env");
        this.commandLine = requireNonNull(commandLine, "commandLine");
        this.bootId = requireNonNull(bootId, "bootId");
        this.tools = requireNonNull(tools, "tools");
    }

    @Override
    public BootState state() {
        String cmdline = read(commandLine, "the kernel command line");
        Slot booted = EdgeFiles.bootedSlot(cmdline).map(Slot::parse).orElseThrow(() -> IngotException.tried(ErrorCode.CONFLICT,
                        "tell which slot this device booted", commandLine + " has no ingot.slot=a|b")
                .withHint("the device was not started from the Ingot A/B boot menu (docs/agent.md, \"The GRUB scheme\")"));
        Optional<String> damage = Optional.empty();
        GrubEnv variables;
        try {
            variables = variables();
        } catch (IngotException e) {
            if (e.code() != ErrorCode.CHECK_FAILED) {
                throw e;
            }
            // grub.cfg's load_env finds no variables in a damaged block, so GRUB boots slot a whatever was committed
            // (EdgeFiles.committedSlot reads it the same way for the health report): that is what this state says.
            damage = Optional.of(e.oneLine());
            variables = new GrubEnv(Map.of());
        }
        Slot committed = GrubMenu.entry(variables.variables().get(GrubMenu.SAVED_ENTRY)).orElse(Slot.A);
        return new BootState(booted, read(bootId, "the boot id").strip(), committed,
                GrubMenu.entry(variables.variables().get(GrubMenu.NEXT_ENTRY)), damage);
    }

    @Override
    public void bootOnce(Slot slot) {
        edit("set the one-shot boot of slot " + slot, List.of("set", GrubMenu.NEXT_ENTRY + "=" + slot.grubEntry()));
    }

    @Override
    public void cancelOnce() {
        if (readable().get(GrubMenu.NEXT_ENTRY).isPresent()) {
            edit("drop the one-shot boot", List.of("unset", GrubMenu.NEXT_ENTRY));
        }
    }

    @Override
    public void commit(Slot slot) {
        GrubEnv current = readable();
        if (current.get(GrubMenu.SAVED_ENTRY).equals(Optional.of(slot.grubEntry())) && current.get(GrubMenu.NEXT_ENTRY).isEmpty()) {
            return;
        }
        edit("commit slot " + slot, List.of("set", GrubMenu.SAVED_ENTRY + "=" + slot.grubEntry()));
        edit("commit slot " + slot, List.of("unset", GrubMenu.NEXT_ENTRY));
    }

    /** The environment as GRUB reads it; a missing file is an empty environment, as grub.cfg treats it (slot a). */
    GrubEnv variables() {
        try {
            return GrubEnv.parse(Files.readAllBytes(env), env.toString());
        } catch (NoSuchFileException e) {
            return new GrubEnv(Map.of());
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read the GRUB environment " + env, String.valueOf(e.getMessage()))
                    .withHint("is the ESP mounted at " + GrubMenu.ESP_MOUNT + "?").withCause(e);
        }
    }

    /** The environment as GRUB reads it, a damaged block as the empty one GRUB's load_env makes of it. */
    private GrubEnv readable() {
        return intact().orElseGet(() -> new GrubEnv(Map.of()));
    }

    /** The environment, unless the block is damaged. */
    private Optional<GrubEnv> intact() {
        try {
            return Optional.of(variables());
        } catch (IngotException e) {
            if (e.code() != ErrorCode.CHECK_FAILED) {
                throw e;
            }
            return Optional.empty();
        }
    }

    /**
     * grub-editenv on a copy in a private folder, then the checked result put in place atomically. A damaged block is not
     * copied (grub-editenv refuses it): the edit starts from a fresh one, so the caller must write every variable it
     * needs (the agent repairs with {@link #commit}, which writes {@code saved_entry}).
     */
    private void edit(String what, List<String> change) {
        String attempt = what + " in " + env;
        Path scratch = null;
        try {
            scratch = Files.createTempDirectory("ingot-grubenv-");
            Path copy = scratch.resolve(GrubMenu.ENV_FILE);
            if (Files.exists(env) && intact().isPresent()) {
                Files.copy(env, copy);
            } else {
                grubEditenv(attempt, copy, List.of("create"));
            }
            grubEditenv(attempt, copy, change);
            byte[] edited = Files.readAllBytes(copy);
            GrubEnv.parse(edited, "the edited copy of " + env);
            AtomicFiles.replace(env, edited, Optional.empty());
            if (!Arrays.equals(Files.readAllBytes(env), edited)) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "the file read back differs from what was written")
                        .withHint("check the ESP for errors (fsck.vfat)");
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt, String.valueOf(e.getMessage()))
                    .withHint("is the ESP mounted read-write at " + GrubMenu.ESP_MOUNT + "? The environment still holds its old content")
                    .withCause(e);
        } finally {
            removeQuietly(scratch);
        }
    }

    private void grubEditenv(String attempt, Path file, List<String> command) {
        List<String> arguments = new ArrayList<>();
        arguments.add(file.toString());
        arguments.addAll(command);
        ToolRunner.Outcome outcome = tools.run(TIMEOUT, "grub-editenv", arguments);
        if (!(outcome instanceof ToolRunner.Outcome.Exited exited && exited.exitCode() == 0)) {
            String reason = ToolRunner.output(outcome, ToolRunner.display("grub-editenv", arguments)).failure().orElse("it failed");
            throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt, reason)
                    .withHint(outcome instanceof ToolRunner.Outcome.NotFound ? "install grub-common, which provides grub-editenv"
                            : "the environment still holds its old content");
        }
    }

    private static String read(Path file, String what) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read " + what + " from " + file, String.valueOf(e.getMessage())).withCause(e);
        }
    }

    private static void removeQuietly(Path folder) {
        if (folder == null) {
            return;
        }
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(folder);
        } catch (IOException e) {
            // A scratch folder in the temporary directory; nothing depends on it.
        }
    }
}
