package dev.ingot.rollout;

import static dev.ingot.rollout.Fixtures.action;
import static dev.ingot.rollout.Fixtures.at;
import static dev.ingot.rollout.Fixtures.command;
import static dev.ingot.rollout.Fixtures.committed;
import static dev.ingot.rollout.Fixtures.definition;
import static dev.ingot.rollout.Fixtures.device;
import static dev.ingot.rollout.Fixtures.gates;
import static dev.ingot.rollout.Fixtures.planned;
import static dev.ingot.rollout.Fixtures.progress;
import static dev.ingot.rollout.Fixtures.reverted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.ActionState;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthStatus;
import dev.ingot.rollout.OperatorCommand.Kind;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Every transition of the rollout state machine, one step at a time, with the clock given to each step. */
class RolloutMachineTest {
    private static final RolloutMachine MACHINE = new RolloutMachine();
    private static final String HEALTH = "health";

    /** A four-site rollout (canary: device 1; stage 2: devices 2–4) whose canary is written at minute 1. */
    private static Rollout canaryWritten(RolloutDefinition definition) {
        return MACHINE.decide(planned(definition, 4), Observation.NOTHING, at(1)).rollout();
    }

    /** The canary committed at minute 3; the soak of stage 1 runs from minute 3 to 33. */
    private static Rollout canarySoaking(RolloutDefinition definition) {
        return MACHINE.decide(canaryWritten(definition), progress(committed(1, at(3))), at(3)).rollout();
    }

    /** Stage 1 passed at minute 33 and stage 2 (devices 2–4) was written then. */
    private static Rollout stageTwoWritten(RolloutDefinition definition) {
        return MACHINE.decide(canarySoaking(definition), gates(GateResult.pass(HEALTH, "1 of 1 healthy", at(33))), at(33)).rollout();
    }

    @Test
    void aPlannedRolloutWritesItsCanaryOnTheFirstStepAndWaitsForIt() {
        Decision decision = MACHINE.decide(planned(definition(), 4), Observation.NOTHING, at(1));

        assertThat(decision.writes()).containsExactly(new DesiredStateWrite(new RolloutId("r-unit"), 1, device(1),
                DesiredStateWrite.Kind.APPLY, Fixtures.TARGET));
        assertThat(decision.rollout().status()).isEqualTo(new Status.Running(1, Status.Phase.WAITING, at(1)));
        assertThat(decision.rollout().runs()).containsOnlyKeys(device(1));
        assertThat(decision.rollout().runs().get(device(1)).writtenAt()).isEqualTo(at(1));
        assertThat(decision.events()).extracting(TimelineEntry::event).containsExactly("stage-started", "stage-written");
        assertThat(decision.rollout().revision()).isEqualTo(1);
        assertThat(decision.again()).isFalse();
    }

    @Test
    void aStepWithNothingNewChangesNothing() {
        Rollout waiting = canaryWritten(definition());

        Decision decision = MACHINE.decide(waiting, progress(action(1, ActionState.DOWNLOADING, null)), at(10));

        assertThat(decision.rollout()).isSameAs(waiting);
        assertThat(decision.writes()).isEmpty();
        assertThat(decision.events()).isEmpty();
    }

    @Test
    void aDeviceThatCommittedAndReportsHealthyOnTheTargetSucceedsAndTheSoakBegins() {
        Decision decision = MACHINE.decide(canaryWritten(definition()), progress(committed(1, at(3))), at(3));

        assertThat(decision.rollout().runs().get(device(1)).outcome()).isEqualTo(DeviceRun.Outcome.SUCCEEDED);
        assertThat(decision.rollout().status()).isEqualTo(new Status.Running(1, Status.Phase.SOAKING, at(3)));
        assertThat(decision.rollout().stages().getFirst().soakStartedAt()).contains(at(3));
        assertThat(decision.events()).extracting(TimelineEntry::event).containsExactly("soak-started");
    }

