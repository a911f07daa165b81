package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as an operator types them on the command line: {@code 90s}, {@code 30m}, {@code 2h}, {@code 1h30m},
 * {@code 1d}. Hand-written because {@link Duration#parse} wants ISO-8601 ({@code PT30M}), which nobody types.
 */
public final class DurationText {
    private static final Pattern FORMAT = Pattern.compile("(?:(\\d{1,4})d)?(?:(\\d{1,5})h)?(?:(\\d{1,6})m)?(?:(\\d{1,7})s)?");

    private DurationText() {}

    /** {@code what} names the option in the error, like "the soak". */
    public static Duration parse(String text, String what) {
        requireNonNull(text, "text");
        Matcher matcher = FORMAT.matcher(text);
        if (text.isEmpty() || !matcher.matches()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read " + what + " '" + text + "'",
                    "a duration is a number with a unit, d, h, m or s, in that order").withHint("write it like 30m, 2h or 1h30m");
        }
        Duration duration = Duration.ofDays(number(matcher.group(1))).plusHours(number(matcher.group(2)))
                .plusMinutes(number(matcher.group(3))).plusSeconds(number(matcher.group(4)));
        if (duration.isZero()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read " + what + " '" + text + "'", "it is zero")
                    .withHint("write a positive duration like 30m");
        }
        return duration;
    }

    /** The shortest text that {@link #parse} reads back as the same duration, to the second: {@code 1h30m}. */
    public static String format(Duration duration) {
        long seconds = duration.toSeconds();
        StringBuilder text = new StringBuilder();
        long days = seconds / 86_400;
        long hours = seconds % 86_400 / 3_600;
        long minutes = seconds % 3_600 / 60;
        long rest = seconds % 60;
        if (days > 0) {
            text.append(days).append('d');
        }
        if (hours > 0) {
            text.append(hours).append('h');
        }
        if (minutes > 0) {
            text.append(minutes).append('m');
        }
        if (rest > 0 || text.isEmpty()) {
            text.append(rest).append('s');
        }
        return text.toString();
    }

    private static long number(String group) {
        return group == null ? 0 : Long.parseLong(group);
    }
}
