package dev.ingot.agent;

import dev.ingot.fleet.DesiredState;
import dev.ingot.image.ImageVersion;
import dev.ingot.progress.Progress;
import dev.ingot.registry.RegistryLogin;
import dev.ingot.sim.ManualClock;
import dev.ingot.sim.SimulatedDevice;
import dev.ingot.sim.SimulatedFailure;
import dev.ingot.sim.SimulatedHost;
import dev.ingot.site.AgentConfig;
import dev.ingot.site.ContainerImage;
import dev.ingot.site.Secret;
import dev.ingot.site.SiteId;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/** One simulated device with the real agent on it, an in-memory control plane and a clock that jumps over every wait. */
final class SimulatedRig {
    static final SiteId SITE = new SiteId("SITE-2847");
    static final ImageVersion V14 = ImageVersion.parse("v1.4");
    static final ImageVersion V15 = ImageVersion.parse("v1.5");
    static final ContainerImage SITE_IMAGE = ContainerImage.parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest:2.3.1");
    static final String DEVICE = "device-1";

    final ManualClock clock = new ManualClock(Instant.parse("2026-11-26T08:00:00Z"));
    final InMemoryControlPlane controlPlane = new InMemoryControlPlane().withToken("enrollment-token-1");
    final List<String> log = new ArrayList<>();
    final SimulatedHost host;
    final SimulatedDevice device;

    SimulatedRig(SimulatedFailure... failures) {
        host = new SimulatedHost(SITE, 1, clock, V14, SITE_IMAGE, Set.of(failures));
        AgentSettings settings = new AgentSettings(new AgentConfig.Document(SITE, Optional.empty(), "us-east-1",
                Optional.of(URI.create("https://ingot.example.net")), Optional.of(AgentConfig.TOKEN_PATH), Optional.of(SITE_IMAGE), Optional.empty()),
                () -> Optional.of(Secret.of("enrollment-token-1")), AgentConfig.TOKEN_PATH);
        device = new SimulatedDevice(host, running -> new Agent(settings, running.agentHost(), controlPlane, RegistryLogin.NONE, clock,
                new SplittableRandom(7), Timings.DEFAULTS, Progress.NONE, log::add));
    }

    /** Enrolled and polling, nothing to do. */
    SimulatedRig enrolled() {
        runFor(Duration.ofMinutes(3));
        return this;
    }

    /** Wakes the device again and again, jumping the clock over each wait, for {@code duration} of simulated time. */
    SimulatedRig runFor(Duration duration) {
        Instant end = clock.instant().plus(duration);
        int wakes = 0;
        while (clock.instant().isBefore(end)) {
            if (++wakes > 10_000) {
                throw new AssertionError("the device kept waking without time passing:\n" + String.join("\n", log));
            }
            clock.advance(device.wake());
        }
        return this;
    }

    /** Runs until {@code done} holds (checked after each wake-up), at most {@code limit} of simulated time. */
    SimulatedRig runUntil(BooleanSupplier done, Duration limit) {
        Instant end = clock.instant().plus(limit);
        while (!done.getAsBoolean()) {
            if (clock.instant().isAfter(end)) {
                throw new AssertionError("not done after " + limit + " of simulated time; agent log:\n" + String.join("\n", log)
                        + "\noperations:\n" + String.join("\n", host.operationLog()));
            }
            clock.advance(device.wake());
        }
        return this;
    }

    /** Nothing in flight on the device, nothing left to tell the control plane. */
    boolean settled() {
        return host.up() && device.agent().state().action().isEmpty() && device.agent().state().outbox().isEmpty();
    }

    /** The control plane heard how the action on {@code track} towards {@code target} ended, and the device is settled. */
    boolean finished(dev.ingot.fleet.Track track, String target) {
        return controlPlane.last(DEVICE, track).filter(report -> report.target().equals(target) && report.state().terminal()).isPresent()
                && settled();
    }

    void desire(java.util.function.UnaryOperator<DesiredState> change) {
        controlPlane.setDesired(DEVICE, change.apply(controlPlane.desired(DEVICE)));
    }
}
