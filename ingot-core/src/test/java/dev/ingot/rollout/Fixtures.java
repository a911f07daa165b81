package dev.ingot.rollout;

import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.DesiredState;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthStatus;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.SiteId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/** Small fleets, definitions and device progress for the planner's and the state machine's unit tests. */
final class Fixtures {
    static final Instant T0 = Instant.parse("2026-11-30T08:00:00Z");
    static final ImageVersion OLD = ImageVersion.parse("v1.4");
    static final ImageVersion NEW = ImageVersion.parse("v1.5");
    static final Target TARGET = new Target.Image(NEW);

    private Fixtures() {}

    static DeviceId device(int index) {
        return SimulatedFleet.deviceId(index);
    }

    static SiteId site(int index) {
        return SimulatedFleet.site(index);
    }

    static Instant at(int minutes) {
        return T0.plus(Duration.ofMinutes(minutes));
    }

    static DeviceReport report(Instant at, HealthStatus status, ImageVersion image) {
        return new DeviceReport(at, status, Optional.of(image), Optional.of("2026.11.2"), false);
    }

    static Fleet.Device healthyDevice(int index, int siteIndex) {
        DesiredState desired = DesiredState.initial().withImage(OLD);
        return new Fleet.Device(device(index), site(siteIndex), Optional.of(T0), Optional.of(report(T0, HealthStatus.HEALTHY, OLD)), desired);
    }

    /** {@code sites} sites, one healthy device each on v1.4, device i at site i; none flagged canary. */
    static Fleet fleet(int sites) {
        List<Fleet.Site> siteList = new ArrayList<>();
        List<Fleet.Device> devices = new ArrayList<>();
        for (int index = 1; index <= sites; index++) {
            siteList.add(new Fleet.Site(site(index), false, new TreeSet<>()));
            devices.add(healthyDevice(index, index));
        }
        return new Fleet(siteList, devices);
    }

    /** Two stages: the canary (site 1: the healthiest, ties broken by id), then every other site; a 30-minute soak, the health gate. */
    static RolloutDefinition definition() {
        return RolloutDefinition.withDefaults(new RolloutId("r-unit"), TARGET, "alice", T0).withStages(Stages.parse("1,100%"));
    }

    static Rollout planned(RolloutDefinition definition, int sites) {
        return Rollout.start(definition, Planner.plan(definition, fleet(sites), Map.of(), T0), T0);
    }

    static DeviceProgress committed(int index, Instant at) {
        return new DeviceProgress(device(index), Optional.of(ActionState.COMMITTED), Optional.empty(),
                Optional.of(report(at, HealthStatus.HEALTHY, NEW)));
    }

    static DeviceProgress action(int index, ActionState state, String reason) {
        return new DeviceProgress(device(index), Optional.of(state), Optional.ofNullable(reason), Optional.of(report(T0, HealthStatus.HEALTHY, OLD)));
    }

    static DeviceProgress reverted(int index, Instant at) {
        return new DeviceProgress(device(index), Optional.of(ActionState.COMMITTED), Optional.empty(),
                Optional.of(report(at, HealthStatus.HEALTHY, OLD)));
    }

    static Observation progress(DeviceProgress... progress) {
        Map<DeviceId, DeviceProgress> map = new java.util.HashMap<>();
        for (DeviceProgress entry : progress) {
            map.put(entry.device(), entry);
        }
        return new Observation(map, List.of(), List.of());
    }

    static Observation gates(GateResult... results) {
        return new Observation(Map.of(), List.of(results), List.of());
    }

    static OperatorCommand command(OperatorCommand.Kind kind, Instant at) {
        return new OperatorCommand(kind, "alice", at, Optional.empty());
    }
}
