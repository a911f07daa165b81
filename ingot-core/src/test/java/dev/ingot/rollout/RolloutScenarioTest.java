package dev.ingot.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.fleet.Track;
import dev.ingot.health.DeviceId;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.SiteId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Whole rollouts over 50 simulated sites (one device each), from plan to their end: the scenarios, on the
 * re-image and the container track. Every step's state goes through its JSON and back.
 */
class RolloutScenarioTest {
    static final Instant START = Instant.parse("2026-11-30T08:00:00Z");
    static final ImageVersion OLD = ImageVersion.parse("v1.4");
    static final ImageVersion NEW = ImageVersion.parse("v1.5");
    static final String OLD_TAG = "2026.11.2";
    static final String NEW_TAG = "2026.11.3";
    static final SiteId CANARY = SimulatedFleet.site(7);

    static Target target(Track track) {
        return switch (track) {
            case REIMAGE -> new Target.Image(NEW);
            case CONTAINER -> new Target.ContainerTag(NEW_TAG);
            case REBOOT -> throw new IllegalArgumentException("not a versioned track");
        };
    }

    static Target previous(Track track) {
        return track == Track.REIMAGE ? new Target.Image(OLD) : new Target.ContainerTag(OLD_TAG);
    }

    static SimulatedFleet fleet() {
        return new SimulatedFleet(50, OLD, OLD_TAG, START).canary(CANARY);
    }

    static RolloutDefinition definition(Track track, FailurePolicy policy) {
        return RolloutDefinition.withDefaults(new RolloutId("r-scenario"), target(track), "ops", START).withFailurePolicy(policy);
    }

    static Rollout start(RolloutDefinition definition, SimulatedFleet fleet) {
        return Rollout.start(definition, Planner.plan(definition, fleet.snapshot(), Map.of(), START), START);
    }

    static boolean runs(SimulatedFleet.Device device, Target target) {
        return switch (target) {
            case Target.Image image -> device.image.equals(image.version());
            case Target.ContainerTag tag -> device.tag.equals(tag.tag());
            case Target.Reboot reboot -> false;
        };
    }

    @ParameterizedTest
    @EnumSource(value = Track.class, names = {"REIMAGE", "CONTAINER"})
    void aGoodChangeReachesEveryDeviceStageByStage(Track track) {
        SimulatedFleet fleet = fleet();
        Runner runner = new Runner(start(definition(track, FailurePolicy.HALT), fleet), fleet, START);

        Rollout end = runner.settle(400);

        assertThat(end.status()).isInstanceOf(Status.Completed.class);
        assertThat(end.plan().stages()).extracting(stage -> stage.devices().size()).containsExactly(1, 5, 20, 24);
        assertThat(end.plan().stage(1).sites()).containsExactly(CANARY);
        assertThat(fleet.devices()).allMatch(device -> runs(device, target(track)));
        assertThat(fleet.made()).hasSize(50).allMatch(write -> write.kind() == DesiredStateWrite.Kind.APPLY);
        assertThat(fleet.touched()).hasSize(50);
        assertThat(fleet.skippedDuplicates()).isZero();
        assertThat(end.stages()).allMatch(StageRun::passed);
        // Each stage soaked its full 30 minutes before the next began.
        for (int stage = 2; stage <= 4; stage++) {
            Instant previousSoak = end.stages().get(stage - 2).soakStartedAt().orElseThrow();
            assertThat(end.stages().get(stage - 1).startedAt().orElseThrow()).isAfterOrEqualTo(previousSoak.plus(Duration.ofMinutes(30)));
        }
        assertThat(end.timeline()).extracting(TimelineEntry::event).containsSubsequence("created", "stage-started", "stage-written",
                "soak-started", "stage-passed", "stage-started", "stage-passed", "stage-passed", "stage-passed", "completed");
    }

