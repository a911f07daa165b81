package dev.ingot.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The small files a reader takes whole before anything else (manifest, signature, known-good list) come from a store or a
 * USB drive that anyone may have written: one that is huge, endless or not a file at all is refused with a clear error,
 * never read into memory (an OutOfMemoryError is exit 4 and kills an unattended agent) or waited on forever.
 */
class OversizedFilesTest {
    @TempDir
    Path folder;

    private FolderStore store;
    private Keyring keyring;
    private SigningKey key;
    private Path releases;

    @BeforeEach
    void publish() throws IOException {
        store = new FolderStore(folder.resolve("store"));
        key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        Releases.publish(store, key, SparseImages.typical(folder.resolve("edge.img")), "v1.4", false);
        releases = store.root().resolve("golden-images");
    }

    private TrustedRelease trust() {
        return new ReleaseVerifier(keyring, Progress.NONE).trust(store, ReleaseFiles.STORE_FOLDER, ImageName.DEFAULT, ImageVersion.parse("v1.4"));
    }

    /** A file of {@code size} bytes that takes no room (sparse): as large as an attacker likes. */
    private static void sparse(Path file, long size) throws IOException {
        Files.delete(file);
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            out.setLength(size);
        }
    }

    @Test
    void aSignatureFileOfThreeGibibytesIsRefusedWithoutBeingRead() throws IOException {
        sparse(releases.resolve("edge-golden-v1.4.manifest.json.asc"), 3L << 30);

        assertThatThrownBy(this::trust).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED);
            assertThat(e.getMessage()).contains("edge-golden-v1.4.manifest.json.asc").contains("3221225472 bytes");
        });
    }

    @Test
    void aManifestOfThreeGibibytesIsRefusedWithoutBeingRead() throws IOException {
        sparse(releases.resolve("edge-golden-v1.4.manifest.json"), 3L << 30);

        assertThatThrownBy(this::trust).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED);
            assertThat(e.getMessage()).contains("edge-golden-v1.4.manifest.json").contains("3221225472 bytes");
        });
    }

    @Test
    void aKnownGoodListOfThreeGibibytesIsRefusedWithoutBeingRead() throws IOException {
        Path list = releases.resolve("edge-golden.known-good.json");
        Files.writeString(list, "{}");
        sparse(list, 3L << 30);

        assertThatThrownBy(() -> KnownGood.load(store, ImageName.DEFAULT, Optional.of(keyring)))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.getMessage()).contains("3221225472 bytes"));
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a guard against the hang this test is about, not a measure of speed
    void aSignatureThatIsAFifoIsNotWaitedOn() throws IOException {
        assumeTrue(Tools.available("mkfifo"), "mkfifo is not installed");
        Path signature = releases.resolve("edge-golden-v1.4.manifest.json.asc");
        Files.delete(signature);
        Tools.Outcome made = Tools.run(folder, Map.of(), List.of("mkfifo", signature.toString()));
        assertThat(made.exitCode()).as(made.output()).isZero();

        assertThatThrownBy(this::trust).isInstanceOfSatisfying(IngotException.class,
                e -> assertThat(e.getMessage()).contains("edge-golden-v1.4.manifest.json.asc"));
    }
}
