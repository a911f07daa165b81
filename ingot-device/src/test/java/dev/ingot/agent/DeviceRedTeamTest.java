package dev.ingot.agent;

import static dev.ingot.agent.SimulatedRig.DEVICE;
import static dev.ingot.agent.SimulatedRig.V14;
import static dev.ingot.agent.SimulatedRig.V15;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.boot.Slot;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.DesiredState;
import dev.ingot.fleet.Track;
import dev.ingot.image.ImageVersion;
import dev.ingot.sim.SimulatedFailure;
import dev.ingot.site.VideoIngestUnit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13's red team on the device: the bootloader's environment damaged, the clock jumping during a trial, a
 * replayed reboot request, and a control plane that asks for a downgrade. The real agent on a simulated device.
 */
class DeviceRedTeamTest {
    private static final Duration LIMIT = Duration.ofHours(2);

    @Test
    void aDamagedGrubEnvironmentOnACommittedSlotBIsWrittenBackBeforeTheNextBootCouldTakeSlotA() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.desire(state -> state.withImage(V15));
        rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.5"), LIMIT);
        assertThat(rig.host.committed()).isEqualTo(Slot.B);

        rig.host.damageGrubEnv();
        rig.runFor(Duration.ofMinutes(5));
        rig.host.powerOff();
        rig.runFor(Duration.ofMinutes(5));

