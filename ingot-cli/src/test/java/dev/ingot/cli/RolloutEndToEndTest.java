package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.fleet.Track;
import dev.ingot.rollout.Plan;
import dev.ingot.rollout.RolloutId;
import dev.ingot.sim.SimulatedFailure;
import dev.ingot.site.SiteId;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Staged rollouts end to end, on both tracks: 50 simulated sites (the real agent over a simulated host, each polling a
 * real control plane over HTTP, {@link dev.ingot.sim.SimulatedFleet}), the server's engine on the real clock, the
 * operator API. What {@code ingot demo} runs, at a test's pace (a 1 s poll, a 3 s soak, a 6 s commit window).
 */
class RolloutEndToEndTest {
    private static final int SITES = 50;
    private static final Demo.Pace PACE = new Demo.Pace(Duration.ofSeconds(1), Duration.ofMillis(500), Duration.ofSeconds(3), Duration.ofSeconds(1),
            Duration.ofSeconds(6), Duration.ofSeconds(2), Duration.ofMinutes(2));

    @TempDir
    Path folder;

    private final List<String> log = new ArrayList<>();

    private JsonNode run(Demo demo, RolloutId id, Track track, Demo.Scenario scenario) throws InterruptedException {
        demo.startRollout(id, track, scenario);
        return demo.follow(id, Duration.ofMinutes(5), entry -> log.add(entry.path("event").asText() + ": " + entry.path("detail").asText()));
    }

    private static Map<String, JsonNode> devicesBySite(Demo demo) {
        Map<String, JsonNode> bySite = new HashMap<>();
        demo.operator().get("/api/v1/devices", Map.of()).forEach(device -> bySite.put(device.path("site_id").asText(), device));
        return bySite;
    }

    @Test
    void aGoodVersionAndAGoodTagReachAllFiftySitesStageByStageAndARebootTouchesOnlyTheSelectedDevices() throws Exception {
        try (Demo demo = Demo.start(folder, 0, PACE, Clock.systemUTC())) {
            demo.publish(log::add);
            demo.startFleet(SITES, Map.of(), 1);
            demo.awaitReports(SITES, Duration.ofMinutes(2));
            for (Track track : List.of(Track.REIMAGE, Track.CONTAINER)) {
                RolloutId id = Demo.newId(Demo.Scenario.GOOD, track);
                Plan plan = Demo.plan(id, track, SITES, Instant.now());
                JsonNode ended = run(demo, id, track, Demo.Scenario.GOOD);
                ObjectNode outcome = demo.outcome(Demo.Scenario.GOOD, track, ended, plan, Map.of(), Duration.ZERO);
                assertThat(outcome.path("as_expected").asBoolean()).as(outcome.toPrettyString()).isTrue();
                assertThat(outcome.path("state").asText()).isEqualTo("completed");
                assertThat(outcome.path("stages_reached").asInt()).isEqualTo(4);
                List<Integer> sizes = new ArrayList<>();
                ended.path("stages").forEach(stage -> sizes.add(stage.path("counts").path("succeeded").asInt()));
                assertThat(sizes).containsExactly(1, 5, 20, 24);
            }
            assertThat(devicesBySite(demo).values()).allSatisfy(device -> {
                assertThat(device.path("reported").path("image_version").asText()).isEqualTo("v1.5");
                assertThat(device.path("reported").path("container_tag").asText()).isEqualTo(Demo.TO_TAG);
            });

            List<String> selected = new ArrayList<>();
            Map<String, JsonNode> bySite = devicesBySite(demo);
            for (String site : List.of("SITE-0003", "SITE-0017", "SITE-0042")) {
                selected.add(bySite.get(site).path("id").asText());
            }
            String reboot = demo.operator().post("/api/v1/rollouts", Map.of("id", "e2e-reboot", "track", "reboot", "devices", selected,
                    "soak", "3s", "stages", "1,100%")).path("id").asText();
            JsonNode rebooted = demo.follow(new RolloutId(reboot), Duration.ofMinutes(3), entry -> { });
            assertThat(rebooted.path("state").asText()).isEqualTo("completed");
            for (JsonNode device : demo.operator().get("/api/v1/devices", Map.of())) {
                boolean chosen = selected.contains(device.path("id").asText());
                assertThat(device.path("desired").path("reboot_request").asText(null)).as(device.path("site_id").asText())
                        .isEqualTo(chosen ? "e2e-reboot" : null);
                JsonNode actions = demo.operator().get("/api/v1/devices/" + device.path("id").asText(), Map.of()).path("actions");
                List<String> rebootActions = new ArrayList<>();
                actions.forEach(action -> {
                    if (action.path("track").asText().equals("reboot")) {
                        rebootActions.add(action.path("state").asText());
                    }
                });
                assertThat(rebootActions).as(device.path("site_id").asText()).isEqualTo(chosen ? List.of("committed") : List.of());
            }
        }
    }

