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
 * @param damage why the bootloader's setting cannot be read as it was written, if it cannot (a damaged GRUB
 *     environment): {@code committed} and {@code oneShot} are then what the bootloader will make of it (slot a, none),
 *     which need not be what was committed
 */
public record BootState(Slot booted, String bootId, Slot committed, Optional<Slot> oneShot, Optional<String> damage) {
    public BootState {
        requireNonNull(booted, "booted");
        requireNonNull(bootId, "bootId");
        requireNonNull(committed, "committed");
        requireNonNull(oneShot, "oneShot");
        requireNonNull(damage, "damage");
    }

    /** A bootloader whose setting reads as written. */
    public BootState(Slot booted, String bootId, Slot committed, Optional<Slot> oneShot) {
        this(booted, bootId, committed, oneShot, Optional.empty());
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
