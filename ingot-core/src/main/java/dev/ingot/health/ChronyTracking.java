package dev.ingot.health;

import dev.ingot.health.HealthReport.ClockSync;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;

/**
 * {@code chronyc -c tracking}: one line of 14 comma-separated values in the order of the "tracking"
 * report in chronyc(1): reference ID (hex), reference name, stratum, reference time (seconds since the
 * epoch), system time (the clock's offset from NTP time, seconds, signed), last offset, RMS offset,
 * frequency (ppm), residual frequency, skew, root delay, root dispersion, update interval, leap status
 * ("Normal", "Insert second", "Delete second", "Not synchronised"). Checks use the offset's magnitude only.
 */
public final class ChronyTracking {
    public static final List<String> ARGUMENTS = List.of("-c", "tracking");
    private static final int FIELDS = 14;

    private ChronyTracking() {}

    public static Probed<ClockSync> parse(String output) {
        List<String> lines = output.lines().map(String::strip).filter(line -> !line.isEmpty()).toList();
        if (lines.size() != 1) {
            return Probed.failed("chronyc printed " + lines.size() + (lines.size() == 1 ? " line" : " lines") + " where one CSV line was expected"
                    + (lines.isEmpty() ? "" : ": '" + Excerpt.of(lines.getFirst()) + "'"));
        }
        String[] values = lines.getFirst().split(",", -1);
        if (values.length != FIELDS) {
            return Probed.failed("chronyc printed " + values.length + (values.length == 1 ? " value" : " values") + " where " + FIELDS + " were expected: '"
                    + Excerpt.of(lines.getFirst()) + "'");
        }
        try {
            String referenceId = values[0].strip();
            if (!referenceId.matches("[0-9A-F]{8}")) {
                throw new NumberFormatException("the reference ID '" + Excerpt.of(referenceId) + "' is not 8 hex digits");
            }
            String leap = values[13].strip();
            if (!List.of("Normal", "Insert second", "Delete second", "Not synchronised").contains(leap)) {
                throw new NumberFormatException("the leap status '" + Excerpt.of(leap) + "' is not one chronyc writes");
            }
            return Probed.found(new ClockSync(referenceId, values[1].strip(), Integer.parseInt(values[2].strip()),
                    epochSeconds(values[3].strip()), number(values[4]), number(values[5]), number(values[6]), number(values[7]),
                    number(values[9]), number(values[10]), number(values[11]), number(values[12]), leap));
        } catch (NumberFormatException | ArithmeticException e) {
            return Probed.failed("chronyc printed a tracking line that cannot be read (" + e.getMessage() + "): '"
                    + Excerpt.of(lines.getFirst()) + "'");
        }
    }

    private static double number(String text) {
        double value = Double.parseDouble(text.strip());
        if (!Double.isFinite(value)) {
            throw new NumberFormatException("'" + text.strip() + "' is not a finite number");
        }
        return value;
    }

    /** "1795654959.973543949": seconds and nanoseconds, exact (a double would lose the nanoseconds). */
    private static Instant epochSeconds(String text) {
        BigDecimal seconds = new BigDecimal(text);
        long whole = seconds.longValue();
        long nanos = seconds.subtract(BigDecimal.valueOf(whole)).movePointRight(9).longValueExact();
        return Instant.ofEpochSecond(whole, nanos);
    }
}
