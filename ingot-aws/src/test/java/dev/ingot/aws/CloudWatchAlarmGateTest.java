package dev.ingot.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.health.HealthConfig;
import dev.ingot.health.StandardAlarms;
import dev.ingot.image.ImageVersion;
import dev.ingot.rollout.GateInput;
import dev.ingot.rollout.GateResult;
import dev.ingot.rollout.GateSpec;
import dev.ingot.rollout.MaxFailures;
import dev.ingot.rollout.RolloutId;
import dev.ingot.rollout.Target;
import dev.ingot.site.SiteId;
import dev.ingot.testing.CloudWatchServer;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.cloudwatch.model.CloudWatchException;
import software.amazon.awssdk.services.cloudwatch.model.Dimension;
import software.amazon.awssdk.services.cloudwatch.model.MetricAlarm;
import software.amazon.awssdk.services.cloudwatch.model.StateValue;

/**
 * The CloudWatch alarm gate through the real AWS SDK (DescribeAlarms, Smithy RPC v2 CBOR) against a CloudWatch
 * endpoint on loopback that holds the alarms: the standard per-site alarms put by {@link CloudWatchAlarms} as
 * {@code ingot health alarms} does, states set with SetAlarmState, more alarms than one page holds.
 */
class CloudWatchAlarmGateTest {
    private static final Instant NOW = Instant.parse("2026-11-30T09:00:00Z");
    private static final StaticCredentialsProvider CREDENTIALS = StaticCredentialsProvider.create(AwsBasicCredentials.create("id", "secret"));
    private static final GateSpec.CloudWatch STRICT = (GateSpec.CloudWatch) GateSpec.parse("cloudwatch:edge-health-");
    private CloudWatchServer server;
    private CloudWatchClient client;

    @BeforeEach
    void startServer() {
        server = CloudWatchServer.start(Clock.fixed(NOW.minusSeconds(600), ZoneOffset.UTC));
        client = CloudWatchClient.builder().endpointOverride(server.endpoint()).region(Region.US_EAST_1).credentialsProvider(CREDENTIALS).build();
    }

    @AfterEach
    void stopServer() {
        client.close();
        server.close();
    }

    private static SiteId site(int index) {
        return new SiteId(String.format("SITE-%04d", index));
    }

    /** The standard alarms of sites 1 to {@code count}, put as {@code ingot health alarms --apply} puts them, all set OK. */
    private void standardAlarms(int count) {
        try (CloudWatchAlarms alarms = CloudWatchAlarms.with(Optional.of(server.endpoint()), CREDENTIALS, Region.US_EAST_1)) {
            for (int index = 1; index <= count; index++) {
                alarms.apply(StandardAlarms.forSite(site(index), HealthConfig.DEFAULTS), Optional.empty());
            }
        }
        server.alarms().keySet().forEach(name -> state(name, StateValue.OK, "Threshold Crossed: no datapoint breached"));
    }

    private void state(String alarm, StateValue state, String reason) {
        client.setAlarmState(request -> request.alarmName(alarm).stateValue(state).stateReason(reason));
    }

    private CloudWatchAlarmGate gate(GateSpec.CloudWatch spec) {
        return gate(spec, server.endpoint());
    }

    private static CloudWatchAlarmGate gate(GateSpec.CloudWatch spec, URI endpoint) {
        return CloudWatchAlarmGate.with(spec, Optional.of(endpoint), CREDENTIALS, Region.US_EAST_1);
    }

    private static GateInput stage(SiteId... sites) {
        return new GateInput(new RolloutId("r-gate"), new Target.Image(ImageVersion.parse("v1.5")), 2, List.of(sites), List.of(),
                MaxFailures.NONE, NOW.minusSeconds(300));
    }

    @Test
    void theStagesSitesAllOkPassAfterReadingEveryPage() {
        standardAlarms(20);

        GateResult result;
        try (CloudWatchAlarmGate gate = gate(STRICT)) {
            result = gate.evaluate(stage(site(1), site(2)), NOW);
        }

        assertThat(result).isEqualTo(GateResult.pass("cloudwatch:edge-health-", "16 alarms of 2 sites and 0 fleet-wide, all OK", NOW));
        List<CloudWatchServer.Request> describes = server.accepted("DescribeAlarms");
        assertThat(describes).hasSize(2);
        assertThat(describes.getFirst().body().get("AlarmNamePrefix").asText()).isEqualTo("edge-health-");
        assertThat(describes.getFirst().body().get("MaxRecords").asInt()).isEqualTo(100);
        assertThat(describes.getFirst().body().get("AlarmTypes")).extracting(node -> node.asText()).containsExactly("MetricAlarm", "CompositeAlarm");
        assertThat(describes.getFirst().body().has("NextToken")).isFalse();
        assertThat(describes.get(1).body().get("NextToken").asText()).isNotEmpty();
    }

