package dev.ingot.health;

import java.util.List;
import java.util.Locale;

/** The report's verdict, rolled up from its checks. The metric value is what CloudWatch alarms compare. */
public enum HealthStatus {
    HEALTHY(0),
    DEGRADED(1),
    UNHEALTHY(2);

    private final int metricValue;

    HealthStatus(int metricValue) {
        this.metricValue = metricValue;
    }

    public int metricValue() {
        return metricValue;
    }

    public String json() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Any failed critical check: unhealthy; any other failure or a warning: degraded; else healthy. Skipped checks count for nothing. */
    public static HealthStatus rollUp(List<Check> checks) {
        HealthStatus status = HEALTHY;
        for (Check check : checks) {
            switch (check.status()) {
                case FAIL -> {
                    if (check.critical()) {
                        return UNHEALTHY;
                    }
                    status = DEGRADED;
                }
                case WARN -> status = DEGRADED;
                case OK, SKIP -> { }
            }
        }
        return status;
    }
}
