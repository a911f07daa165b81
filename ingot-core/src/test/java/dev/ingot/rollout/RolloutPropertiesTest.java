package dev.ingot.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.ingot.fleet.DesiredState;
import dev.ingot.fleet.Track;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthStatus;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.SiteId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Properties of the planner and of whole rollouts over random fleets (QuickTheories; a failure names its seed). */
class RolloutPropertiesTest {
    private static final Instant NOW = Fixtures.T0;
    private static final List<String> STAGES = List.of("1,10%,50%,100%", "1,100%", "2,25%,100%", "1,3,50%,100%", "3,1,1,100%");

    record Case(RolloutDefinition definition, Fleet fleet, Map<DeviceId, RolloutId> held) {}

    private static Case randomCase(long seed) {
        Random random = new Random(seed);
        int siteCount = 1 + random.nextInt(60);
        List<Fleet.Site> sites = new ArrayList<>();
        List<Fleet.Device> devices = new ArrayList<>();
        int deviceIndex = 0;
        for (int index = 1; index <= siteCount; index++) {
            SiteId site = Fixtures.site(index);
            sites.add(new Fleet.Site(site, random.nextInt(10) == 0, new TreeSet<>(random.nextBoolean() ? List.of("lab") : List.of("prod"))));
            for (int count = 1 + random.nextInt(3); count > 0; count--) {
                deviceIndex++;
                HealthStatus status = HealthStatus.values()[random.nextInt(10) < 7 ? 0 : 1 + random.nextInt(2)];
                ImageVersion image = random.nextInt(8) == 0 ? Fixtures.NEW : Fixtures.OLD;
                Optional<DeviceReport> report = random.nextInt(20) == 0 ? Optional.empty()
                        : Optional.of(new DeviceReport(NOW, status, Optional.of(image), Optional.of(random.nextBoolean() ? "2026.11.2" : "2026.11.3"),
                                random.nextBoolean()));
                Optional<Instant> seen = random.nextInt(15) == 0 ? Optional.of(NOW.minus(Duration.ofHours(3))) : Optional.of(NOW);
                devices.add(new Fleet.Device(Fixtures.device(deviceIndex), site, seen, report, DesiredState.initial().withImage(image)));
            }
        }
        Map<DeviceId, RolloutId> held = new HashMap<>();
        for (Fleet.Device device : devices) {
            if (random.nextInt(12) == 0) {
                held.put(device.id(), new RolloutId("r-other"));
            }
        }
        Target target = switch (Track.values()[random.nextInt(3)]) {
            case REIMAGE -> Fixtures.TARGET;
            case CONTAINER -> new Target.ContainerTag("2026.11.3");
            case REBOOT -> {
                List<DeviceId> selected = devices.stream().map(Fleet.Device::id).filter(device -> random.nextInt(3) == 0).toList();
                yield new Target.Reboot(selected.isEmpty() ? List.of(devices.getFirst().id()) : selected, random.nextBoolean());
            }
        };
        RolloutDefinition definition = RolloutDefinition.withDefaults(new RolloutId("r-" + Long.toHexString(seed & 0xffffffL)), target, "prop", NOW)
                .withStages(Stages.parse(STAGES.get(random.nextInt(STAGES.size()))))
                .withSites(random.nextInt(4) == 0 ? SiteFilter.parse("*,!tag:lab") : SiteFilter.ALL);
        return new Case(definition, new Fleet(sites, devices), held);
    }

