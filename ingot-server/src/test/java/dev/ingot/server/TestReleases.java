package dev.ingot.server;

import dev.ingot.image.ImageName;
import dev.ingot.image.ImageScanner;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.Publisher;
import dev.ingot.progress.Progress;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;

/** Small real releases, published with the committed test key into a server's store. */
final class TestReleases {
    /** After the test keys were made: a signature older than its key is invalid. */
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-26T00:20:00Z"), ZoneOffset.UTC);

    private TestReleases() {}

    static void publish(Path store, Path work, String version) {
        try {
            Path folder = Files.createDirectories(work.resolve("release-" + version));
            Path image = SparseImages.create(folder.resolve("edge-golden.img"), 8L << 20, version.hashCode(),
                    new SparseImages.Region(0, 1 << 20), new SparseImages.Region(4L << 20, 1 << 20));
            SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder), Optional.empty());
            new Publisher(new FolderStore(store, store.toString()), key, CLOCK, Progress.NONE).publish(new Publisher.Request(image,
                    ImageName.DEFAULT, ImageVersion.parse(version), Optional.of(Instant.parse("2026-11-01T12:00:00Z")), false, Optional.empty(),
                    new ImageScanner.Compression(3, 1), ImageScanner.DEFAULT_BLOCK_SIZE));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
