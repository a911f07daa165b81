package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.aws.CloudWatchAlarmGate;
import dev.ingot.aws.CloudWatchAlarms;
import dev.ingot.health.HealthConfig;
import dev.ingot.health.StandardAlarms;
import dev.ingot.server.rollout.RolloutSettings;
import dev.ingot.site.SiteId;
import dev.ingot.testing.CloudWatchServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.cloudwatch.model.StateValue;

/**
 * A rollout gated by {@code cloudwatch:edge-health-} through the server's engine: the real AWS SDK's DescribeAlarms
 * (Smithy RPC v2 CBOR) against {@link CloudWatchServer} on loopback, holding the standard per-site alarms as
 * {@code ingot health alarms} puts them. An alarm of a site outside the stage does not stop it; one of the stage's
 * own sites put in ALARM halts the rollout there, naming the alarm, with no device of a later stage written.
 */
class RolloutCloudWatchGateTest {
    private static final StaticCredentialsProvider CREDENTIALS = StaticCredentialsProvider.create(AwsBasicCredentials.create("id", "secret"));

    @TempDir
    Path folder;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T08:00:00Z"));

    @Test
    void aStageSiteAlarmInAlarmHaltsTheRolloutThereNamingTheAlarm() {
        try (CloudWatchServer cloudWatch = CloudWatchServer.start(clock);
                CloudWatchClient client = CloudWatchClient.builder().endpointOverride(cloudWatch.endpoint()).region(Region.US_EAST_1)
                        .credentialsProvider(CREDENTIALS).build()) {
            try (CloudWatchAlarms alarms = CloudWatchAlarms.with(Optional.of(cloudWatch.endpoint()), CREDENTIALS, Region.US_EAST_1)) {
                for (int index = 1; index <= 20; index++) {
                    alarms.apply(StandardAlarms.forSite(new SiteId(String.format("SITE-%04d", index)), HealthConfig.DEFAULTS), Optional.empty());
                }
            }
            cloudWatch.alarms().keySet().forEach(name -> client.setAlarmState(request -> request.alarmName(name).stateValue(StateValue.OK)
                    .stateReason("Threshold Crossed: no datapoint breached")));
            RolloutSettings settings = RolloutSettings.manual()
                    .withCloudWatch(spec -> CloudWatchAlarmGate.with(spec, Optional.of(cloudWatch.endpoint()), CREDENTIALS, Region.US_EAST_1));
            try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock, UnaryOperator.identity(),
                    settings)) {
                TestReleases.publish(server.store(), folder, "v1.4");
                TestReleases.publish(server.store(), folder, "v1.5");
                HttpFleet fleet = new HttpFleet(server).sites(20, "v1.4", "2.8.1");
                String id = TestServer.require(server.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, Map.of("track", "reimage", "version", "v1.5",
                        "soak", "10m", "gates", List.of("health", "cloudwatch:edge-health-"))), 201).json().path("id").asText();
                JsonNode planned = server.get("/api/v1/rollouts/" + id, TestServer.ADMIN_TOKEN).json();
                String outsider = planned.path("stages").get(3).path("sites").get(0).asText();
                String second = planned.path("stages").get(1).path("sites").get(1).asText();
                client.setAlarmState(request -> request.alarmName("edge-health-" + outsider + "-gpu-temperature").stateValue(StateValue.ALARM)
                        .stateReason("Threshold Crossed: 1 datapoint [93.0] was greater than 90.0"));

                JsonNode status = planned;
                for (int round = 0; round < 60 && status.path("current_stage").asInt() < 2; round++) {
                    step(server, fleet);
                    status = server.get("/api/v1/rollouts/" + id, TestServer.ADMIN_TOKEN).json();
                }
                JsonNode canary = status.path("stages").get(0);
                assertThat(canary.path("state").asText()).as("an alarm of a later stage's site is not the canary's business").isEqualTo("passed");
                assertThat(canary.path("gates").findValuesAsText("gate")).contains("cloudwatch:edge-health-");
                assertThat(canary.path("gates").get(1).path("reason").asText()).contains("8 alarms of 1 site").contains("all OK");

                client.setAlarmState(request -> request.alarmName("edge-health-" + second + "-video-ingest").stateValue(StateValue.ALARM)
                        .stateReason("Threshold Crossed: 3 datapoints [0.0, 0.0, 0.0] were less than 1.0"));
                for (int round = 0; round < 40 && !status.path("state").asText().equals("halted"); round++) {
                    step(server, fleet);
                    status = server.get("/api/v1/rollouts/" + id, TestServer.ADMIN_TOKEN).json();
                }
                assertThat(status.path("state").asText()).isEqualTo("halted");
                assertThat(status.path("summary").asText()).contains("stage 2").contains("the gate cloudwatch:edge-health- failed")
                        .contains("edge-health-" + second + "-video-ingest");
                List<String> later = new ArrayList<>();
                status.path("stages").get(2).path("sites").forEach(site -> later.add(site.asText()));
                status.path("stages").get(3).path("sites").forEach(site -> later.add(site.asText()));
                for (String site : later) {
                    assertThat(server.get("/api/v1/devices/" + fleet.device(site).id(), TestServer.ADMIN_TOKEN).json().path("device").path("desired")
                            .path("generation").asLong()).as(site + " untouched").isZero();
                }
                assertThat(cloudWatch.accepted("DescribeAlarms")).isNotEmpty();
            }
        }
    }

    private void step(TestServer server, HttpFleet fleet) {
        server.server().rollouts().driver().tick();
        fleet.pollAll();
        server.server().rollouts().driver().tick();
        clock.advance(Duration.ofMinutes(1));
    }
}
