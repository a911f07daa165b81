package dev.ingot.rollout;

import java.time.Instant;

/**
 * A check a stage must pass before the rollout goes on (DESIGN.md: {@code evaluate(stage, now) → pass | fail(reason)
 * | wait}). The engine asks every gate of the rollout at each step while a stage soaks, and once more at the soak's
 * end: any fail fails the stage at once; the stage passes when the soak is over and every gate says pass; a wait
 * past the soak's end plus the gate timeout counts as a fail. A gate may do I/O (CloudWatch); it must not throw for a
 * condition it can judge, and its answer must say why in a person's words.
 */
public interface Gate {
    /** The gate's name in results: its spec's text ({@code health}, {@code cloudwatch:edge-health-}). */
    String name();

    GateResult evaluate(GateInput stage, Instant now);
}
