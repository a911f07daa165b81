package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.DeviceId;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A rollout as the server persists it (one JSON column, {@link RolloutJson}): its definition, its plan, where it
 * stands, what it did to each device, each stage's phases and gate results, and its timeline. It changes only through
 * {@link RolloutMachine#decide}; {@code revision} grows with every change, so the server can store it with
 * {@code UPDATE … WHERE revision = ?} and notice an engine that acted on an old copy.
 */
public record Rollout(RolloutDefinition definition, Plan plan, Status status, SortedMap<DeviceId, DeviceRun> runs, List<StageRun> stages,
        List<TimelineEntry> timeline, long revision) {
    static final Comparator<DeviceId> BY_ID = Comparator.comparing(DeviceId::value);

    public Rollout {
        requireNonNull(definition, "definition");
        requireNonNull(plan, "plan");
        requireNonNull(status, "status");
        TreeMap<DeviceId, DeviceRun> sorted = new TreeMap<>(BY_ID);
        sorted.putAll(requireNonNull(runs, "runs"));
        runs = Collections.unmodifiableSortedMap(sorted);
        stages = List.copyOf(requireNonNull(stages, "stages"));
        timeline = List.copyOf(requireNonNull(timeline, "timeline"));
        if (stages.size() != plan.stages().size()) {
            throw new IllegalArgumentException("a rollout has one stage record per planned stage");
        }
        Map<DeviceId, Integer> stageOf = new HashMap<>();
        plan.stages().forEach(stage -> stage.devices().forEach(device -> stageOf.put(device.id(), stage.number())));
        runs.forEach((device, run) -> {
            if (!Integer.valueOf(run.stage()).equals(stageOf.get(device))) {
                throw new IllegalArgumentException("the device " + device + " has a run for stage " + run.stage() + " but is not planned there");
            }
        });
        Status shown = status instanceof Status.Paused paused ? paused.resumeTo() : status;
        int stage = switch (shown) {
            case Status.Running running -> running.stage();
            case Status.Halted halted -> halted.stage();
            default -> 1;
        };
        if (stage < 1 || stage > Math.max(1, plan.stages().size())) {
            throw new IllegalArgumentException("the status names stage " + stage + " of a plan with " + plan.stages().size());
        }
    }

    /**
     * A new rollout from its plan, planned and holding its devices, not yet started. Refuses a plan with no device,
     * naming why each was left out.
     */
    public static Rollout start(RolloutDefinition definition, Plan plan, Instant now) {
        requireNonNull(definition, "definition");
        requireNonNull(plan, "plan");
        if (plan.isEmpty()) {
            String reasons = plan.excludedByReason().entrySet().stream().map(entry -> entry.getValue() + " " + entry.getKey().json().replace('_', ' '))
                    .collect(Collectors.joining(", "));
            throw IngotException.tried(ErrorCode.CONFLICT, "start the rollout " + definition.id() + " (" + definition.target().describe() + ")",
                    "no device is eligible" + (reasons.isEmpty() ? " (the fleet has no device)" : " (" + reasons + ")"))
                    .withHint("see why with --dry-run; check --sites and the target");
        }
        List<StageRun> stages = new ArrayList<>();
        plan.stages().forEach(stage -> stages.add(StageRun.notStarted(stage.number())));
        TimelineEntry created = new TimelineEntry(now, definition.createdBy(), "created", "", "planned", definition.target().describe()
                + ": " + plan.stages().size() + " stages, " + plan.devices().count() + " devices, " + plan.excluded().size() + " left out");
        return new Rollout(definition, plan, new Status.Planned(), new TreeMap<>(BY_ID), stages, List.of(created), 0);
    }

    public RolloutId id() {
        return definition.id();
    }

    public boolean active() {
        return !status.terminal();
    }

    /**
     * The devices this rollout holds: every planned device while it is active, none once it is final. The planner
     * leaves them out of other rollouts.
     */
    public Map<DeviceId, RolloutId> held() {
        if (!active()) {
            return Map.of();
        }
        Map<DeviceId, RolloutId> held = new TreeMap<>(BY_ID);
        plan.devices().forEach(device -> held.put(device.id(), id()));
        return held;
    }

    /**
     * The devices whose progress the next step needs (the server reads their latest write's action and their latest
     * report): those written and not yet decided, those of the stage being soaked, and those being written back; and
     * on a reboot "only if required", those not yet written, whose latest report decides whether they still need it
     * when their stage comes (the named list is short: an operator typed it).
     */
    public List<DeviceId> watched() {
        List<DeviceId> watched = new ArrayList<>();
        if (active() && definition.target() instanceof Target.Reboot reboot && reboot.onlyIfRebootRequired()) {
            plan.devices().map(Plan.Device::id).filter(device -> !runs.containsKey(device)).forEach(watched::add);
        }
        int soaking = switch (status) {
            case Status.Running running when running.phase() == Status.Phase.SOAKING -> running.stage();
            default -> 0;
        };
        runs.forEach((device, run) -> {
            if (run.outcome() == DeviceRun.Outcome.IN_PROGRESS || run.stage() == soaking
                    || run.revert() == DeviceRun.Revert.IN_PROGRESS) {
                watched.add(device);
            }
        });
        return watched;
    }

    /** The stage being run, halted or paused in, if any. */
    public Optional<Integer> currentStage() {
        Status current = status instanceof Status.Paused paused ? paused.resumeTo() : status;
        return switch (current) {
            case Status.Running running -> Optional.of(running.stage());
            case Status.Halted halted -> Optional.of(halted.stage());
            default -> Optional.empty();
        };
    }

    /** What a gate needs to judge the stage being soaked, with the progress the server read for {@link #watched()}. */
    public Optional<GateInput> gateInput(Map<DeviceId, DeviceProgress> progress) {
        if (!(status instanceof Status.Running running) || running.phase() != Status.Phase.SOAKING) {
            return Optional.empty();
        }
        Plan.Stage stage = plan.stage(running.stage());
        List<GateInput.Device> devices = stage.devices().stream()
                .map(device -> new GateInput.Device(device, runs.get(device.id()), Optional.ofNullable(progress.get(device.id()))))
                .toList();
        return Optional.of(new GateInput(id(), definition.target(), stage.number(), stage.sites(), devices,
                definition.maxFailures(), stages.get(stage.number() - 1).soakStartedAt().orElseThrow()));
    }

    Rollout with(Status newStatus, SortedMap<DeviceId, DeviceRun> newRuns, List<StageRun> newStages, List<TimelineEntry> newTimeline) {
        return new Rollout(definition, plan, newStatus, newRuns, newStages, newTimeline, revision + 1);
    }
}
