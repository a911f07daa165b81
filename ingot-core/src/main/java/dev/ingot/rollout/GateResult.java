package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Locale;

/** A gate's answer for a stage (DESIGN.md: pass | fail(reason) | wait), with the gate's name and when it answered. */
public record GateResult(String gate, Verdict verdict, String reason, Instant at) {
    public enum Verdict {
        PASS,
        FAIL,
        WAIT;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Verdict parse(String text) {
            return valueOf(text.toUpperCase(Locale.ROOT));
        }
    }

    public GateResult {
        requireNonNull(gate, "gate");
        requireNonNull(verdict, "verdict");
        requireNonNull(reason, "reason");
        requireNonNull(at, "at");
    }

    public static GateResult pass(String gate, String reason, Instant at) {
        return new GateResult(gate, Verdict.PASS, reason, at);
    }

    public static GateResult fail(String gate, String reason, Instant at) {
        return new GateResult(gate, Verdict.FAIL, reason, at);
    }

    public static GateResult waiting(String gate, String reason, Instant at) {
        return new GateResult(gate, Verdict.WAIT, reason, at);
    }
}
