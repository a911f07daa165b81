package dev.ingot.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * What the A/B grub.cfg boots, as the simulated fleet decides it. The device module's GrubEmuTest runs the real
 * file in grub-emu over the same cases and holds the two to each other.
 */
class GrubMenuTest {
    private static Map<String, String> env(String saved, String next) {
        Map<String, String> env = new HashMap<>();
        if (saved != null) {
            env.put(GrubMenu.SAVED_ENTRY, saved);
        }
        if (next != null) {
            env.put(GrubMenu.NEXT_ENTRY, next);
        }
        return env;
    }

    @Test
    void withoutAOneShotTheCommittedSlotBootsAndTheEnvironmentIsLeftAlone() {
        GrubMenu.Boot boot = GrubMenu.boot(env("ingot-b", null), slot -> true);

        assertThat(boot.booted()).contains(Slot.B);
        assertThat(boot.env()).isEqualTo(env("ingot-b", null));
    }

    @Test
    void aOneShotBootsItsSlotOnceAndIsClearedSoTheNextBootIsTheDefaultAgain() {
        GrubMenu.Boot first = GrubMenu.boot(env("ingot-a", "ingot-b"), slot -> true);
        GrubMenu.Boot second = GrubMenu.boot(first.env(), slot -> true);

        assertThat(first.booted()).contains(Slot.B);
        assertThat(first.env()).containsEntry(GrubMenu.NEXT_ENTRY, "");
        assertThat(second.booted()).contains(Slot.A);
        assertThat(second.fellBack()).isFalse();
    }

    @Test
    void aOneShotSlotWhoseKernelDoesNotLoadFallsBackToTheCommittedSlotInTheSameBoot() {
        GrubMenu.Boot boot = GrubMenu.boot(env("ingot-a", "ingot-b"), slot -> slot == Slot.A);

        assertThat(boot.tried()).isEqualTo(Slot.B);
        assertThat(boot.booted()).contains(Slot.A);
        assertThat(boot.fellBack()).isTrue();
        assertThat(boot.env()).containsEntry(GrubMenu.NEXT_ENTRY, "");
    }

    @Test
    void aMissingOrStrangeSavedEntryMeansSlotAAndAStrangeOneShotIsIgnored() {
        assertThat(GrubMenu.boot(env(null, null), slot -> true).booted()).contains(Slot.A);
        assertThat(GrubMenu.boot(env("Ubuntu", "something"), slot -> true).booted()).contains(Slot.A);
        assertThat(GrubMenu.boot(env("ingot-b", "something"), slot -> true).env()).containsEntry(GrubMenu.NEXT_ENTRY, "something");
    }

    @Test
    void aDefaultSlotThatCannotLoadLeavesGrubAtItsMenu() {
        assertThat(GrubMenu.boot(env("ingot-b", null), slot -> slot == Slot.A).booted()).isEqualTo(Optional.empty());
    }

    @Test
    void theConfigurationHasOneEntryPerSlotWithItsPartitionLabelAndSlotOnTheKernelCommandLine() {
        String config = GrubMenu.config();

        for (Slot slot : Slot.values()) {
            assertThat(config).contains("--id " + slot.grubEntry() + " {",
                    "linux (${ingot_disk},gpt" + slot.partitionNumber() + ")/boot/vmlinuz root=/dev/disk/by-partlabel/" + slot.partitionLabel()
                            + " rw ingot.slot=" + slot.letter() + " panic=30");
        }
        assertThat(config).doesNotContain("UUID=", "LABEL=root", "search ");
    }
}