        assertThat(rig.host.booted()).isEqualTo(Slot.B);
        assertThat(rig.host.runningVersion()).isEqualTo(V15);
        assertThat(rig.host.committed()).isEqualTo(Slot.B);
        assertThat(rig.controlPlane.reportedImage(DEVICE)).contains(V15);
        assertThat(rig.log).anySatisfy(line -> assertThat(line).contains("GRUB environment is damaged", "slot b is written back"));
    }

    @Test
    void aGrubEnvironmentDamagedDuringTheTrialOfSlotAStillFallsBackToTheCommittedSlotB() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.desire(state -> state.withImage(V15));
        rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.5"), LIMIT);
        ImageVersion v16 = ImageVersion.parse("v1.6");
        rig.host.gpuBrokenOn(v16);
        rig.desire(state -> state.withImage(v16));
        rig.runUntil(() -> rig.device.agent().state().action().filter(action -> action instanceof AgentState.Reimage update
                && update.step() instanceof AgentState.ReimageStep.Trial).isPresent(), LIMIT);
        assertThat(rig.host.booted()).isEqualTo(Slot.A);

        // Damaged, GRUB would take slot a (the unhealthy v1.6) at the fall-back's reboot, and at every boot after.
        rig.host.damageGrubEnv();
        rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.6"), LIMIT);

        assertThat(rig.host.booted()).isEqualTo(Slot.B);
        assertThat(rig.host.runningVersion()).isEqualTo(V15);
        assertThat(rig.host.committed()).isEqualTo(Slot.B);
        assertThat(rig.controlPlane.last(DEVICE, Track.REIMAGE).orElseThrow().state()).isEqualTo(ActionState.ROLLED_BACK);
        assertThat(rig.controlPlane.reportedImage(DEVICE)).contains(V15);
    }

    @Test
    void theClockJumpingBackADayDuringAnUnhealthyTrialDoesNotKeepTheDeviceOnTheUncommittedSlotForADay() {
        SimulatedRig rig = new SimulatedRig(SimulatedFailure.REIMAGE).enrolled();
        rig.desire(state -> state.withImage(V15));
        rig.runUntil(() -> rig.device.agent().state().action().filter(action -> action instanceof AgentState.Reimage update
                && update.step() instanceof AgentState.ReimageStep.Trial).isPresent(), LIMIT);

        rig.clock.advance(Duration.ofDays(-1)); // NTP corrects a clock that ran a day fast
        int boots = rig.host.boots();
        rig.runFor(Duration.ofMinutes(30));

        assertThat(rig.host.boots()).as("fell back within the window, not a day later").isGreaterThan(boots);
        assertThat(rig.host.runningVersion()).isEqualTo(V14);
        assertThat(rig.controlPlane.last(DEVICE, Track.REIMAGE).orElseThrow().state()).isEqualTo(ActionState.ROLLED_BACK);
    }

    @Test
    void theClockJumpingAheadADayAtTheStartOfAHealthyTrialDoesNotFallBackASlotThatIsHealthy() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.desire(state -> state.withImage(V15));
        rig.runUntil(() -> rig.device.agent().state().action().filter(action -> action instanceof AgentState.Reimage update
                && update.step() instanceof AgentState.ReimageStep.Restart).isPresent(), LIMIT);

        rig.clock.advance(Duration.ofDays(1));
        rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.5"), LIMIT);

        assertThat(rig.controlPlane.last(DEVICE, Track.REIMAGE).orElseThrow().state()).isEqualTo(ActionState.COMMITTED);
        assertThat(rig.host.runningVersion()).isEqualTo(V15);
    }

    @Test
    void aRebootRequestStillNamedAfterTheRebootAndAcrossPowerCutsNeverRebootsTheDeviceAgain() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.desire(state -> state.withRebootRequest("patch-2026-11-26"));
        rig.runUntil(() -> rig.finished(Track.REBOOT, "patch-2026-11-26"), LIMIT);
        int boots = rig.host.boots();

        for (int cycle = 0; cycle < 3; cycle++) {
            rig.desire(state -> state.withContainerTag("2.3.1")); // a new generation that still names the same request
            rig.runFor(Duration.ofHours(1));
            rig.host.powerOff();
            rig.runFor(Duration.ofMinutes(10));
        }

        assertThat(rig.host.boots()).as("only the power cuts booted it").isEqualTo(boots + 3);
        assertThat(rig.controlPlane.states(DEVICE, Track.REBOOT, 1, "patch-2026-11-26")).containsOnlyOnce(ActionState.COMMITTED);
    }

    @Test
    void aKnownGoodListNotNewestFirstOrWithRepeatsFillsTheUsbCacheOnceNotAtEveryPoll() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        ImageVersion v13 = ImageVersion.parse("v1.3");
        rig.desire(state -> new DesiredState(state.generation() + 1, state.image(), state.containerTag(),
                state.rebootRequest(), List.of(v13, v13, V14)));

        rig.runFor(Duration.ofMinutes(30)); // about 30 polls

        assertThat(rig.host.usbCache()).containsExactlyInAnyOrder(V14, v13);
        assertThat(rig.host.operationLog()).filteredOn(line -> line.startsWith("usb cache keep")).containsExactly("usb cache keep [v1.3, v1.4]");
    }

    @Test
    @Disabled("Red team, issue 13: no rollback protection. A control plane (or whoever holds its database) can desire any release "
            + "the image's keyring ever signed, however old: the signed manifest carries no floor, the device API serves no signed "
            + "known-good list, and the agent keeps no record of the lowest version it may run. Needs a signed floor (a field of the "
            + "manifest, or the signed known-good list served to devices) before the agent can refuse it.")
    void aDowngradeBelowTheSignedKnownGoodFloorIsRefused() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.desire(state -> state.withImage(V15));
        rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.5"), LIMIT);

        rig.desire(state -> state.withImage(ImageVersion.parse("v1.0"))); // signed long ago, with a known hole
        rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.0"), LIMIT);

        assertThat(rig.controlPlane.last(DEVICE, Track.REIMAGE).orElseThrow().state()).isEqualTo(ActionState.FAILED);
        assertThat(rig.host.runningVersion()).isEqualTo(V15);
    }

    @Test
    @Disabled("Red team, issue 13: the tag override is an EnvironmentFile= of the video-ingest unit, and systemd takes every variable "
            + "in it: a line VIDEO_INGEST_REPOSITORY=… added to /data/ingot/agent/video-ingest-tag.env points the unit at another "
            + "registry while the agent still reads only the tag and sees nothing wrong. Whoever can write /data is root already, so "
            + "this is defence in depth: the agent should take such a file for tampered and write back its own one line (from the "
            + "last committed container outcome), without a tick-ending exception. Not done in this pass.")
    void aTagOverrideThatAlsoNamesARepositoryIsTakenForTampered(@TempDir Path root)
            throws IOException {
        FileTagOverride tags = FileTagOverride.under(root);
        tags.set(Optional.of("2.9.0"));
        Path file = root.resolve(VideoIngestUnit.TAG_OVERRIDE_PATH.substring(1));
        Files.writeString(file, "VIDEO_INGEST_TAG=2.9.0\nVIDEO_INGEST_REPOSITORY=evil.example.net/video-ingest\n");

        assertThatThrownBy(tags::current).isInstanceOfSatisfying(IngotException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED));
    }
}
