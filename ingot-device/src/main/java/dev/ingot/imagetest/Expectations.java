package dev.ingot.imagetest;

import static java.util.Objects.requireNonNull;

import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * What the image must hold: its name, version and build date for {@code /etc/edge/image-version} (version and date
 * only compared when known), and the pinned dpkg package versions ({@code versions.pkrvars.hcl}).
 */
public record Expectations(ImageName name, Optional<ImageVersion> version, Optional<Instant> buildDate, Map<String, String> packages,
        String packagesSource) {
    public Expectations {
        requireNonNull(name, "name");
        requireNonNull(version, "version");
        requireNonNull(buildDate, "buildDate");
        packages = Map.copyOf(packages);
        requireNonNull(packagesSource, "packagesSource");
    }
}
