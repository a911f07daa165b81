package dev.ingot.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.TestKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KnownGoodTest {
    @TempDir
    Path folder;

    private FolderStore store;
    private SigningKey key;
    private Keyring keyring;

    @BeforeEach
    void setUp() {
        store = new FolderStore(folder.resolve("store"));
        key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
    }

    private KnownGood.Document promote(String version) {
        ImageVersion parsed = ImageVersion.parse(version);
        return KnownGood.update(store, ImageName.DEFAULT, key, keyring, Releases.CLOCK, current -> {
            List<KnownGood.Entry> entries = new ArrayList<>(current.entries());
            entries.add(new KnownGood.Entry(parsed, Releases.CLOCK.instant(), key.fingerprint()));
            return new KnownGood.Document(current.name(), current.revision(), current.updatedAt(), entries);
        });
    }

    @Test
    void promotionsAccumulateNewestFirstWithARisingRevision() {
        promote("v1.9");
        KnownGood.Document document = promote("v1.10");

        assertThat(document.revision()).isEqualTo(2);
        assertThat(document.entries()).extracting(entry -> entry.version().toString()).containsExactly("v1.10", "v1.9");
        assertThat(KnownGood.load(store, ImageName.DEFAULT, Optional.of(keyring)).signature().orElseThrow().signer())
                .isEqualTo(key.fingerprint());
    }

    @Test
    void concurrentPromotionsLoseNothing() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(8);
        List<Future<KnownGood.Document>> results = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            String version = "v1." + i;
            results.add(threads.submit(() -> promote(version)));
        }
        for (Future<KnownGood.Document> result : results) {
            result.get();
        }
        threads.shutdown();

        KnownGood.Document document = KnownGood.load(store, ImageName.DEFAULT, Optional.of(keyring)).document();
        assertThat(document.entries()).hasSize(16);
        assertThat(document.revision()).isEqualTo(16);
    }

    @Test
    void aHandEditedDocumentIsRejected() throws IOException {
        promote("v1.4");
        Path file = store.pathOf(ReleaseFiles.knownGoodKey(ImageName.DEFAULT));
        Files.writeString(file, Files.readString(file).replace("v1.4", "v6.6"));

        assertThatThrownBy(() -> KnownGood.load(store, ImageName.DEFAULT, Optional.of(keyring)))
                .hasMessageContaining("does not match");
        assertThatThrownBy(() -> promote("v1.5")).hasMessageContaining("does not match");
    }
}
