package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeysCommandTest {
    @TempDir
    Path folder;

    @Test
    void generateWritesAPrivateSecretKeyAndAPublicKeyThatListAndExportShow() throws IOException {
        CommandRunner ingot = new CommandRunner(folder);

        CommandRunner.Run generated = ingot.run("keys", "generate", "--name", "Edge Release 2026", "--out", "keys", "--json");

        assertThat(generated.exitCode()).as(generated.toString()).isZero();
        String fingerprint = generated.json().get("fingerprint").asText();
        assertThat(Files.getPosixFilePermissions(folder.resolve("keys/signing-key.asc")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.readString(folder.resolve("keys/signing-key.asc"))).startsWith("-----BEGIN PGP PRIVATE KEY BLOCK-----");

        CommandRunner.Run listed = ingot.run("keys", "list", "--keyring", "keys/signing-key.pub.asc");
        assertThat(listed.out()).contains(fingerprint).contains("Edge Release 2026");

        CommandRunner.Run exported = ingot.run("keys", "export", "--key", "keys/signing-key.asc");
        assertThat(exported.out()).startsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----");
        assertThat(exported.out()).doesNotContain("PRIVATE");
    }

    @Test
    void generateNeverOverwritesAKey() throws IOException {
        CommandRunner ingot = new CommandRunner(folder);
        assertThat(ingot.run("keys", "generate", "--name", "First", "--out", "keys").exitCode()).isZero();
        String before = Files.readString(folder.resolve("keys/signing-key.asc"));

        CommandRunner.Run again = ingot.run("keys", "generate", "--name", "Second", "--out", "keys");

        assertThat(again.exitCode()).isEqualTo(3);
        assertThat(again.err()).contains("already exists");
        assertThat(Files.readString(folder.resolve("keys/signing-key.asc"))).isEqualTo(before);
    }

    @Test
    void aMissingRequiredOptionIsExitTwoWithUsageHint() {
        CommandRunner.Run run = new CommandRunner(folder).run("keys", "generate", "--out", "keys");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("Missing required option: '--name=USER-ID'").contains("--help");
    }
}