    @Test
    void aBadCanaryHaltsWithOnlyTheCanaryTouchedOnBothTracks() throws Exception {
        RolloutId image = Demo.newId(Demo.Scenario.BAD_CANARY, Track.REIMAGE);
        RolloutId tag = Demo.newId(Demo.Scenario.BAD_CANARY, Track.CONTAINER);
        Plan imagePlan = Demo.plan(image, Track.REIMAGE, SITES, Instant.now());
        Plan tagPlan = Demo.plan(tag, Track.CONTAINER, SITES, Instant.now());
        Map<SiteId, Set<SimulatedFailure>> failures = merge(Demo.failures(Demo.Scenario.BAD_CANARY, Track.REIMAGE, imagePlan),
                Demo.failures(Demo.Scenario.BAD_CANARY, Track.CONTAINER, tagPlan));
        try (Demo demo = Demo.start(folder, 0, PACE, Clock.systemUTC())) {
            demo.publish(log::add);
            demo.startFleet(SITES, failures, 2);
            demo.awaitReports(SITES, Duration.ofMinutes(2));

            JsonNode halted = run(demo, image, Track.REIMAGE, Demo.Scenario.BAD_CANARY);
            ObjectNode outcome = demo.outcome(Demo.Scenario.BAD_CANARY, Track.REIMAGE, halted, imagePlan, failures, Duration.ZERO);
            assertThat(outcome.path("as_expected").asBoolean()).as(outcome.toPrettyString()).isTrue();
            assertThat(outcome.path("devices_written").asInt()).isEqualTo(1);
            assertThat(halted.path("summary").asText()).contains("rolled itself back");
            String canary = imagePlan.stage(1).sites().getFirst().value();
            devicesBySite(demo).forEach((site, device) -> assertThat(device.path("desired").path("generation").asLong()).as(site)
                    .isEqualTo(site.equals(canary) ? 1 : 0));
            demo.operator().post("/api/v1/rollouts/" + image + "/abort", Map.of("note", "bad image"));

            JsonNode tagHalted = run(demo, tag, Track.CONTAINER, Demo.Scenario.BAD_CANARY);
            ObjectNode tagOutcome = demo.outcome(Demo.Scenario.BAD_CANARY, Track.CONTAINER, tagHalted, tagPlan, failures, Duration.ZERO);
            assertThat(tagOutcome.path("as_expected").asBoolean()).as(tagOutcome.toPrettyString()).isTrue();
            assertThat(tagOutcome.path("devices_written").asInt()).isEqualTo(1);
            assertThat(devicesBySite(demo).values()).allSatisfy(device -> assertThat(device.path("desired").path("container_tag").isNull()
                    || device.path("site_id").asText().equals(tagPlan.stage(1).sites().getFirst().value())).isTrue());
        }
    }

    @Test
    void aFailureInTheTenPercentStageRollsThatStageBackAndLeavesTheOtherNinetyPercentUntouchedOnBothTracks() throws Exception {
        RolloutId image = Demo.newId(Demo.Scenario.BAD_STAGE, Track.REIMAGE);
        RolloutId tag = Demo.newId(Demo.Scenario.BAD_STAGE, Track.CONTAINER);
        Plan imagePlan = Demo.plan(image, Track.REIMAGE, SITES, Instant.now());
        Plan tagPlan = Demo.plan(tag, Track.CONTAINER, SITES, Instant.now());
        Map<SiteId, Set<SimulatedFailure>> failures = merge(Demo.failures(Demo.Scenario.BAD_STAGE, Track.REIMAGE, imagePlan),
                Demo.failures(Demo.Scenario.BAD_STAGE, Track.CONTAINER, tagPlan));
        try (Demo demo = Demo.start(folder, 0, PACE, Clock.systemUTC())) {
            demo.publish(log::add);
            demo.startFleet(SITES, failures, 3);
            demo.awaitReports(SITES, Duration.ofMinutes(2));
            for (Track track : List.of(Track.REIMAGE, Track.CONTAINER)) {
                RolloutId id = track == Track.REIMAGE ? image : tag;
                Plan plan = track == Track.REIMAGE ? imagePlan : tagPlan;
                JsonNode ended = run(demo, id, track, Demo.Scenario.BAD_STAGE);
                ObjectNode outcome = demo.outcome(Demo.Scenario.BAD_STAGE, track, ended, plan, failures, Duration.ZERO);
                assertThat(outcome.path("as_expected").asBoolean()).as(outcome.toPrettyString()).isTrue();
                assertThat(ended.path("state").asText()).isEqualTo("rolled_back");
                assertThat(ended.path("stages").get(1).path("state").asText()).isEqualTo("failed");
                assertThat(ended.path("stages").get(1).path("counts").path("reverted").asInt()).isEqualTo(5);
                for (int stage = 2; stage < 4; stage++) {
                    JsonNode counts = ended.path("stages").get(stage).path("counts");
                    assertThat(counts.path("not_started").asInt()).as("stage %d untouched", stage + 1)
                            .isEqualTo(ended.path("stages").get(stage).path("devices").asInt());
                }
                Map<String, JsonNode> bySite = devicesBySite(demo);
                String field = track == Track.REIMAGE ? "image_version" : "container_tag";
                String target = track == Track.REIMAGE ? "v1.5" : Demo.TO_TAG;
                for (Plan.Stage stage : plan.stages()) {
                    for (SiteId site : stage.sites()) {
                        assertThat(bySite.get(site.value()).path("reported").path(field).asText()).as("%s in stage %d", site, stage.number())
                                .isEqualTo(stage.number() == 1 ? target : track == Track.REIMAGE ? "v1.4" : Demo.FROM_TAG);
                    }
                }
            }
        }
    }

    private static Map<SiteId, Set<SimulatedFailure>> merge(Map<SiteId, Set<SimulatedFailure>> one, Map<SiteId, Set<SimulatedFailure>> other) {
        Map<SiteId, Set<SimulatedFailure>> merged = new HashMap<>();
        one.forEach((site, kinds) -> merged.computeIfAbsent(site, key -> EnumSet.noneOf(SimulatedFailure.class)).addAll(kinds));
        other.forEach((site, kinds) -> merged.computeIfAbsent(site, key -> EnumSet.noneOf(SimulatedFailure.class)).addAll(kinds));
        return merged;
    }
}
