package dev.ingot.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.image.ImageVersion;
import dev.ingot.rollout.DeviceReport;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What the rollout engine reads of a health report (it lives in dev.ingot.rollout; the sample reports live here). */
class DeviceReportTest {
    private static final Instant RECEIVED = Instant.parse("2026-11-30T08:00:05Z");

    @Test
    void theRolloutReadsTheVersionTagAndVerdictOfAReportAtTheTimeTheServerReceivedIt() {
        HealthReport report = SampleFindings.report(SampleFindings.healthy());

        DeviceReport read = DeviceReport.of(report, RECEIVED);

        assertThat(read.at()).isEqualTo(RECEIVED).isNotEqualTo(report.checkedAt());
        assertThat(read.status()).isEqualTo(report.status());
        assertThat(read.image()).contains(ImageVersion.parse("v1.4"));
        assertThat(read.containerTag()).isEqualTo(report.findings().videoIngestContainer().found().flatMap(HealthReport.ContainerInfo::tag));
        assertThat(read.containerTag()).isPresent();
        assertThat(read.rebootRequired()).isFalse();
    }

    @Test
    void aReportWhoseProbesFoundNothingHasNoVersionNoTagAndNeedsNoReboot() {
        DeviceReport read = DeviceReport.of(SampleFindings.report(SampleFindings.nothing()), RECEIVED);

        assertThat(read.image()).isEqualTo(Optional.empty());
        assertThat(read.containerTag()).isEmpty();
        assertThat(read.rebootRequired()).isFalse();
        assertThat(read.status()).isEqualTo(HealthStatus.UNHEALTHY);
    }
}
