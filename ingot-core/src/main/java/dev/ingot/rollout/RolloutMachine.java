package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.Track;
import dev.ingot.health.DeviceId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The rollout engine's brain: {@link #decide} is a pure function of (rollout, observation, now) to a {@link Decision}:
 * the new rollout, the desired-state writes to make and the events to audit. It never reads a clock or talks to
 * anything; docs/rollouts.md draws its states and transitions.
 *
 * <h2>How the server must drive it</h2>
 * One engine at a time per rollout (a lease or an advisory lock). Each step:
 * <ol>
 *   <li>Read the rollout; read the progress of {@link Rollout#watched()} devices (for each, the action of the
 *       generation the rollout's latest write to it made, and the latest report); take the pending operator commands;
 *       while the rollout soaks, ask its gates ({@link RolloutEngine} does this and the call below).</li>
 *   <li>{@code decide(rollout, observation, now)}.</li>
 *   <li>In <b>one transaction</b>: store the new rollout ({@link RolloutJson}, {@code WHERE revision = } the old
 *       revision), make each {@link DesiredStateWrite} (a new generation of the device's desired state, remembering
 *       the write's {@link DesiredStateWrite#key()} and the generation it made), append the events to the audit log,
 *       and delete the commands taken. If {@link Decision#again()}, step again at once.</li>
 * </ol>
 * The rollout records every write it asks for (a device's {@link DeviceRun} exists from its write on), so a step that
 * was committed is never repeated, and a step that was not committed left nothing behind: killed at any point, the
 * engine resumes from the stored rollout without skipping or repeating a device. Were the writes ever made outside
 * that transaction, the write keys make them idempotent: a key already recorded is not written again.
 */
public final class RolloutMachine {
    /** Writes per step: keeps a transaction small on a large stage; the step says {@code again} until all are made. */
    public static final int DEFAULT_WRITE_BATCH = 200;

    private final int writeBatch;

    public RolloutMachine() {
        this(DEFAULT_WRITE_BATCH);
    }

    public RolloutMachine(int writeBatch) {
        if (writeBatch < 1) {
            throw new IllegalArgumentException("a write batch holds at least one write");
        }
        this.writeBatch = writeBatch;
    }

    public Decision decide(Rollout rollout, Observation observation, Instant now) {
        requireNonNull(rollout, "rollout");
        requireNonNull(observation, "observation");
        requireNonNull(now, "now");
        Step step = new Step(rollout, observation, now);
        observation.commands().forEach(step::command);
        step.advance();
        return step.decision();
    }

    /**
     * Why an operator command would be refused in the rollout's present state, or empty if it would be taken. The
     * operator API answers a refusal with 409 before queueing the command; {@link #decide} still checks again, since
     * the state may have moved on in between, and audits a refused command.
     */
    public static Optional<String> refusal(Rollout rollout, OperatorCommand.Kind kind) {
        return refusal(rollout.status(), !rollout.runs().isEmpty(), rollout.definition().track(), kind);
    }

    private static Optional<String> refusal(Status status, boolean anyWritten, Track track, OperatorCommand.Kind kind) {
        if (status.terminal()) {
            return Optional.of("the rollout is " + status.describe() + " and nothing changes it any more");
        }
        return switch (kind) {
            case PAUSE -> switch (status) {
                case Status.Planned planned -> Optional.empty();
                case Status.Running running -> Optional.empty();
                case Status.Paused paused -> Optional.of("it is already paused");
                case Status.Halted halted -> Optional.of("it is halted already: resume, roll back or abort it");
                case Status.RollingBack rollingBack -> Optional.of("it is rolling back: abort stops that");
                case Status.RolledBack rolledBack -> Optional.of("it is final");
                case Status.Aborted aborted -> Optional.of("it is final");
                case Status.Completed completed -> Optional.of("it is final");
            };
            case RESUME -> status instanceof Status.Paused || status instanceof Status.Halted ? Optional.empty()
                    : Optional.of("it is " + status.describe() + ", neither paused nor halted");
            case ABORT -> Optional.empty();
            case ROLLBACK -> {
                if (track == Track.REBOOT) {
                    yield Optional.of("a reboot cannot be undone; abort the rollout to stop it");
                }
                if (status instanceof Status.RollingBack) {
                    yield Optional.of("it is rolling back already");
                }
                yield anyWritten ? Optional.empty() : Optional.of("it has changed no device yet: abort it instead");
            }
        };
    }

    private enum Next {
        CONTINUE,
        STOP
    }

    /** One step's working copy of the rollout, changed in place and turned into a {@link Decision} at the end. */
    private final class Step {
        private final Rollout initial;
        private final RolloutDefinition definition;
        private final Plan plan;
        private final Observation observation;
        private final Instant now;
        private final Map<DeviceId, Plan.Device> planned = new HashMap<>();
        private final TreeMap<DeviceId, DeviceRun> runs = new TreeMap<>(Rollout.BY_ID);
        private final List<StageRun> stages;
        private final List<TimelineEntry> events = new ArrayList<>();
        private final List<DesiredStateWrite> writes = new ArrayList<>();
        private final Set<DeviceId> writtenNow = new HashSet<>();
        private Status status;
        private boolean changed;
        private boolean again;

        Step(Rollout rollout, Observation observation, Instant now) {
            this.initial = rollout;
            this.definition = rollout.definition();
            this.plan = rollout.plan();
            this.observation = observation;
            this.now = now;
            this.status = rollout.status();
            this.runs.putAll(rollout.runs());
            this.stages = new ArrayList<>(rollout.stages());
            plan.devices().forEach(device -> planned.put(device.id(), device));
        }

        Decision decision() {
            if (!changed) {
                return new Decision(initial, List.of(), List.of(), false);
            }
            List<TimelineEntry> timeline = new ArrayList<>(initial.timeline());
            timeline.addAll(events);
            return new Decision(initial.with(status, runs, stages, timeline), writes, events, again);
        }

        void command(OperatorCommand command) {
            Optional<String> refused = refusal(status, !runs.isEmpty(), definition.track(), command.kind());
            String note = command.note().map(text -> " (" + text + ")").orElse("");
            if (refused.isPresent()) {
                event(command.actor(), "command-rejected", status, command.kind().json() + " refused: " + refused.get() + note);
                return;
            }
            Status before = status;
            switch (command.kind()) {
                case PAUSE -> {
                    status = new Status.Paused(status, now, command.actor());
                    event(command.actor(), "paused", before, "paused" + note);
                }
                case RESUME -> {
                    if (status instanceof Status.Paused paused) {
                        // Back where it was, its clock restarted: a gate timeout counts from the resume, not from before the pause.
                        status = switch (paused.resumeTo()) {
                            case Status.Running running -> new Status.Running(running.stage(), running.phase(), now);
                            default -> paused.resumeTo();
                        };
                        event(command.actor(), "resumed", before, "resumed" + note);
                    } else if (status instanceof Status.Halted halted) {
                        int accepted = 0;
                        for (Map.Entry<DeviceId, DeviceRun> entry : runs.entrySet()) {
                            if (entry.getValue().stage() == halted.stage() && entry.getValue().countsAsFailure()) {
                                entry.setValue(entry.getValue().accept());
                                accepted++;
                            }
                        }
                        StageRun stage = stages.get(halted.stage() - 1).reopened();
                        stages.set(halted.stage() - 1, halted.phase() == Status.Phase.SOAKING ? stage.soaking(now) : stage);
                        status = new Status.Running(halted.stage(), halted.phase(), now);
                        event(command.actor(), "resumed", before, "resumed after the halt, accepting " + accepted + " failed device"
                                + (accepted == 1 ? "" : "s") + (halted.phase() == Status.Phase.SOAKING ? "; the soak starts again" : "") + note);
                    }
                }
                case ABORT -> {
                    status = new Status.Aborted(now, command.actor());
                    event(command.actor(), "aborted", before, "aborted; no further device is written, those written carry on" + note);
                }
                case ROLLBACK -> startRollback(runs.keySet().stream().filter(device -> runs.get(device).revert() == DeviceRun.Revert.NONE).toList(),
                        "rollback by " + command.actor() + note, command.actor());
            }
        }

        void advance() {
            if (status.terminal()) {
                return;
            }
            updateOutcomes();
            // Each turn changes the status or stops; a rollout has few statuses per stage, so this bound is never reached.
            for (int turn = 0; turn < 8 * plan.stages().size() + 8; turn++) {
                Next next = switch (status) {
                    case Status.Planned planned -> {
                        if (plan.isEmpty()) {
                            complete();
                        } else {
                            startStage(1);
                        }
                        yield Next.CONTINUE;
                    }
                    case Status.Running running -> running(running);
                    case Status.RollingBack rollingBack -> rollingBack();
                    case Status.Paused paused -> Next.STOP;
                    case Status.Halted halted -> Next.STOP;
                    case Status.RolledBack rolledBack -> Next.STOP;
                    case Status.Aborted aborted -> Next.STOP;
                    case Status.Completed completed -> Next.STOP;
                };
                if (next == Next.STOP) {
                    return;
                }
            }
            throw new IllegalStateException("the rollout " + definition.id() + " did not settle in one step");
        }

        private Next running(Status.Running running) {
            int stage = running.stage();
            Optional<String> overBudget = overBudget(stage);
            if (overBudget.isPresent()) {
                fail(stage, running.phase(), overBudget.get());
                return Next.CONTINUE;
            }
            return switch (running.phase()) {
                case APPLYING -> applying(stage);
                case WAITING -> {
                    if (stageRuns(stage).anyMatch(run -> run.outcome() == DeviceRun.Outcome.IN_PROGRESS)) {
                        yield Next.STOP;
                    }
                    stages.set(stage - 1, stages.get(stage - 1).soaking(now));
                    Status before = status;
                    status = new Status.Running(stage, Status.Phase.SOAKING, now);
                    long failed = stageRuns(stage).filter(DeviceRun::countsAsFailure).count();
                    event(TimelineEntry.ENGINE, "soak-started", before, "stage " + stage + ": " + (stageSize(stage) - failed) + " of "
                            + stageSize(stage) + " devices on " + definition.target().describe() + (failed == 0 ? "" : ", " + failed
                            + " failed (within --max-failures " + definition.maxFailures().describe() + ")") + "; soaking for "
                            + DurationText.format(definition.soak()));
                    yield Next.CONTINUE;
                }
                case SOAKING -> soaking(stage);
            };
        }

        private Next applying(int stage) {
            List<Plan.Device> unwritten = plan.stage(stage).devices().stream().filter(device -> !runs.containsKey(device.id())).toList();
            List<Plan.Device> batch = unwritten.subList(0, Math.min(writeBatch, unwritten.size()));
            for (Plan.Device device : batch) {
                Optional<DeviceReport> latest = Optional.ofNullable(observation.progress().get(device.id())).flatMap(DeviceProgress::report);
                if (definition.target() instanceof Target.Reboot reboot && reboot.onlyIfRebootRequired()
                        && latest.filter(report -> !report.rebootRequired()).isPresent()) {
                    // Judged again now, not only at plan time: a device that rebooted by itself since is not rebooted by the rollout.
                    runs.put(device.id(), DeviceRun.written(stage, now).decided(DeviceRun.Outcome.SUCCEEDED,
                            Optional.of("no longer needs a reboot; not rebooted"), now));
                    event(TimelineEntry.ENGINE, "device-skipped", status, device.id() + " at " + device.site()
                            + ": its latest report (" + latest.get().at() + ") needs no reboot any more; not rebooted");
                    continue;
                }
                runs.put(device.id(), DeviceRun.written(stage, now));
                writes.add(new DesiredStateWrite(definition.id(), stage, device.id(), DesiredStateWrite.Kind.APPLY, definition.target()));
                writtenNow.add(device.id());
                changed = true;
            }
            if (batch.size() < unwritten.size()) {
                again = true;
                return Next.STOP;
            }
            Status before = status;
            status = new Status.Running(stage, Status.Phase.WAITING, now);
            event(TimelineEntry.ENGINE, "stage-written", before, "stage " + stage + ": the desired state of "
                    + (stageSize(stage) == 1 ? "its device is written; waiting for it" : "all " + stageSize(stage) + " devices is written; waiting for each")
                    + " to commit and report healthy on " + definition.target().describe());
            return Next.CONTINUE;
        }

        private Next soaking(int stage) {
            boolean fresh = initial.status() instanceof Status.Running was && was.stage() == stage && was.phase() == Status.Phase.SOAKING;
            Map<String, GateResult> results = new LinkedHashMap<>();
            if (fresh) {
                Set<String> configured = definition.gates().stream().map(GateSpec::text).collect(Collectors.toSet());
                observation.gates().stream().filter(result -> configured.contains(result.gate()))
                        .forEach(result -> results.put(result.gate(), result));
                if (!results.isEmpty()) {
                    Map<String, GateResult> recorded = new LinkedHashMap<>();
                    stages.get(stage - 1).gates().forEach(result -> recorded.put(result.gate(), result));
                    recorded.putAll(results);
                    List<GateResult> merged = new ArrayList<>(recorded.values());
                    if (!merged.equals(stages.get(stage - 1).gates())) {
                        stages.set(stage - 1, stages.get(stage - 1).withGates(merged));
                        changed = true;
                    }
                }
            }
            Optional<GateResult> failed = results.values().stream().filter(result -> result.verdict() == GateResult.Verdict.FAIL).findFirst();
            if (failed.isPresent()) {
                fail(stage, Status.Phase.SOAKING, "the gate " + failed.get().gate() + " failed: " + failed.get().reason());
                return Next.CONTINUE;
            }
            Instant soakEnd = stages.get(stage - 1).soakStartedAt().orElseThrow().plus(definition.soak());
            if (now.isBefore(soakEnd)) {
                return Next.STOP;
            }
            if (!definition.gates().stream().allMatch(gate -> results.containsKey(gate.text()))) {
                return Next.STOP; // not every gate was asked in this step: no verdict either way
            }
            Optional<GateResult> undecided = definition.gates().stream().map(gate -> results.get(gate.text()))
                    .filter(result -> result.verdict() != GateResult.Verdict.PASS).findFirst();
            if (undecided.isEmpty()) {
                passStage(stage);
                return Next.CONTINUE;
            }
            Instant since = status instanceof Status.Running running && running.since().isAfter(soakEnd) ? running.since() : soakEnd;
            if (!now.isBefore(since.plus(definition.gateTimeout()))) {
                fail(stage, Status.Phase.SOAKING, "the gate " + undecided.get().gate() + " did not pass within "
                        + DurationText.format(definition.gateTimeout()) + " of the soak's end: " + undecided.get().reason());
                return Next.CONTINUE;
            }
            return Next.STOP;
        }

        private Next rollingBack() {
            List<DeviceId> toWrite = runs.entrySet().stream().filter(entry -> entry.getValue().revert() == DeviceRun.Revert.TO_WRITE)
                    .map(Map.Entry::getKey).toList();
            List<DeviceId> batch = toWrite.subList(0, Math.min(writeBatch, toWrite.size()));
            for (DeviceId device : batch) {
                DeviceRun run = runs.get(device);
                runs.put(device, run.reverting(DeviceRun.Revert.IN_PROGRESS, Optional.of(now), Optional.empty()));
                writes.add(new DesiredStateWrite(definition.id(), run.stage(), device, DesiredStateWrite.Kind.REVERT,
                        planned.get(device).previous().orElseThrow()));
                writtenNow.add(device);
                changed = true;
            }
            if (batch.size() < toWrite.size()) {
                again = true;
                return Next.STOP;
            }
            if (runs.values().stream().anyMatch(run -> run.revert() == DeviceRun.Revert.IN_PROGRESS)) {
                return Next.STOP;
            }
            Status before = status;
            status = new Status.RolledBack(now);
            List<String> unreverted = runs.entrySet().stream()
                    .filter(entry -> entry.getValue().revert() == DeviceRun.Revert.FAILED || entry.getValue().revert() == DeviceRun.Revert.TIMED_OUT)
                    .map(entry -> entry.getKey().value()).toList();
            long reverted = runs.values().stream().filter(run -> run.revert() == DeviceRun.Revert.REVERTED).count();
            event(TimelineEntry.ENGINE, "rolled-back", before, reverted + (reverted == 1 ? " device back on its previous " : " devices back on their previous ")
                    + (definition.track() == Track.REIMAGE ? "version" : "tag") + (unreverted.isEmpty() ? ""
                    : "; " + unreverted.size() + " did not come back: " + Listed.of(unreverted, ", ")));
            return Next.STOP;
        }

        private void startStage(int stage) {
            Status before = status;
            stages.set(stage - 1, stages.get(stage - 1).started(now));
            status = new Status.Running(stage, Status.Phase.APPLYING, now);
            Plan.Stage planned = plan.stage(stage);
            event(TimelineEntry.ENGINE, "stage-started", before, "stage " + stage + " (" + planned.size().text() + "): "
                    + planned.sites().size() + " site" + (planned.sites().size() == 1 ? "" : "s") + ", " + planned.devices().size()
                    + " device" + (planned.devices().size() == 1 ? "" : "s") + (stage == 1 ? ", canary " + Listed.of(planned.sites().stream()
                    .map(Object::toString).toList(), ", ") : ""));
        }

        private void passStage(int stage) {
            stages.set(stage - 1, stages.get(stage - 1).ended(now, true));
            event(TimelineEntry.ENGINE, "stage-passed", status, "stage " + stage + " passed its gates after a soak of "
                    + DurationText.format(definition.soak()));
            if (stage == plan.stages().size()) {
                complete();
            } else {
                startStage(stage + 1);
            }
        }

        private void complete() {
            Status before = status;
            status = new Status.Completed(now);
            long succeeded = runs.values().stream().filter(run -> run.outcome() == DeviceRun.Outcome.SUCCEEDED).count();
            event(TimelineEntry.ENGINE, "completed", before, succeeded + " device" + (succeeded == 1 ? "" : "s") + " on "
                    + definition.target().describe());
        }

        private void fail(int stage, Status.Phase phase, String reason) {
            stages.set(stage - 1, stages.get(stage - 1).ended(now, false));
            switch (definition.failurePolicy()) {
                case HALT -> {
                    Status before = status;
                    status = new Status.Halted(stage, phase, reason, now);
                    event(TimelineEntry.ENGINE, "halted", before, "stage " + stage + " failed: " + reason
                            + "; no further device gets the change until an operator resumes, rolls back or aborts");
                }
                case ROLLBACK -> startRollback(runs.entrySet().stream().filter(entry -> entry.getValue().stage() == stage
                        && entry.getValue().revert() == DeviceRun.Revert.NONE).map(Map.Entry::getKey).toList(),
                        "stage " + stage + " failed: " + reason, TimelineEntry.ENGINE);
            }
        }

        private void startRollback(List<DeviceId> scope, String reason, String actor) {
            Status before = status;
            for (DeviceId device : scope) {
                runs.put(device, runs.get(device).reverting(DeviceRun.Revert.TO_WRITE, Optional.empty(), Optional.empty()));
            }
            if (scope.isEmpty()) {
                status = new Status.RolledBack(now);
                event(actor, "rolled-back", before, reason + "; no device needed writing back");
            } else {
                status = new Status.RollingBack(reason, now);
                event(actor, "rollback-started", before, reason + "; writing " + scope.size() + (scope.size() == 1 ? " device back to what it ran before"
                        : " devices back to what they ran before"));
            }
        }

        /** Decides the devices written in an earlier step whose attempt (or write-back) has now ended or run out of time. */
        private void updateOutcomes() {
            for (Map.Entry<DeviceId, DeviceRun> entry : runs.entrySet()) {
                DeviceId device = entry.getKey();
                DeviceRun run = entry.getValue();
                if (writtenNow.contains(device)) {
                    continue;
                }
                Optional<DeviceProgress> progress = Optional.ofNullable(observation.progress().get(device));
                if (run.outcome() == DeviceRun.Outcome.IN_PROGRESS) {
                    Optional<DeviceRun> decided = outcome(device, run, progress);
                    if (decided.isPresent()) {
                        entry.setValue(decided.get());
                        changed = true;
                        if (decided.get().outcome().failure()) {
                            event(TimelineEntry.ENGINE, "device-" + decided.get().outcome().json().replace('_', '-'), status,
                                    device + " at " + planned.get(device).site() + ": " + decided.get().reason().orElse(""));
                        }
                    }
                }
                if (entry.getValue().revert() == DeviceRun.Revert.IN_PROGRESS) {
                    Optional<DeviceRun> reverted = revert(device, entry.getValue(), progress);
                    if (reverted.isPresent()) {
                        entry.setValue(reverted.get());
                        changed = true;
                        if (reverted.get().revert() != DeviceRun.Revert.REVERTED) {
                            event(TimelineEntry.ENGINE, "device-not-reverted", status, device + " at " + planned.get(device).site() + ": "
                                    + reverted.get().revertReason().orElse(""));
                        }
                    }
                }
            }
        }

        private Optional<DeviceRun> outcome(DeviceId device, DeviceRun run, Optional<DeviceProgress> progress) {
            Optional<ActionState> action = progress.flatMap(DeviceProgress::action);
            String given = progress.flatMap(DeviceProgress::reason).orElse("no reason given");
            if (action.isPresent()) {
                switch (action.get()) {
                    case FAILED -> {
                        return Optional.of(run.decided(DeviceRun.Outcome.FAILED, Optional.of("its action failed: " + given), now));
                    }
                    case ROLLED_BACK -> {
                        return Optional.of(run.decided(DeviceRun.Outcome.ROLLED_BACK, Optional.of("it rolled itself back: " + given), now));
                    }
                    case COMMITTED -> {
                        Optional<DeviceReport> report = progress.flatMap(DeviceProgress::report);
                        if (report.isPresent() && definition.target().reachedBy(report.get())
                                && report.get().noWorseThan(planned.get(device).baseline())) {
                            return Optional.of(run.decided(DeviceRun.Outcome.SUCCEEDED, Optional.empty(), now));
                        }
                    }
                    case PENDING, DOWNLOADING, WRITTEN, REBOOTING -> { }
                }
            }
            Duration deadline = definition.deviceDeadline();
            if (!now.isBefore(run.writtenAt().plus(deadline))) {
                return Optional.of(run.decided(DeviceRun.Outcome.TIMED_OUT, Optional.of("not committed and "
                        + planned.get(device).baseline().json() + " on " + definition.target().describe() + " within "
                        + DurationText.format(deadline) + " (" + lastKnown(progress) + ")"), now));
            }
            return Optional.empty();
        }

        private Optional<DeviceRun> revert(DeviceId device, DeviceRun run, Optional<DeviceProgress> progress) {
            Target previous = planned.get(device).previous().orElseThrow();
            Optional<ActionState> action = progress.flatMap(DeviceProgress::action);
            String given = progress.flatMap(DeviceProgress::reason).orElse("no reason given");
            if (action.isPresent() && (action.get() == ActionState.FAILED || action.get() == ActionState.ROLLED_BACK)) {
                return Optional.of(run.reverting(DeviceRun.Revert.FAILED, run.revertWrittenAt(),
                        Optional.of("going back to " + previous.describe() + " " + action.get().json().replace('_', ' ') + ": " + given)));
            }
            // A device that had given up the new version runs the old one already and may have nothing to do for the write-back.
            boolean committed = action.filter(ActionState.COMMITTED::equals).isPresent()
                    || action.isEmpty() && run.outcome().failure();
            if (committed && progress.flatMap(DeviceProgress::report).filter(previous::reachedBy).isPresent()) {
                return Optional.of(run.reverting(DeviceRun.Revert.REVERTED, run.revertWrittenAt(), Optional.empty()));
            }
            Duration deadline = definition.deviceDeadline();
            if (!now.isBefore(run.revertWrittenAt().orElseThrow().plus(deadline))) {
                return Optional.of(run.reverting(DeviceRun.Revert.TIMED_OUT, run.revertWrittenAt(), Optional.of("not back on "
                        + previous.describe() + " within " + DurationText.format(deadline) + " (" + lastKnown(progress) + ")")));
            }
            return Optional.empty();
        }

        private Optional<String> overBudget(int stage) {
            List<String> failed = runs.entrySet().stream().filter(entry -> entry.getValue().stage() == stage && entry.getValue().countsAsFailure())
                    .map(entry -> entry.getKey() + " (" + entry.getValue().reason().orElse("") + ")").toList();
            int allowed = definition.maxFailures().allowed(stageSize(stage));
            if (failed.size() <= allowed) {
                return Optional.empty();
            }
            return Optional.of(failed.size() + " of " + stageSize(stage) + " devices failed, more than --max-failures "
                    + definition.maxFailures().describe() + " allows" + (definition.maxFailures().limit() instanceof MaxFailures.Percent
                    ? " (" + allowed + ")" : "") + ": " + Listed.of(failed, ", "));
        }

        private Stream<DeviceRun> stageRuns(int stage) {
            return runs.values().stream().filter(run -> run.stage() == stage);
        }

        private int stageSize(int stage) {
            return plan.stage(stage).devices().size();
        }

        private void event(String actor, String name, Status before, String detail) {
            events.add(new TimelineEntry(now, actor, name, before.describe(), status.describe(), detail));
            changed = true;
        }
    }

    private static String lastKnown(Optional<DeviceProgress> progress) {
        String action = progress.flatMap(DeviceProgress::action).map(state -> "its action is " + state.json())
                .orElse("it has not taken up the change");
        String latest = progress.flatMap(DeviceProgress::report).map(report -> "its latest report (" + report.at() + ") says "
                + report.status().json() + (report.image().isPresent() ? " on " + report.image().get() : "")
                + report.containerTag().map(tag -> ", video-ingest " + tag).orElse("")).orElse("no report");
        return action + "; " + latest;
    }

}
