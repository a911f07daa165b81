package dev.ingot.boot;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * What the device booted and what it will boot next.
 *
 * @param booted the slot this boot came from ({@code ingot.slot=} on the kernel command line)
 * @param bootId changes with every boot (the kernel's {@code /proc/sys/kernel/random/boot_id}): how the agent tells
 *     "the reboot happened" from "the agent restarted"
 * @param committed the default slot: what every boot picks unless a one-shot boot is set
 * @param oneShot the slot the next boot tries once, if any; the boot consumes it, so the boot after falls back to
 *     {@code committed} by itself
 */
public record BootState(Slot booted, String bootId, Slot committed, Optional<Slot> oneShot) {
    public BootState {
        requireNonNull(booted, "booted");
        requireNonNull(bootId, "bootId");
        requireNonNull(committed, "committed");
        requireNonNull(oneShot, "oneShot");
    }

    /** The slot an update may write: never the running one. */
    public Slot inactive() {
        return booted.other();
    }

    /** Whether this boot is a trial: the booted slot is not the default (a one-shot boot, or a fall-back that GRUB took). */
    public boolean onTrial() {
        return booted != committed;
    }
}
