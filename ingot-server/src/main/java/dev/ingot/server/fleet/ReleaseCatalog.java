package dev.ingot.server.fleet;

import dev.ingot.image.ImageVersion;

/** Whether a version is published, so that a desired state never names an image a device cannot fetch. */
@FunctionalInterface
public interface ReleaseCatalog {
    boolean published(ImageVersion version);
}
