package dev.ingot.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The catalog shows what the store holds under each name: a signed manifest stored under another release's name is not "verified". */
class CatalogTest {
    @TempDir
    Path folder;

    @Test
    void aSignedManifestCopiedUnderAnotherVersionsNameIsListedAsInvalidNotVerifiedTwice() throws IOException {
        FolderStore store = new FolderStore(folder.resolve("store"));
        SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        Keyring keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        Releases.publish(store, key, SparseImages.typical(folder.resolve("edge.img")), "v1.3", false);
        Path releases = store.root().resolve("golden-images");
        Files.copy(releases.resolve("edge-golden-v1.3.manifest.json"), releases.resolve("edge-golden-v1.5.manifest.json"));
        Files.copy(releases.resolve("edge-golden-v1.3.manifest.json.asc"), releases.resolve("edge-golden-v1.5.manifest.json.asc"));

        List<Catalog.Entry> entries = Catalog.list(store, Optional.of(keyring), Optional.empty());

        assertThat(entries).filteredOn(entry -> entry.signature() == Catalog.SignatureStatus.VERIFIED).hasSize(1);
        assertThat(entries).filteredOn(entry -> entry.signature() == Catalog.SignatureStatus.INVALID).singleElement()
                .satisfies(entry -> assertThat(entry.problem().orElseThrow()).contains("edge-golden-v1.5.manifest.json"));
    }
}
