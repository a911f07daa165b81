package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What {@code ingot rollout status} and the dashboard show of a rollout: where it stands, each stage with its counts
 * and gate results, what the plan left out, and the timeline. Made from the stored rollout alone.
 */
public record RolloutView(RolloutId id, String track, String target, String state, String summary, Optional<Integer> currentStage,
        List<StageView> stages, Map<String, Integer> excluded, List<TimelineEntry> timeline, long revision) {
    public RolloutView {
        stages = List.copyOf(stages);
        excluded = new TreeMap<>(excluded);
        timeline = List.copyOf(timeline);
    }

    /**
     * One stage: its planned size, sites and devices, its state ({@code pending}, {@code applying}, {@code waiting},
     * {@code soaking}, {@code halted}, {@code passed}, {@code failed}, {@code stopped}), how many devices are where,
     * when it started and its soak ends or ended, the latest gate results, and the failed devices with their reasons.
     */
    public record StageView(int number, String size, List<String> sites, int devices, String state, Counts counts, Optional<Instant> startedAt,
            Optional<Instant> soakEndsAt, Optional<Instant> endedAt, List<GateResult> gates, List<String> failures) {
        public StageView {
            sites = List.copyOf(sites);
            gates = List.copyOf(gates);
            failures = List.copyOf(failures);
        }
    }

    /** Devices by where they stand; {@code failed} counts failed, rolled back and timed out, {@code accepted} those of them an operator accepted. */
    public record Counts(int notStarted, int inProgress, int succeeded, int failed, int accepted, int reverted, int notReverted) {}

    public static RolloutView of(Rollout rollout) {
        requireNonNull(rollout, "rollout");
        Status status = rollout.status();
        Optional<Integer> current = rollout.currentStage();
        List<StageView> stages = new ArrayList<>();
        for (Plan.Stage stage : rollout.plan().stages()) {
            StageRun run = rollout.stages().get(stage.number() - 1);
            int notStarted = 0;
            int inProgress = 0;
            int succeeded = 0;
            int failed = 0;
            int accepted = 0;
            int reverted = 0;
            int notReverted = 0;
            List<String> failures = new ArrayList<>();
            for (Plan.Device device : stage.devices()) {
                DeviceRun deviceRun = rollout.runs().get(device.id());
                if (deviceRun == null) {
                    notStarted++;
                    continue;
                }
                switch (deviceRun.outcome()) {
                    case IN_PROGRESS -> inProgress++;
                    case SUCCEEDED -> succeeded++;
                    case FAILED, ROLLED_BACK, TIMED_OUT -> {
                        failed++;
                        accepted += deviceRun.accepted() ? 1 : 0;
                        failures.add(device.id() + " at " + device.site() + ": " + deviceRun.outcome().json() + ", "
                                + deviceRun.reason().orElse("") + (deviceRun.accepted() ? " (accepted)" : ""));
                    }
                }
                switch (deviceRun.revert()) {
                    case REVERTED -> reverted++;
                    case FAILED, TIMED_OUT -> notReverted++;
                    case NONE, TO_WRITE, IN_PROGRESS -> { }
                }
            }
            String state = stageState(status, stage.number(), current, run);
            Optional<Instant> soakEnds = run.soakStartedAt().map(start -> start.plus(rollout.definition().soak()));
            stages.add(new StageView(stage.number(), stage.size().text(), stage.sites().stream().map(Object::toString).toList(),
                    stage.devices().size(), state, new Counts(notStarted, inProgress, succeeded, failed, accepted, reverted, notReverted),
                    run.startedAt(), soakEnds, run.endedAt(), run.gates(), failures));
        }
        Map<String, Integer> excluded = new TreeMap<>();
        rollout.plan().excludedByReason().forEach((reason, count) -> excluded.put(reason.json(), count));
        String summary = switch (status) {
            case Status.Halted halted -> status.describe() + ": " + halted.reason();
            case Status.RollingBack rollingBack -> status.describe() + ": " + rollingBack.reason();
            case Status.Paused paused -> status.describe() + " by " + paused.actor();
            case Status.Aborted aborted -> status.describe() + " by " + aborted.actor();
            case Status.Planned planned -> status.describe();
            case Status.Running running -> status.describe();
            case Status.RolledBack rolledBack -> status.describe();
            case Status.Completed completed -> status.describe();
        };
        RolloutDefinition definition = rollout.definition();
        return new RolloutView(rollout.id(), definition.track().json(), definition.target().describe(), status.name(), summary, current,
                stages, excluded, rollout.timeline(), rollout.revision());
    }

    private static String stageState(Status status, int number, Optional<Integer> current, StageRun run) {
        if (run.endedAt().isPresent()) {
            return run.passed() ? "passed" : "failed";
        }
        if (current.isPresent() && current.get() == number) {
            Status shown = status instanceof Status.Paused paused ? paused.resumeTo() : status;
            return switch (shown) {
                case Status.Running running -> running.phase().json();
                case Status.Halted halted -> "halted";
                default -> "pending";
            };
        }
        return run.startedAt().isPresent() ? "stopped" : "pending";
    }

    /** The view as lines of text, for a terminal. */
    public List<String> lines() {
        List<String> lines = new ArrayList<>();
        lines.add("rollout " + id + ": " + target + " (" + track + "), " + summary);
        lines.add(String.format("%-6s %-5s %6s %8s %-9s %9s %7s %11s %9s  %s", "stage", "size", "sites", "devices", "state", "succeeded",
                "failed", "in progress", "reverted", "gates"));
        for (StageView stage : stages) {
            StringBuilder gates = new StringBuilder();
            for (GateResult gate : stage.gates()) {
                gates.append(gates.isEmpty() ? "" : "; ").append(gate.gate()).append(' ').append(gate.verdict().json());
            }
            lines.add(String.format("%-6d %-5s %6d %8d %-9s %9d %7d %11d %9d  %s", stage.number(), stage.size(), stage.sites().size(),
                    stage.devices(), stage.state(), stage.counts().succeeded(), stage.counts().failed(), stage.counts().inProgress(),
                    stage.counts().reverted(), gates));
            stage.failures().forEach(failure -> lines.add("       failed: " + failure));
            stage.gates().stream().filter(gate -> gate.verdict() != GateResult.Verdict.PASS)
                    .forEach(gate -> lines.add("       " + gate.gate() + " " + gate.verdict().json() + ": " + gate.reason()));
        }
        if (!excluded.isEmpty()) {
            List<String> parts = new ArrayList<>();
            excluded.forEach((reason, count) -> parts.add(count + " " + reason.replace('_', ' ')));
            lines.add("left out: " + String.join(", ", parts));
        }
        lines.add("timeline:");
        for (TimelineEntry entry : timeline) {
            lines.add("  " + entry.at().truncatedTo(ChronoUnit.SECONDS) + "  " + entry.actor() + "  " + entry.event() + ": " + entry.detail());
        }
        return lines;
    }
}
