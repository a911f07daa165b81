package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.health.HealthReport;
import dev.ingot.health.HealthStatus;
import dev.ingot.image.ImageVersion;
import java.time.Instant;
import java.util.Optional;

/**
 * What the rollout engine reads of a device's latest health report: when the server received it, the verdict, the
 * image version and {@code video-ingest} tag it runs, and whether it needs a reboot. The server keeps the whole
 * report; {@link #of} takes these fields from it so that the two never disagree. The time is the server's, not the
 * report's own {@code checked_at}: it is compared with the soak's start, which the server's clock set, and a device
 * whose clock is off must not look silent (or fresh) for it.
 */
public record DeviceReport(Instant at, HealthStatus status, Optional<ImageVersion> image, Optional<String> containerTag,
        boolean rebootRequired) {
    public DeviceReport {
        requireNonNull(at, "at");
        requireNonNull(status, "status");
        requireNonNull(image, "image");
        requireNonNull(containerTag, "containerTag");
    }

    public static DeviceReport of(HealthReport report, Instant receivedAt) {
        HealthReport.Findings findings = report.findings();
        return new DeviceReport(receivedAt, report.status(), findings.image().found().map(HealthReport.ImageInfo::version),
                findings.videoIngestContainer().found().flatMap(HealthReport.ContainerInfo::tag),
                findings.reboot().found().map(HealthReport.Reboot::required).orElse(false));
    }

    /** Whether this report's verdict is no worse than {@code baseline}: a healthy device must stay healthy, a degraded one must not turn unhealthy. */
    public boolean noWorseThan(HealthStatus baseline) {
        return status.compareTo(baseline) <= 0;
    }
}
