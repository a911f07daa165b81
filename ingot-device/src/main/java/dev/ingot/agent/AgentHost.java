package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.boot.BootControl;
import dev.ingot.provision.HostCommands;

/**
 * The device as the agent acts on it, one small interface per concern: on a device, GRUB, the host's commands,
 * the health probes, the flash engine, the files on the data partition and the USB cache; in the fleet simulation,
 * one {@code SimulatedHost} playing all of them.
 */
public record AgentHost(BootControl boot, HostCommands commands, HealthProbe health, SlotPayloadFetcher fetcher, SlotWriter writer,
        TagOverride tags, CacheKeeper cache, StateStore store) {
    public AgentHost {
        requireNonNull(boot, "boot");
        requireNonNull(commands, "commands");
        requireNonNull(health, "health");
        requireNonNull(fetcher, "fetcher");
        requireNonNull(writer, "writer");
        requireNonNull(tags, "tags");
        requireNonNull(cache, "cache");
        requireNonNull(store, "store");
    }
}