    @Test
    void aCommitWhoseReportStillShowsTheOldVersionIsNoSuccessAndTimesOutAtTheDeadline() {
        Rollout waiting = canaryWritten(definition());
        DeviceProgress stale = new DeviceProgress(device(1), Optional.of(ActionState.COMMITTED), Optional.empty(),
                Optional.of(Fixtures.report(at(2), HealthStatus.HEALTHY, Fixtures.OLD)));

        Rollout before = MACHINE.decide(waiting, progress(stale), at(30).plusSeconds(59)).rollout();
        Rollout after = MACHINE.decide(before, progress(stale), at(31)).rollout();

        assertThat(before.runs().get(device(1)).outcome()).isEqualTo(DeviceRun.Outcome.IN_PROGRESS);
        assertThat(after.runs().get(device(1)).outcome()).isEqualTo(DeviceRun.Outcome.TIMED_OUT);
        assertThat(after.runs().get(device(1)).reason().orElseThrow())
                .isEqualTo("not committed and healthy on v1.5 within 30m (its action is committed; its latest report (2026-11-30T08:02:00Z)"
                        + " says healthy on v1.4, video-ingest 2026.11.2)");
        assertThat(after.status()).isInstanceOf(Status.Halted.class);
    }

    @Test
    void aDeviceLessHealthyThanAtPlanTimeIsNoSuccess() {
        DeviceProgress degraded = new DeviceProgress(device(1), Optional.of(ActionState.COMMITTED), Optional.empty(),
                Optional.of(Fixtures.report(at(3), HealthStatus.DEGRADED, Fixtures.NEW)));

        Rollout rollout = MACHINE.decide(canaryWritten(definition()), progress(degraded), at(3)).rollout();

        assertThat(rollout.runs().get(device(1)).outcome()).isEqualTo(DeviceRun.Outcome.IN_PROGRESS);
    }

    @Test
    void aFailedActionHaltsTheStageWhenNoFailureIsAllowed() {
        Decision decision = MACHINE.decide(canaryWritten(definition()), progress(action(1, ActionState.FAILED, "no space left")), at(4));

        assertThat(decision.rollout().runs().get(device(1)).outcome()).isEqualTo(DeviceRun.Outcome.FAILED);
        assertThat(decision.rollout().status()).isInstanceOfSatisfying(Status.Halted.class, halted -> {
            assertThat(halted.stage()).isEqualTo(1);
            assertThat(halted.phase()).isEqualTo(Status.Phase.WAITING);
            assertThat(halted.reason()).isEqualTo("1 of 1 devices failed, more than --max-failures 0 allows: " + device(1)
                    + " (its action failed: no space left)");
        });
        assertThat(decision.events()).extracting(TimelineEntry::event).containsExactly("device-failed", "halted");
        assertThat(decision.writes()).isEmpty();
    }

    @Test
    void aDeviceThatRolledItselfBackCountsAsAFailure() {
        Rollout rollout = MACHINE.decide(canaryWritten(definition()), progress(action(1, ActionState.ROLLED_BACK, "unhealthy after boot")),
                at(4)).rollout();

        assertThat(rollout.runs().get(device(1)).outcome()).isEqualTo(DeviceRun.Outcome.ROLLED_BACK);
        assertThat(rollout.runs().get(device(1)).reason()).contains("it rolled itself back: unhealthy after boot");
        assertThat(rollout.status()).isInstanceOf(Status.Halted.class);
    }

    @Test
    void theDeadlineCountsFromTheDevicesOwnWrite() {
        RolloutDefinition definition = definition().withDeviceDeadline(Duration.ofMinutes(10));
        Rollout waiting = canaryWritten(definition);

        assertThat(MACHINE.decide(waiting, Observation.NOTHING, at(11).minusSeconds(1)).rollout().runs().get(device(1)).outcome())
                .isEqualTo(DeviceRun.Outcome.IN_PROGRESS);
        DeviceRun late = MACHINE.decide(waiting, Observation.NOTHING, at(11)).rollout().runs().get(device(1));
        assertThat(late.outcome()).isEqualTo(DeviceRun.Outcome.TIMED_OUT);
        assertThat(late.reason().orElseThrow()).contains("(it has not taken up the change; no report)");
    }