    @Test
    void everyDeviceIsPlannedOnceOrLeftOutWithAReasonTheSameWayWhateverTheOrder() {
        qt().withExamples(300).forAll(longs().all()).checkAssert(seed -> {
            Case input = randomCase(seed);
            Plan plan = Planner.plan(input.definition(), input.fleet(), input.held(), NOW);

            List<Fleet.Device> shuffled = new ArrayList<>(input.fleet().devices());
            Collections.shuffle(shuffled, new Random(seed + 1));
            List<Fleet.Site> shuffledSites = new ArrayList<>(input.fleet().sites());
            Collections.shuffle(shuffledSites, new Random(seed + 2));
            assertThat(Planner.plan(input.definition(), new Fleet(shuffledSites, shuffled), input.held(), NOW)).isEqualTo(plan);

            List<DeviceId> seen = new ArrayList<>();
            plan.devices().forEach(device -> seen.add(device.id()));
            plan.excluded().forEach(exclusion -> seen.add(exclusion.device()));
            assertThat(seen).doesNotHaveDuplicates()
                    .containsExactlyInAnyOrderElementsOf(input.fleet().devices().stream().map(Fleet.Device::id).toList());
            assertThat(plan.devices()).noneMatch(device -> input.held().containsKey(device.id()));
            if (input.definition().target() instanceof Target.Reboot reboot) {
                assertThat(reboot.devices()).containsAll(plan.devices().map(Plan.Device::id).toList());
            }
            Set<SiteId> sitesSoFar = new HashSet<>();
            for (Plan.Stage stage : plan.stages()) {
                assertThat(stage.devices()).isNotEmpty().allMatch(device -> stage.sites().contains(device.site()));
                assertThat(stage.sites()).allMatch(sitesSoFar::add);
            }
            Set<SiteId> canaries = input.fleet().sites().stream().filter(Fleet.Site::canary).map(Fleet.Site::id).collect(Collectors.toSet());
            boolean plannedCanary = plan.devices().anyMatch(device -> canaries.contains(device.site()));
            if (plannedCanary) {
                assertThat(plan.stage(1).sites()).anyMatch(canaries::contains);
            }
        });
    }

    @Test
    void noRolloutWritesADeviceTwiceOrReachesPastTheStageThatFailed() {
        qt().withExamples(40).forAll(longs().all()).checkAssert(seed -> {
            Random random = new Random(seed);
            Track track = random.nextBoolean() ? Track.REIMAGE : Track.CONTAINER;
            FailurePolicy policy = random.nextBoolean() ? FailurePolicy.HALT : FailurePolicy.ROLLBACK;
            RolloutDefinition definition = RolloutScenarioTest.definition(track, policy)
                    .withMaxFailures(MaxFailures.parse(random.nextBoolean() ? "1" : "10%", 4))
                    .withStages(Stages.parse(STAGES.get(random.nextInt(STAGES.size()))));
            SimulatedFleet fleet = new SimulatedFleet(10 + random.nextInt(40), Fixtures.OLD, "2026.11.2", NOW);
            List<SiteId> bad = new ArrayList<>();
            fleet.snapshot().sites().forEach(site -> {
                if (random.nextInt(12) == 0) {
                    bad.add(site.id());
                }
            });
            fleet.misbehave(RolloutScenarioTest.target(track), SimulatedFleet.Behaviour.values()[1 + random.nextInt(4)], bad);
            Plan plan = Planner.plan(definition, fleet.snapshot(), Map.of(), NOW);
            Runner runner = new Runner(Rollout.start(definition, plan, NOW), fleet, NOW, new RolloutMachine(1 + random.nextInt(8)),
                    Runner::healthOnly).tickEvery(Duration.ofMinutes(3));

            Rollout end = runner.settle(300);

            Map<String, Long> byKey = fleet.made().stream().collect(Collectors.groupingBy(DesiredStateWrite::key, Collectors.counting()));
            assertThat(byKey.values()).allMatch(count -> count == 1);
            assertThat(fleet.skippedDuplicates()).isZero();
            int lastTouched = end.runs().values().stream().mapToInt(DeviceRun::stage).max().orElse(0);
            for (int stage = 1; stage < lastTouched; stage++) {
                assertThat(end.stages().get(stage - 1).passed()).as("stage %d before the last one touched", stage).isTrue();
            }
            assertThat(fleet.touched()).allMatch(device -> plan.device(device).isPresent());
            switch (end.status()) {
                case Status.Completed completed -> {
                    assertThat(end.runs()).hasSize((int) plan.devices().count());
                    assertThat(end.stages()).allMatch(StageRun::passed);
                }
                case Status.RolledBack rolledBack -> assertThat(end.runs().values()).filteredOn(run -> run.stage() == lastTouched)
                        .allMatch(run -> run.revert().done());
                case Status.Halted halted -> assertThat(halted.stage()).isEqualTo(lastTouched);
                case Status.Planned planned -> throw new AssertionError("never started");
                case Status.Running running -> throw new AssertionError("did not settle: " + running);
                case Status.Paused paused -> throw new AssertionError("paused without an operator");
                case Status.RollingBack rollingBack -> throw new AssertionError("did not finish rolling back");
                case Status.Aborted aborted -> throw new AssertionError("aborted without an operator");
            }
            if (bad.isEmpty()) {
                assertThat(end.status()).isInstanceOf(Status.Completed.class);
            }
        });
    }
}
