package dev.ingot.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * What the server tells Prometheus (/metrics): polls by outcome and their latency, report batches, requests,
 * and the fleet by image version and health status (refreshed from the database by the server). One registry
 * per server, no global state.
 */
public final class ServerMetrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Timer pollLatency;
    private final ConcurrentMap<String, Counter> polls = new ConcurrentHashMap<>();
    private final DistributionSummary batchSizes;
    private final MultiGauge devices;
    private final JvmGcMetrics gc = new JvmGcMetrics();

    /** Devices per (image version, status) as last counted. */
    public record FleetCount(String imageVersion, String status, long devices) {}

    public ServerMetrics() {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        gc.bindTo(registry);
        pollLatency = Timer.builder("ingot.device.poll.latency").description("Time from a poll's arrival to its answer, the report committed")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
        batchSizes = DistributionSummary.builder("ingot.reports.batch.size").description("Reports written per commit").register(registry);
        devices = MultiGauge.builder("ingot.devices").description("Enrolled devices by the image version and status they last reported")
                .register(registry);
    }

    public void poll(String outcome, long nanos) {
        polls.computeIfAbsent(outcome, key -> Counter.builder("ingot.device.polls").description("Device polls by outcome")
                .tag("outcome", key).register(registry)).increment();
        if (outcome.equals("ok")) {
            pollLatency.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
    }

    public void batch(int size) {
        batchSizes.record(size);
    }

    public void fleet(List<FleetCount> counts) {
        devices.register(counts.stream()
                .map(count -> MultiGauge.Row.of(Tags.of("image_version", count.imageVersion(), "status", count.status()), count.devices()))
                .toList(), true);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
