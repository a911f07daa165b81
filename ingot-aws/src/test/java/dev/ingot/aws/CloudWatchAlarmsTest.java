package dev.ingot.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.error.IngotException;
import dev.ingot.health.HealthConfig;
import dev.ingot.health.StandardAlarms;
import dev.ingot.site.SiteId;
import dev.ingot.testing.CloudWatchServer;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/** The standard alarms through the real AWS SDK (PutMetricAlarm, Smithy RPC v2 CBOR) against a CloudWatch endpoint on loopback. */
class CloudWatchAlarmsTest {
    private static final SiteId SITE = new SiteId("SITE-2847");
    private CloudWatchServer server;

    @BeforeEach
    void startServer() {
        server = CloudWatchServer.start();
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    private CloudWatchAlarms alarms() {
        return CloudWatchAlarms.with(Optional.of(server.endpoint()), StaticCredentialsProvider.create(AwsBasicCredentials.create("id", "s")),
                Region.US_EAST_1);
    }

    @Test
    void everyStandardAlarmIsPutWithItsMetricThresholdAndSite() {
        List<StandardAlarms.Alarm> standard = StandardAlarms.forSite(SITE, HealthConfig.DEFAULTS);
        try (CloudWatchAlarms alarms = alarms()) {
            assertThat(alarms.apply(standard, Optional.of("arn:aws:sns:us-east-1:123456789012:edge-alarms")))
                    .containsExactlyElementsOf(standard.stream().map(StandardAlarms.Alarm::name).toList());
        }

        List<CloudWatchServer.Request> put = server.accepted("PutMetricAlarm");
        assertThat(put).extracting(request -> request.body().get("AlarmName").asText()).containsExactly(
                "edge-health-SITE-2847-unhealthy", "edge-health-SITE-2847-not-reporting", "edge-health-SITE-2847-video-ingest",
                "edge-health-SITE-2847-gpu-temperature", "edge-health-SITE-2847-gpu-ecc", "edge-health-SITE-2847-disk-root",
                "edge-health-SITE-2847-cameras", "edge-health-SITE-2847-clock");
        JsonNode temperature = put.get(3).body();
        assertThat(temperature.get("Namespace").asText()).isEqualTo("Edge/Health");
        assertThat(temperature.get("MetricName").asText()).isEqualTo("GpuTemperature");
        assertThat(temperature.get("Statistic").asText()).isEqualTo("Maximum");
        assertThat(temperature.get("Threshold").asDouble()).isEqualTo(90.0);
        assertThat(temperature.get("ComparisonOperator").asText()).isEqualTo("GreaterThanOrEqualToThreshold");
        assertThat(temperature.get("Period").asInt()).isEqualTo(60);
        assertThat(temperature.get("EvaluationPeriods").asInt()).isEqualTo(5);
        assertThat(temperature.get("DatapointsToAlarm").asInt()).isEqualTo(5);
        assertThat(temperature.get("TreatMissingData").asText()).isEqualTo("notBreaching");
        assertThat(temperature.get("Dimensions").get(0).get("Name").asText()).isEqualTo("SiteId");
        assertThat(temperature.get("Dimensions").get(0).get("Value").asText()).isEqualTo("SITE-2847");
        assertThat(temperature.get("AlarmActions").get(0).asText()).isEqualTo("arn:aws:sns:us-east-1:123456789012:edge-alarms");
        assertThat(temperature.get("OKActions").get(0).asText()).isEqualTo("arn:aws:sns:us-east-1:123456789012:edge-alarms");
        JsonNode silent = put.get(1).body();
        assertThat(silent.get("Statistic").asText()).isEqualTo("SampleCount");
        assertThat(silent.get("TreatMissingData").asText()).isEqualTo("breaching");
    }

    @Test
    void aRefusedPutIsUnavailableAndApplyingAgainPutsEveryAlarm() {
        List<StandardAlarms.Alarm> standard = StandardAlarms.forSite(SITE, HealthConfig.DEFAULTS);
        try (CloudWatchAlarms alarms = alarms()) {
            alarms.apply(standard.subList(0, 2), Optional.empty());
            server.failNext(1, new CloudWatchServer.Failure(400, "LimitExceeded", "The maximum number of alarms has been reached."));

            assertThatThrownBy(() -> alarms.apply(standard, Optional.empty()))
                    .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.getMessage())
                            .startsWith("Tried to put the alarm edge-health-SITE-2847-unhealthy but failed because")
                            .contains("HTTP 400 LimitExceeded: The maximum number of alarms has been reached."));
            assertThat(alarms.apply(standard, Optional.empty())).hasSize(standard.size());
        }
        assertThat(server.accepted("PutMetricAlarm").getFirst().body().has("AlarmActions")).isFalse();
    }
}
