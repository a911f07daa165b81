package dev.ingot.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.Track;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RolloutJsonTest {
    private static Rollout rolledBack() {
        RolloutDefinition definition = RolloutScenarioTest.definition(Track.CONTAINER, FailurePolicy.ROLLBACK)
                .withGates(List.of(new GateSpec.Health(), GateSpec.parse("cloudwatch:edge-health-?unreadable=wait")))
                .withMaxFailures(MaxFailures.parse("5%", 20)).withSites(SiteFilter.parse("*,!tag:lab"));
        SimulatedFleet fleet = RolloutScenarioTest.fleet();
        Plan plan = Planner.plan(definition, fleet.snapshot(), Map.of(), RolloutScenarioTest.START);
        fleet.misbehave(definition.target(), SimulatedFleet.Behaviour.FAIL, plan.stage(2).sites());
        Runner runner = new Runner(Rollout.start(definition, plan, RolloutScenarioTest.START), fleet, RolloutScenarioTest.START,
                new RolloutMachine(), spec -> spec instanceof GateSpec.Health ? new HealthGate()
                        : new ScriptedGate(spec.text(), GateResult.Verdict.PASS, "no alarm"));
        return runner.settle(400);
    }

    /** A gate that always gives the same answer: a stand-in for CloudWatch in core's tests. */
    record ScriptedGate(String name, GateResult.Verdict verdict, String reason) implements Gate {
        @Override
        public GateResult evaluate(GateInput stage, java.time.Instant now) {
            return new GateResult(name, verdict, reason, now);
        }
    }

    @Test
    void aRolloutReadsBackEqualAndWritesTheSameBytes() {
        Rollout rollout = rolledBack();
        byte[] json = RolloutJson.write(rollout);

        Rollout read = RolloutJson.read(json, "r-scenario");

        assertThat(read).isEqualTo(rollout);
        assertThat(RolloutJson.write(read)).isEqualTo(json);
        String text = new String(json, StandardCharsets.UTF_8);
        assertThat(text).startsWith("{\n  \"definition\" : {\n").endsWith("}\n").contains("\"schema_version\" : 1");
        assertThat(text).contains("\"gates\" : [\n      \"health\",\n      \"cloudwatch:edge-health-?unreadable=wait\"\n    ]", "\"max_failures\" : \"5%\"",
                "\"state\" : \"rolled_back\"", "\"revert\" : \"reverted\"", "\"previous\" : \"2026.11.2\"");
        assertThat(rollout.stages().getFirst().gates()).extracting(GateResult::gate).containsExactly("health", "cloudwatch:edge-health-?unreadable=wait");
    }

    @Test
    void everyStatusReadsBack() {
        java.time.Instant at = Fixtures.T0;
        List<Status> statuses = List.of(new Status.Planned(), new Status.Running(2, Status.Phase.SOAKING, at),
                new Status.Paused(new Status.Running(1, Status.Phase.APPLYING, at), at, "alice"), new Status.Paused(new Status.Planned(), at, "bob"),
                new Status.Halted(2, Status.Phase.WAITING, "1 of 1 devices failed", at), new Status.RollingBack("rollback by alice", at),
                new Status.RolledBack(at), new Status.Aborted(at, "alice"), new Status.Completed(at));
        Rollout base = Fixtures.planned(Fixtures.definition(), 4);
        for (Status status : statuses) {
            Rollout rollout = new Rollout(base.definition(), base.plan(), status, base.runs(), base.stages(), base.timeline(), 7);
            assertThat(RolloutJson.read(RolloutJson.write(rollout), "test")).isEqualTo(rollout);
        }
    }

    @Test
    void aDamagedDocumentIsRefusedNamingWhatIsWrong() {
        String good = new String(RolloutJson.write(Fixtures.planned(Fixtures.definition(), 4)), StandardCharsets.UTF_8);

        assertThatThrownBy(() -> RolloutJson.read("{".getBytes(StandardCharsets.UTF_8), "r-1")).isInstanceOfSatisfying(IngotException.class,
                e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT);
                    assertThat(e.getMessage()).startsWith("Tried to read the rollout r-1 but failed because it is not JSON");
                });
        assertThatThrownBy(() -> read(good.replace("\"schema_version\" : 1", "\"schema_version\" : 2")))
                .hasMessage("Tried to read the rollout r-1 but failed because its schema_version is 2; this Ingot reads 1");
        assertThatThrownBy(() -> read(good.replace("\"revision\" : 0", "\"revision\" : \"0\"")))
                .hasMessage("Tried to read the rollout r-1 but failed because 'revision' is not a non-negative whole number");
        assertThatThrownBy(() -> read(good.replace("\"state\" : \"planned\"", "\"state\" : \"sleeping\"")))
                .hasMessage("Tried to read the rollout r-1 but failed because 'sleeping' is not a rollout state");
        assertThatThrownBy(() -> read(good.replace("\"soak\" : \"30m\"", "\"soak\" : \"forever\"")))
                .hasMessageStartingWith("Tried to read the rollout r-1 but failed because Tried to read the soak 'forever'");
        assertThatThrownBy(() -> read(good.replace("\"planned_at\"", "\"planned\""))).hasMessage(
                "Tried to read the rollout r-1 but failed because it has no 'planned_at'");
        assertThatThrownBy(() -> read("[]")).hasMessageEndingWith("it is not a JSON object");
        String running = new String(RolloutJson.write(new RolloutMachine().decide(Fixtures.planned(Fixtures.definition(), 4), Observation.NOTHING,
                Fixtures.at(1)).rollout()), StandardCharsets.UTF_8);
        assertThatThrownBy(() -> read(running.replace("\"stage\" : 1,\n      \"written_at\"", "\"stage\" : 2,\n      \"written_at\"")))
                .hasMessageContaining("has a run for stage 2 but is not planned there");
        assertThatThrownBy(() -> read(running.replace("\"stage\" : 1,\n    \"state\" : \"running\"", "\"stage\" : 9,\n    \"state\" : \"running\"")))
                .hasMessageContaining("the status names stage 9 of a plan with 2");
    }

    @Test
    void theDryRunAndStatusDocumentsAreDeterministic() {
        RolloutDefinition definition = Fixtures.definition();
        Plan plan = Planner.plan(definition, Fixtures.fleet(3), Map.of(), Fixtures.T0);

        String dryRun = new String(RolloutJson.plan(definition, plan), StandardCharsets.UTF_8);

        assertThat(dryRun).isEqualTo(new String(RolloutJson.plan(definition, Planner.plan(definition, Fixtures.fleet(3), Map.of(), Fixtures.T0)),
                StandardCharsets.UTF_8));
        assertThat(dryRun).contains("\"baseline\" : \"healthy\"", "\"size\" : \"100%\"", "\"target\" : {\n      \"version\" : \"v1.5\"");
        String view = new String(RolloutJson.view(RolloutView.of(rolledBack())), StandardCharsets.UTF_8);
        assertThat(view).contains("\"state\" : \"rolled_back\"", "\"reverted\" : 5", "\"current_stage\" : null");
    }

    private static Rollout read(String text) {
        return RolloutJson.read(text.getBytes(StandardCharsets.UTF_8), "r-1");
    }
}
