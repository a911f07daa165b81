package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;

/**
 * How many of a stage's devices may fail before the stage fails ({@code --max-failures N} or {@code P%}). A share
 * is only trusted on a sample of at least {@code minimumSample} devices: a smaller stage (the canary, a small
 * fleet) allows no failure under a share, since one bad device out of three says more than 5% allows.
 */
public record MaxFailures(Limit limit, int minimumSample) {
    public static final int DEFAULT_MINIMUM_SAMPLE = 10;
    /** By default any failure fails the stage. */
    public static final MaxFailures NONE = new MaxFailures(new Count(0), DEFAULT_MINIMUM_SAMPLE);

    public sealed interface Limit {
        String text();
    }

    /** At most this many failed devices per stage. */
    public record Count(int count) implements Limit {
        @Override
        public String text() {
            return Integer.toString(count);
        }
    }

    /** At most this share of a stage's devices, rounded down. */
    public record Percent(int percent) implements Limit {
        @Override
        public String text() {
            return percent + "%";
        }
    }

    public MaxFailures {
        requireNonNull(limit, "limit");
        if (minimumSample < 1) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the minimum sample " + minimumSample, "it is below 1");
        }
    }

    public static MaxFailures parse(String text, int minimumSample) {
        requireNonNull(text, "text");
        if (text.matches("[0-9]{1,6}")) {
            return new MaxFailures(new Count(Integer.parseInt(text)), minimumSample);
        }
        if (text.matches("[0-9]{1,3}%") && Integer.parseInt(text.substring(0, text.length() - 1)) < 100) {
            return new MaxFailures(new Percent(Integer.parseInt(text.substring(0, text.length() - 1))), minimumSample);
        }
        throw IngotException.tried(ErrorCode.BAD_INPUT, "read --max-failures '" + text + "'",
                "it is neither a count of devices (2) nor a share below 100% (5%)").withHint("write it like 0, 2 or 5%");
    }

    /**
     * How many failed devices a stage of {@code stageSize} devices tolerates: never all of them, whatever the count
     * says, so that {@code --max-failures 2} on a canary of one or two devices cannot let a canary that failed
     * outright pass on to the next stage (a share is below 100% already).
     */
    public int allowed(int stageSize) {
        return switch (limit) {
            case Count count -> Math.max(0, Math.min(count.count(), stageSize - 1));
            case Percent percent -> stageSize < minimumSample ? 0 : percent.percent() * stageSize / 100;
        };
    }

    /** The limit as it reads on the command line, with the sample where it matters: {@code 5% (of at least 10)}. */
    public String describe() {
        return switch (limit) {
            case Count count -> count.text();
            case Percent percent -> percent.text() + " (none below " + minimumSample + " devices)";
        };
    }
}
