package dev.ingot.image;

import dev.ingot.progress.Progress;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.ArtifactStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;

/** Publishing in tests: fixed clock, fixed build date, one call. */
final class Releases {
    static final Instant BUILD_DATE = Instant.parse("2026-11-01T12:00:00Z");
    /** After the test keys were made (a signature older than its key is invalid), before today. */
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-26T00:20:00Z"), ZoneOffset.UTC);

    private Releases() {}

    static Publisher.Result publish(ArtifactStore store, SigningKey key, Path image, String version, boolean raw) {
        return new Publisher(store, key, CLOCK, Progress.NONE).publish(new Publisher.Request(image, ImageName.DEFAULT,
                ImageVersion.parse(version), Optional.of(BUILD_DATE), raw,
                Optional.of(new Manifest.Source(Optional.of("3f2c1e9"), Map.of("docker-ce", "5:27.3.1-1", "nvidia-driver-535", "535.216.03"),
                        Optional.of("test release"))),
                new ImageScanner.Compression(3, 2), ImageScanner.DEFAULT_BLOCK_SIZE));
    }
}
