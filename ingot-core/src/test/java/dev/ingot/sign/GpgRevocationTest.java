package dev.ingot.sign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.testing.Tools;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPUtil;
import org.bouncycastle.openpgp.operator.bc.BcKeyFingerprintCalculator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keys and revocations made by the real {@code gpg}, in a throwaway GNUPGHOME: the revocation certificate gpg writes
 * under {@code openpgp-revocs.d/} when it makes a key (no reason: compromise assumed), and {@code gpg --gen-revoke} with
 * a reason. A key revoked without a reason or as compromised voids every signature it made; one retired voids only the
 * signatures made after the revocation. A forged revocation or self-signature (one byte changed) does not count.
 */
class GpgRevocationTest {
    private static final byte[] MANIFEST = "{\n  \"name\" : \"edge-golden\",\n  \"version\" : \"v1.4\"\n}\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path folder;

    private Path home;
    private String fingerprint;
    private SigningKey key;
    /** The key was made 30 days ago; a release signed 10 days ago predates any revocation made now. */
    private final Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    private final Instant tenDaysAgo = now.minus(10, ChronoUnit.DAYS);
    private final Instant tomorrow = now.plus(1, ChronoUnit.DAYS);

    @BeforeEach
    void aKeyMadeByGpg() throws IOException {
        assumeTrue(Tools.available("gpg"), "gpg is not installed (apt-get install gnupg)");
        home = Files.createDirectories(folder.resolve("gnupg"));
        Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        String created = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss").withZone(ZoneOffset.UTC).format(now.minus(30, ChronoUnit.DAYS));
        gpg("--batch", "--passphrase", "", "--faked-system-time", created + "!", "--quick-gen-key", "Gpg Release <gpg@example.com>",
                "ed25519", "sign", "never");
        fingerprint = gpg("--list-keys", "--with-colons").lines().filter(line -> line.startsWith("fpr:")).findFirst().orElseThrow()
                .split(":")[9];
        Path secret = Files.writeString(folder.resolve("secret.asc"),
                gpg("--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--armor", "--export-secret-keys", fingerprint));
        key = SigningKey.load(secret, Optional.empty());
    }

    private String gpg(String... arguments) {
        List<String> command = new ArrayList<>(List.of("gpg", "--homedir", home.toString(), "--no-tty"));
        command.addAll(List.of(arguments));
        Tools.Outcome outcome = Tools.run(folder, Map.of("GNUPGHOME", home.toString()), command);
        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
        return outcome.output();
    }

    private byte[] exported() throws IOException {
        Path file = folder.resolve("exported.gpg");
        Files.deleteIfExists(file);
        gpg("--output", file.toString(), "--export", fingerprint);
        return Files.readAllBytes(file);
    }

    private Keyring keyring(byte[] publicKey) throws IOException {
        return Keyring.load(Files.write(folder.resolve("trusted.gpg"), publicKey));
    }

    private void revokeWith(String reasonCode) {
        Path certificate = folder.resolve("revoke-" + reasonCode + ".asc");
        Tools.Outcome outcome = Tools.run(folder, Map.of("GNUPGHOME", home.toString()), List.of("sh", "-c",
                "printf 'y\\n" + reasonCode + "\\nmade by the test\\n\\ny\\n' | gpg --homedir '" + home + "' --no-tty --command-fd 0 "
                        + "--pinentry-mode loopback --passphrase '' --armor --output '" + certificate + "' --gen-revoke " + fingerprint));
        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
        gpg("--batch", "--import", certificate.toString());
    }

    @Test
    void anUnrevokedGpgKeyVerifiesWhatItSigned() throws IOException {
        Keyring trusted = keyring(exported());

        assertThat(trusted.verify(MANIFEST, key.sign(MANIFEST, tenDaysAgo).getBytes(StandardCharsets.US_ASCII), "m").signer().hex())
                .isEqualTo(fingerprint);
    }

    @Test
    void theRevocationCertificateGpgWroteWhenItMadeTheKeyVoidsEverySignature() throws IOException {
        Path certificate = home.resolve("openpgp-revocs.d").resolve(fingerprint + ".rev");
        // gpg puts a colon before the armor so the file is not imported by accident; the user removes it to use it.
        Files.writeString(certificate, Files.readString(certificate).replace(":-----BEGIN PGP PUBLIC KEY BLOCK-----",
                "-----BEGIN PGP PUBLIC KEY BLOCK-----"));
        gpg("--batch", "--import", certificate.toString());
        Keyring trusted = keyring(exported());

        for (Instant signed : List.of(tenDaysAgo, tomorrow)) {
            assertThatThrownBy(() -> trusted.verify(MANIFEST, key.sign(MANIFEST, signed).getBytes(StandardCharsets.US_ASCII), "m"))
                    .hasMessageContaining("revoked without a reason: every signature it made is void");
        }
        assertThat(trusted.keys()).singleElement().satisfies(info -> assertThat(info.revoked()).isTrue());
    }

    @Test
    void aKeyRevokedAsCompromisedVoidsEvenSignaturesMadeBeforeTheRevocation() throws IOException {
        revokeWith("1");
        Keyring trusted = keyring(exported());

        assertThatThrownBy(() -> trusted.verify(MANIFEST, key.sign(MANIFEST, tenDaysAgo).getBytes(StandardCharsets.US_ASCII), "m"))
                .hasMessageContaining("compromised: every signature it made is void");
    }

