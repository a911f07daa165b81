package dev.ingot.aws;

import static java.util.Objects.requireNonNull;

import dev.ingot.health.Metric;
import dev.ingot.health.MetricSink;
import dev.ingot.health.StandardAlarms;
import dev.ingot.site.SiteId;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.cloudwatch.model.Dimension;
import software.amazon.awssdk.services.cloudwatch.model.MetricDatum;

/**
 * Health metrics as CloudWatch custom metrics: namespace {@value StandardAlarms#NAMESPACE}, one dimension
 * {@value StandardAlarms#DIMENSION}, one PutMetricData per batch. Batches keep within PutMetricData's documented
 * limits (API reference, PutMetricData): at most 1000 metrics and 1 MB per request.
 */
public final class CloudWatchMetricSink implements MetricSink {
    /** PutMetricData's limit on metrics per request. */
    static final int MAXIMUM_METRICS_PER_REQUEST = 1000;
    /**
     * Our budget per request, by {@link #estimatedSize}: half of PutMetricData's 1 MB, so an estimate that is off
     * by the encoding's framing still fits.
     */
    static final int REQUEST_BYTES_BUDGET = 512 * 1024;

    private final CloudWatchClient client;
    private final Optional<URI> endpoint;
    private final String namespace;

    private CloudWatchMetricSink(CloudWatchClient client, Optional<URI> endpoint, String namespace) {
        this.client = requireNonNull(client, "client");
        this.endpoint = requireNonNull(endpoint, "endpoint");
        this.namespace = requireNonNull(namespace, "namespace");
    }

    /** Credentials and region from the SDK's default chains; {@code endpoint} overrides CloudWatch's. */
    public static CloudWatchMetricSink fromDefaultChain(Optional<URI> endpoint) {
        return new CloudWatchMetricSink(CloudWatchClients.fromDefaultChain(endpoint), endpoint, StandardAlarms.NAMESPACE);
    }

    public static CloudWatchMetricSink with(Optional<URI> endpoint, AwsCredentialsProvider credentials, Region region) {
        return new CloudWatchMetricSink(CloudWatchClients.with(endpoint, credentials, region), endpoint, StandardAlarms.NAMESPACE);
    }

    @Override
    public Sent publish(SiteId site, Instant timestamp, List<Metric> metrics) {
        requireNonNull(site, "site");
        requireNonNull(timestamp, "timestamp");
        Dimension dimension = Dimension.builder().name(StandardAlarms.DIMENSION).value(site.value()).build();
        List<MetricDatum> data = metrics.stream().map(metric -> MetricDatum.builder()
                .metricName(metric.name())
                .value(metric.value())
                .unit(metric.unit().cloudWatchName())
                .timestamp(timestamp)
                .dimensions(dimension)
                .build()).toList();
        List<List<MetricDatum>> batches = batches(data, MAXIMUM_METRICS_PER_REQUEST, REQUEST_BYTES_BUDGET);
        int sent = 0;
        for (List<MetricDatum> batch : batches) {
            try {
                client.putMetricData(request -> request.namespace(namespace).metricData(batch));
            } catch (SdkException e) {
                throw CloudWatchClients.unavailable("send " + batch.size() + " metrics of site " + site + " to " + describe()
                        + (sent == 0 ? "" : " (" + sent + " were sent)"), e, endpoint);
            }
            sent += batch.size();
        }
        return new Sent(sent, batches.size());
    }

    /** Consecutive batches of at most {@code maximumCount} metrics and {@code bytesBudget} estimated bytes each. */
    static List<List<MetricDatum>> batches(List<MetricDatum> data, int maximumCount, int bytesBudget) {
        List<List<MetricDatum>> batches = new ArrayList<>();
        List<MetricDatum> batch = new ArrayList<>();
        long bytes = 0;
        for (MetricDatum datum : data) {
            int size = estimatedSize(datum);
            if (!batch.isEmpty() && (batch.size() == maximumCount || bytes + size > bytesBudget)) {
                batches.add(List.copyOf(batch));
                batch.clear();
                bytes = 0;
            }
            batch.add(datum);
            bytes += size;
        }
        if (!batch.isEmpty()) {
            batches.add(List.copyOf(batch));
        }
        return batches;
    }

    /**
     * An upper bound of a datum's encoded size: its strings, plus a fixed allowance for the field names, the
     * number, the timestamp and the framing (in CBOR they take under 80 bytes).
     */
    static int estimatedSize(MetricDatum datum) {
        int size = 128 + datum.metricName().length() + (datum.unitAsString() == null ? 0 : datum.unitAsString().length());
        for (Dimension dimension : datum.dimensions()) {
            size += 32 + dimension.name().length() + dimension.value().length();
        }
        return size;
    }

    @Override
    public String describe() {
        return "CloudWatch namespace " + namespace + endpoint.map(uri -> " at " + uri).orElse("");
    }

    @Override
    public void close() {
        client.close();
    }
}