    @Test
    void maxFailuresToleratesThatManyFailedDevicesPerStage() {
        RolloutDefinition definition = definition().withMaxFailures(MaxFailures.parse("1", 10));
        Rollout stageTwo = stageTwoWritten(definition);

        Rollout oneFailed = MACHINE.decide(stageTwo, progress(action(2, ActionState.FAILED, "bad disk"), committed(3, at(35)),
                committed(4, at(35))), at(35)).rollout();
        assertThat(oneFailed.status()).isEqualTo(new Status.Running(2, Status.Phase.SOAKING, at(35)));
        assertThat(oneFailed.timeline().getLast().detail()).contains("2 of 3 devices on v1.5, 1 failed (within --max-failures 1)");

        Rollout twoFailed = MACHINE.decide(stageTwo, progress(action(2, ActionState.FAILED, "bad disk"),
                action(3, ActionState.ROLLED_BACK, "fell back")), at(35)).rollout();
        assertThat(twoFailed.status()).isInstanceOf(Status.Halted.class);
    }

    @Test
    void theSoakRunsItsFullLengthAndTheNextStageIsWrittenTheMomentItPasses() {
        Rollout soaking = canarySoaking(definition());
        GateResult pass = GateResult.pass(HEALTH, "1 of 1 healthy", at(32));

        Decision early = MACHINE.decide(soaking, gates(pass), at(33).minusSeconds(1));
        assertThat(early.rollout().status()).isInstanceOf(Status.Running.class);
        assertThat(((Status.Running) early.rollout().status()).stage()).isEqualTo(1);
        assertThat(early.writes()).isEmpty();
        assertThat(early.rollout().stages().getFirst().gates()).containsExactly(pass);

        Decision passed = MACHINE.decide(soaking, gates(GateResult.pass(HEALTH, "1 of 1 healthy", at(33))), at(33));
        assertThat(passed.rollout().status()).isEqualTo(new Status.Running(2, Status.Phase.WAITING, at(33)));
        assertThat(passed.writes()).extracting(DesiredStateWrite::device).containsExactly(device(2), device(3), device(4));
        assertThat(passed.writes()).allMatch(write -> write.stage() == 2);
        assertThat(passed.rollout().stages().getFirst().passed()).isTrue();
        assertThat(passed.events()).extracting(TimelineEntry::event).containsExactly("stage-passed", "stage-started", "stage-written");
    }

    @Test
    void theLastStagePassingCompletesTheRollout() {
        Rollout stageTwo = stageTwoWritten(definition());
        Rollout soaking = MACHINE.decide(stageTwo, progress(committed(2, at(36)), committed(3, at(36)), committed(4, at(36))), at(36)).rollout();

        Rollout done = MACHINE.decide(soaking, gates(GateResult.pass(HEALTH, "3 of 3", at(66))), at(66)).rollout();

        assertThat(done.status()).isEqualTo(new Status.Completed(at(66)));
        assertThat(done.held()).isEmpty();
        assertThat(done.timeline().getLast().detail()).isEqualTo("4 devices on v1.5");
    }

    @Test
    void aFailingGateDuringTheSoakHaltsAtOnce() {
        Decision decision = MACHINE.decide(canarySoaking(definition()), gates(GateResult.fail(HEALTH, "0 of 1 healthy", at(10))), at(10));

        assertThat(decision.rollout().status()).isEqualTo(new Status.Halted(1, Status.Phase.SOAKING, "the gate health failed: 0 of 1 healthy", at(10)));
        assertThat(decision.rollout().stages().getFirst().endedAt()).contains(at(10));
        assertThat(decision.rollout().stages().getFirst().passed()).isFalse();
    }