    @Test
    void aRetiredKeyKeepsWhatItSignedBeforeAndVoidsWhatItSignsAfter() throws IOException {
        revokeWith("3");
        Keyring trusted = keyring(exported());

        assertThat(trusted.verify(MANIFEST, key.sign(MANIFEST, tenDaysAgo).getBytes(StandardCharsets.US_ASCII), "m").created())
                .isEqualTo(tenDaysAgo);
        assertThatThrownBy(() -> trusted.verify(MANIFEST, key.sign(MANIFEST, tomorrow).getBytes(StandardCharsets.US_ASCII), "m"))
                .hasMessageContaining("retired on").hasMessageContaining("before this signature was made");
    }

    @Test
    void aForgedRevocationDoesNotCount() throws IOException {
        revokeWith("1");
        byte[] key = exported();
        flipLastByteOf(key, ring(key).getPublicKey().getSignaturesOfType(PGPSignature.KEY_REVOCATION).next());
        Keyring trusted = keyring(key);

        assertThat(trusted.verify(MANIFEST, this.key.sign(MANIFEST, tenDaysAgo).getBytes(StandardCharsets.US_ASCII), "m").signer().hex())
                .isEqualTo(fingerprint);
    }

    @Test
    void aKeyWhoseSelfSignatureWasAlteredIsNotTrusted() throws IOException {
        byte[] key = exported();
        flipLastByteOf(key, ring(key).getPublicKey().getSignaturesForID("Gpg Release <gpg@example.com>").next());
        Keyring trusted = keyring(key);

        assertThatThrownBy(() -> trusted.verify(MANIFEST, this.key.sign(MANIFEST, tenDaysAgo).getBytes(StandardCharsets.US_ASCII), "m"))
                .hasMessageContaining("has no valid self-signature");
    }

    @Test
    void aRevokedCopyOfAKeyBesideItsEarlierExportInAKeyringFolderStillRevokesIt() throws IOException {
        // The operator's flow after a compromise: the key was trusted as 2026.pub.asc; its export with the revocation
        // is added beside it. Both copies are the same key: the revocation must count, whichever file sorts first.
        Path trusted = Files.createDirectories(folder.resolve("trusted"));
        Files.write(trusted.resolve("2026.pub.asc"), exported());
        revokeWith("1");
        Files.write(trusted.resolve("2026.revoked.asc"), exported());

        Keyring keyring = Keyring.load(trusted);

        assertThatThrownBy(() -> keyring.verify(MANIFEST, key.sign(MANIFEST, tenDaysAgo).getBytes(StandardCharsets.US_ASCII), "m"))
                .hasMessageContaining("compromised: every signature it made is void");
        assertThat(keyring.keys()).singleElement().satisfies(info -> assertThat(info.revoked()).isTrue());
    }

    @Test
    void aKeyConcatenatedTwiceIntoOneFileWithTheRevocationSecondStillRevokesIt() throws IOException {
        byte[] before = exported();
        revokeWith("1");
        byte[] after = exported();
        byte[] both = new byte[before.length + after.length];
        System.arraycopy(before, 0, both, 0, before.length);
        System.arraycopy(after, 0, both, before.length, after.length);

        Keyring keyring = keyring(both);

        assertThatThrownBy(() -> keyring.verify(MANIFEST, key.sign(MANIFEST, tenDaysAgo).getBytes(StandardCharsets.US_ASCII), "m"))
                .hasMessageContaining("compromised: every signature it made is void");
    }

    @Test
    void aSigningSubkeyOfAnExpiredPrimaryKeySignsNothingAfterThePrimaryExpired() throws IOException {
        // gpg: a primary key (certify only) that expired ten days ago, with a signing subkey that never expires.
        DateTimeFormatter gpgTime = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss").withZone(ZoneOffset.UTC);
        String created = gpgTime.format(now.minus(30, ChronoUnit.DAYS));
        gpg("--batch", "--passphrase", "", "--faked-system-time", created + "!", "--quick-gen-key", "Expiring <expiring@example.com>",
                "ed25519", "cert", "20d");
        String primary = gpg("--list-keys", "--with-colons", "expiring@example.com").lines().filter(line -> line.startsWith("fpr:"))
                .findFirst().orElseThrow().split(":")[9];
        gpg("--batch", "--passphrase", "", "--faked-system-time", created + "!", "--quick-add-key", primary, "ed25519", "sign", "never");
        Path secret = Files.writeString(folder.resolve("expiring.asc"),
                gpg("--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--armor", "--export-secret-keys", primary));
        SigningKey subkey = SigningKey.load(secret, Optional.empty());
        Path exported = folder.resolve("expiring.gpg");
        gpg("--output", exported.toString(), "--export", primary);
        Keyring trusted = Keyring.load(exported);

        assertThat(trusted.verify(MANIFEST, subkey.sign(MANIFEST, now.minus(25, ChronoUnit.DAYS)).getBytes(StandardCharsets.US_ASCII), "m")
                .signer().hex()).as("signed while the primary key was valid").isEqualTo(primary);
        assertThatThrownBy(() -> trusted.verify(MANIFEST, subkey.sign(MANIFEST, now.minus(5, ChronoUnit.DAYS)).getBytes(StandardCharsets.US_ASCII), "m"))
                .hasMessageContaining("expired");
    }

    private static PGPPublicKeyRing ring(byte[] binary) throws IOException {
        return new PGPPublicKeyRing(PGPUtil.getDecoderStream(new ByteArrayInputStream(binary)), new BcKeyFingerprintCalculator());
    }

    /** Changes the last byte of a signature packet inside an exported key: still parses, no longer verifies. */
    private static void flipLastByteOf(byte[] key, PGPSignature signature) throws IOException {
        byte[] packet = signature.getEncoded();
        for (int i = 0; i + packet.length <= key.length; i++) {
            if (java.util.Arrays.equals(key, i, i + packet.length, packet, 0, packet.length)) {
                key[i + packet.length - 1] ^= 0x01;
                return;
            }
        }
        throw new AssertionError("the signature packet is not in the exported key");
    }
}
