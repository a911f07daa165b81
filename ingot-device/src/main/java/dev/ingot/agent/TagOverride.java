package dev.ingot.agent;

import java.util.Optional;

/**
 * The {@code video-ingest} tag the control plane rolled out, kept where re-provisioning and re-imaging leave it
 * alone (docs/agent.md, "Which tag wins"). Empty: the unit runs the site parameter's tag.
 */
public interface TagOverride {
    Optional<String> current();

    /** Sets the tag, or with empty removes the override so that the parameter's tag runs again. Atomic. */
    void set(Optional<String> tag);
}