    @ParameterizedTest
    @EnumSource(value = Track.class, names = {"REIMAGE", "CONTAINER"})
    void aBadCanaryHaltsWithOnlyTheCanaryTouched(Track track) {
        SimulatedFleet fleet = fleet().misbehave(target(track), SimulatedFleet.Behaviour.FALL_BACK, List.of(CANARY));
        Runner runner = new Runner(start(definition(track, FailurePolicy.HALT), fleet), fleet, START);

        Rollout end = runner.settle(400);

        assertThat(end.status()).isInstanceOfSatisfying(Status.Halted.class, halted -> {
            assertThat(halted.stage()).isEqualTo(1);
            assertThat(halted.reason()).contains("rolled itself back: video-ingest did not start; fell back");
        });
        DeviceId canaryDevice = end.plan().stage(1).devices().getFirst().id();
        assertThat(fleet.touched()).containsExactly(canaryDevice);
        assertThat(fleet.devices()).allMatch(device -> runs(device, previous(track)));
        assertThat(fleet.devices()).filteredOn(device -> !device.id.equals(canaryDevice))
                .allMatch(device -> device.desired.generation() == 2);
        assertThat(end.runs().get(canaryDevice).outcome()).isEqualTo(DeviceRun.Outcome.ROLLED_BACK);
    }

    @Test
    void aMaxFailuresCountAsLargeAsTheCanaryStageStillHaltsACanaryThatFailedOutright() {
        SimulatedFleet fleet = fleet().misbehave(target(Track.REIMAGE), SimulatedFleet.Behaviour.FALL_BACK, List.of(CANARY));
        RolloutDefinition definition = definition(Track.REIMAGE, FailurePolicy.HALT).withMaxFailures(MaxFailures.parse("3", 10));
        Runner runner = new Runner(start(definition, fleet), fleet, START);

        Rollout end = runner.settle(400);

        assertThat(end.status()).isInstanceOfSatisfying(Status.Halted.class, halted -> assertThat(halted.stage()).isEqualTo(1));
        assertThat(fleet.touched()).containsExactly(end.plan().stage(1).devices().getFirst().id());
        assertThat(MaxFailures.parse("3", 10).allowed(2)).as("one of two may fail, never both").isEqualTo(1);
        assertThat(MaxFailures.parse("3", 10).allowed(20)).isEqualTo(3);
        assertThat(MaxFailures.parse("3", 10).allowed(0)).isZero();
    }

    @ParameterizedTest
    @EnumSource(value = Track.class, names = {"REIMAGE", "CONTAINER"})
    void aFailureInTheTenPercentStageRollsThatStageBackAndLeavesTheRestUntouched(Track track) {
        RolloutDefinition definition = definition(track, FailurePolicy.ROLLBACK);
        SimulatedFleet fleet = fleet();
        Plan plan = Planner.plan(definition, fleet.snapshot(), Map.of(), START);
        SiteId failing = plan.stage(2).sites().get(2);
        fleet.misbehave(target(track), SimulatedFleet.Behaviour.FAIL, List.of(failing));
        Runner runner = new Runner(Rollout.start(definition, plan, START), fleet, START);

        Rollout end = runner.settle(400);

        assertThat(end.status()).isInstanceOf(Status.RolledBack.class);
        Set<DeviceId> canary = ids(plan.stage(1));
        Set<DeviceId> tenPercent = ids(plan.stage(2));
        assertThat(fleet.touched()).containsExactlyInAnyOrderElementsOf(union(canary, tenPercent));
        assertThat(fleet.made()).filteredOn(write -> write.kind() == DesiredStateWrite.Kind.REVERT)
                .allMatch(write -> write.stage() == 2 && write.value().equals(previous(track)))
                .extracting(DesiredStateWrite::device).containsExactlyInAnyOrderElementsOf(tenPercent);
        for (SimulatedFleet.Device device : fleet.devices()) {
            assertThat(runs(device, canary.contains(device.id) ? target(track) : previous(track))).as(device.id.value()).isTrue();
            if (!canary.contains(device.id) && !tenPercent.contains(device.id)) {
                assertThat(device.desired.generation()).as("untouched " + device.id).isEqualTo(2);
            }
        }
        assertThat(tenPercent).allMatch(device -> end.runs().get(device).revert() == DeviceRun.Revert.REVERTED);
        assertThat(RolloutView.of(end).stages().get(1).counts().reverted()).isEqualTo(5);
        assertThat(RolloutView.of(end).stages().get(2).state()).isEqualTo("pending");
    }

