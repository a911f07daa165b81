package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Which gate a rollout's stages must pass, as {@code --gate} spells it: {@code health} (the devices' own reports,
 * {@link HealthGate}) or {@code cloudwatch:PREFIX} (the CloudWatch alarms whose names start with PREFIX), with
 * optional settings after a {@code ?}: {@code cloudwatch:edge-health-?insufficient-data=pass&unreadable=wait}.
 */
public sealed interface GateSpec {
    /** The spec as {@link #parse} reads it back; also the gate's name in results and the status view. */
    String text();

    /** What a gate makes of a condition it cannot judge: fail the stage (the default), wait, or let it pass. */
    enum Tolerance {
        FAIL,
        WAIT,
        PASS;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    record Health() implements GateSpec {
        @Override
        public String text() {
            return "health";
        }
    }

    /**
     * @param prefix the alarm name prefix DescribeAlarms lists ({@code edge-health-} for the standard alarms)
     * @param insufficientData what an alarm in INSUFFICIENT_DATA, or a stage site with no alarm at all, counts as
     * @param unreadable what a failure to read the alarms (throttled, unreachable, refused) counts as
     */
    record CloudWatch(String prefix, Tolerance insufficientData, Tolerance unreadable) implements GateSpec {
        /** CloudWatch's alarm names are 1 to 255 characters; we take the printable ones that need no quoting in a URL query. */
        private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_./:#-]{1,255}");

        public CloudWatch {
            requireNonNull(prefix, "prefix");
            requireNonNull(insufficientData, "insufficientData");
            requireNonNull(unreadable, "unreadable");
            if (!PREFIX.matcher(prefix).matches()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "read the alarm prefix '" + prefix + "'",
                        "a prefix is 1 to 255 letters, digits and '_', '.', '/', ':', '#', '-'").withHint("write it like edge-health-");
            }
        }

        @Override
        public String text() {
            StringBuilder text = new StringBuilder("cloudwatch:").append(prefix);
            String separator = "?";
            if (insufficientData != Tolerance.FAIL) {
                text.append(separator).append("insufficient-data=").append(insufficientData.json());
                separator = "&";
            }
            if (unreadable != Tolerance.FAIL) {
                text.append(separator).append("unreadable=").append(unreadable.json());
            }
            return text.toString();
        }
    }

    static GateSpec parse(String text) {
        requireNonNull(text, "text");
        if (text.equals("health")) {
            return new Health();
        }
        if (!text.startsWith("cloudwatch:")) {
            throw invalid(text, "a gate is health or cloudwatch:PREFIX");
        }
        String rest = text.substring("cloudwatch:".length());
        int query = rest.indexOf('?');
        String prefix = query < 0 ? rest : rest.substring(0, query);
        Map<Setting, Tolerance> settings = new EnumMap<>(Setting.class);
        if (query >= 0) {
            for (String pair : rest.substring(query + 1).split("&", -1)) {
                String[] keyValue = pair.split("=", 2);
                Setting setting = Arrays.stream(Setting.values()).filter(candidate -> candidate.key.equals(keyValue[0])).findFirst()
                        .orElseThrow(() -> invalid(text, "'" + keyValue[0] + "' is not a setting (insufficient-data, unreadable)"));
                Tolerance tolerance = keyValue.length < 2 ? null : Arrays.stream(Tolerance.values())
                        .filter(candidate -> candidate.json().equals(keyValue[1])).findFirst().orElse(null);
                if (tolerance == null || settings.put(setting, tolerance) != null) {
                    throw invalid(text, "'" + pair + "' is not " + setting.key + "=fail|wait|pass given once");
                }
            }
        }
        return new CloudWatch(prefix, settings.getOrDefault(Setting.INSUFFICIENT_DATA, Tolerance.FAIL),
                settings.getOrDefault(Setting.UNREADABLE, Tolerance.FAIL));
    }

    private static IngotException invalid(String text, String reason) {
        return IngotException.tried(ErrorCode.BAD_INPUT, "read the gate '" + text + "'", reason)
                .withHint("write it like health or cloudwatch:edge-health-?insufficient-data=pass");
    }

    enum Setting {
        INSUFFICIENT_DATA("insufficient-data"),
        UNREADABLE("unreadable");

        private final String key;

        Setting(String key) {
            this.key = key;
        }
    }
}
