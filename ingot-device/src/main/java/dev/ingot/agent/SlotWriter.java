package dev.ingot.agent;

import dev.ingot.boot.Slot;
import dev.ingot.progress.Progress;

/**
 * Writes a verified slot payload into a root slot's partition ({@code root-a} or {@code root-b}, by GPT name) and
 * reads it back. The agent never asks for the running slot. Writing is resumable: the writer calls
 * {@link Checkpoint#reached} with a position once everything before it is on the disk (written and flushed),
 * the agent persists it, and after a crash it calls again with the last position persisted. Writing the same
 * payload twice is harmless.
 *
 * @throws dev.ingot.error.IngotException {@code UNAVAILABLE} for an I/O failure, {@code CHECK_FAILED} when what is
 *     read back differs from the payload
 */
@FunctionalInterface
public interface SlotWriter {
    void write(SlotPayload payload, Slot slot, long resumeFrom, Checkpoint checkpoint, Progress progress);

    /** Told of each durable position; persisting it is the agent's business. */
    @FunctionalInterface
    interface Checkpoint {
        void reached(long position);
    }
}
