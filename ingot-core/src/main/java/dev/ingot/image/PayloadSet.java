package dev.ingot.image;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.regex.Pattern;

/**
 * Which payload of a release: the whole disk ({@code edge-golden-v1.5.img.zst} and its bmap) or one partition's slot
 * payload ({@code edge-golden-v1.5.root-a.img.zst}), each with its own image, block map, digests and sha256sum file
 * (docs/formats.md, "Slot payloads").
 */
public sealed interface PayloadSet permits PayloadSet.Disk, PayloadSet.Slot {
    /** Slot names: a GPT partition name that is safe in a file name. */
    Pattern SLOT_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,35}");

    PayloadSet DISK = new Disk();

    /** The whole disk image. */
    record Disk() implements PayloadSet {
        @Override
        public String toString() {
            return "disk";
        }
    }

    /** The image of one GPT partition, by its name ({@code root-a}). */
    record Slot(String partition) implements PayloadSet {
        public Slot {
            requireNonNull(partition, "partition");
            if (!SLOT_NAME.matcher(partition).matches()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "name the slot '" + partition + "'",
                        "a slot is a GPT partition name of lower-case letters, digits and '-' (root-a)");
            }
        }

        @Override
        public String toString() {
            return partition;
        }
    }

    static PayloadSet slot(String partition) {
        return new Slot(partition);
    }
}
