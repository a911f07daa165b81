package dev.ingot.health;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.IngotException;
import dev.ingot.site.SiteId;
import java.util.List;
import java.util.Optional;

/**
 * The alarms every site has, on the metrics of {@link HealthMetrics} (namespace {@value #NAMESPACE},
 * dimension {@value #DIMENSION}): the rollout gates read them by name, {@code edge-health-SITE-…}. Thresholds
 * are the health config's fail levels, so an alarm fires on what the report itself calls a failure,
 * sustained. docs/health-report.md lists them.
 */
public final class StandardAlarms {
    public static final String NAMESPACE = "Edge/Health";
    public static final String DIMENSION = "SiteId";
    /** One report a minute (the systemd timer): one period is one report. */
    public static final int PERIOD_SECONDS = 60;

    private StandardAlarms() {}

    public enum Comparison {
        GREATER_THAN_OR_EQUAL_TO_THRESHOLD("GreaterThanOrEqualToThreshold"),
        LESS_THAN_THRESHOLD("LessThanThreshold");

        private final String cloudWatchName;

        Comparison(String cloudWatchName) {
            this.cloudWatchName = cloudWatchName;
        }

        public String cloudWatchName() {
            return cloudWatchName;
        }
    }

    /** How a period without data counts (CloudWatch's TreatMissingData). */
    public enum MissingData {
        BREACHING("breaching"),
        NOT_BREACHING("notBreaching");

        private final String cloudWatchName;

        MissingData(String cloudWatchName) {
            this.cloudWatchName = cloudWatchName;
        }

        public String cloudWatchName() {
            return cloudWatchName;
        }
    }

    /** One alarm: it fires when {@code datapointsToAlarm} of the last {@code evaluationPeriods} minutes breach. */
    public record Alarm(String name, String description, String metric, String statistic, Comparison comparison, double threshold,
            int periodSeconds, int evaluationPeriods, int datapointsToAlarm, MissingData missingData, SiteId site) {
        public Alarm {
            requireNonNull(name, "name");
            requireNonNull(description, "description");
            requireNonNull(metric, "metric");
            requireNonNull(statistic, "statistic");
            requireNonNull(comparison, "comparison");
            requireNonNull(missingData, "missingData");
            requireNonNull(site, "site");
        }
    }

    /** Every standard alarm's name starts with this, then the site id, then one of {@link #SUFFIXES}. */
    public static final String PREFIX = "edge-health-";
    /** The last part of each standard alarm's name, one per alarm of {@link #forSite}. */
    public static final List<String> SUFFIXES = List.of("unhealthy", "not-reporting", "video-ingest", "gpu-temperature", "gpu-ecc",
            "disk-root", "cameras", "clock");

    public static String name(SiteId site, String suffix) {
        return PREFIX + site + "-" + suffix;
    }

    /**
     * The site a standard alarm's name belongs to, if it is one: {@code edge-health-SITE-2847-gpu-ecc} is SITE-2847's.
     * No suffix is the end of another after a dash, so a site id that itself ends like a suffix still parses one way.
     */
    public static Optional<SiteId> siteOf(String alarmName) {
        if (!alarmName.startsWith(PREFIX)) {
            return Optional.empty();
        }
        for (String suffix : SUFFIXES) {
            String end = "-" + suffix;
            if (alarmName.endsWith(end) && alarmName.length() > PREFIX.length() + end.length()) {
                String site = alarmName.substring(PREFIX.length(), alarmName.length() - end.length());
                try {
                    return Optional.of(new SiteId(site));
                } catch (IngotException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    public static List<Alarm> forSite(SiteId site, HealthConfig config) {
        requireNonNull(site, "site");
        return List.of(
                new Alarm(name(site, "unhealthy"), "The device's health report says unhealthy (a critical check failed) for 3 minutes.",
                        "HealthStatus", "Maximum", Comparison.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, HealthStatus.UNHEALTHY.metricValue(),
                        PERIOD_SECONDS, 3, 3, MissingData.NOT_BREACHING, site),
                new Alarm(name(site, "not-reporting"), "No health report arrived for 5 minutes (device down, or no network).",
                        "HealthStatus", "SampleCount", Comparison.LESS_THAN_THRESHOLD, 1, PERIOD_SECONDS, 5, 5, MissingData.BREACHING, site),
                new Alarm(name(site, "video-ingest"), "video-ingest (unit or container) not running for 3 minutes.",
                        "VideoIngestActive", "Minimum", Comparison.LESS_THAN_THRESHOLD, 1, PERIOD_SECONDS, 3, 3, MissingData.NOT_BREACHING, site),
                new Alarm(name(site, "gpu-temperature"), "The hottest GPU at or above " + config.gpu().temperatureFailC() + " °C for 5 minutes.",
                        "GpuTemperature", "Maximum", Comparison.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, config.gpu().temperatureFailC(),
                        PERIOD_SECONDS, 5, 5, MissingData.NOT_BREACHING, site),
                new Alarm(name(site, "gpu-ecc"), "Uncorrected GPU ECC errors since the driver loaded (the GPU needs a reset).",
                        "GpuEccUncorrected", "Maximum", Comparison.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 1, PERIOD_SECONDS, 1, 1,
                        MissingData.NOT_BREACHING, site),
                new Alarm(name(site, "disk-root"), "/ at or above " + config.disk().usedFailPercent() + "% used for 5 minutes.",
                        "DiskRootUsed", "Maximum", Comparison.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, config.disk().usedFailPercent(),
                        PERIOD_SECONDS, 5, 5, MissingData.NOT_BREACHING, site),
                new Alarm(name(site, "cameras"), "At least one camera unreachable for 5 minutes.",
                        "CamerasUnreachable", "Minimum", Comparison.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 1, PERIOD_SECONDS, 5, 5,
                        MissingData.NOT_BREACHING, site),
                new Alarm(name(site, "clock"), "Clock offset at or above " + config.clock().offsetFailMs() + " ms for 5 minutes.",
                        "ClockOffset", "Maximum", Comparison.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, config.clock().offsetFailMs() / 1000.0,
                        PERIOD_SECONDS, 5, 5, MissingData.NOT_BREACHING, site));
    }
}
