package dev.ingot.agent;

import static dev.ingot.agent.SimulatedRig.DEVICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.Track;
import dev.ingot.health.HealthReport;
import dev.ingot.sim.SimulatedFailure;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The patch track: pending security updates are reported; a reboot happens once per request id, then must come back healthy. */
class RebootTrackTest {
    private static final Duration LIMIT = Duration.ofHours(1);

    @Test
    void pendingSecurityUpdatesAndRebootRequiredReachTheControlPlaneInTheReport() {
        SimulatedRig rig = new SimulatedRig();
        rig.host.securityUpdatesInstalled(7, true);
        rig.enrolled();

        HealthReport report = rig.controlPlane.latestReport.get(DEVICE);
        assertThat(report.findings().updates().found().map(HealthReport.Updates::security)).contains(7L);
        assertThat(report.findings().reboot().found().map(HealthReport.Reboot::required)).contains(true);
        assertThat(rig.device.reboots()).isZero();
    }

    @Test
    void aRebootRequestRebootsOnceAndIsCommittedWhenTheDeviceComesBackHealthy() {
        SimulatedRig rig = new SimulatedRig();
        rig.host.securityUpdatesInstalled(7, true);
        rig.enrolled();

        rig.desire(state -> state.withRebootRequest("reboot-2026-11-26"));
        rig.runUntil(() -> rig.finished(Track.REBOOT, "reboot-2026-11-26"), LIMIT);
        rig.runFor(Duration.ofHours(6));

        assertThat(rig.device.reboots()).isEqualTo(1);
        assertThat(rig.controlPlane.states(DEVICE, Track.REBOOT, 1, "reboot-2026-11-26")).containsExactly(ActionState.REBOOTING,
                ActionState.COMMITTED);
        assertThat(rig.controlPlane.latestReport.get(DEVICE).findings().reboot().found().map(HealthReport.Reboot::required)).contains(false);
    }

    @Test
    void aPowerCutBeforeTheRebootCountsAsTheRebootAndNeverCausesASecondOne() {
        SimulatedRig clean = new SimulatedRig().enrolled();
        int start = clean.host.operations();
        clean.desire(state -> state.withRebootRequest("r-1"));
        clean.runUntil(() -> clean.finished(Track.REBOOT, "r-1"), LIMIT);
        int reboot = clean.host.operationLog().subList(start, clean.host.operations()).indexOf("systemctl reboot");

        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.desire(state -> state.withRebootRequest("r-1"));
        rig.host.cutPowerBefore(reboot + 1);
        rig.runUntil(() -> rig.finished(Track.REBOOT, "r-1"), LIMIT);
        rig.runFor(Duration.ofHours(2));

        assertThat(rig.host.operationLog()).contains("POWER CUT before systemctl reboot").doesNotContain("systemctl reboot");
        assertThat(rig.device.powerCuts()).isEqualTo(1);
        assertThat(rig.controlPlane.last(DEVICE, Track.REBOOT).map(ControlPlane.ActionReport::state)).contains(ActionState.COMMITTED);
    }

    @Test
    void aDeviceThatComesBackUnhealthyFailsTheRequestAndIsNotRebootedAgain() {
        SimulatedRig rig = new SimulatedRig(SimulatedFailure.HEALTH).enrolled();
        rig.desire(state -> state.withRebootRequest("r-2"));
        rig.runUntil(() -> rig.finished(Track.REBOOT, "r-2"), LIMIT);
        rig.runFor(Duration.ofHours(6));

        assertThat(rig.device.reboots()).isEqualTo(1);
        assertThat(rig.controlPlane.last(DEVICE, Track.REBOOT).orElseThrow().reason()).hasValueSatisfying(reason -> assertThat(reason)
                .contains("rebooted but not healthy within 10 min", "disk_root"));
    }

    @Test
    void aNewRequestIdRebootsAgainAndTheOldOneNeverDoes() {
        SimulatedRig rig = new SimulatedRig().enrolled();
        rig.desire(state -> state.withRebootRequest("r-1"));
        rig.runUntil(() -> rig.finished(Track.REBOOT, "r-1"), LIMIT);
        rig.desire(state -> state.withContainerTag("2.3.1"));
        rig.runFor(Duration.ofHours(1));
        assertThat(rig.device.reboots()).isEqualTo(1);

        rig.desire(state -> state.withRebootRequest("r-2"));
        rig.runUntil(() -> rig.finished(Track.REBOOT, "r-2"), LIMIT);

        assertThat(rig.device.reboots()).isEqualTo(2);
        assertThat(rig.device.agent().state().rebootRequests()).containsExactly("r-1", "r-2");
    }
}
