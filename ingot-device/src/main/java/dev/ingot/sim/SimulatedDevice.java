package dev.ingot.sim;

import static java.util.Objects.requireNonNull;

import dev.ingot.agent.Agent;
import java.time.Duration;
import java.util.function.Function;

/**
 * A simulated device with its agent running on it, woken again and again by the fleet simulation (or a test):
 * a device that is off is booted, a reboot the agent asked for happens, and a power cut ends the agent's process
 * as a real one would (the next wake-up boots the device and starts a new agent, which finds its saved state).
 */
public final class SimulatedDevice {
    /** From power-on to the agent running, roughly, on an edge device. */
    static final Duration BOOT_TIME = Duration.ofSeconds(40);

    private final SimulatedHost host;
    private final Function<SimulatedHost, Agent> processes;
    private final Duration bootTime;
    private Agent agent;
    private int powerCuts;
    private int reboots;

    /** @param processes starts the agent's process on the host: a new agent over the same host parts */
    public SimulatedDevice(SimulatedHost host, Function<SimulatedHost, Agent> processes) {
        this(host, processes, BOOT_TIME);
    }

    /** @param bootTime from power-on to the agent running (the fleet simulation shortens it to watch updates go by) */
    public SimulatedDevice(SimulatedHost host, Function<SimulatedHost, Agent> processes, Duration bootTime) {
        this.host = requireNonNull(host, "host");
        this.processes = requireNonNull(processes, "processes");
        this.bootTime = requireNonNull(bootTime, "bootTime");
    }

    public SimulatedHost host() {
        return host;
    }

    /** The agent of the current boot (started on the next wake-up if the device just came up). */
    public Agent agent() {
        if (agent == null) {
            agent = processes.apply(host);
        }
        return agent;
    }

    public int powerCuts() {
        return powerCuts;
    }

    public int reboots() {
        return reboots;
    }

    /** One wake-up: the time until the next one. */
    public Duration wake() {
        if (!host.up()) {
            host.boot();
            agent = null;
            return bootTime;
        }
        try {
            return switch (agent().tick()) {
                case Agent.Tick.Sleep sleep -> sleep.duration();
                case Agent.Tick.Rebooting rebooting -> {
                    reboots++;
                    host.boot();
                    agent = null;
                    yield bootTime;
                }
            };
        } catch (PowerCut cut) {
            powerCuts++;
            agent = null;
            return bootTime;
        }
    }
}
