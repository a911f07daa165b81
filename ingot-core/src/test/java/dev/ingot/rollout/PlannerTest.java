package dev.ingot.rollout;

import static dev.ingot.rollout.Fixtures.OLD;
import static dev.ingot.rollout.Fixtures.T0;
import static dev.ingot.rollout.Fixtures.device;
import static dev.ingot.rollout.Fixtures.report;
import static dev.ingot.rollout.Fixtures.site;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.IngotException;
import dev.ingot.fleet.DesiredState;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthStatus;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.SiteId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class PlannerTest {
    private static Fleet.Site plainSite(int index) {
        return new Fleet.Site(site(index), false, new TreeSet<>());
    }

    private static Fleet.Device deviceWith(int index, int siteIndex, HealthStatus status) {
        return new Fleet.Device(device(index), site(siteIndex), Optional.of(T0), Optional.of(report(T0, status, OLD)),
                DesiredState.initial().withImage(OLD));
    }

    private static Plan plan(RolloutDefinition definition, Fleet fleet) {
        return Planner.plan(definition, fleet, Map.of(), T0);
    }

    @Test
    void aSiteFlaggedCanaryIsTheFirstStage() {
        List<Fleet.Site> sites = new ArrayList<>(Fixtures.fleet(10).sites());
        sites.set(6, new Fleet.Site(site(7), true, new TreeSet<>()));

        Plan plan = plan(Fixtures.definition(), new Fleet(sites, Fixtures.fleet(10).devices()));

        assertThat(plan.stage(1).sites()).containsExactly(site(7));
        assertThat(plan.stage(1).devices()).extracting(Plan.Device::id).containsExactly(device(7));
    }

    @Test
    void withoutACanaryFlagTheHealthiestSiteGoesFirst() {
        // Site 1 has a degraded device, site 2 an unhealthy one (left out, but it still counts against the site),
        // site 3 two healthy devices, site 4 one healthy device: site 3 wins on device count, before site 4.
        Fleet fleet = new Fleet(List.of(plainSite(1), plainSite(2), plainSite(3), plainSite(4)), List.of(
                deviceWith(1, 1, HealthStatus.DEGRADED), deviceWith(2, 2, HealthStatus.UNHEALTHY), deviceWith(5, 2, HealthStatus.HEALTHY),
                deviceWith(3, 3, HealthStatus.HEALTHY), deviceWith(6, 3, HealthStatus.HEALTHY), deviceWith(4, 4, HealthStatus.HEALTHY)));

        Plan plan = plan(Fixtures.definition().withStages(Stages.parse("1,100%")), fleet);

        assertThat(plan.stage(1).sites()).containsExactly(site(3));
        assertThat(plan.stage(1).devices()).extracting(Plan.Device::id).containsExactly(device(3), device(6));
    }

    @Test
    void healthyTiesAreBrokenBySiteId() {
        Plan plan = plan(Fixtures.definition(), Fixtures.fleet(5));

        assertThat(plan.stage(1).sites()).containsExactly(site(1));
    }

    @Test
    void sharesAreOfTheSitesLeftAfterTheCanaryCountedFromTheStart() {
        RolloutDefinition definition = Fixtures.definition().withStages(Stages.DEFAULT);

        assertThat(plan(definition, Fixtures.fleet(50)).stages()).extracting(stage -> stage.sites().size()).containsExactly(1, 5, 20, 24);
        assertThat(plan(definition, Fixtures.fleet(101)).stages()).extracting(stage -> stage.sites().size()).containsExactly(1, 10, 40, 50);
        assertThat(plan(definition.withStages(Stages.parse("2,5,100%")), Fixtures.fleet(50)).stages())
                .extracting(stage -> stage.sites().size()).containsExactly(2, 5, 43);
    }

    @Test
    void aStageThatWouldTakeNoSiteIsDroppedAndTheRestRenumbered() {
        Plan plan = plan(Fixtures.definition().withStages(Stages.DEFAULT), Fixtures.fleet(3));

        assertThat(plan.stages()).extracting(Plan.Stage::number).containsExactly(1, 2, 3);
        assertThat(plan.stages()).extracting(stage -> stage.size().text()).containsExactly("1", "10%", "100%");
        assertThat(plan.devices()).hasSize(3);
    }

    @Test
    void aSiteWithSeveralDevicesGoesIntoOneStageWhole() {
        Fleet fleet = new Fleet(List.of(plainSite(1), plainSite(2), plainSite(3)), List.of(deviceWith(1, 1, HealthStatus.HEALTHY),
                deviceWith(2, 2, HealthStatus.HEALTHY), deviceWith(3, 2, HealthStatus.HEALTHY), deviceWith(4, 3, HealthStatus.HEALTHY)));

        Plan plan = plan(Fixtures.definition().withStages(Stages.parse("1,50%,100%")), fleet);

        for (Plan.Stage stage : plan.stages()) {
            assertThat(stage.devices()).allMatch(device -> stage.sites().contains(device.site()));
        }
        assertThat(plan.stages().stream().filter(stage -> stage.sites().contains(site(2))).findFirst().orElseThrow().devices())
                .extracting(Plan.Device::id).containsExactly(device(2), device(3));
    }

    @Test
    void everyDeviceLeftOutIsListedWithItsReason() {
        List<Fleet.Site> sites = new ArrayList<>();
        for (int index = 1; index <= 10; index++) {
            sites.add(new Fleet.Site(site(index), false, new TreeSet<>(index == 2 ? List.of("lab") : List.of())));
        }
        DesiredState desired = DesiredState.initial().withImage(OLD);
        List<Fleet.Device> devices = List.of(
                deviceWith(1, 1, HealthStatus.HEALTHY),
                deviceWith(2, 2, HealthStatus.HEALTHY),
                deviceWith(3, 3, HealthStatus.HEALTHY),
                new Fleet.Device(device(4), site(4), Optional.empty(), Optional.empty(), DesiredState.initial()),
                new Fleet.Device(device(5), site(5), Optional.of(T0.minus(Duration.ofHours(2))), Optional.of(report(T0, HealthStatus.HEALTHY, OLD)), desired),
                new Fleet.Device(device(6), site(6), Optional.of(T0), Optional.of(report(T0, HealthStatus.HEALTHY, Fixtures.NEW)), desired),
                deviceWith(7, 7, HealthStatus.UNHEALTHY),
                new Fleet.Device(device(8), site(8), Optional.of(T0), Optional.of(report(T0, HealthStatus.HEALTHY, OLD)),
                        desired.withImage(ImageVersion.parse("v1.4.1"))),
                new Fleet.Device(device(9), site(9), Optional.of(T0), Optional.of(new DeviceReport(T0, HealthStatus.HEALTHY, Optional.empty(),
                        Optional.empty(), false)), DesiredState.initial()),
                deviceWith(10, 10, HealthStatus.DEGRADED));
        RolloutDefinition definition = Fixtures.definition().withSites(SiteFilter.parse("*,!tag:lab"));

        Plan plan = Planner.plan(definition, new Fleet(sites, devices), Map.of(device(3), new RolloutId("r-other")), T0);

        assertThat(plan.excluded()).extracting(Plan.Exclusion::device, Plan.Exclusion::reason).containsExactly(
                org.assertj.core.groups.Tuple.tuple(device(2), Plan.Reason.NOT_IN_FILTER),
                org.assertj.core.groups.Tuple.tuple(device(3), Plan.Reason.HELD),
                org.assertj.core.groups.Tuple.tuple(device(4), Plan.Reason.NEVER_REPORTED),
                org.assertj.core.groups.Tuple.tuple(device(5), Plan.Reason.OFFLINE),
                org.assertj.core.groups.Tuple.tuple(device(6), Plan.Reason.ALREADY_ON_TARGET),
                org.assertj.core.groups.Tuple.tuple(device(7), Plan.Reason.UNHEALTHY),
                org.assertj.core.groups.Tuple.tuple(device(8), Plan.Reason.CHANGE_PENDING),
                org.assertj.core.groups.Tuple.tuple(device(9), Plan.Reason.UNKNOWN_CURRENT));
        assertThat(plan.excluded()).extracting(Plan.Exclusion::detail).containsExactly(
                "the site SITE-0002 does not match --sites *,!tag:lab",
                "held by the active rollout r-other",
                "no report yet",
                "last seen 2026-11-30T06:00:00Z, 2h ago",
                "runs v1.5",
                "its latest report (2026-11-30T08:00:00Z) says unhealthy",
                "its desired image is v1.4.1 but it runs v1.4",
                "its report names no image version, so a rollback could not return it to one");
        assertThat(plan.devices()).extracting(Plan.Device::id).containsExactlyInAnyOrder(device(1), device(10));
        assertThat(plan.device(device(10)).orElseThrow().baseline()).isEqualTo(HealthStatus.DEGRADED);
        assertThat(plan.device(device(1)).orElseThrow().previous()).contains(new Target.Image(OLD));
    }

    @Test
    void aDeviceHeldByTheSameRolloutIsNotHeldAgainstIt() {
        Plan plan = Planner.plan(Fixtures.definition(), Fixtures.fleet(2), Map.of(device(1), new RolloutId("r-unit")), T0);

        assertThat(plan.devices()).hasSize(2);
    }

    @Test
    void theContainerTrackComparesTags() {
        RolloutDefinition definition = RolloutDefinition.withDefaults(new RolloutId("r-tag"), new Target.ContainerTag("2026.11.2"), "ops", T0);

        Plan plan = plan(definition, Fixtures.fleet(3));

        assertThat(plan.devices()).isEmpty();
        assertThat(plan.excludedByReason()).containsExactly(Map.entry(Plan.Reason.ALREADY_ON_TARGET, 3));
    }

    @Test
    void aRebootPlanNamingADeviceTheFleetLacksIsBadInput() {
        RolloutDefinition definition = RolloutDefinition.withDefaults(new RolloutId("r-reboot"),
                new Target.Reboot(List.of(device(1), device(99)), false), "ops", T0);

        assertThatThrownBy(() -> plan(definition, Fixtures.fleet(3))).isInstanceOf(IngotException.class)
                .hasMessage("Tried to plan the reboot rollout r-reboot but failed because it names devices the fleet does not have: "
                        + device(99));
    }

    @Test
    void theSpreadOrderAfterTheCanaryDependsOnTheRolloutButNotOnTheFleetsOrder() {
        RolloutDefinition first = Fixtures.definition().withStages(Stages.DEFAULT);
        RolloutDefinition second = RolloutDefinition.withDefaults(new RolloutId("r-other"), Fixtures.TARGET, "alice", T0);
        Fleet fleet = Fixtures.fleet(50);
        List<Fleet.Device> reversed = new ArrayList<>(fleet.devices());
        java.util.Collections.reverse(reversed);
        List<Fleet.Site> reversedSites = new ArrayList<>(fleet.sites());
        java.util.Collections.reverse(reversedSites);

        Plan plan = plan(first, fleet);

        assertThat(plan(first, new Fleet(reversedSites, reversed))).isEqualTo(plan);
        assertThat(plan(second, fleet).stage(2).sites()).isNotEqualTo(plan.stage(2).sites());
        List<SiteId> stageTwo = plan.stage(2).sites();
        assertThat(stageTwo).isSortedAccordingTo(java.util.Comparator.comparing(SiteId::value)).isNotEqualTo(List.of(site(2), site(3), site(4), site(5), site(6)));
    }

    @Test
    void aSnapshotThatNamesAnUnknownSiteIsABug() {
        assertThatThrownBy(() -> new Fleet(List.of(), List.of(deviceWith(1, 1, HealthStatus.HEALTHY))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("which the fleet does not list");
        DeviceId id = device(1);
        assertThat(id.value()).hasSize(32);
    }
}
