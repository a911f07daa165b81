package dev.ingot.boot;

/**
 * The bootloader as the A/B update sees it: which slot booted, which is the default, and a one-shot boot of the
 * other. Every change is atomic: after a power cut at any instant the bootloader holds the old setting or the new
 * one. {@code GrubBootControl} (ingot-device) is GRUB through {@code grub-editenv}; the simulated fleet has its own.
 */
public interface BootControl {
    BootState state();

    /** The next boot, and only the next, tries {@code slot}; the one after boots the default again by itself. */
    void bootOnce(Slot slot);

    /** Drops a one-shot boot that is set: the next boot is the default. */
    void cancelOnce();

    /** Makes {@code slot} the default and drops any one-shot boot. Idempotent. */
    void commit(Slot slot);
}
