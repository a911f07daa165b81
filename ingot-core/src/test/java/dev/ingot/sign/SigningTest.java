package dev.ingot.sign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.testing.TestKeys;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SigningTest {
    @TempDir
    Path folder;

    private static final byte[] DOCUMENT = "{\"version\":\"v1.4\"}\n".getBytes(StandardCharsets.UTF_8);
    private static final Instant NOW = Instant.parse("2026-11-26T00:20:00Z");

    @Test
    void aSignatureChecksOutAgainstTheSignersPublicKey() {
        SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder), Optional.empty());
        Keyring keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder));

        VerifiedSignature verified = keyring.verify(DOCUMENT, key.sign(DOCUMENT, NOW).getBytes(StandardCharsets.US_ASCII), "doc");

        assertThat(verified.signer()).isEqualTo(key.fingerprint());
        assertThat(verified.userId()).isEqualTo("Ingot Test Release <test@ingot.dev>");
        assertThat(verified.created()).isEqualTo(NOW);
    }

    @Test
    void aKeyringFolderTrustsEveryKeyInIt() throws IOException {
        Path trusted = Files.createDirectories(folder.resolve("trusted"));
        TestKeys.RELEASE.publicKey(trusted);
        TestKeys.PROTECTED.publicKey(trusted);
        SigningKey rotated = SigningKey.load(TestKeys.PROTECTED.secretKey(folder), Optional.of(TestKeys.PASSPHRASE.toCharArray()));

        Keyring keyring = Keyring.load(trusted);

        assertThat(keyring.keys()).hasSize(2);
        assertThat(keyring.verify(DOCUMENT, rotated.sign(DOCUMENT, NOW).getBytes(StandardCharsets.US_ASCII), "doc").signer())
                .isEqualTo(rotated.fingerprint());
    }

    @Test
    void aChangedDocumentOrAnUntrustedSignerFails() {
        SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder), Optional.empty());
        SigningKey mallory = SigningKey.load(TestKeys.UNTRUSTED.secretKey(folder), Optional.empty());
        Keyring keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder));
        byte[] signature = key.sign(DOCUMENT, NOW).getBytes(StandardCharsets.US_ASCII);
        byte[] changed = "{\"version\":\"v1.5\"}\n".getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> keyring.verify(changed, signature, "doc"))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED))
                .hasMessageContaining("does not match");
        assertThatThrownBy(() -> keyring.verify(DOCUMENT, mallory.sign(DOCUMENT, NOW).getBytes(StandardCharsets.US_ASCII), "doc"))
                .hasMessageContaining("not in the trusted keyring");
    }

    @Test
    void aWrongOrMissingPassphraseIsBadInput() {
        Path secret = TestKeys.PROTECTED.secretKey(folder);

        assertThatThrownBy(() -> SigningKey.load(secret, Optional.of("wrong".toCharArray())))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT))
                .hasMessageContaining("passphrase is wrong");
        assertThatThrownBy(() -> SigningKey.load(secret, Optional.empty()))
                .hasMessageContaining("protected by a passphrase and none was given");
    }

    @Test
    void aPublicKeyGivenAsTheSigningKeyIsExplained() {
        assertThatThrownBy(() -> SigningKey.load(TestKeys.RELEASE.publicKey(folder), Optional.empty()))
                .hasMessageContaining("it is a public key");
    }

    @Test
    void generatedKeysSignAndUnlockWithTheirPassphrase() throws IOException {
        KeyGenerator.GeneratedKey generated = new KeyGenerator(new SecureRandom())
                .generate("Edge Release 2026", Optional.of("s3cret".toCharArray()), NOW.minusSeconds(60));
        Path secret = Files.writeString(folder.resolve("k.asc"), generated.armoredSecretKey());
        Path publicKey = Files.writeString(folder.resolve("k.pub.asc"), generated.armoredPublicKey());

        SigningKey key = SigningKey.load(secret, Optional.of("s3cret".toCharArray()));

        assertThat(key.fingerprint()).isEqualTo(generated.fingerprint());
        assertThat(Keyring.load(publicKey).verify(DOCUMENT, key.sign(DOCUMENT, NOW).getBytes(StandardCharsets.US_ASCII), "d").signer())
                .isEqualTo(generated.fingerprint());
    }

    @Test
    void aSignatureMadeByGpgIsAcceptedAndOursIsAcceptedByGpg() throws IOException {
        assumeTrue(Tools.available("gpg"), "gpg is not installed (apt-get install gnupg)");
        Path home = Files.createDirectories(folder.resolve("gnupg"));
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
        Map<String, String> environment = Map.of("GNUPGHOME", home.toString());
        gpg(environment, "--batch", "--passphrase", "", "--quick-gen-key", "Gpg Made <gpg@example.com>", "rsa3072", "sign", "never");
        Path document = Files.write(folder.resolve("manifest.json"), DOCUMENT);
        gpg(environment, "--batch", "--armor", "--detach-sign", "--digest-algo", "SHA256", "--output",
                folder.resolve("manifest.json.asc").toString(), document.toString());
        gpg(environment, "--batch", "--armor", "--export", "--output", folder.resolve("gpg.pub.asc").toString());

        VerifiedSignature verified = Keyring.load(folder.resolve("gpg.pub.asc"))
                .verify(DOCUMENT, Files.readAllBytes(folder.resolve("manifest.json.asc")), "manifest.json");
        assertThat(verified.userId()).isEqualTo("Gpg Made <gpg@example.com>");

        SigningKey ours = SigningKey.load(TestKeys.RELEASE.secretKey(folder), Optional.empty());
        Files.writeString(folder.resolve("ours.asc"), ours.sign(DOCUMENT, NOW));
        gpg(environment, "--batch", "--import", TestKeys.RELEASE.publicKey(folder).toString());
        assertThat(gpg(environment, "--batch", "--verify", folder.resolve("ours.asc").toString(), document.toString()))
                .contains("Good signature");
    }

    @Test
    void aSha1SignatureIsRefusedAsWeak() throws IOException {
        assumeTrue(Tools.available("gpg"), "gpg is not installed (apt-get install gnupg)");
        Path home = Files.createDirectories(folder.resolve("gnupg"));
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
        Map<String, String> environment = Map.of("GNUPGHOME", home.toString());
        gpg(environment, "--batch", "--passphrase", "", "--quick-gen-key", "Old <old@example.com>", "rsa2048", "sign", "never");
        Path document = Files.write(folder.resolve("doc"), DOCUMENT);
        gpg(environment, "--batch", "--armor", "--detach-sign", "--digest-algo", "SHA1", "--output",
                folder.resolve("doc.asc").toString(), document.toString());
        gpg(environment, "--batch", "--armor", "--export", "--output", folder.resolve("old.pub.asc").toString());

        assertThatThrownBy(() -> Keyring.load(folder.resolve("old.pub.asc")).verify(DOCUMENT,
                        Files.readAllBytes(folder.resolve("doc.asc")), "doc"))
                .hasMessageContaining("weak digest (SHA-1)");
    }

    private String gpg(Map<String, String> environment, String... arguments) {
        List<String> command = new java.util.ArrayList<>(List.of("gpg"));
        command.addAll(List.of(arguments));
        return Tools.run(folder, environment, command).assertSuccess(command).output();
    }
}
