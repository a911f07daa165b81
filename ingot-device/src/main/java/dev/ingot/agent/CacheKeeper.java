package dev.ingot.agent;

import dev.ingot.image.ImageVersion;
import java.util.List;

/**
 * The site's USB cache as the agent keeps it: the last known-good images the control plane names, newest first.
 * The device implementation calls {@code dev.ingot.cache.UsbCache}; the simulated fleet keeps a list.
 */
public interface CacheKeeper {
    /** The versions the cache holds now, newest first. */
    List<ImageVersion> cached();

    /** Makes the cache hold {@code versions} (already cut to what it keeps): fetch and verify first, remove after. */
    void keep(List<ImageVersion> versions);
}
