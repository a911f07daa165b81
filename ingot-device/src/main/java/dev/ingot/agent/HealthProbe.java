package dev.ingot.agent;

import dev.ingot.health.HealthReport;

/** The device's health check as the agent runs it: {@code DeviceHealth::check} on a device, simulated probes in the fleet simulation. */
@FunctionalInterface
public interface HealthProbe {
    HealthReport check();
}
