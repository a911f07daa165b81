package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What one step decided: the rollout's new state, the desired-state writes to make, and the events to audit (the
 * entries it added to the rollout's timeline). {@code again} says the step stopped early on purpose (a batch of
 * writes made, more to come) and the engine should step again without waiting.
 */
public record Decision(Rollout rollout, List<DesiredStateWrite> writes, List<TimelineEntry> events, boolean again) {
    public Decision {
        requireNonNull(rollout, "rollout");
        writes = List.copyOf(requireNonNull(writes, "writes"));
        events = List.copyOf(requireNonNull(events, "events"));
    }
}
