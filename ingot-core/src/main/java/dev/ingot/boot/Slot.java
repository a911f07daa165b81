package dev.ingot.boot;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.Arrays;
import java.util.Locale;

/**
 * One of the golden image's two root slots: GPT partitions {@code root-a} and {@code root-b}. The running slot is
 * never written; an update goes to the other one and boots it once before it is committed.
 */
public enum Slot {
    A,
    B;

    /** {@code a} or {@code b}: as on the kernel command line ({@code ingot.slot=a}) and in reports. */
    public String letter() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The GPT partition name (PARTLABEL) of the slot's root file system. */
    public String partitionLabel() {
        return "root-" + letter();
    }

    /** The id of the slot's GRUB menu entry ({@code menuentry --id}), the value of {@code saved_entry} and {@code next_entry}. */
    public String grubEntry() {
        return "ingot-" + letter();
    }

    /** The GPT partition number of the slot in the golden image's layout (esp 1, root-a 2, root-b 3, data 4). */
    public int partitionNumber() {
        return ordinal() + 2;
    }

    public Slot other() {
        return this == A ? B : A;
    }

    public static Slot parse(String letter) {
        return Arrays.stream(values()).filter(slot -> slot.letter().equals(letter)).findFirst()
                .orElseThrow(() -> IngotException.tried(ErrorCode.BAD_INPUT, "read the slot '" + letter + "'", "a slot is a or b"));
    }

    @Override
    public String toString() {
        return letter();
    }
}
