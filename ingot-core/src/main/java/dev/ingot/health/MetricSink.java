package dev.ingot.health;

import dev.ingot.site.SiteId;
import java.time.Instant;
import java.util.List;

/** Where a report's numbers go (CloudWatch in production). Implementations batch as their service requires. */
public interface MetricSink extends AutoCloseable {
    /** What was sent: the metrics and how many requests it took. */
    record Sent(int metrics, int requests) {}

    /**
     * Sends the metrics of one site at one time; throws an {@link dev.ingot.error.IngotException} (UNAVAILABLE)
     * when they could not all be sent.
     */
    Sent publish(SiteId site, Instant timestamp, List<Metric> metrics);

    /** Where the metrics go, for messages: "CloudWatch namespace Edge/Health in us-east-1". */
    String describe();

    @Override
    void close();
}