    @Test
    void aGateStillWaitingAtTheSoaksEndHasTheGateTimeoutThenFails() {
        Rollout soaking = canarySoaking(definition().withGateTimeout(Duration.ofMinutes(10)));
        GateResult waiting = GateResult.waiting(HEALTH, "1 not reported since the soak began", at(40));

        assertThat(MACHINE.decide(soaking, gates(waiting), at(43).minusSeconds(1)).rollout().status()).isInstanceOf(Status.Running.class);
        Status status = MACHINE.decide(soaking, gates(waiting), at(43)).rollout().status();
        assertThat(status).isInstanceOfSatisfying(Status.Halted.class, halted -> assertThat(halted.reason())
                .isEqualTo("the gate health did not pass within 10m of the soak's end: 1 not reported since the soak began"));
    }

    @Test
    void aGateNotAskedAtTheSoaksEndIsNoPass() {
        Rollout soaking = canarySoaking(definition());

        Decision decision = MACHINE.decide(soaking, Observation.NOTHING, at(40));

        assertThat(decision.rollout().status()).isEqualTo(soaking.status());
        assertThat(decision.writes()).isEmpty();
    }

    @Test
    void aGateTimeoutAfterAPauseCountsFromTheResume() {
        RolloutDefinition definition = definition().withGateTimeout(Duration.ofMinutes(10));
        Rollout paused = MACHINE.decide(canarySoaking(definition), Observation.commands(command(Kind.PAUSE, at(10))), at(10)).rollout();
        Rollout resumed = MACHINE.decide(paused, Observation.commands(command(Kind.RESUME, at(100))), at(100)).rollout();
        GateResult waiting = GateResult.waiting(HEALTH, "1 not reported since the soak began", at(101));

        assertThat(MACHINE.decide(resumed, gates(waiting), at(101)).rollout().status()).isInstanceOf(Status.Running.class);
        assertThat(MACHINE.decide(resumed, gates(waiting), at(110)).rollout().status()).isInstanceOf(Status.Halted.class);
    }

    @Test
    void gateResultsAreIgnoredOutsideTheSoak() {
        Rollout waiting = canaryWritten(definition());

        Decision decision = MACHINE.decide(waiting, gates(GateResult.fail(HEALTH, "stale", at(2))), at(2));

        assertThat(decision.rollout()).isSameAs(waiting);
    }

    @Test
    void aPausedRolloutWritesNothingUntilResumedThenCarriesOnWhereItWas() {
        Rollout soaking = canarySoaking(definition());
        Rollout paused = MACHINE.decide(soaking, Observation.commands(command(Kind.PAUSE, at(10))), at(10)).rollout();
        assertThat(paused.status()).isEqualTo(new Status.Paused(soaking.status(), at(10), "alice"));

        Decision whilePaused = MACHINE.decide(paused, gates(GateResult.pass(HEALTH, "fine", at(50))), at(50));
        assertThat(whilePaused.writes()).isEmpty();
        assertThat(whilePaused.rollout().status()).isEqualTo(paused.status());

        Rollout resumed = MACHINE.decide(paused, Observation.commands(command(Kind.RESUME, at(51))), at(51)).rollout();
        assertThat(resumed.status()).isEqualTo(new Status.Running(1, Status.Phase.SOAKING, at(51)));
        Decision next = MACHINE.decide(resumed, gates(GateResult.pass(HEALTH, "fine", at(52))), at(52));
        assertThat(next.writes()).hasSize(3);
        assertThat(resumed.timeline()).extracting(TimelineEntry::actor, TimelineEntry::event).contains(
                org.assertj.core.groups.Tuple.tuple("alice", "paused"), org.assertj.core.groups.Tuple.tuple("alice", "resumed"));
    }

