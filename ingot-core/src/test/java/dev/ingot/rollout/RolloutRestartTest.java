package dev.ingot.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.fleet.Track;
import dev.ingot.health.DeviceId;
import dev.ingot.site.SiteId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The engine killed at every step of whole rollouts, and started again from what was stored: the rollout ends the
 * same way, every device is written the same, and none twice. Two ways to die: before the step's transaction
 * committed (the documented contract: nothing of the step remains), and after its writes but before the rollout was
 * stored (what would happen were writes made outside the transaction: the write keys keep them from repeating).
 */
class RolloutRestartTest {
    record Outcome(Class<? extends Status> status, Map<DeviceId, String> devices, Set<DeviceId> touched, Map<DeviceId, String> runs) {}

    enum Scenario {
        GOOD,
        BAD_CANARY,
        BAD_TEN_PERCENT_ROLLED_BACK
    }

    private static Runner runner(Scenario scenario, Track track) {
        FailurePolicy policy = scenario == Scenario.BAD_TEN_PERCENT_ROLLED_BACK ? FailurePolicy.ROLLBACK : FailurePolicy.HALT;
        RolloutDefinition definition = RolloutScenarioTest.definition(track, policy);
        SimulatedFleet fleet = RolloutScenarioTest.fleet();
        Plan plan = Planner.plan(definition, fleet.snapshot(), Map.of(), RolloutScenarioTest.START);
        switch (scenario) {
            case GOOD -> { }
            case BAD_CANARY -> fleet.misbehave(RolloutScenarioTest.target(track), SimulatedFleet.Behaviour.FAIL, plan.stage(1).sites());
            case BAD_TEN_PERCENT_ROLLED_BACK -> fleet.misbehave(RolloutScenarioTest.target(track), SimulatedFleet.Behaviour.FALL_BACK,
                    List.of(plan.stage(2).sites().get(1)));
        }
        // Small write batches, so that a stage is written over several steps and a crash can fall between them.
        return new Runner(Rollout.start(definition, plan, RolloutScenarioTest.START), fleet, RolloutScenarioTest.START,
                new RolloutMachine(4), Runner::healthOnly).tickEvery(java.time.Duration.ofMinutes(4));
    }

    private static Outcome outcome(Runner runner) {
        Map<DeviceId, String> devices = new HashMap<>();
        runner.fleet.devices().forEach(device -> devices.put(device.id, device.image + " " + device.tag + " " + device.desired.image().orElseThrow()
                + " " + device.desired.containerTag().orElseThrow()));
        Map<DeviceId, String> runs = new HashMap<>();
        // A restart costs a tick, so a device's outcome may be decided a tick later (or, in a rollback, not at all before its
        // write-back); which stage wrote it and whether it was written back never differ.
        runner.rollout.runs().forEach((device, run) -> runs.put(device, run.stage() + " " + run.revert()));
        return new Outcome(runner.rollout.status().getClass(), devices, runner.fleet.touched(), runs);
    }

    private static void assertNoDeviceWrittenTwice(Runner runner) {
        Map<String, Long> byKey = runner.fleet.made().stream().collect(Collectors.groupingBy(DesiredStateWrite::key, Collectors.counting()));
        assertThat(byKey.values()).allMatch(count -> count == 1);
        Map<DeviceId, Long> applies = runner.fleet.made().stream().filter(write -> write.kind() == DesiredStateWrite.Kind.APPLY)
                .collect(Collectors.groupingBy(DesiredStateWrite::device, Collectors.counting()));
        assertThat(applies.values()).allMatch(count -> count == 1);
    }

    @ParameterizedTest
    @EnumSource(Scenario.class)
    void killedAtAnyStepTheReimageRolloutEndsAsIfNeverKilled(Scenario scenario) {
        killedAtEveryStep(scenario, Track.REIMAGE);
    }

    @ParameterizedTest
    @EnumSource(Scenario.class)
    void killedAtAnyStepTheContainerRolloutEndsAsIfNeverKilled(Scenario scenario) {
        killedAtEveryStep(scenario, Track.CONTAINER);
    }

    private static void killedAtEveryStep(Scenario scenario, Track track) {
        Runner uninterrupted = runner(scenario, track);
        uninterrupted.settle(500);
        Outcome expected = outcome(uninterrupted);
        assertNoDeviceWrittenTwice(uninterrupted);
        assertThat(uninterrupted.rollout.status().terminal() || uninterrupted.rollout.status() instanceof Status.Halted).isTrue();

        int crashPoints = 0;
        for (int step = 0; step < uninterrupted.decisions.size(); step++) {
            Decision decision = uninterrupted.decisions.get(step);
            if (decision.events().isEmpty() && decision.writes().isEmpty() && decision.rollout().equals(step == 0 ? null
                    : uninterrupted.decisions.get(step - 1).rollout())) {
                continue; // a step that changed nothing: dying there is dying between steps
            }
            crashPoints++;
            for (Runner.Crash crash : Runner.Crash.values()) {
                Runner killed = runner(scenario, track).crashAt(step, crash);
                killed.settle(500);
                assertThat(outcome(killed)).as("killed %s at step %d", crash, step).isEqualTo(expected);
                assertNoDeviceWrittenTwice(killed);
                if (crash == Runner.Crash.BEFORE_COMMIT) {
                    assertThat(killed.fleet.skippedDuplicates()).as("nothing of a step that did not commit remains").isZero();
                }
            }
        }
        assertThat(crashPoints).isGreaterThanOrEqualTo(scenario == Scenario.BAD_CANARY ? 2 : 10);
        Set<SiteId> touchedSites = expected.touched().stream().map(device -> uninterrupted.fleet.device(device).site).collect(Collectors.toSet());
        assertThat(touchedSites).isNotEmpty();
    }
}
