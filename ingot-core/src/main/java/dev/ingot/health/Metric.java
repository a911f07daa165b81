package dev.ingot.health;

import static java.util.Objects.requireNonNull;

/** One number of the report, named as in docs/health-report.md, with its CloudWatch unit. */
public record Metric(String name, double value, Unit unit) {
    /** The CloudWatch StandardUnit names this report uses; a temperature or a wattage has no unit there, so "None". */
    public enum Unit {
        NONE("None"),
        COUNT("Count"),
        PERCENT("Percent"),
        SECONDS("Seconds");

        private final String cloudWatchName;

        Unit(String cloudWatchName) {
            this.cloudWatchName = cloudWatchName;
        }

        public String cloudWatchName() {
            return cloudWatchName;
        }
    }

    public Metric {
        requireNonNull(name, "name");
        requireNonNull(unit, "unit");
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("metric " + name + " is " + value + "; CloudWatch takes finite numbers only");
        }
    }
}