    @Test
    void outcomesAreStillRecordedWhilePausedAndCountOnResume() {
        Rollout waiting = canaryWritten(definition());
        Rollout paused = MACHINE.decide(waiting, Observation.commands(command(Kind.PAUSE, at(2))), at(2)).rollout();

        Rollout failedWhilePaused = MACHINE.decide(paused, progress(action(1, ActionState.FAILED, "crc")), at(3)).rollout();
        assertThat(failedWhilePaused.runs().get(device(1)).outcome()).isEqualTo(DeviceRun.Outcome.FAILED);
        assertThat(failedWhilePaused.status()).isInstanceOf(Status.Paused.class);

        Rollout resumed = MACHINE.decide(failedWhilePaused, Observation.commands(command(Kind.RESUME, at(4))), at(4)).rollout();
        assertThat(resumed.status()).isInstanceOf(Status.Halted.class);
    }

    @Test
    void resumingAHaltedRolloutAcceptsItsFailuresAndCarriesOn() {
        RolloutDefinition definition = definition();
        Rollout stageTwo = stageTwoWritten(definition);
        Rollout halted = MACHINE.decide(stageTwo, progress(action(2, ActionState.FAILED, "bad disk")), at(35)).rollout();
        assertThat(halted.status()).isInstanceOf(Status.Halted.class);

        Decision resumed = MACHINE.decide(halted, new Observation(Map.of(device(3), committed(3, at(36)), device(4), committed(4, at(36))),
                List.of(), List.of(command(Kind.RESUME, at(36)))), at(36));

        assertThat(resumed.rollout().runs().get(device(2)).accepted()).isTrue();
        assertThat(resumed.rollout().status()).isEqualTo(new Status.Running(2, Status.Phase.SOAKING, at(36)));
        assertThat(resumed.events()).extracting(TimelineEntry::event).containsExactly("resumed", "soak-started");
        assertThat(resumed.events().getFirst().detail()).isEqualTo("resumed after the halt, accepting 1 failed device");
        assertThat(RolloutView.of(resumed.rollout()).stages().get(1).counts().accepted()).isEqualTo(1);
    }

    @Test
    void resumingAHaltInTheSoakStartsTheSoakAgain() {
        Rollout halted = MACHINE.decide(canarySoaking(definition()), gates(GateResult.fail(HEALTH, "alarm", at(10))), at(10)).rollout();

        Rollout resumed = MACHINE.decide(halted, Observation.commands(command(Kind.RESUME, at(20))), at(20)).rollout();

        assertThat(resumed.status()).isEqualTo(new Status.Running(1, Status.Phase.SOAKING, at(20)));
        assertThat(resumed.stages().getFirst().soakStartedAt()).contains(at(20));
        assertThat(resumed.stages().getFirst().endedAt()).isEmpty();
        assertThat(resumed.stages().getFirst().gates()).isEmpty();
        assertThat(MACHINE.decide(resumed, gates(GateResult.pass(HEALTH, "ok", at(49))), at(49)).writes()).isEmpty();
        assertThat(MACHINE.decide(resumed, gates(GateResult.pass(HEALTH, "ok", at(50))), at(50)).writes()).hasSize(3);
    }

    @Test
    void abortStopsTheRolloutForGoodAndReleasesItsDevices() {
        Rollout soaking = canarySoaking(definition());
        assertThat(soaking.held()).hasSize(4);

        Rollout aborted = MACHINE.decide(soaking, Observation.commands(command(Kind.ABORT, at(10))), at(10)).rollout();

        assertThat(aborted.status()).isEqualTo(new Status.Aborted(at(10), "alice"));
        assertThat(aborted.held()).isEmpty();
        Decision later = MACHINE.decide(aborted, gates(GateResult.pass(HEALTH, "ok", at(60))), at(60));
        assertThat(later.writes()).isEmpty();
        assertThat(later.rollout()).isSameAs(aborted);
        Decision refused = MACHINE.decide(aborted, Observation.commands(command(Kind.RESUME, at(61))), at(61));
        assertThat(refused.rollout().status()).isEqualTo(aborted.status());
        assertThat(refused.events()).singleElement().satisfies(event -> {
            assertThat(event.event()).isEqualTo("command-rejected");
            assertThat(event.detail()).isEqualTo("resume refused: the rollout is aborted and nothing changes it any more");
        });
    }

