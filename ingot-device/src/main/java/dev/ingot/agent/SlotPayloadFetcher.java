package dev.ingot.agent;

import dev.ingot.agent.ControlPlane.ReleaseDownload;
import dev.ingot.progress.Progress;

/**
 * Fetches a release's root-slot payload from what the poll answer names and verifies it through the one release
 * trust path (signed manifest against the image's keyring, then digests), taking it from the USB cache when the
 * cache holds it. A fetch cut short resumes where it stopped when called again. A streaming engine may verify the
 * manifest here and leave the payload's bytes to its writer.
 *
 * @throws dev.ingot.error.IngotException {@code UNAVAILABLE} when the source cannot be reached (worth another
 *     try), {@code CHECK_FAILED} when what arrived does not verify (not worth one)
 */
@FunctionalInterface
public interface SlotPayloadFetcher {
    SlotPayload fetch(ReleaseDownload download, Progress progress);
}
