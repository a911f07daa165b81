package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/** An operator's command to a rollout ({@code ingot rollout pause|resume|abort|rollback}), with who gave it and when. */
public record OperatorCommand(Kind kind, String actor, Instant at, Optional<String> note) {
    public enum Kind {
        PAUSE,
        RESUME,
        ABORT,
        ROLLBACK;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Kind parse(String text) {
            return valueOf(text.toUpperCase(Locale.ROOT));
        }
    }

    public OperatorCommand {
        requireNonNull(kind, "kind");
        requireNonNull(actor, "actor");
        requireNonNull(at, "at");
        requireNonNull(note, "note");
    }
}
