package dev.ingot.agent;

import static dev.ingot.agent.SimulatedRig.DEVICE;
import static dev.ingot.agent.SimulatedRig.V14;
import static dev.ingot.agent.SimulatedRig.V15;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.boot.Slot;
import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.Track;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The A/B update with a power cut at every durable operation it makes: a saved step, each chunk of the slot write,
 * each bootloader change, the reboot. After each cut the simulated device boots as GRUB boots it, the agent starts
 * again from its saved state, and the test checks that the device runs a known version and that the control plane
 * was told the truth about it.
 */
class ReimageCrashTest {
    private static final Duration LIMIT = Duration.ofHours(2);

    @Test
    void withoutACutTheUpdateIsWrittenBootedOnceHealthyAndCommitted() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        int before = rig.host.operations();

        rig.desire(state -> state.withImage(V15));
        rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.5"), LIMIT);

        assertThat(rig.host.runningVersion()).isEqualTo(V15);
        assertThat(rig.host.booted()).isEqualTo(Slot.B);
        assertThat(rig.host.committed()).isEqualTo(Slot.B);
        assertThat(rig.controlPlane.states(DEVICE, Track.REIMAGE, 1, "v1.5")).containsExactly(ActionState.DOWNLOADING, ActionState.WRITTEN,
                ActionState.REBOOTING, ActionState.COMMITTED);
        assertThat(rig.controlPlane.reportedImage(DEVICE)).contains(V15);
        assertThat(rig.host.operationLog().subList(before, rig.host.operations())).containsSubsequence(
                "write v1.5 chunk 1/8 into slot b", "write v1.5 chunk 8/8 into slot b", "grub-editenv set next_entry=ingot-b",
                "systemctl reboot", "grub-editenv set saved_entry=ingot-b");
    }

    @Test
    void aCutAtEveryDurableOperationLeavesTheDeviceOnAKnownVersionAndTheControlPlaneTold() {
        SimulatedRig clean = new SimulatedRig().enrolled();
        int start = clean.host.operations();
        clean.desire(state -> state.withImage(V15));
        clean.runUntil(() -> clean.finished(Track.REIMAGE, "v1.5"), LIMIT);
        int operations = clean.host.operations() - start;
        assertThat(operations).isGreaterThan(20);

        for (int cut = 1; cut <= operations; cut++) {
            SimulatedRig rig = new SimulatedRig().enrolled();
            rig.desire(state -> state.withImage(V15));
            rig.host.cutPowerBefore(cut);
            rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.5"), LIMIT);
            String where = "cut before operation " + cut + " of " + operations + ": " + rig.host.operationLog().stream()
                    .filter(line -> line.startsWith("POWER CUT")).findFirst().orElse("(none)");

            assertThat(rig.host.bricked()).as(where).isFalse();
            assertThat(rig.host.slot(rig.host.booted()).bootable()).as(where).isTrue();
            assertThat(rig.host.booted()).as(where + ": a settled device runs its default slot").isEqualTo(rig.host.committed());
            ActionState outcome = rig.controlPlane.last(DEVICE, Track.REIMAGE).orElseThrow().state();
            assertThat(outcome.terminal()).as(where).isTrue();
            assertThat(rig.controlPlane.reportedImage(DEVICE)).as(where + ": the report names what runs").contains(rig.host.runningVersion());
            switch (outcome) {
                case COMMITTED -> assertThat(rig.host.runningVersion()).as(where).isEqualTo(V15);
                case ROLLED_BACK, FAILED -> assertThat(rig.host.runningVersion()).as(where).isEqualTo(V14);
                case PENDING, DOWNLOADING, WRITTEN, REBOOTING -> throw new AssertionError(where + ": not terminal");
            }
            // Only a cut inside the trial boot, before the commit reached GRUB, may cost the update.
            if (outcome != ActionState.COMMITTED) {
                assertThat(outcome).as(where).isEqualTo(ActionState.ROLLED_BACK);
                assertThat(rig.controlPlane.last(DEVICE, Track.REIMAGE).orElseThrow().reason()).as(where).hasValueSatisfying(
                        reason -> assertThat(reason).contains("restarted", "slot a booted again"));
            }
        }
    }

    @Test
    void aCutBeforeTheWriteResumesAndCommits() {
        SimulatedRig rig = cutBefore("write v1.5 chunk 1/8 into slot b");

        assertCommitted(rig);
    }

    @Test
    void aCutInTheMiddleOfTheWriteResumesFromTheLastCheckpointNotFromTheStart() {
        SimulatedRig rig = cutBefore("write v1.5 chunk 4/8 into slot b");

        assertCommitted(rig);
        List<String> writes = rig.host.operationLog().stream().filter(line -> line.startsWith("write v1.5")).toList();
        assertThat(writes).containsExactly("write v1.5 chunk 1/8 into slot b", "write v1.5 chunk 2/8 into slot b",
                "write v1.5 chunk 3/8 into slot b", "write v1.5 chunk 4/8 into slot b", "write v1.5 chunk 5/8 into slot b",
                "write v1.5 chunk 6/8 into slot b", "write v1.5 chunk 7/8 into slot b", "write v1.5 chunk 8/8 into slot b");
        assertThat(rig.device.powerCuts()).isEqualTo(1);
    }

    @Test
    void aCutAfterTheWriteBeforeTheOneShotBootIsSetRebootsOnceMoreAndCommits() {
        SimulatedRig rig = cutBefore("grub-editenv set next_entry=ingot-b");

        assertCommitted(rig);
        assertThat(rig.host.operationLog().stream().filter(line -> line.equals("grub-editenv set next_entry=ingot-b"))).hasSize(1);
    }

    @Test
    void aCutAfterTheOneShotBootIsSetBeforeTheRebootBootsTheNewSlotOnTrialAndCommits() {
        SimulatedRig rig = cutBefore("systemctl reboot");

        assertCommitted(rig);
    }

    @Test
    void aCutAfterTheRebootBeforeTheCommitFallsBackToTheOldSlotAndReportsItRolledBack() {
        SimulatedRig rig = cutBefore("grub-editenv set saved_entry=ingot-b");

        assertThat(rig.host.runningVersion()).isEqualTo(V14);
        assertThat(rig.host.committed()).isEqualTo(Slot.A);
        assertThat(rig.controlPlane.states(DEVICE, Track.REIMAGE, 1, "v1.5")).containsExactly(ActionState.DOWNLOADING, ActionState.WRITTEN,
                ActionState.REBOOTING, ActionState.ROLLED_BACK);
        assertThat(rig.controlPlane.last(DEVICE, Track.REIMAGE).orElseThrow().reason()).hasValueSatisfying(reason ->
                assertThat(reason).contains("restarted before the commit of slot b reached the bootloader"));
        assertThat(rig.controlPlane.reportedImage(DEVICE)).contains(V14);
    }

    @Test
    void aCutRightAfterTheCommitKeepsTheNewSlotAndReportsItCommitted() {
        SimulatedRig rig = cutAt("grub-editenv set saved_entry=ingot-b", 1);

        assertThat(rig.device.powerCuts()).isEqualTo(1);
        assertCommitted(rig);
    }

    /** A fresh device updated to v1.5 with the power cut before the first operation named {@code operation}. */
    private static SimulatedRig cutBefore(String operation) {
        return cutAt(operation, 0);
    }

    /** A fresh device updated to v1.5 with the power cut {@code after} operations past the first one named {@code operation}. */
    private static SimulatedRig cutAt(String operation, int after) {
        SimulatedRig clean = new SimulatedRig().enrolled();
        int start = clean.host.operations();
        clean.desire(state -> state.withImage(V15));
        clean.runUntil(() -> clean.finished(Track.REIMAGE, "v1.5"), LIMIT);
        int index = clean.host.operationLog().subList(start, clean.host.operations()).indexOf(operation);
        assertThat(index).as(operation + " is one of the update's operations").isNotNegative();

        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.desire(state -> state.withImage(V15));
        rig.host.cutPowerBefore(index + 1 + after);
        rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.5"), LIMIT);
        if (after == 0) {
            assertThat(rig.host.operationLog()).contains("POWER CUT before " + operation);
        } else {
            assertThat(rig.host.operationLog()).containsSubsequence(operation, "POWER CUT before "
                    + clean.host.operationLog().get(start + index + after));
        }
        return rig;
    }

    private static void assertCommitted(SimulatedRig rig) {
        assertThat(rig.host.bricked()).isFalse();
        assertThat(rig.host.runningVersion()).isEqualTo(V15);
        assertThat(rig.host.booted()).isEqualTo(Slot.B);
        assertThat(rig.host.committed()).isEqualTo(Slot.B);
        assertThat(rig.controlPlane.last(DEVICE, Track.REIMAGE).map(ControlPlane.ActionReport::state)).contains(ActionState.COMMITTED);
        assertThat(rig.controlPlane.reportedImage(DEVICE)).contains(V15);
        assertThat(rig.host.grubEnv().getOrDefault("next_entry", "")).isEmpty();
        assertThat(Optional.of(rig.host.slot(Slot.A).version().orElseThrow())).contains(V14);
    }
}
