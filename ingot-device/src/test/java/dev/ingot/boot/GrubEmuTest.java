package dev.ingot.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.image.ImageVersion;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The A/B grub.cfg run by GRUB itself (grub-emu) on a GPT disk image, against every kind of environment the agent
 * can leave, with slot b bootable and not: what GRUB boots and what it leaves in grubenv must be what
 * {@link GrubMenu#boot} says, which the simulated fleet boots by.
 */
class GrubEmuTest {
    @TempDir
    Path folder;

    @Test
    void theConfigurationPassesGrubsOwnScriptCheck() throws IOException {
        AbDisk.assumeTools();
        Path config = Files.writeString(folder.resolve("grub.cfg"), GrubMenu.config());

        Tools.Outcome outcome = Tools.run(folder, Map.of(), List.of("grub-script-check", config.toString()));

        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
    }

    /** An environment and whether slot b holds a bootable file system. */
    private record Case(String saved, String next, boolean slotBBootable) {}

    @Test
    void grubBootsWhatTheJavaModelOfTheMenuSaysForEachEnvironmentTheAgentCanLeave() throws IOException {
        AbDisk disk = AbDisk.create(folder.resolve("disk"), ImageVersion.parse("v1.4"));
        // Each run of grub-emu takes seconds: the cases that differ, not every combination.
        List<Case> cases = List.of(
                new Case("ingot-a", null, false),       // as flashed
                new Case("ingot-a", "ingot-b", false),  // a one-shot at a half-written slot: falls back in the same boot
                new Case("ingot-b", null, false),       // a default slot that cannot load: GRUB stops at its menu
                new Case(null, null, true),             // no environment: slot a
                new Case("ingot-a", "ingot-b", true),   // the trial boot
                new Case("ingot-a", "", true),          // the boot after the trial: the one-shot is spent
                new Case("ingot-b", null, true),        // committed b
                new Case("ingot-b", "ingot-a", true),   // a one-shot back at a
                new Case("Ubuntu", "ingot-c", true));   // entries the menu does not have: slot a, the odd one-shot left alone
        boolean written = false;
        for (Case c : cases) {
            if (c.slotBBootable() && !written) {
                disk.writeSlot(Slot.B, disk.slotImage(ImageVersion.parse("v1.5"), "root-a"));
                written = true;
            }
            Map<String, String> env = new HashMap<>();
            Path file = folder.resolve("case-env");
            Files.deleteIfExists(file);
            Tools.succeed(folder, "grub-editenv", file.toString(), "create");
            if (c.saved() != null) {
                env.put(GrubMenu.SAVED_ENTRY, c.saved());
                Tools.succeed(folder, "grub-editenv", file.toString(), "set", GrubMenu.SAVED_ENTRY + "=" + c.saved());
            }
            if (c.next() != null) {
                env.put(GrubMenu.NEXT_ENTRY, c.next());
                Tools.succeed(folder, "grub-editenv", file.toString(), "set", GrubMenu.NEXT_ENTRY + "=" + c.next());
            }
            disk.putEnv(file);

            GrubMenu.Boot expected = GrubMenu.boot(env, slot -> slot == Slot.A || c.slotBBootable());
            GrubEmu.Boot actual = GrubEmu.boot(disk);
            GrubEnv after = GrubEnv.parse(Files.readAllBytes(disk.takeEnv()), "grubenv after the boot");

            assertThat(actual.loaded()).as(c + "\n" + actual.output()).isEqualTo(expected.booted());
            assertThat(actual.started().getFirst()).as(c.toString()).isEqualTo(expected.tried().letter());
            assertThat(after.variables()).as(c.toString()).isEqualTo(expected.env());
        }
    }

    @Test
    void eachEntryNamesItsRootByPartitionLabelAndItsSlotOnTheKernelCommandLine() throws IOException {
        AbDisk disk = AbDisk.create(folder.resolve("disk"), ImageVersion.parse("v1.4"));
        disk.writeSlot(Slot.B, disk.slotImage(ImageVersion.parse("v1.5"), "root-a"));
        for (Slot slot : Slot.values()) {
            Path env = disk.takeEnv();
            Tools.succeed(folder, "grub-editenv", env.toString(), "set", "next_entry=" + slot.grubEntry());
            disk.putEnv(env);

            GrubEmu.Boot boot = GrubEmu.boot(disk);

            assertThat(boot.loaded()).contains(slot);
            assertThat(boot.commandLine()).containsExactly("root=/dev/disk/by-partlabel/" + slot.partitionLabel(), "rw",
                    "ingot.slot=" + slot.letter(), "panic=30");
            assertThat(Optional.of(boot.output())).hasValueSatisfying(output -> assertThat(output).contains("ingot-test: initrd (hd0,gpt"
                    + slot.partitionNumber() + ")/boot/initrd.img"));
        }
    }
}
