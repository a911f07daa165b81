package dev.ingot.health;

import dev.ingot.health.HealthReport.GpuInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * {@code nvidia-smi --query-gpu=FIELDS --format=csv,noheader,nounits}: one line per GPU, the values in
 * the order the fields were asked for, separated by ", " (nvidia-smi(1), "--query-gpu"; the field names
 * are those of {@code nvidia-smi --help-query-gpu}). A value the GPU does not report is written in
 * brackets: {@code [N/A]}, {@code [Not Supported]}, {@code [Unknown Error]}, {@code [Insufficient Permissions]}.
 */
public final class NvidiaSmi {
    /** The fields asked for, in this order (the order of the recorded fixtures too). */
    public static final List<String> FIELDS = List.of("index", "uuid", "name", "driver_version", "pci.bus_id", "temperature.gpu",
            "utilization.gpu", "utilization.memory", "memory.total", "memory.used", "memory.free", "power.draw", "power.limit",
            "ecc.mode.current", "ecc.errors.corrected.volatile.total", "ecc.errors.uncorrected.volatile.total", "clocks.sm",
            "clocks.mem", "pstate", "fan.speed", "vbios_version");

    private NvidiaSmi() {}

    /** The arguments after {@code nvidia-smi}. */
    public static List<String> arguments() {
        return List.of("--query-gpu=" + String.join(",", FIELDS), "--format=csv,noheader,nounits");
    }

    /** The GPUs in the output, or why it cannot be read. No line at all means no GPU. */
    public static Probed<List<GpuInfo>> parse(String output) {
        List<GpuInfo> gpus = new ArrayList<>();
        for (String line : output.lines().map(String::strip).filter(line -> !line.isEmpty()).toList()) {
            String[] values = line.split(",", -1);
            if (values.length != FIELDS.size()) {
                return Probed.failed("nvidia-smi printed a line of " + values.length + (values.length == 1 ? " value" : " values") + " where " + FIELDS.size()
                        + " were asked for: '" + Excerpt.of(line) + "'");
            }
            Row row = new Row(values);
            try {
                gpus.add(new GpuInfo((int) row.whole("index").orElseThrow(() -> new NumberFormatException("index is not reported")),
                        row.text("uuid").orElse(""), row.text("name").orElse(""), row.text("driver_version").orElse(""),
                        row.text("pci.bus_id").orElse(""), row.whole("temperature.gpu"), row.whole("utilization.gpu"),
                        row.whole("utilization.memory"), row.whole("memory.total"), row.whole("memory.used"), row.whole("memory.free"),
                        row.decimal("power.draw"), row.decimal("power.limit"), row.text("ecc.mode.current"),
                        row.whole("ecc.errors.corrected.volatile.total"), row.whole("ecc.errors.uncorrected.volatile.total"),
                        row.whole("clocks.sm"), row.whole("clocks.mem"), row.text("pstate"), row.whole("fan.speed"),
                        row.text("vbios_version")));
            } catch (NumberFormatException e) {
                return Probed.failed("nvidia-smi printed something that is not a number: " + e.getMessage());
            }
        }
        return Probed.found(List.copyOf(gpus));
    }

    /** Whether a value stands for "not reported": bracketed ({@code [N/A]}) or bare {@code N/A}. */
    static boolean notReported(String value) {
        return value.isEmpty() || value.equals("N/A") || (value.startsWith("[") && value.endsWith("]"));
    }

    private record Row(String[] values) {
        Optional<String> text(String field) {
            String value = values[FIELDS.indexOf(field)].strip();
            return notReported(value) ? Optional.empty() : Optional.of(value);
        }

        OptionalLong whole(String field) {
            Optional<String> value = text(field);
            if (value.isEmpty()) {
                return OptionalLong.empty();
            }
            try {
                return OptionalLong.of(Long.parseLong(value.get()));
            } catch (NumberFormatException e) {
                throw new NumberFormatException(field + " is '" + Excerpt.of(value.get()) + "'");
            }
        }

        OptionalDouble decimal(String field) {
            Optional<String> value = text(field);
            if (value.isEmpty()) {
                return OptionalDouble.empty();
            }
            try {
                double number = Double.parseDouble(value.get());
                if (!Double.isFinite(number)) {
                    throw new NumberFormatException();
                }
                return OptionalDouble.of(number);
            } catch (NumberFormatException e) {
                throw new NumberFormatException(field + " is '" + Excerpt.of(value.get()) + "'");
            }
        }
    }
}