    @Test
    void theSdkReadsTheAlarmsAsTheServiceDescribesThem() {
        standardAlarms(1);

        List<MetricAlarm> alarms = client.describeAlarms(request -> request.alarmNames("edge-health-SITE-0001-gpu-temperature")).metricAlarms();

        assertThat(alarms).singleElement().satisfies(alarm -> {
            assertThat(alarm.stateValue()).isEqualTo(StateValue.OK);
            assertThat(alarm.stateUpdatedTimestamp()).isEqualTo(NOW.minusSeconds(600));
            assertThat(alarm.threshold()).isEqualTo(90.0);
            assertThat(alarm.dimensions()).singleElement().satisfies(dimension -> assertThat(dimension.value()).isEqualTo("SITE-0001"));
            assertThat(alarm.alarmArn()).isEqualTo("arn:aws:cloudwatch:us-east-1:123456789012:alarm:edge-health-SITE-0001-gpu-temperature");
        });
        assertThat(client.describeAlarms(request -> request.alarmNamePrefix("edge-health-").maxRecords(3)).nextToken()).isNotNull();
        assertThatThrownBy(() -> client.describeAlarms(request -> request.nextToken("not-a-token")))
                .isInstanceOfSatisfying(CloudWatchException.class, e -> {
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidNextToken");
                    assertThat(e.statusCode()).isEqualTo(400);
                });
        assertThatThrownBy(() -> state("edge-health-SITE-0404-unhealthy", StateValue.ALARM, "x"))
                .isInstanceOfSatisfying(CloudWatchException.class, e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ResourceNotFound"));
    }

    @Test
    void anAlarmOfOneOfTheStagesSitesFailsItNamingTheAlarm() {
        standardAlarms(3);
        state("edge-health-SITE-0002-video-ingest", StateValue.ALARM, "Threshold Crossed: 3 datapoints [0.0, 0.0, 0.0] were less than 1.0");

        GateResult result;
        try (CloudWatchAlarmGate gate = gate(STRICT)) {
            result = gate.evaluate(stage(site(1), site(2)), NOW);
        }

        assertThat(result).isEqualTo(GateResult.fail("cloudwatch:edge-health-", "1 alarm in ALARM: edge-health-SITE-0002-video-ingest: "
                + "Threshold Crossed: 3 datapoints [0.0, 0.0, 0.0] were less than 1.0", NOW));
    }

    @Test
    void anAlarmOfASiteOutsideTheStageIsNotItsBusiness() {
        standardAlarms(3);
        state("edge-health-SITE-0003-unhealthy", StateValue.ALARM, "Threshold Crossed");

        try (CloudWatchAlarmGate gate = gate(STRICT)) {
            assertThat(gate.evaluate(stage(site(1), site(2)), NOW).verdict()).isEqualTo(GateResult.Verdict.PASS);
        }
    }

    @Test
    void aFleetWideAlarmFailsEveryStage() {
        standardAlarms(2);
        client.putMetricAlarm(request -> request.alarmName("edge-health-fleet-ingest-errors").namespace("Edge/Ingest").metricName("Errors")
                .statistic("Sum").period(60).evaluationPeriods(5).threshold(100.0).comparisonOperator("GreaterThanThreshold"));
        client.putCompositeAlarm(request -> request.alarmName("edge-health-fleet-any-gpu")
                .alarmRule("ALARM(\"edge-health-SITE-0001-gpu-ecc\") OR ALARM(\"edge-health-SITE-0002-gpu-ecc\")"));
        state("edge-health-fleet-ingest-errors", StateValue.OK, "fine");
        state("edge-health-fleet-any-gpu", StateValue.OK, "fine");
        try (CloudWatchAlarmGate gate = gate(STRICT)) {
            assertThat(gate.evaluate(stage(site(1)), NOW).reason()).isEqualTo("8 alarms of 1 site and 2 fleet-wide, all OK");

            state("edge-health-fleet-any-gpu", StateValue.ALARM, "edge-health-SITE-0002-gpu-ecc went into ALARM");

            assertThat(gate.evaluate(stage(site(1)), NOW)).isEqualTo(GateResult.fail("cloudwatch:edge-health-",
                    "1 alarm in ALARM: edge-health-fleet-any-gpu (fleet-wide): edge-health-SITE-0002-gpu-ecc went into ALARM", NOW));
        }
    }

    @Test
    void anAlarmWithTheSitesDimensionBelongsToThatSite() {
        standardAlarms(2);
        client.putMetricAlarm(request -> request.alarmName("edge-health-custom-latency").namespace("Edge/Ingest").metricName("LatencyMs")
                .dimensions(Dimension.builder().name("SiteId").value("SITE-0001").build()).statistic("Average").period(60).evaluationPeriods(3)
                .threshold(500.0).comparisonOperator("GreaterThanThreshold"));
        state("edge-health-custom-latency", StateValue.ALARM, "Threshold Crossed");

        try (CloudWatchAlarmGate gate = gate(STRICT)) {
            assertThat(gate.evaluate(stage(site(1)), NOW).reason()).startsWith("1 alarm in ALARM: edge-health-custom-latency: ");
            assertThat(gate.evaluate(stage(site(2)), NOW).verdict()).isEqualTo(GateResult.Verdict.PASS);
        }
    }

    @Test
    void insufficientDataFailsUnlessTheGateSaysToWaitOrPass() {
        standardAlarms(1);
        state("edge-health-SITE-0001-not-reporting", StateValue.INSUFFICIENT_DATA, "Insufficient Data: 5 datapoints were unknown");

        String reason = "edge-health-SITE-0001-not-reporting is INSUFFICIENT_DATA";
        try (CloudWatchAlarmGate strict = gate(STRICT);
                CloudWatchAlarmGate waiting = gate((GateSpec.CloudWatch) GateSpec.parse("cloudwatch:edge-health-?insufficient-data=wait"));
                CloudWatchAlarmGate lenient = gate((GateSpec.CloudWatch) GateSpec.parse("cloudwatch:edge-health-?insufficient-data=pass"))) {
            assertThat(strict.evaluate(stage(site(1)), NOW)).isEqualTo(GateResult.fail("cloudwatch:edge-health-", reason, NOW));
            assertThat(waiting.evaluate(stage(site(1)), NOW).verdict()).isEqualTo(GateResult.Verdict.WAIT);
            assertThat(lenient.evaluate(stage(site(1)), NOW)).isEqualTo(GateResult.pass("cloudwatch:edge-health-?insufficient-data=pass",
                    reason + " (tolerated by the gate's settings)", NOW));
        }
    }

    @Test
    void aStageSiteWithoutAnyAlarmLeavesTheGateBlindAndCountsAsInsufficientData() {
        standardAlarms(1);

        try (CloudWatchAlarmGate gate = gate(STRICT)) {
            assertThat(gate.evaluate(stage(site(1), site(9)), NOW)).isEqualTo(GateResult.fail("cloudwatch:edge-health-",
                    "no alarm named edge-health-… belongs to SITE-0009", NOW));
        }
    }

    @Test
    void throttlingWithinTheSdksRetriesIsRiddenOut() {
        standardAlarms(1);
        server.failNext(2, new CloudWatchServer.Failure(400, "Throttling", "Rate exceeded"));

        try (CloudWatchAlarmGate gate = gate(STRICT)) {
            assertThat(gate.evaluate(stage(site(1)), NOW).verdict()).isEqualTo(GateResult.Verdict.PASS);
        }
        assertThat(server.requests()).filteredOn(request -> request.operation().equals("DescribeAlarms")).hasSize(3);
    }

    @Test
    void alarmsThatCannotBeReadFailTheGateUnlessItSaysToWait() {
        standardAlarms(1);
        server.failNext(3, new CloudWatchServer.Failure(400, "Throttling", "Rate exceeded"));
        try (CloudWatchAlarmGate gate = gate(STRICT)) {
            GateResult result = gate.evaluate(stage(site(1)), NOW);
            assertThat(result.verdict()).isEqualTo(GateResult.Verdict.FAIL);
            assertThat(result.reason()).startsWith("the alarms could not be read: Tried to read the alarms named edge-health-… but failed because")
                    .contains("HTTP 400 Throttling: Rate exceeded");
        }

        server.failNext(3, new CloudWatchServer.Failure(500, "InternalServiceError", "Internal error"));
        try (CloudWatchAlarmGate gate = gate((GateSpec.CloudWatch) GateSpec.parse("cloudwatch:edge-health-?unreadable=wait"))) {
            assertThat(gate.evaluate(stage(site(1)), NOW).verdict()).isEqualTo(GateResult.Verdict.WAIT);
        }

        URI nowhere = server.endpoint();
        server.close();
        try (CloudWatchAlarmGate gate = gate(STRICT, nowhere)) {
            GateResult result = gate.evaluate(stage(site(1)), NOW);
            assertThat(result.verdict()).isEqualTo(GateResult.Verdict.FAIL);
            assertThat(result.reason()).contains("nothing accepted a connection at " + nowhere);
        }
    }

    @Test
    void thePrefixNarrowsWhatIsRead() {
        standardAlarms(2);
        List<String> names = new ArrayList<>(server.alarms().keySet());

        try (CloudWatchAlarmGate gate = gate((GateSpec.CloudWatch) GateSpec.parse("cloudwatch:edge-health-SITE-0002-"))) {
            assertThat(gate.evaluate(stage(site(2)), NOW).reason()).isEqualTo("8 alarms of 1 site and 0 fleet-wide, all OK");
        }
        assertThat(names).hasSize(16);
    }
}
