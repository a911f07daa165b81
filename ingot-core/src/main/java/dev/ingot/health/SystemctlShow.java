package dev.ingot.health;

import dev.ingot.health.HealthReport.UnitState;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/** {@code systemctl show UNIT --property=…}: one {@code NAME=value} line per property (systemctl(1), "show"). */
public final class SystemctlShow {
    public static final List<String> PROPERTIES = List.of("LoadState", "ActiveState", "SubState", "Result", "NRestarts");

    private SystemctlShow() {}

    public static List<String> arguments(String unit) {
        return List.of("show", unit, "--property=" + String.join(",", PROPERTIES));
    }

    public static Probed<UnitState> parse(String unit, String output) {
        Map<String, String> properties = new HashMap<>();
        for (String line : output.lines().toList()) {
            int equals = line.indexOf('=');
            if (equals > 0) {
                properties.put(line.substring(0, equals), line.substring(equals + 1).strip());
            }
        }
        for (String required : List.of("LoadState", "ActiveState", "SubState")) {
            if (properties.getOrDefault(required, "").isEmpty()) {
                return Probed.failed("systemctl show " + unit + " printed no " + required + ": '" + Excerpt.of(output) + "'");
            }
        }
        OptionalLong restarts = OptionalLong.empty();
        String count = properties.getOrDefault("NRestarts", "");
        if (count.matches("[0-9]{1,18}")) {
            restarts = OptionalLong.of(Long.parseLong(count));
        }
        return Probed.found(new UnitState(unit, properties.get("LoadState"), properties.get("ActiveState"), properties.get("SubState"),
                Optional.ofNullable(properties.get("Result")).filter(result -> !result.isEmpty()), restarts));
    }
}
