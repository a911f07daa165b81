package dev.ingot.aws;

import dev.ingot.store.ArtifactStore;
import dev.ingot.store.FolderStore;
import java.util.Optional;

/** The artifact store contract, held by a store in a local folder. */
class FolderStoreContractTest extends ArtifactStoreContractTest {

    @Override
    ArtifactStore newStore() {
        return new FolderStore(temporary.resolve("store"));
    }

    @Override
    Optional<String> whyRacingCompareAndSetsAreNotChecked() {
        return Optional.empty(); // a per-root in-process lock plus a file lock across processes: atomic
    }
}
