package dev.ingot.agent;

import static dev.ingot.agent.SimulatedRig.DEVICE;
import static dev.ingot.agent.SimulatedRig.V14;
import static dev.ingot.agent.SimulatedRig.V15;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.boot.Slot;
import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.Track;
import dev.ingot.image.ImageVersion;
import java.time.Duration;
import dev.ingot.error.ErrorCode;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The agent's loop around the updates: enrollment, polling, waits, an unreachable control plane, the USB cache. */
class AgentLoopTest {
    @Test
    void theDeviceEnrollsOnceWithItsTokenAndKeepsItsCredentialAcrossRestarts() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.host.powerOff();
        rig.runFor(Duration.ofMinutes(10));

        assertThat(rig.controlPlane.calls.stream().filter(call -> call.startsWith("enroll"))).hasSize(1);
        assertThat(rig.device.agent().state().enrollment()).hasValueSatisfying(enrolled -> assertThat(enrolled.deviceId()).isEqualTo(DEVICE));
        assertThat(rig.controlPlane.calls).last().asString().startsWith("poll device-1");
    }

    @Test
    void aRefusedTokenIsAskedAgainRarelyAndNothingElseHappens() {
        SimulatedRig rig = new SimulatedRig();
        rig.controlPlane.tokens.clear();

        Agent.Tick tick = rig.device.agent().tick();

        assertThat(tick).isEqualTo(new Agent.Tick.Sleep(Timings.DEFAULTS.pollRetry().multipliedBy(20)));
        assertThat(rig.controlPlane.calls).containsExactly("enroll SITE-2847");
        assertThat(rig.log).anySatisfy(line -> assertThat(line).contains("enrollment failed", "the token was used"));
        assertThat(rig.device.agent().state().enrollment()).isEmpty();
    }

    @Test
    void theNextPollComesAfterTheIntervalTheControlPlaneGivesPlusSomeOfItsJitter() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.controlPlane.interval = Duration.ofSeconds(60);
        rig.controlPlane.jitter = Duration.ofSeconds(30);

        List<Duration> sleeps = java.util.stream.IntStream.range(0, 50).mapToObj(i -> ((Agent.Tick.Sleep) rig.device.agent().tick()).duration())
                .toList();

        assertThat(sleeps).allSatisfy(sleep -> assertThat(sleep).isBetween(Duration.ofSeconds(60), Duration.ofSeconds(90)));
        assertThat(sleeps.stream().distinct().count()).isGreaterThan(10);
    }

    @Test
    void thePollSaysWhichGenerationTheDeviceHoldsSoAnUnchangedStateCostsNothing() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.desire(state -> state.withImage(V14));
        rig.runFor(Duration.ofMinutes(5));

        assertThat(rig.controlPlane.calls).contains("poll device-1 -1", "poll device-1 0").last().isEqualTo("poll device-1 1");
    }

    @Test
    void anUpdateStartedBeforeTheControlPlaneWentAwayIsFinishedAndItsReportsArriveInOrderLater() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.desire(state -> state.withImage(V15));
        rig.runUntil(() -> rig.device.agent().state().action().isPresent(), Duration.ofHours(1));
        rig.controlPlane.unreachable = true;
        rig.runFor(Duration.ofHours(1));
        assertThat(rig.host.committed()).isEqualTo(Slot.B);
        assertThat(rig.device.agent().state().outbox()).isNotEmpty();

        rig.controlPlane.unreachable = false;
        rig.runFor(Duration.ofMinutes(5));

        assertThat(rig.controlPlane.states(DEVICE, Track.REIMAGE, 1, "v1.5")).containsExactly(ActionState.DOWNLOADING, ActionState.WRITTEN,
                ActionState.REBOOTING, ActionState.COMMITTED);
        assertThat(rig.device.agent().state().outbox()).isEmpty();
    }

    @Test
    void aDownloadThatCannotReachItsSourceIsTriedAgainWithGrowingWaitsThenFails() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.host.failFetches(2);
        rig.desire(state -> state.withImage(V15));
        rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.5"), Duration.ofHours(2));
        assertThat(rig.controlPlane.last(DEVICE, Track.REIMAGE).orElseThrow().state()).isEqualTo(ActionState.COMMITTED);

        SimulatedRig failing = new SimulatedRig().enrolled();
        failing.host.failFetches(3);
        failing.desire(state -> state.withImage(V15));
        failing.runUntil(() -> failing.finished(Track.REIMAGE, "v1.5"), Duration.ofHours(2));
        assertThat(failing.controlPlane.last(DEVICE, Track.REIMAGE).orElseThrow().reason()).hasValueSatisfying(reason ->
                assertThat(reason).contains("could not be fetched (3 attempts)", "connection was reset"));
        assertThat(failing.host.runningVersion()).isEqualTo(V14);
        assertThat(failing.host.slot(Slot.B).version()).isEmpty();
    }

    @Test
    void theUsbCacheKeepsTheLastTwoKnownGoodImagesTheControlPlaneNames() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.desire(state -> state.withKnownGood(List.of(ImageVersion.parse("v1.5"), V14, ImageVersion.parse("v1.3"))));
        rig.runFor(Duration.ofMinutes(5));

        assertThat(rig.host.usbCache()).containsExactly(V15, V14);
        assertThat(rig.controlPlane.latestReport.get(DEVICE).findings().usbCache().found().orElseThrow().images()).hasSize(2);
    }

    @Test
    void aNewerImageReplacesOneThatIsStillDownloadingAndTheOldOneIsReportedSuperseded() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.host.failFetches(1);
        rig.desire(state -> state.withImage(V15));
        rig.runUntil(() -> rig.device.agent().state().action().isPresent(), Duration.ofHours(1));
        ImageVersion v16 = ImageVersion.parse("v1.6");
        rig.desire(state -> state.withImage(v16));
        rig.runUntil(() -> rig.finished(Track.REIMAGE, "v1.6"), Duration.ofHours(2));

        assertThat(rig.controlPlane.states(DEVICE, Track.REIMAGE, 1, "v1.5")).containsExactly(ActionState.DOWNLOADING, ActionState.FAILED);
        assertThat(rig.host.runningVersion()).isEqualTo(v16);
    }

    @Test
    void aCredentialTheControlPlaneRefusesIsDroppedAndTheDeviceEnrollsAgainOnceItHasAFreshToken() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.controlPlane.devicesByCredential.clear();
        rig.runFor(Duration.ofMinutes(3));
        assertThat(rig.device.agent().state().enrollment()).isEmpty();
        assertThat(rig.log).anySatisfy(line -> assertThat(line).contains("refused this device's credential", "enrolling again"));
        assertThat(rig.log).anySatisfy(line -> assertThat(line).contains("enrollment failed", "the token was used"));

        rig.controlPlane.withToken("enrollment-token-1");
        rig.runFor(Duration.ofHours(1));

        assertThat(rig.device.agent().state().enrollment()).hasValueSatisfying(enrolled -> assertThat(enrolled.deviceId()).isEqualTo("device-2"));
        assertThat(rig.controlPlane.calls).last().asString().startsWith("poll device-2");
    }

    @Test
    void aReportRefusedForGoodIsDroppedAndOneThatCouldNotBeStoredIsKept() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.host.publishTag("2.4.0");
        rig.controlPlane.refuseReports = Optional.of(ErrorCode.NOT_FOUND);
        rig.desire(state -> state.withContainerTag("2.4.0"));
        rig.runUntil(() -> rig.device.agent().state().outcomes().containsKey(Track.CONTAINER), Duration.ofHours(1));
        rig.runFor(Duration.ofMinutes(5));
        assertThat(rig.device.agent().state().outbox()).isEmpty();
        assertThat(rig.log).anySatisfy(line -> assertThat(line).contains("dropped, the control plane refused it"));

        rig.controlPlane.refuseReports = Optional.of(ErrorCode.UNAVAILABLE);
        rig.host.publishTag("2.5.0");
        rig.desire(state -> state.withContainerTag("2.5.0"));
        rig.runUntil(() -> rig.host.runningTag().equals(Optional.of("2.5.0")) && rig.device.agent().state().action().isEmpty(), Duration.ofHours(1));
        assertThat(rig.device.agent().state().outbox()).extracting(ControlPlane.ActionReport::state)
                .containsExactly(ActionState.DOWNLOADING, ActionState.COMMITTED);
    }
}