    @Test
    void aDeviceThatTurnsUnhealthyDuringTheSoakFailsTheHealthGate() {
        RolloutDefinition definition = definition(Track.REIMAGE, FailurePolicy.HALT);
        SimulatedFleet fleet = fleet();
        Plan plan = Planner.plan(definition, fleet.snapshot(), Map.of(), START);
        SiteId sickly = plan.stage(2).sites().getFirst();
        fleet.misbehave(target(Track.REIMAGE), SimulatedFleet.Behaviour.UNHEALTHY_LATER, List.of(sickly));
        Runner runner = new Runner(Rollout.start(definition, plan, START), fleet, START);

        Rollout end = runner.settle(400);

        assertThat(end.status()).isInstanceOfSatisfying(Status.Halted.class, halted -> {
            assertThat(halted.stage()).isEqualTo(2);
            assertThat(halted.phase()).isEqualTo(Status.Phase.SOAKING);
            assertThat(halted.reason()).startsWith("the gate health failed: 4 of 5 devices healthy on v1.5; 1 not")
                    .contains("(unhealthy, was healthy)");
        });
        assertThat(fleet.touched()).containsExactlyInAnyOrderElementsOf(union(ids(plan.stage(1)), ids(plan.stage(2))));
    }

    @Test
    void aDeviceThatNeverFinishesTimesOutAndHaltsTheStage() {
        RolloutDefinition definition = definition(Track.REIMAGE, FailurePolicy.HALT).withDeviceDeadline(Duration.ofMinutes(20));
        SimulatedFleet fleet = fleet().misbehave(target(Track.REIMAGE), SimulatedFleet.Behaviour.HANG, List.of(CANARY));
        Runner runner = new Runner(start(definition, fleet), fleet, START);

        Rollout end = runner.settle(400);

        DeviceRun canary = end.runs().values().iterator().next();
        assertThat(canary.outcome()).isEqualTo(DeviceRun.Outcome.TIMED_OUT);
        assertThat(canary.decidedAt()).contains(canary.writtenAt().plus(Duration.ofMinutes(20)));
        assertThat(canary.reason().orElseThrow()).contains("within 20m (its action is downloading;");
        assertThat(end.status()).isInstanceOf(Status.Halted.class);
        assertThat(fleet.touched()).hasSize(1);
    }

    @Test
    void theRebootTrackRebootsOnlyTheSelectedDevicesThatStillNeedIt() {
        SimulatedFleet fleet = fleet();
        List<DeviceId> selected = List.of(SimulatedFleet.deviceId(3), SimulatedFleet.deviceId(11), SimulatedFleet.deviceId(12),
                SimulatedFleet.deviceId(30), SimulatedFleet.deviceId(49));
        fleet.setRebootRequired(SimulatedFleet.deviceId(3));
        fleet.setRebootRequired(SimulatedFleet.deviceId(30));
        fleet.setRebootRequired(SimulatedFleet.deviceId(49));
        fleet.setRebootRequired(SimulatedFleet.deviceId(20));
        RolloutDefinition definition = RolloutDefinition.withDefaults(new RolloutId("r-patch-reboot"), new Target.Reboot(selected, true), "ops",
                START).withStages(Stages.parse("1,50%,100%"));
        Rollout rollout = start(definition, fleet);
        Runner runner = new Runner(rollout, fleet, START);

        Rollout end = runner.settle(400);

        assertThat(end.status()).isInstanceOf(Status.Completed.class);
        Set<DeviceId> rebooted = fleet.devices().stream().filter(device -> device.reboots > 0).map(device -> device.id).collect(Collectors.toSet());
        assertThat(rebooted).containsExactlyInAnyOrder(SimulatedFleet.deviceId(3), SimulatedFleet.deviceId(30), SimulatedFleet.deviceId(49));
        assertThat(fleet.devices()).allMatch(device -> device.reboots <= 1);
        assertThat(fleet.touched()).isEqualTo(rebooted);
        assertThat(rollout.plan().excluded()).filteredOn(exclusion -> exclusion.reason() == Plan.Reason.NO_REBOOT_REQUIRED)
                .extracting(Plan.Exclusion::device).containsExactlyInAnyOrder(SimulatedFleet.deviceId(11), SimulatedFleet.deviceId(12));
        assertThat(rollout.plan().excludedByReason()).containsEntry(Plan.Reason.NOT_SELECTED, 45);
        assertThat(fleet.made()).allMatch(write -> write.applyTo(dev.ingot.fleet.DesiredState.initial()).rebootRequest()
                .equals(java.util.Optional.of("r-patch-reboot")));
    }

    static Set<DeviceId> ids(Plan.Stage stage) {
        return stage.devices().stream().map(Plan.Device::id).collect(Collectors.toSet());
    }

    static Set<DeviceId> union(Set<DeviceId> first, Set<DeviceId> second) {
        Set<DeviceId> union = new java.util.HashSet<>(first);
        union.addAll(second);
        return union;
    }
}