    @Test
    void anOperatorRollbackWritesEveryChangedDeviceBackAndEndsWhenTheyReportIt() {
        Rollout stageTwo = stageTwoWritten(definition());

        Decision rollback = MACHINE.decide(stageTwo, Observation.commands(command(Kind.ROLLBACK, at(40))), at(40));

        assertThat(rollback.rollout().status()).isEqualTo(new Status.RollingBack("rollback by alice", at(40)));
        assertThat(rollback.writes()).extracting(DesiredStateWrite::device).containsExactly(device(1), device(2), device(3), device(4));
        assertThat(rollback.writes()).allMatch(write -> write.kind() == DesiredStateWrite.Kind.REVERT
                && write.value().equals(new Target.Image(Fixtures.OLD)));
        assertThat(rollback.writes()).extracting(DesiredStateWrite::stage).containsExactly(1, 2, 2, 2);

        Rollout partly = MACHINE.decide(rollback.rollout(), progress(reverted(1, at(42)), reverted(2, at(42))), at(42)).rollout();
        assertThat(partly.status()).isInstanceOf(Status.RollingBack.class);
        Rollout done = MACHINE.decide(partly, progress(reverted(3, at(43)), reverted(4, at(43))), at(43)).rollout();
        assertThat(done.status()).isEqualTo(new Status.RolledBack(at(43)));
        assertThat(done.runs().values()).allMatch(run -> run.revert() == DeviceRun.Revert.REVERTED);
        assertThat(done.timeline().getLast().detail()).isEqualTo("4 devices back on their previous version");
    }

    @Test
    void aDeviceThatCannotGoBackIsRecordedAndTheRollbackStillEnds() {
        Rollout rollingBack = MACHINE.decide(canarySoaking(definition()), Observation.commands(command(Kind.ROLLBACK, at(10))), at(10)).rollout();

        Rollout failed = MACHINE.decide(rollingBack, progress(action(1, ActionState.FAILED, "slot a is corrupt")), at(12)).rollout();

        assertThat(failed.status()).isEqualTo(new Status.RolledBack(at(12)));
        assertThat(failed.runs().get(device(1)).revert()).isEqualTo(DeviceRun.Revert.FAILED);
        assertThat(failed.runs().get(device(1)).revertReason()).contains("going back to v1.4 failed: slot a is corrupt");
        assertThat(failed.timeline()).extracting(TimelineEntry::event).contains("device-not-reverted", "rolled-back");
        assertThat(failed.timeline().getLast().detail()).contains("1 did not come back: " + device(1));
    }

    @Test
    void aWriteBackNotReportedWithinTheDeadlineTimesOut() {
        Rollout rollingBack = MACHINE.decide(canarySoaking(definition()), Observation.commands(command(Kind.ROLLBACK, at(10))), at(10)).rollout();

        Rollout late = MACHINE.decide(rollingBack, Observation.NOTHING, at(40)).rollout();

        assertThat(late.runs().get(device(1)).revert()).isEqualTo(DeviceRun.Revert.TIMED_OUT);
        assertThat(late.status()).isInstanceOf(Status.RolledBack.class);
    }

    @Test
    void aDeviceThatGaveUpTheNewVersionIsBackAsSoonAsItReportsTheOldOne() {
        RolloutDefinition definition = definition().withFailurePolicy(FailurePolicy.ROLLBACK);
        Rollout rollingBack = MACHINE.decide(canaryWritten(definition), progress(action(1, ActionState.FAILED, "crc")), at(3)).rollout();
        assertThat(rollingBack.status()).isInstanceOf(Status.RollingBack.class);

        DeviceProgress stillOld = new DeviceProgress(device(1), Optional.empty(), Optional.empty(),
                Optional.of(Fixtures.report(at(4), HealthStatus.HEALTHY, Fixtures.OLD)));
        Rollout back = MACHINE.decide(rollingBack, progress(stillOld), at(4)).rollout();

        assertThat(back.status()).isEqualTo(new Status.RolledBack(at(4)));
    }

