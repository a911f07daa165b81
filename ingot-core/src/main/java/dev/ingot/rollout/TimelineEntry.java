package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * One audited event of a rollout: who (an operator's token name, or {@value #ENGINE}), what, when, and the status
 * before and after. The rollout keeps its own timeline (shown by {@code ingot rollout status}); the server also
 * appends each entry to its audit log, in the transaction that stores the rollout.
 */
public record TimelineEntry(Instant at, String actor, String event, String before, String after, String detail) {
    public static final String ENGINE = "engine";

    public TimelineEntry {
        requireNonNull(at, "at");
        requireNonNull(actor, "actor");
        requireNonNull(event, "event");
        requireNonNull(before, "before");
        requireNonNull(after, "after");
        requireNonNull(detail, "detail");
    }
}
