package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageCommandsTest {
    @TempDir
    Path folder;

    private CommandRunner ingot;

    @BeforeEach
    void setUp() throws IOException {
        ingot = new CommandRunner(folder);
        TestKeys.RELEASE.secretKey(folder.resolve("keys"));
        TestKeys.RELEASE.publicKey(folder.resolve("keys"));
        TestKeys.PROTECTED.secretKey(folder.resolve("keys"));
        SparseImages.typical(folder.resolve("edge.img"));
    }

    private CommandRunner.Run publish(String version, String... extra) {
        String[] base = {"image", "publish", "edge.img", "--version", version, "--key", "keys/release.asc",
            "--build-date", "2026-11-01T12:00:00Z"};
        return ingot.run(Stream.concat(Stream.of(base), Stream.of(extra)).toArray(String[]::new));
    }

    @Test
    void publishVerifyListPromoteAndPullWorkEndToEnd() throws IOException {
        CommandRunner.Run published = publish("v1.4", "--json", "--source-commit", "3f2c1e9", "--package", "docker-ce=5:27.3.1-1");
        assertThat(published.exitCode()).as(published.toString()).isZero();
        JsonNode manifest = published.json().get("manifest");
        assertThat(manifest.at("/source/packages/docker-ce").asText()).isEqualTo("5:27.3.1-1");
        assertThat(manifest.at("/image/size").asLong()).isEqualTo(Files.size(folder.resolve("edge.img")));
        assertThat(publish("v1.10").exitCode()).isZero();
        assertThat(publish("v1.9").exitCode()).isZero();

        CommandRunner.Run verified = ingot.run("image", "verify", "v1.4", "--keyring", "keys/release.pub.asc");
        assertThat(verified.exitCode()).as(verified.toString()).isZero();
        assertThat(verified.out()).contains("Verified edge-golden v1.4");

        CommandRunner.Run promoted = ingot.run("image", "promote", "v1.9", "--known-good", "--key", "keys/release.asc",
                "--keyring", "keys/release.pub.asc");
        assertThat(promoted.exitCode()).as(promoted.toString()).isZero();

        CommandRunner.Run listed = ingot.run("image", "list", "--keyring", "keys/release.pub.asc", "--json");
        assertThat(listed.exitCode()).as(listed.toString()).isZero();
        assertThat(listed.json().get("releases")).extracting(node -> node.get("version").asText())
                .containsExactly("v1.10", "v1.9", "v1.4");
        assertThat(listed.json().get("releases")).extracting(node -> node.get("known_good").asBoolean())
                .containsExactly(false, true, false);
        assertThat(listed.json().get("releases")).allMatch(node -> node.get("signature").asText().equals("verified"));
        assertThat(listed.json().get("releases")).allMatch(node -> node.get("known_good_verified").asBoolean());

        // Without keys the known-good list is only what an unsigned file says: marked, never presented as checked.
        CommandRunner.Run unchecked = ingot.run("image", "list");
        assertThat(unchecked.exitCode()).as(unchecked.toString()).isZero();
        assertThat(unchecked.out()).contains("yes?").contains("UNVERIFIED");
        assertThat(ingot.run("image", "list", "--json").json().at("/releases/1/known_good_verified").asBoolean()).isFalse();

        CommandRunner.Run pulled = ingot.run("image", "pull", "v1.4", "--to", "pulled", "--keyring", "keys/release.pub.asc");
        assertThat(pulled.exitCode()).as(pulled.toString()).isZero();
        try (Stream<Path> files = Files.list(folder.resolve("pulled"))) {
            assertThat(files.map(path -> path.getFileName().toString())).containsExactlyInAnyOrder(
                    "edge-golden-v1.4.img.zst", "edge-golden-v1.4.img.bmap", "edge-golden-v1.4.sha256",
                    "edge-golden-v1.4.manifest.json", "edge-golden-v1.4.manifest.json.asc");
        }
    }

    @Test
    void anInvalidVersionIsOneLineExitTwoAndWritesNothing() {
        CommandRunner.Run run = publish("1.4");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err().lines()).singleElement().asString()
                .startsWith("error: Tried to read the version '1.4' but failed because").contains("Hint:");
        assertThat(folder.resolve("store")).doesNotExist();
    }

    @Test
    void aMissingImageIsExitTwoAndWritesNothing() {
        CommandRunner.Run run = ingot.run("image", "publish", "missing.img", "--version", "v1.4", "--key", "keys/release.asc");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("missing.img does not exist");
        assertThat(folder.resolve("store/golden-images")).doesNotExist();
    }

    @Test
    void aWrongPassphraseIsExitTwoAndWritesNothing() throws IOException {
        Files.writeString(folder.resolve("pass"), "not the passphrase\n");

        CommandRunner.Run run = ingot.run("image", "publish", "edge.img", "--version", "v1.4", "--key", "keys/protected.asc",
                "--passphrase-file", "pass");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("passphrase is wrong");
        assertThat(folder.resolve("store")).doesNotExist();
    }

    @Test
    void thePassphraseMayComeFromTheEnvironment() {
        CommandRunner withPassphrase = new CommandRunner(folder, Map.of("INGOT_KEY_PASSPHRASE", TestKeys.PASSPHRASE));

        CommandRunner.Run run = withPassphrase.run("image", "publish", "edge.img", "--version", "v1.4", "--key", "keys/protected.asc");

        assertThat(run.exitCode()).as(run.toString()).isZero();
    }

    @Test
    void republishingAVersionIsExitThreeAndChangesNothing() throws IOException {
        assertThat(publish("v1.4").exitCode()).isZero();
        byte[] before = Files.readAllBytes(folder.resolve("store/golden-images/edge-golden-v1.4.manifest.json"));

        CommandRunner.Run again = publish("v1.4", "--json");

        assertThat(again.exitCode()).isEqualTo(3);
        assertThat(again.json().at("/error/code").asText()).isEqualTo("CONFLICT");
        assertThat(Files.readAllBytes(folder.resolve("store/golden-images/edge-golden-v1.4.manifest.json"))).isEqualTo(before);
    }

    @Test
    void verifyingATamperedReleaseExitsOneAndNamesTheFile() throws IOException {
        assertThat(publish("v1.4").exitCode()).isZero();
        Path bmap = folder.resolve("store/golden-images/edge-golden-v1.4.img.bmap");
        Files.writeString(bmap, Files.readString(bmap).replace("<BlockSize> 4096", "<BlockSize> 8192"));

        CommandRunner.Run run = ingot.run("image", "verify", "v1.4", "--keyring", "keys/release.pub.asc", "--json");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.json().get("ok").asBoolean()).isFalse();
        assertThat(run.json().get("findings")).anySatisfy(finding -> {
            assertThat(finding.get("file").asText()).isEqualTo("edge-golden-v1.4.img.bmap");
            assertThat(finding.get("ok").asBoolean()).isFalse();
        });
    }

    @Test
    void verifyingAnUnpublishedVersionSaysSo() {
        assertThat(publish("v1.4").exitCode()).isZero();

        CommandRunner.Run run = ingot.run("image", "verify", "v9.9", "--keyring", "keys/release.pub.asc");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("v9.9 is not published there");
    }

    @Test
    void aStoreThatDoesNotExistIsUnexpectedStateForReaders() {
        CommandRunner.Run run = ingot.run("image", "list", "--store", "nowhere");

        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.err()).contains("does not exist");
        assertThat(folder.resolve("nowhere")).doesNotExist();
    }

    @Test
    void anUnreachableS3StoreFailsFastWithExitThree() {
        CommandRunner.Run run = ingot.run("image", "publish", "edge.img", "--version", "v1.4", "--key", "keys/release.asc",
                "--store", "s3://bucket/golden", "--endpoint-url", "http://127.0.0.1:1");

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(3);
        assertThat(run.err().lines()).singleElement().asString().startsWith("error: Tried to");
    }

    @Test
    void promotingAReleaseThatDoesNotVerifyIsRefused() throws IOException {
        assertThat(publish("v1.4").exitCode()).isZero();
        Files.write(folder.resolve("store/golden-images/edge-golden-v1.4.img.zst"), new byte[] {0x28, (byte) 0xb5});

        CommandRunner.Run run = ingot.run("image", "promote", "v1.4", "--known-good", "--key", "keys/release.asc",
                "--keyring", "keys/release.pub.asc");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("does not verify").contains("edge-golden-v1.4.img.zst");
        assertThat(folder.resolve("store/golden-images/edge-golden.known-good.json")).doesNotExist();
    }

    @Test
    void everyCommandExplainsItselfWithHelp() {
        for (String[] command : new String[][] {{"image", "publish"}, {"image", "verify"}, {"image", "list"}, {"image", "promote"},
            {"image", "pull"}, {"keys", "generate"}, {"keys", "list"}, {"keys", "export"}}) {
            CommandRunner.Run run = ingot.run(command[0], command[1], "--help");
            assertThat(run.exitCode()).as(String.join(" ", command)).isZero();
            assertThat(run.out()).contains("Usage: ingot " + command[0] + " " + command[1]).contains("--json");
        }
    }
}
