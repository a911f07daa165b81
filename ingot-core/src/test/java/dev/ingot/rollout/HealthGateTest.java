package dev.ingot.rollout;

import static dev.ingot.rollout.Fixtures.T0;
import static dev.ingot.rollout.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.fleet.ActionState;
import dev.ingot.health.HealthStatus;
import dev.ingot.image.ImageVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class HealthGateTest {
    private static final HealthGate GATE = new HealthGate();

    private static GateInput.Device device(int index, HealthStatus baseline, DeviceRun run, Optional<DeviceReport> report) {
        return new GateInput.Device(new Plan.Device(Fixtures.device(index), Fixtures.site(index), Optional.of(new Target.Image(Fixtures.OLD)),
                baseline), run, report.map(value -> new DeviceProgress(Fixtures.device(index), Optional.of(ActionState.COMMITTED), Optional.empty(),
                        Optional.of(value))));
    }

    private static DeviceRun succeeded() {
        return DeviceRun.written(1, T0).decided(DeviceRun.Outcome.SUCCEEDED, Optional.empty(), T0);
    }

    private static Optional<DeviceReport> on(ImageVersion version, HealthStatus status, int minute) {
        return Optional.of(Fixtures.report(at(minute), status, version));
    }

    private static GateInput stage(MaxFailures maxFailures, List<GateInput.Device> devices) {
        return new GateInput(new RolloutId("r-gate"), Fixtures.TARGET, 2, devices.stream().map(device -> device.planned().site()).toList(),
                devices, maxFailures, at(10));
    }

    @Test
    void everyDeviceHealthyOnTheTargetSinceTheSoakBeganPasses() {
        GateResult result = GATE.evaluate(stage(MaxFailures.NONE, List.of(
                device(1, HealthStatus.HEALTHY, succeeded(), on(Fixtures.NEW, HealthStatus.HEALTHY, 12)),
                device(2, HealthStatus.DEGRADED, succeeded(), on(Fixtures.NEW, HealthStatus.DEGRADED, 12)))), at(20));

        assertThat(result).isEqualTo(GateResult.pass("health", "2 of 2 devices healthy on v1.5", at(20)));
    }

    @Test
    void aDeviceOffTheTargetOrWorseThanBeforeFails() {
        GateResult result = GATE.evaluate(stage(MaxFailures.NONE, List.of(
                device(1, HealthStatus.HEALTHY, succeeded(), on(Fixtures.OLD, HealthStatus.HEALTHY, 12)),
                device(2, HealthStatus.HEALTHY, succeeded(), on(Fixtures.NEW, HealthStatus.DEGRADED, 12)),
                device(3, HealthStatus.HEALTHY, succeeded(), on(Fixtures.NEW, HealthStatus.HEALTHY, 12)))), at(20));

        assertThat(result.verdict()).isEqualTo(GateResult.Verdict.FAIL);
        assertThat(result.reason()).isEqualTo("1 of 3 devices healthy on v1.5; 2 not, more than --max-failures 0 allows: "
                + Fixtures.device(1) + " (reports v1.4), " + Fixtures.device(2) + " (degraded, was healthy)");
    }

    @Test
    void aDeviceSilentSinceTheSoakBeganMakesItWaitWhileItCouldStillTipTheBalance() {
        List<GateInput.Device> devices = List.of(
                device(1, HealthStatus.HEALTHY, succeeded(), on(Fixtures.NEW, HealthStatus.HEALTHY, 9)),
                device(2, HealthStatus.HEALTHY, succeeded(), Optional.empty()),
                device(3, HealthStatus.HEALTHY, succeeded(), on(Fixtures.NEW, HealthStatus.HEALTHY, 12)));

        assertThat(GATE.evaluate(stage(MaxFailures.NONE, devices), at(20))).isEqualTo(
                GateResult.waiting("health", "1 of 3 devices healthy on v1.5; 2 not reported since the soak began", at(20)));
        assertThat(GATE.evaluate(stage(MaxFailures.parse("2", 10), devices), at(20)).verdict()).isEqualTo(GateResult.Verdict.PASS);
    }

    @Test
    void aShareOfFailuresIsOnlyTrustedOnTheMinimumSample() {
        List<GateInput.Device> devices = new ArrayList<>();
        for (int index = 1; index <= 20; index++) {
            devices.add(device(index, HealthStatus.HEALTHY, succeeded(), on(index == 5 ? Fixtures.OLD : Fixtures.NEW, HealthStatus.HEALTHY, 12)));
        }

        assertThat(GATE.evaluate(stage(MaxFailures.parse("10%", 10), devices), at(20)).verdict()).isEqualTo(GateResult.Verdict.PASS);
        assertThat(GATE.evaluate(stage(MaxFailures.parse("10%", 21), devices), at(20)).verdict()).isEqualTo(GateResult.Verdict.FAIL);
    }

    @Test
    void failedDevicesCountUnlessAnOperatorAcceptedThem() {
        DeviceRun failed = DeviceRun.written(1, T0).decided(DeviceRun.Outcome.FAILED, Optional.of("its action failed: crc"), T0);
        List<GateInput.Device> devices = List.of(device(1, HealthStatus.HEALTHY, failed, on(Fixtures.OLD, HealthStatus.HEALTHY, 12)),
                device(2, HealthStatus.HEALTHY, succeeded(), on(Fixtures.NEW, HealthStatus.HEALTHY, 12)));

        assertThat(GATE.evaluate(stage(MaxFailures.NONE, devices), at(20)).reason()).contains(Fixtures.device(1) + " (its action failed: crc)");
        List<GateInput.Device> accepted = List.of(device(1, HealthStatus.HEALTHY, failed.accept(), on(Fixtures.OLD, HealthStatus.HEALTHY, 12)),
                devices.get(1));
        assertThat(GATE.evaluate(stage(MaxFailures.NONE, accepted), at(20))).isEqualTo(
                GateResult.pass("health", "1 of 1 devices healthy on v1.5", at(20)));
    }
}