    @Test
    void theRollbackPolicyWritesBackOnlyTheFailedStage() {
        RolloutDefinition definition = definition().withFailurePolicy(FailurePolicy.ROLLBACK);
        Rollout stageTwo = stageTwoWritten(definition);

        Decision decision = MACHINE.decide(stageTwo, progress(action(3, ActionState.FAILED, "crc")), at(36));

        assertThat(decision.rollout().status()).isInstanceOfSatisfying(Status.RollingBack.class, status -> assertThat(status.reason())
                .startsWith("stage 2 failed: 1 of 3 devices failed"));
        assertThat(decision.writes()).extracting(DesiredStateWrite::device).containsExactly(device(2), device(3), device(4));
        assertThat(decision.rollout().runs().get(device(1)).revert()).isEqualTo(DeviceRun.Revert.NONE);
    }

    @Test
    void aCommandThatDoesNotFitTheStateIsRefusedAuditedAndChangesNothing() {
        Rollout planned = planned(definition(), 4);
        Rollout waiting = canaryWritten(definition());
        Rollout halted = MACHINE.decide(waiting, progress(action(1, ActionState.FAILED, "x")), at(3)).rollout();
        Rollout paused = MACHINE.decide(waiting, Observation.commands(command(Kind.PAUSE, at(3))), at(3)).rollout();

        assertThat(RolloutMachine.refusal(waiting, Kind.RESUME)).contains("it is running stage 1 (waiting), neither paused nor halted");
        assertThat(RolloutMachine.refusal(halted, Kind.PAUSE)).contains("it is halted already: resume, roll back or abort it");
        assertThat(RolloutMachine.refusal(paused, Kind.PAUSE)).contains("it is already paused");
        assertThat(RolloutMachine.refusal(planned, Kind.ROLLBACK)).contains("it has changed no device yet: abort it instead");
        assertThat(RolloutMachine.refusal(waiting, Kind.ABORT)).isEmpty();
        assertThat(RolloutMachine.refusal(halted, Kind.ROLLBACK)).isEmpty();

        Decision decision = MACHINE.decide(halted, Observation.commands(command(Kind.PAUSE, at(5))), at(5));
        assertThat(decision.rollout().status()).isEqualTo(halted.status());
        assertThat(decision.writes()).isEmpty();
        assertThat(decision.events()).singleElement().satisfies(event -> {
            assertThat(event.actor()).isEqualTo("alice");
            assertThat(event.event()).isEqualTo("command-rejected");
        });
    }

    @Test
    void aRebootCannotBeRolledBack() {
        RolloutDefinition reboot = RolloutDefinition.withDefaults(new RolloutId("r-reboot"), new Target.Reboot(List.of(device(1), device(2)), false),
                "alice", Fixtures.T0).withStages(Stages.parse("1,100%"));
        Rollout rollout = MACHINE.decide(planned(reboot, 4), Observation.NOTHING, at(1)).rollout();

        assertThat(RolloutMachine.refusal(rollout, Kind.ROLLBACK)).contains("a reboot cannot be undone; abort the rollout to stop it");
        assertThatThrownBy(() -> reboot.withFailurePolicy(FailurePolicy.ROLLBACK)).isInstanceOf(IngotException.class)
                .hasMessageContaining("a reboot cannot be rolled back");
    }

