package dev.ingot.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.Metric;
import dev.ingot.health.MetricSink;
import dev.ingot.site.SiteId;
import dev.ingot.testing.CloudWatchServer;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.model.MetricDatum;

/** The metric sink through the real AWS SDK against a CloudWatch endpoint on loopback that speaks Smithy RPC v2 CBOR. */
class CloudWatchMetricSinkTest {
    private static final SiteId SITE = new SiteId("SITE-2847");
    private static final Instant NOW = Instant.parse("2026-11-26T01:00:00Z");
    private static CloudWatchServer server;

    @BeforeAll
    static void startServer() {
        server = CloudWatchServer.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @BeforeEach
    void forgetEarlierRequests() {
        server.clear();
    }

    static MetricSink sink(URI endpoint) {
        return CloudWatchMetricSink.with(Optional.of(endpoint), StaticCredentialsProvider.create(AwsBasicCredentials.create("id", "secret")),
                Region.US_EAST_1);
    }

    @Test
    void metricsArriveInTheEdgeHealthNamespaceWithTheSiteAsDimension() {
        try (MetricSink sink = sink(server.endpoint())) {
            MetricSink.Sent sent = sink.publish(SITE, NOW, List.of(new Metric("GpuTemperature", 52, Metric.Unit.NONE),
                    new Metric("DiskRootUsed", 41.5, Metric.Unit.PERCENT)));

            assertThat(sent).isEqualTo(new MetricSink.Sent(2, 1));
        }
        List<CloudWatchServer.Request> requests = server.accepted("PutMetricData");
        assertThat(requests).hasSize(1);
        JsonNode body = requests.getFirst().body();
        assertThat(body.get("Namespace").asText()).isEqualTo("Edge/Health");
        JsonNode first = body.get("MetricData").get(0);
        assertThat(first.get("MetricName").asText()).isEqualTo("GpuTemperature");
        assertThat(first.get("Value").asDouble()).isEqualTo(52.0);
        assertThat(first.get("Unit").asText()).isEqualTo("None");
        assertThat(first.get("Timestamp").asDouble()).isEqualTo(NOW.getEpochSecond());
        assertThat(first.get("Dimensions").get(0).get("Name").asText()).isEqualTo("SiteId");
        assertThat(first.get("Dimensions").get(0).get("Value").asText()).isEqualTo("SITE-2847");
        assertThat(body.get("MetricData").get(1).get("Unit").asText()).isEqualTo("Percent");
    }

    @Test
    void moreThanAThousandMetricsGoInBatchesOfAThousand() {
        List<Metric> metrics = IntStream.range(0, 2500).mapToObj(index -> new Metric("Metric" + index, index, Metric.Unit.COUNT)).toList();
        try (MetricSink sink = sink(server.endpoint())) {
            assertThat(sink.publish(SITE, NOW, metrics)).isEqualTo(new MetricSink.Sent(2500, 3));
        }
        assertThat(server.accepted("PutMetricData")).extracting(request -> request.body().get("MetricData").size())
                .containsExactly(1000, 1000, 500);
        // The SDK gzips PutMetricData bodies above 10 KiB (the operation's requestCompression trait); the limit counts the wire.
        assertThat(server.accepted("PutMetricData")).allSatisfy(request -> {
            assertThat(request.contentEncoding()).isEqualTo("gzip");
            assertThat(request.wireBytes()).isLessThan(1_000_000);
        });
    }

    @Test
    void batchesAlsoStayWithinTheBytesBudget() {
        List<MetricDatum> data = IntStream.range(0, 10).mapToObj(index -> MetricDatum.builder().metricName("M".repeat(200)).value(1.0)
                .unit("Count").build()).toList();
        int one = CloudWatchMetricSink.estimatedSize(data.getFirst());

        List<List<MetricDatum>> batches = CloudWatchMetricSink.batches(data, 1000, one * 4);

        assertThat(batches).extracting(List::size).containsExactly(4, 4, 2);
    }

    @Test
    void throttlingIsRetriedByTheSdkAndTheMetricsArrive() {
        server.failNext(2, new CloudWatchServer.Failure(400, "Throttling", "Rate exceeded"));
        try (MetricSink sink = sink(server.endpoint())) {
            assertThat(sink.publish(SITE, NOW, List.of(new Metric("HealthStatus", 0, Metric.Unit.NONE))).requests()).isEqualTo(1);
        }
        assertThat(server.requests()).hasSize(3);
        assertThat(server.accepted("PutMetricData")).hasSize(1);
    }

    @Test
    void aRefusalIsUnavailableAndQuotesCloudWatchsAnswer() {
        server.failNext(1, new CloudWatchServer.Failure(400, "InvalidParameterValue", "The value NaN for parameter MetricData.member.1.Value is invalid."));
        try (MetricSink sink = sink(server.endpoint())) {
            assertThatThrownBy(() -> sink.publish(SITE, NOW, List.of(new Metric("HealthStatus", 0, Metric.Unit.NONE))))
                    .isInstanceOfSatisfying(IngotException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                        assertThat(e.getMessage()).startsWith("Tried to send 1 metrics of site SITE-2847 to CloudWatch namespace Edge/Health")
                                .contains("answered HTTP 400 InvalidParameterValue: The value NaN");
                    });
        }
    }

    @Test
    void anUnreachableEndpointIsUnavailableAndSaysSo() {
        try (MetricSink sink = sink(URI.create("http://127.0.0.1:1"))) {
            assertThatThrownBy(() -> sink.publish(SITE, NOW, List.of(new Metric("HealthStatus", 0, Metric.Unit.NONE))))
                    .isInstanceOfSatisfying(IngotException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                        assertThat(e.getMessage()).contains("nothing accepted a connection at http://127.0.0.1:1");
                        assertThat(e.hint()).hasValueSatisfying(hint -> assertThat(hint).contains("--endpoint-url"));
                    });
        }
    }
}
