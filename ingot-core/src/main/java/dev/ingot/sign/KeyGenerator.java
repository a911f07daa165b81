package dev.ingot.sign;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import org.bouncycastle.bcpg.CompressionAlgorithmTags;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyPacket;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.bcpg.sig.Features;
import org.bouncycastle.bcpg.sig.KeyFlags;
import org.bouncycastle.crypto.generators.Ed25519KeyPairGenerator;
import org.bouncycastle.crypto.params.Ed25519KeyGenerationParameters;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPKeyPair;
import org.bouncycastle.openpgp.PGPKeyRingGenerator;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSecretKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator;
import org.bouncycastle.openpgp.operator.PBESecretKeyEncryptor;
import org.bouncycastle.openpgp.operator.PGPDigestCalculator;
import org.bouncycastle.openpgp.operator.bc.BcPBESecretKeyEncryptorBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;
import org.bouncycastle.openpgp.operator.bc.BcPGPKeyPair;

/**
 * Makes a release signing key: an Ed25519 OpenPGP v4 primary key that certifies and signs
 * (RFC 4880 with the EdDSA "legacy" encoding that gpg 2.2 and later read), SHA-512 preferred.
 */
public final class KeyGenerator {
    private final SecureRandom random;

    public KeyGenerator(SecureRandom random) {
        this.random = random;
    }

    public GeneratedKey generate(String userId, Optional<char[]> passphrase, Instant created) {
        if (userId == null || userId.isBlank()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "generate a signing key", "the key has no name")
                    .withHint("pass --name \"Edge Release 2026\"");
        }
        try {
            Ed25519KeyPairGenerator generator = new Ed25519KeyPairGenerator();
            generator.init(new Ed25519KeyGenerationParameters(random));
            PGPKeyPair pair = new BcPGPKeyPair(PublicKeyPacket.VERSION_4, PublicKeyAlgorithmTags.EDDSA_LEGACY,
                    generator.generateKeyPair(), Date.from(created));

            PGPSignatureSubpacketGenerator preferences = new PGPSignatureSubpacketGenerator();
            preferences.setKeyFlags(false, KeyFlags.CERTIFY_OTHER | KeyFlags.SIGN_DATA);
            preferences.setPreferredHashAlgorithms(false, new int[] {HashAlgorithmTags.SHA512, HashAlgorithmTags.SHA256});
            preferences.setPreferredSymmetricAlgorithms(false,
                    new int[] {SymmetricKeyAlgorithmTags.AES_256, SymmetricKeyAlgorithmTags.AES_128});
            preferences.setPreferredCompressionAlgorithms(false, new int[] {CompressionAlgorithmTags.UNCOMPRESSED});
            preferences.setFeature(false, Features.FEATURE_MODIFICATION_DETECTION);
            preferences.setIssuerFingerprint(false, pair.getPublicKey());

            PGPDigestCalculator sha1 = new BcPGPDigestCalculatorProvider().get(HashAlgorithmTags.SHA1);
            PBESecretKeyEncryptor encryptor = passphrase.isEmpty() ? null
                    : new BcPBESecretKeyEncryptorBuilder(SymmetricKeyAlgorithmTags.AES_256,
                                    new BcPGPDigestCalculatorProvider().get(HashAlgorithmTags.SHA256), 0x60)
                            .setSecureRandom(random)
                            .build(passphrase.get());
            PGPKeyRingGenerator rings = new PGPKeyRingGenerator(PGPSignature.POSITIVE_CERTIFICATION, pair, userId, sha1,
                    preferences.generate(), null,
                    new BcPGPContentSignerBuilder(pair.getPublicKey().getAlgorithm(), HashAlgorithmTags.SHA512),
                    encryptor);
            PGPSecretKeyRing secret = rings.generateSecretKeyRing();
            PGPPublicKeyRing publicRing = rings.generatePublicKeyRing();
            return new GeneratedKey(Armor.encode(secret::encode), Armor.encode(publicRing::encode),
                    Fingerprint.of(publicRing.getPublicKey().getFingerprint()), userId);
        } catch (PGPException e) {
            throw IngotException.tried(ErrorCode.INTERNAL, "generate a signing key", e.getMessage()).withCause(e);
        }
    }

    /** The armored secret and public key, ready to be written to files. */
    public record GeneratedKey(String armoredSecretKey, String armoredPublicKey, Fingerprint fingerprint, String userId) {}
}