    @Test
    void aLargeStageIsWrittenInBatchesEachDeviceOnce() {
        RolloutMachine small = new RolloutMachine(3);
        Rollout rollout = Rollout.start(definition().withStages(Stages.parse("7,100%")), Planner.plan(definition()
                .withStages(Stages.parse("7,100%")), Fixtures.fleet(9), Map.of(), Fixtures.T0), Fixtures.T0);

        Decision first = small.decide(rollout, Observation.NOTHING, at(1));
        Decision second = small.decide(first.rollout(), Observation.NOTHING, at(1));
        Decision third = small.decide(second.rollout(), Observation.NOTHING, at(1));

        assertThat(List.of(first.writes().size(), second.writes().size(), third.writes().size())).containsExactly(3, 3, 1);
        assertThat(List.of(first.again(), second.again(), third.again())).containsExactly(true, true, false);
        assertThat(first.rollout().status()).isEqualTo(new Status.Running(1, Status.Phase.APPLYING, at(1)));
        assertThat(third.rollout().status()).isEqualTo(new Status.Running(1, Status.Phase.WAITING, at(1)));
        List<DeviceId> written = new java.util.ArrayList<>();
        List.of(first, second, third).forEach(decision -> decision.writes().forEach(write -> written.add(write.device())));
        assertThat(written).doesNotHaveDuplicates().hasSize(7);
    }

    @Test
    void aFailureMidWayThroughWritingStopsTheRestOfTheStage() {
        RolloutMachine small = new RolloutMachine(2);
        RolloutDefinition definition = definition().withStages(Stages.parse("5,100%"));
        Rollout rollout = Rollout.start(definition, Planner.plan(definition, Fixtures.fleet(6), Map.of(), Fixtures.T0), Fixtures.T0);
        Decision first = small.decide(rollout, Observation.NOTHING, at(1));
        DeviceId firstWritten = first.writes().getFirst().device();

        Decision second = small.decide(first.rollout(), progress(new DeviceProgress(firstWritten, Optional.of(ActionState.FAILED),
                Optional.of("crc"), Optional.empty())), at(2));

        assertThat(second.writes()).isEmpty();
        assertThat(second.rollout().status()).isInstanceOfSatisfying(Status.Halted.class,
                halted -> assertThat(halted.phase()).isEqualTo(Status.Phase.APPLYING));
        assertThat(second.rollout().runs()).hasSize(2);
    }

    @Test
    void aRolloutWithNoEligibleDeviceIsRefusedSayingWhy() {
        RolloutDefinition definition = definition();
        Fleet fleet = Fixtures.fleet(2);
        Plan plan = Planner.plan(definition, fleet, Map.of(device(1), new RolloutId("r-other"), device(2), new RolloutId("r-other")), Fixtures.T0);

        assertThatThrownBy(() -> Rollout.start(definition, plan, Fixtures.T0)).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
            assertThat(e.getMessage()).isEqualTo("Tried to start the rollout r-unit (v1.5) but failed because no device is eligible (2 held)");
        });
    }

    @Test
    void theWatchedDevicesAreThoseInFlightAndThoseOfTheSoakingStage() {
        Rollout waiting = canaryWritten(definition());
        assertThat(waiting.watched()).containsExactly(device(1));
        Rollout soaking = canarySoaking(definition());
        assertThat(soaking.watched()).containsExactly(device(1));
        assertThat(soaking.gateInput(Map.of())).isPresent();
        assertThat(waiting.gateInput(Map.of())).isEmpty();
        Rollout stageTwo = stageTwoWritten(definition());
        assertThat(stageTwo.watched()).containsExactly(device(2), device(3), device(4));
    }

    @Test
    void everyStepKeepsItsOwnClock() {
        Instant late = at(500);
        Rollout waiting = canaryWritten(definition());

        Rollout decided = MACHINE.decide(waiting, progress(committed(1, late)), late).rollout();

        assertThat(decided.runs().get(device(1)).decidedAt()).contains(late);
        assertThat(decided.timeline()).allMatch(entry -> !entry.at().isAfter(late));
    }
}
