package dev.ingot.agent;

import static dev.ingot.agent.SimulatedRig.DEVICE;
import static dev.ingot.agent.SimulatedRig.V14;
import static dev.ingot.agent.SimulatedRig.V15;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.boot.Slot;
import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.Track;
import dev.ingot.sim.SimulatedFailure;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The failures Mender's issue tracker records for A/B updaters, each one here as a test: a reinstall loop after a
 * failed update, success reported after a fall-back, and a fall-back after a commit.
 */
class MenderFailuresTest {
    private static final Duration LIMIT = Duration.ofHours(2);

    @Test
    void aVersionThatRolledBackIsNotInstalledAgainWhileTheDesiredStateKeepsNamingIt() {
        SimulatedRig rig = new SimulatedRig(SimulatedFailure.REIMAGE).enrolled();
        rig.desire(state -> state.withImage(V15));
        rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.5"), LIMIT);
        assertThat(rig.controlPlane.last(DEVICE, Track.REIMAGE).orElseThrow().state()).isEqualTo(ActionState.ROLLED_BACK);
        long writes = writes(rig);

        // A day of polls, and other changes that bump the generation while the image stays v1.5.
        rig.runFor(Duration.ofHours(12));
        rig.desire(state -> state.withContainerTag("2.3.1"));
        rig.runFor(Duration.ofHours(12));

        assertThat(writes(rig)).isEqualTo(writes);
        assertThat(rig.host.runningVersion()).isEqualTo(V14);
        assertThat(rig.controlPlane.states(DEVICE, Track.REIMAGE, 1, "v1.5")).containsExactly(ActionState.DOWNLOADING, ActionState.WRITTEN,
                ActionState.REBOOTING, ActionState.ROLLED_BACK);
        assertThat(rig.controlPlane.actions.get(DEVICE).keySet()).filteredOn(key -> key.startsWith("reimage@")).hasSize(1);
        assertThat(rig.device.agent().state().blocked()).containsEntry(Track.REIMAGE, "v1.5");
    }

    @Test
    void aRolledBackVersionIsTriedAgainOnlyAfterTheDesiredStateNamedAnotherVersionAndThenItAgain() {
        SimulatedRig rig = new SimulatedRig(SimulatedFailure.REIMAGE).enrolled();
        rig.desire(state -> state.withImage(V15));
        rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.5"), LIMIT);
        long writes = writes(rig);

        rig.desire(state -> state.withImage(V14)); // the rollout rolled the stage back
        rig.runFor(Duration.ofMinutes(10));
        assertThat(rig.device.agent().state().blocked()).doesNotContainKey(Track.REIMAGE);
        rig.desire(state -> state.withImage(V15)); // and an operator offers v1.5 again, explicitly
        rig.runUntil(() -> rig.controlPlane.last(DEVICE, Track.REIMAGE).filter(report -> report.generation() == 3
                && report.state().terminal()).isPresent() && rig.settled(), LIMIT);

        assertThat(writes(rig)).isEqualTo(2 * writes);
        assertThat(rig.controlPlane.states(DEVICE, Track.REIMAGE, 3, "v1.5")).endsWith(ActionState.ROLLED_BACK);
    }

    @Test
    void aSlotThatDoesNotComeUpIsReportedRolledBackNeverCommitted() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.host.panicsOn(V15);
        rig.desire(state -> state.withImage(V15));
        rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.5"), LIMIT);

        assertThat(rig.host.runningVersion()).isEqualTo(V14);
        assertThat(rig.host.booted()).isEqualTo(Slot.A);
        assertThat(rig.host.committed()).isEqualTo(Slot.A);
        assertThat(rig.controlPlane.states(DEVICE, Track.REIMAGE, 1, "v1.5")).containsExactly(ActionState.DOWNLOADING, ActionState.WRITTEN,
                ActionState.REBOOTING, ActionState.ROLLED_BACK).doesNotContain(ActionState.COMMITTED);
        assertThat(rig.controlPlane.last(DEVICE, Track.REIMAGE).orElseThrow().reason()).hasValueSatisfying(reason -> assertThat(reason)
                .contains("slot b (v1.5) was booted once", "slot a booted again"));
        assertThat(rig.controlPlane.reportedImage(DEVICE)).contains(V14);
    }

    @Test
    void anUnhealthyTrialFallsBackAtTheEndOfTheCommitWindowAndSaysWhy() {
        SimulatedRig rig = new SimulatedRig(SimulatedFailure.REIMAGE).enrolled();
        rig.desire(state -> state.withImage(V15));
        rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.5"), LIMIT);

        assertThat(rig.host.runningVersion()).isEqualTo(V14);
        assertThat(rig.controlPlane.last(DEVICE, Track.REIMAGE).orElseThrow().reason()).hasValueSatisfying(reason -> assertThat(reason)
                .contains("was not healthy within 10 min", "gpu: nvidia-smi", "slot a booted again"));
        assertThat(rig.controlPlane.reportedImage(DEVICE)).contains(V14);
    }

    @Test
    void aCommittedSlotStaysTheDefaultThroughEveryLaterRebootAndPowerCut() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.desire(state -> state.withImage(V15));
        rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.5"), LIMIT);
        assertThat(rig.host.committed()).isEqualTo(Slot.B);

        int boots = rig.host.boots();
        for (int cycle = 0; cycle < 5; cycle++) {
            rig.host.powerOff();
            rig.runFor(Duration.ofMinutes(30));
            assertThat(rig.host.booted()).isEqualTo(Slot.B);
            assertThat(rig.host.runningVersion()).isEqualTo(V15);
        }

        assertThat(rig.host.boots()).isEqualTo(boots + 5);
        assertThat(rig.controlPlane.states(DEVICE, Track.REIMAGE, 1, "v1.5")).containsExactly(ActionState.DOWNLOADING, ActionState.WRITTEN,
                ActionState.REBOOTING, ActionState.COMMITTED);
        assertThat(rig.controlPlane.reportedImage(DEVICE)).contains(V15);
    }

    private static long writes(SimulatedRig rig) {
        return rig.host.operationLog().stream().filter(line -> line.startsWith("write v1.5 chunk")).count();
    }
}
