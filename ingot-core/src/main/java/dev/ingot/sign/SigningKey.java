package dev.ingot.sign;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;
import java.util.Iterator;
import java.util.Optional;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPPrivateKey;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPSecretKey;
import org.bouncycastle.openpgp.PGPSecretKeyRing;
import org.bouncycastle.openpgp.PGPSecretKeyRingCollection;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureGenerator;
import org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator;
import org.bouncycastle.openpgp.PGPUtil;
import org.bouncycastle.openpgp.operator.bc.BcKeyFingerprintCalculator;
import org.bouncycastle.openpgp.operator.bc.BcPBESecretKeyDecryptorBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;

/** An unlocked OpenPGP secret key that makes detached signatures (SHA-512) over release documents. */
public final class SigningKey {
    private final PGPSecretKeyRing ring;
    private final PGPSecretKey signingKey;
    private final PGPPrivateKey privateKey;

    private SigningKey(PGPSecretKeyRing ring, PGPSecretKey signingKey, PGPPrivateKey privateKey) {
        this.ring = ring;
        this.signingKey = signingKey;
        this.privateKey = privateKey;
    }

    /** Reads an armored (or binary) secret key file, e.g. one written by {@code ingot keys generate} or {@code gpg --export-secret-keys}. */
    public static SigningKey load(Path file, Optional<char[]> passphrase) {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the signing key " + file, "the file does not exist")
                    .withHint("create one with: ingot keys generate --name \"Edge Release 2026\" --out keys/");
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the signing key " + file, String.valueOf(e.getMessage()));
        }
        PGPSecretKeyRing ring = parse(content, file);
        PGPSecretKey signing = findSigningKey(ring)
                .orElseThrow(() -> IngotException.tried(ErrorCode.BAD_INPUT, "use the key in " + file,
                        "it has no key that may sign data"));
        if (signing.isPrivateKeyEmpty()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "use the key in " + file,
                    "its signing key's secret part is not in the file (a stub, e.g. from a smartcard)");
        }
        PGPPrivateKey privateKey;
        try {
            boolean encrypted = signing.getKeyEncryptionAlgorithm() != 0;
            if (encrypted && passphrase.isEmpty()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "unlock the signing key " + file,
                                "it is protected by a passphrase and none was given")
                        .withHint("pass --passphrase-file FILE or set " + Passphrase.ENVIRONMENT_VARIABLE);
            }
            privateKey = signing.extractPrivateKey(encrypted
                    ? new BcPBESecretKeyDecryptorBuilder(new BcPGPDigestCalculatorProvider()).build(passphrase.get())
                    : null);
        } catch (PGPException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "unlock the signing key " + file,
                            "the passphrase is wrong (" + e.getMessage() + ")")
                    .withHint("check --passphrase-file or " + Passphrase.ENVIRONMENT_VARIABLE);
        }
        return new SigningKey(ring, signing, privateKey);
    }

    private static PGPSecretKeyRing parse(byte[] content, Path file) {
        try (InputStream in = PGPUtil.getDecoderStream(new ByteArrayInputStream(content))) {
            PGPSecretKeyRingCollection rings = new PGPSecretKeyRingCollection(in, new BcKeyFingerprintCalculator());
            Iterator<PGPSecretKeyRing> iterator = rings.getKeyRings();
            if (!iterator.hasNext()) {
                throw new PGPException("no secret key in it");
            }
            PGPSecretKeyRing ring = iterator.next();
            if (iterator.hasNext()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "read the signing key " + file,
                        "it holds more than one secret key; pass a file with exactly one");
            }
            return ring;
        } catch (IOException | PGPException | RuntimeException e) {
            if (e instanceof IngotException ingot) {
                throw ingot;
            }
            String text = new String(content, StandardCharsets.US_ASCII);
            String reason = text.contains("PUBLIC KEY BLOCK")
                    ? "it is a public key; signing needs the secret key (signing-key.asc, not signing-key.pub.asc)"
                    : "it is not an OpenPGP secret key (" + e.getMessage() + ")";
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the signing key " + file, reason);
        }
    }

    private static Optional<PGPSecretKey> findSigningKey(PGPSecretKeyRing ring) {
        PGPSecretKey fallback = null;
        for (Iterator<PGPSecretKey> keys = ring.getSecretKeys(); keys.hasNext(); ) {
            PGPSecretKey key = keys.next();
            if (!key.isSigningKey() || key.getPublicKey().hasRevocation()) {
                continue;
            }
            if (Keyring.maySign(key.getPublicKey(), ring.getPublicKey())) {
                return Optional.of(key);
            }
            if (fallback == null) {
                fallback = key;
            }
        }
        return Optional.ofNullable(fallback);
    }

    /** The primary key's fingerprint: what keyrings and manifests name. */
    public Fingerprint fingerprint() {
        return Fingerprint.of(ring.getPublicKey().getFingerprint());
    }

    public String userId() {
        Iterator<String> ids = ring.getPublicKey().getUserIDs();
        return ids.hasNext() ? ids.next() : "";
    }

    public PGPPublicKey primaryPublicKey() {
        return ring.getPublicKey();
    }

    /** The public half, armored, as {@code gpg --import} and {@code --keyring} take it. */
    public String armoredPublicKey() {
        java.util.List<PGPPublicKey> keys = new java.util.ArrayList<>();
        ring.getPublicKeys().forEachRemaining(keys::add);
        org.bouncycastle.openpgp.PGPPublicKeyRing publicRing = new org.bouncycastle.openpgp.PGPPublicKeyRing(keys);
        return Armor.encode(out -> publicRing.encode(out, true));
    }

    /** An armored detached signature over {@code data} (signature type 0x00, binary document), made at {@code when}. */
    public String sign(byte[] data, Instant when) {
        requireNonNull(data, "data");
        try {
            PGPPublicKey publicKey = signingKey.getPublicKey();
            PGPSignatureGenerator generator = new PGPSignatureGenerator(
                    new BcPGPContentSignerBuilder(publicKey.getAlgorithm(), HashAlgorithmTags.SHA512), publicKey);
            generator.init(PGPSignature.BINARY_DOCUMENT, privateKey);
            PGPSignatureSubpacketGenerator hashed = new PGPSignatureSubpacketGenerator();
            hashed.setSignatureCreationTime(true, Date.from(when));
            hashed.setIssuerFingerprint(false, publicKey);
            generator.setHashedSubpackets(hashed.generate());
            PGPSignatureSubpacketGenerator unhashed = new PGPSignatureSubpacketGenerator();
            unhashed.setIssuerKeyID(false, publicKey.getKeyID());
            generator.setUnhashedSubpackets(unhashed.generate());
            generator.update(data);
            PGPSignature signature = generator.generate();
            return Armor.encode(signature::encode);
        } catch (PGPException e) {
            throw IngotException.tried(ErrorCode.INTERNAL, "sign with key " + fingerprint(), e.getMessage()).withCause(e);
        }
    }

    /** A keyring that trusts exactly this key: to check a signature right after making it. */
    public Keyring asKeyring() {
        java.util.List<PGPPublicKey> keys = new java.util.ArrayList<>();
        ring.getPublicKeys().forEachRemaining(keys::add);
        return Keyring.of(new org.bouncycastle.openpgp.PGPPublicKeyRing(keys), "key " + fingerprint());
    }
}
