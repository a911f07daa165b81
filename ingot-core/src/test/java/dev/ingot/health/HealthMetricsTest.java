package dev.ingot.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.health.Metric.Unit;
import dev.ingot.site.SiteId;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class HealthMetricsTest {
    private static Map<String, Metric> byName(List<Metric> metrics) {
        return metrics.stream().collect(Collectors.toMap(Metric::name, metric -> metric));
    }

    @Test
    void aHealthyReportGivesEveryDocumentedMetric() {
        Map<String, Metric> metrics = byName(HealthMetrics.of(SampleFindings.report(SampleFindings.healthy())));

        assertThat(metrics.keySet()).containsExactlyInAnyOrder("HealthStatus", "ChecksFailed", "ChecksWarning", "Uptime", "DockerUp",
                "VideoIngestActive", "GpuCount", "GpuTemperature", "GpuUtilization", "GpuMemoryUsed", "GpuPowerDraw", "GpuEccUncorrected",
                "ClockSynchronised", "ClockOffset", "DiskRootUsed", "DiskDockerUsed", "MemoryAvailable", "CamerasConfigured",
                "CamerasUnreachable", "SecurityUpdatesPending", "RebootRequired", "UsbCacheImages");
        assertThat(metrics.get("HealthStatus")).isEqualTo(new Metric("HealthStatus", 0, Unit.NONE));
        assertThat(metrics.get("GpuTemperature")).isEqualTo(new Metric("GpuTemperature", 52, Unit.NONE));
        assertThat(metrics.get("GpuMemoryUsed")).isEqualTo(new Metric("GpuMemoryUsed", 26.9, Unit.PERCENT));
        assertThat(metrics.get("DiskRootUsed")).isEqualTo(new Metric("DiskRootUsed", 43.2, Unit.PERCENT));
        assertThat(metrics.get("ClockOffset")).isEqualTo(new Metric("ClockOffset", 0.000021744, Unit.SECONDS));
        assertThat(metrics.get("VideoIngestActive").value()).isEqualTo(1);
        assertThat(metrics.get("CamerasUnreachable").value()).isZero();
    }

    @Test
    void whatWasNotFoundIsLeftOutExceptWhereItsAbsenceIsTheFinding() {
        Map<String, Metric> metrics = byName(HealthMetrics.of(SampleFindings.report(SampleFindings.nothing())));

        assertThat(metrics.keySet()).containsExactlyInAnyOrder("HealthStatus", "ChecksFailed", "ChecksWarning", "DockerUp",
                "VideoIngestActive", "GpuCount", "ClockSynchronised");
        assertThat(metrics.get("HealthStatus").value()).isEqualTo(2);
        assertThat(metrics.get("DockerUp").value()).isZero();
        assertThat(metrics.get("GpuCount").value()).isZero();
    }

    @Test
    void everyAlarmWatchesAMetricTheReportSends() {
        List<String> sent = HealthMetrics.of(SampleFindings.report(SampleFindings.healthy())).stream().map(Metric::name).toList();

        assertThat(StandardAlarms.forSite(new SiteId("SITE-2847"), HealthConfig.DEFAULTS))
                .allSatisfy(alarm -> assertThat(sent).contains(alarm.metric()));
    }

    @Test
    void alarmThresholdsAreTheConfiguredFailLevels() {
        HealthConfig config = HealthConfig.parse("{\"gpu\": {\"temperature_fail_c\": 85}, \"clock\": {\"offset_fail_ms\": 500}}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8), "health.json");

        Map<String, StandardAlarms.Alarm> alarms = StandardAlarms.forSite(new SiteId("SITE-2847"), config).stream()
                .collect(Collectors.toMap(StandardAlarms.Alarm::name, alarm -> alarm));

        assertThat(alarms.get("edge-health-SITE-2847-gpu-temperature").threshold()).isEqualTo(85);
        assertThat(alarms.get("edge-health-SITE-2847-clock").threshold()).isEqualTo(0.5);
        assertThat(alarms.get("edge-health-SITE-2847-not-reporting").missingData()).isEqualTo(StandardAlarms.MissingData.BREACHING);
    }

    @Test
    void everyStandardAlarmNameReadsBackAsItsSite() {
        for (String site : List.of("SITE-2847", "lab-gpu", "x-not", "A")) {
            List<StandardAlarms.Alarm> alarms = StandardAlarms.forSite(new SiteId(site), HealthConfig.DEFAULTS);
            assertThat(alarms).extracting(alarm -> StandardAlarms.siteOf(alarm.name())).allMatch(parsed -> parsed.equals(java.util.Optional.of(new SiteId(site))));
            assertThat(alarms).extracting(alarm -> alarm.name().substring(StandardAlarms.PREFIX.length() + site.length() + 1))
                    .containsExactlyElementsOf(StandardAlarms.SUFFIXES);
        }
        assertThat(StandardAlarms.siteOf("edge-health-SITE-2847-custom")).isEmpty();
        assertThat(StandardAlarms.siteOf("edge-health--unhealthy")).isEmpty();
        assertThat(StandardAlarms.siteOf("edge-health-fleet error-unhealthy")).isEmpty();
        assertThat(StandardAlarms.siteOf("prod-SITE-1-unhealthy")).isEmpty();
    }
}
