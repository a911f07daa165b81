package dev.ingot.agent;

import dev.ingot.image.ImageVersion;

/**
 * A release's root-slot payload, verified against the keyring by the {@link SlotPayloadFetcher} that made it and
 * ready for the {@link SlotWriter} that belongs with that fetcher (a fetcher and its writer are one flash engine:
 * the writer knows the concrete payload, streamed or local).
 */
public interface SlotPayload {
    ImageVersion version();

    /** The bytes the slot will hold, for progress. */
    long size();

    /** Where it comes from, for messages. */
    String describe();
}
