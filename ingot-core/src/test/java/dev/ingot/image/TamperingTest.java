package dev.ingot.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every way a published release can be damaged or forged is caught by verify, naming the file and the reason. */
class TamperingTest {
    @TempDir
    Path folder;

    private FolderStore store;
    private SigningKey key;
    private Keyring keyring;
    private Path releaseFolder;

    @BeforeEach
    void publishTwoVersions() throws IOException {
        store = new FolderStore(folder.resolve("store"));
        key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        Path image = SparseImages.typical(folder.resolve("edge.img"));
        Path older = SparseImages.create(folder.resolve("older.img"), 8L << 20, 3, new SparseImages.Region(4096, 200_000));
        Releases.publish(store, key, image, "v1.4", true);
        Releases.publish(store, key, older, "v1.3", true);
        releaseFolder = store.root().resolve("golden-images");
    }

    private ReleaseVerifier.Report verify() {
        return new ReleaseVerifier(keyring, Progress.NONE)
                .verify(store, ReleaseFiles.STORE_FOLDER, ImageName.DEFAULT, ImageVersion.parse("v1.4"));
    }

    private void flipByte(String file, long offsetFromMiddle) throws IOException {
        Path path = releaseFolder.resolve(file);
        long position = Files.size(path) / 2 + offsetFromMiddle;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
            channel.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x01));
            one.rewind();
            channel.write(one, position);
        }
    }

    @Test
    void anUntouchedReleaseVerifies() {
        assertThat(verify().failures()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"edge-golden-v1.4.img.zst", "edge-golden-v1.4.img.bmap", "edge-golden-v1.4.sha256", "edge-golden-v1.4.img"})
    void oneFlippedByteInAPayloadFileIsCaughtAndNamed(String file) throws IOException {
        flipByte(file, 0);

        ReleaseVerifier.Report report = verify();

        assertThat(report.ok()).isFalse();
        assertThat(report.failures()).singleElement().satisfies(finding -> {
            assertThat(finding.file()).isEqualTo(file);
            assertThat(finding.detail()).contains("SHA-256").contains("the manifest says");
        });
    }

    @Test
    void oneFlippedByteInTheManifestBreaksItsSignature() throws IOException {
        flipByte("edge-golden-v1.4.manifest.json", 0);

        assertThat(verify().failures()).singleElement().satisfies(finding -> {
            assertThat(finding.file()).isEqualTo("edge-golden-v1.4.manifest.json.asc");
            assertThat(finding.detail()).contains("does not match");
        });
    }

    @Test
    void aDamagedSignatureFileIsCaught() throws IOException {
        Files.writeString(releaseFolder.resolve("edge-golden-v1.4.manifest.json.asc"), "-----BEGIN PGP SIGNATURE-----\n\ngarbage\n");

        assertThat(verify().failures()).singleElement()
                .satisfies(finding -> assertThat(finding.file()).isEqualTo("edge-golden-v1.4.manifest.json.asc"));
    }

    @Test
    void aManifestAndSignatureSwappedInFromAnotherVersionAreCaught() throws IOException {
        for (String suffix : new String[] {".manifest.json", ".manifest.json.asc"}) {
            Files.copy(releaseFolder.resolve("edge-golden-v1.3" + suffix), releaseFolder.resolve("edge-golden-v1.4" + suffix),
                    StandardCopyOption.REPLACE_EXISTING);
        }

        assertThat(verify().failures()).singleElement()
                .satisfies(finding -> assertThat(finding.detail()).contains("describes edge-golden v1.3, not edge-golden v1.4"));
    }

    @Test
    void aPayloadSwappedInFromAnotherVersionIsCaught() throws IOException {
        Files.copy(releaseFolder.resolve("edge-golden-v1.3.img.zst"), releaseFolder.resolve("edge-golden-v1.4.img.zst"),
                StandardCopyOption.REPLACE_EXISTING);

        assertThat(verify().failures()).singleElement()
                .satisfies(finding -> assertThat(finding.file()).isEqualTo("edge-golden-v1.4.img.zst"));
    }

    @Test
    void aManifestResignedByAnUntrustedKeyIsRefused() throws IOException {
        SigningKey mallory = SigningKey.load(TestKeys.UNTRUSTED.secretKey(folder.resolve("keys")), Optional.empty());
        byte[] manifest = Files.readAllBytes(releaseFolder.resolve("edge-golden-v1.4.manifest.json"));
        Files.writeString(releaseFolder.resolve("edge-golden-v1.4.manifest.json.asc"), mallory.sign(manifest, Releases.CLOCK.instant()));

        assertThat(verify().failures()).singleElement().satisfies(finding -> {
            assertThat(finding.file()).isEqualTo("edge-golden-v1.4.manifest.json.asc");
            assertThat(finding.detail()).contains("not in the trusted keyring");
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"../../etc/cron.d/x", ".hidden.img.zst", "edge-golden-v1.3.img.zst", "other-name.img.zst"})
    void aSignedManifestNamingAnyFileButTheReleasesOwnIsRefusedByEveryReader(String name) throws IOException {
        // Even signed by the trusted key (a buggy or compromised build pipeline): names outside the release never reach a path.
        Path manifest = releaseFolder.resolve("edge-golden-v1.4.manifest.json");
        String text = Files.readString(manifest).replace("\"edge-golden-v1.4.img.zst\"", "\"" + name + "\"");
        Files.writeString(manifest, text);
        Files.writeString(releaseFolder.resolve("edge-golden-v1.4.manifest.json.asc"), key.sign(text.getBytes(), Releases.CLOCK.instant()));

        assertThat(verify().failures()).singleElement().satisfies(finding -> {
            assertThat(finding.file()).isEqualTo("edge-golden-v1.4.manifest.json");
            assertThat(finding.detail()).contains(name);
        });
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ReleaseVerifier(keyring, Progress.NONE)
                        .trust(store, ReleaseFiles.STORE_FOLDER, ImageName.DEFAULT, ImageVersion.parse("v1.4")))
                .hasMessageContaining("edge-golden-v1.4.manifest.json: it names");
    }

    @Test
    void aTruncatedUploadIsCaught() throws IOException {
        Path payload = releaseFolder.resolve("edge-golden-v1.4.img.zst");
        try (FileChannel channel = FileChannel.open(payload, StandardOpenOption.WRITE)) {
            channel.truncate(Files.size(payload) / 3);
        }

        assertThat(verify().failures()).singleElement()
                .satisfies(finding -> assertThat(finding.detail()).contains("truncated or an incomplete upload"));
    }

    @Test
    void aMissingPayloadIsCaught() throws IOException {
        Files.delete(releaseFolder.resolve("edge-golden-v1.4.img.bmap"));

        assertThat(verify().failures()).singleElement().satisfies(finding -> {
            assertThat(finding.file()).isEqualTo("edge-golden-v1.4.img.bmap");
            assertThat(finding.detail()).isEqualTo("the file is missing");
        });
    }

    @Test
    void aMissingSignatureIsCaught() throws IOException {
        Files.delete(releaseFolder.resolve("edge-golden-v1.4.manifest.json.asc"));

        assertThat(verify().failures()).singleElement()
                .satisfies(finding -> assertThat(finding.detail()).isEqualTo("the signature file is missing"));
    }
}
