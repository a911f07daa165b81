package dev.ingot.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageScanner;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.KnownGood;
import dev.ingot.image.Publisher;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's USB cache on the real UsbCache: signed releases published into a folder store, pulled and verified. */
class UsbCacheKeeperTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-26T00:20:00Z"), ZoneOffset.UTC);

    @TempDir
    Path folder;

    private FolderStore store;
    private SigningKey key;
    private Keyring keyring;
    private UsbCacheKeeper keeper;

    @BeforeEach
    void aStoreWithThreeKnownGoodReleases() throws IOException {
        store = new FolderStore(folder.resolve("store"));
        key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        for (String version : List.of("v1.3", "v1.4", "v1.5")) {
            Path image = SparseImages.create(folder.resolve(version + ".img"), 2L << 20, version.hashCode(), new SparseImages.Region(0, 65_536));
            new Publisher(store, key, CLOCK, Progress.NONE).publish(new Publisher.Request(image, ImageName.DEFAULT, ImageVersion.parse(version),
                    Optional.empty(), false, Optional.empty(), new ImageScanner.Compression(3, 1), ImageScanner.DEFAULT_BLOCK_SIZE));
            KnownGood.update(store, ImageName.DEFAULT, key, keyring, CLOCK, current -> {
                List<KnownGood.Entry> entries = new ArrayList<>(current.entries());
                entries.add(new KnownGood.Entry(ImageVersion.parse(version), CLOCK.instant(), key.fingerprint()));
                return new KnownGood.Document(current.name(), current.revision(), current.updatedAt(), entries);
            });
        }
        keeper = new UsbCacheKeeper(folder.resolve("usb"), ImageName.DEFAULT, () -> keyring, versions -> store, Progress.NONE);
    }

    @Test
    void theCacheHoldsTheTwoNewestKnownGoodImagesTheControlPlaneNames() {
        assertThat(keeper.cached()).isEmpty();

        keeper.keep(List.of(ImageVersion.parse("v1.5"), ImageVersion.parse("v1.4")));

        assertThat(keeper.cached()).containsExactly(ImageVersion.parse("v1.5"), ImageVersion.parse("v1.4"));
    }

    @Test
    void theControlPlanesListDecidesWhichVerifiedImagesAreKeptAndTheOthersGoAfterwards() {
        keeper.keep(List.of(ImageVersion.parse("v1.5"), ImageVersion.parse("v1.4")));

        keeper.keep(List.of(ImageVersion.parse("v1.4"), ImageVersion.parse("v1.3")));

        assertThat(keeper.cached()).containsExactly(ImageVersion.parse("v1.4"), ImageVersion.parse("v1.3"));
    }

    @Test
    void aNamedReleaseWhosePayloadWasTamperedWithIsNotKeptAndTheCacheKeepsWhatItHad() throws IOException {
        keeper.keep(List.of(ImageVersion.parse("v1.4")));
        Path payload = folder.resolve("store/golden-images/edge-golden-v1.5.img.zst");
        byte[] bytes = java.nio.file.Files.readAllBytes(payload);
        bytes[bytes.length / 2] ^= 0x20;
        java.nio.file.Files.write(payload, bytes);

        assertThatThrownBy(() -> keeper.keep(List.of(ImageVersion.parse("v1.5"), ImageVersion.parse("v1.4"))))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED));

        assertThat(keeper.cached()).containsExactly(ImageVersion.parse("v1.4"));
    }
}
