package dev.ingot.server.http;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as people write them on a command line or in a query: {@code 90s}, {@code 15m}, {@code 2h}, {@code 7d}. */
public final class Durations {
    private static final Pattern FORMAT = Pattern.compile("([0-9]{1,9})([smhd])");

    private Durations() {}

    public static Duration parse(String text, String what) {
        Matcher matcher = FORMAT.matcher(text == null ? "" : text.strip());
        if (!matcher.matches()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read " + what + " '" + text + "'", "a duration is a number and a unit: s, m, h or d")
                    .withHint("write it like 90s, 15m, 2h or 7d");
        }
        long amount = Long.parseLong(matcher.group(1));
        return switch (matcher.group(2)) {
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
    }

    /** The shortest exact form: 900 seconds is {@code 15m}. */
    public static String format(Duration duration) {
        long seconds = duration.toSeconds();
        if (seconds % 86_400 == 0 && seconds > 0) {
            return seconds / 86_400 + "d";
        }
        if (seconds % 3600 == 0 && seconds > 0) {
            return seconds / 3600 + "h";
        }
        if (seconds % 60 == 0 && seconds > 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }
}
