package dev.ingot.sign;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.bouncycastle.bcpg.ArmoredInputStream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.sig.KeyFlags;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSecretKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureList;
import org.bouncycastle.openpgp.PGPUtil;
import org.bouncycastle.openpgp.bc.BcPGPObjectFactory;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentVerifierBuilderProvider;

/**
 * The public keys Ingot trusts to sign releases. Several may be trusted at once, so a new key can
 * be rolled in before the old one is retired. Loaded from one key file or a folder of them
 * (armored or binary; a secret key file contributes its public half).
 */
public final class Keyring {
    /** Digests too weak to trust for a release signature (RFC 9580 §9.5 deprecates MD5, SHA-1, RIPEMD-160). */
    private static final Set<Integer> WEAK_HASHES =
            Set.of(HashAlgorithmTags.MD5, HashAlgorithmTags.SHA1, HashAlgorithmTags.RIPEMD160);

    private final List<PGPPublicKeyRing> rings;
    private final Map<Long, Owner> keysById;
    private final String source;

    private record Owner(PGPPublicKey key, PGPPublicKeyRing ring) {}

    private Keyring(List<PGPPublicKeyRing> rings, String source) {
        this.rings = List.copyOf(rings);
        this.source = source;
        Map<Long, Owner> byId = new HashMap<>();
        for (PGPPublicKeyRing ring : rings) {
            for (Iterator<PGPPublicKey> keys = ring.getPublicKeys(); keys.hasNext(); ) {
                PGPPublicKey key = keys.next();
                byId.put(key.getKeyID(), new Owner(key, ring));
            }
        }
        this.keysById = byId;
    }

    public static Keyring of(PGPPublicKeyRing ring, String source) {
        return new Keyring(List.of(ring), source);
    }

    /** Loads one key file, or every regular file in a folder (sorted by name; hidden files skipped). */
    public static Keyring load(Path fileOrFolder) {
        requireNonNull(fileOrFolder, "fileOrFolder");
        List<Path> files;
        if (Files.isDirectory(fileOrFolder)) {
            try (Stream<Path> listing = Files.list(fileOrFolder)) {
                files = listing.filter(Files::isRegularFile)
                        .filter(path -> !path.getFileName().toString().startsWith("."))
                        .sorted()
                        .toList();
            } catch (IOException e) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "read the keyring " + fileOrFolder, String.valueOf(e.getMessage()));
            }
        } else if (Files.isRegularFile(fileOrFolder)) {
            files = List.of(fileOrFolder);
        } else {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the keyring " + fileOrFolder, "no such file or folder")
                    .withHint("pass a public key file (signing-key.pub.asc) or a folder of them");
        }
        Map<String, PGPPublicKeyRing> rings = new LinkedHashMap<>();
        for (Path file : files) {
            for (PGPPublicKeyRing ring : readRings(file)) {
                rings.merge(Fingerprint.of(ring.getPublicKey().getFingerprint()).hex(), ring, (first, second) -> joined(first, second, file));
            }
        }
        if (rings.isEmpty()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the keyring " + fileOrFolder, "it holds no public key")
                    .withHint("export one with: ingot keys export --key keys/signing-key.asc");
        }
        return new Keyring(new ArrayList<>(rings.values()), fileOrFolder.toString());
    }

    private static List<PGPPublicKeyRing> readRings(Path file) {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the key file " + file, String.valueOf(e.getMessage()));
        }
        List<PGPPublicKeyRing> rings = new ArrayList<>();
        try {
            InputStream in = PGPUtil.getDecoderStream(new ByteArrayInputStream(content));
            // One file may hold several armored blocks one after another (gpg --export A B): read them all.
            while (true) {
                BcPGPObjectFactory factory = new BcPGPObjectFactory(in);
                Object object;
                boolean any = false;
                while ((object = factory.nextObject()) != null) {
                    any = true;
                    switch (object) {
                        case PGPPublicKeyRing ring -> rings.add(ring);
                        case PGPSecretKeyRing secret -> rings.add(publicHalf(secret));
                        default -> { /* signatures, markers: not keys */ }
                    }
                }
                if (!(in instanceof ArmoredInputStream armored) || !any || armored.isEndOfStream()) {
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the key file " + file,
                    "it is not an OpenPGP key (" + e.getMessage() + ")");
        }
        if (rings.isEmpty()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the key file " + file, "it holds no OpenPGP key");
        }
        return rings;
    }

    /**
     * Two copies of one key (the export a keyring started with, and a later one that carries a revocation or a new
     * subkey) count as one key with the signatures of both, as gpg merges an import: keeping only the first copy
     * would silently drop a revocation that sorts after it.
     */
    private static PGPPublicKeyRing joined(PGPPublicKeyRing first, PGPPublicKeyRing second, Path file) {
        try {
            return PGPPublicKeyRing.join(first, second);
        } catch (PGPException | RuntimeException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the key file " + file,
                    "it holds a copy of key " + Fingerprint.of(first.getPublicKey().getFingerprint()) + " that cannot be merged with the "
                            + "copy read before (" + e.getMessage() + ")");
        }
    }

    private static PGPPublicKeyRing publicHalf(PGPSecretKeyRing secret) {
        List<PGPPublicKey> keys = new ArrayList<>();
        secret.getPublicKeys().forEachRemaining(keys::add);
        return new PGPPublicKeyRing(keys);
    }

    /** Every trusted public key, armored, one block per key. */
    public String armoredPublicKeys() {
        StringBuilder text = new StringBuilder();
        for (PGPPublicKeyRing ring : rings) {
            text.append(Armor.encode(out -> ring.encode(out, true)));
        }
        return text.toString();
    }

    public String source() {
        return source;
    }

    /** The trusted keys: fingerprint and first user id of each primary key, in load order. */
    public List<KeyInfo> keys() {
        return rings.stream().map(ring -> {
            PGPPublicKey primary = ring.getPublicKey();
            Iterator<String> ids = primary.getUserIDs();
            long validSeconds = primary.getValidSeconds();
            return new KeyInfo(Fingerprint.of(primary.getFingerprint()), ids.hasNext() ? ids.next() : "",
                    primary.getCreationTime().toInstant(), algorithmName(primary.getAlgorithm()),
                    validSeconds == 0 ? null : primary.getCreationTime().toInstant().plusSeconds(validSeconds),
                    revokedNow(primary, primary));
        }).toList();
    }

    public record KeyInfo(Fingerprint fingerprint, String userId, Instant created, String algorithm, Instant expires,
            boolean revoked) {}

    /**
     * Checks an armored (or binary) detached signature over {@code data}. Throws CHECK_FAILED, saying
     * why, unless one of its signatures was made by a trusted, unrevoked, unexpired key with a strong digest.
     */
    public VerifiedSignature verify(byte[] data, byte[] signatureFile, String what) {
        List<PGPSignature> signatures = readSignatures(signatureFile, what);
        String lastReason = "it holds no signature";
        for (PGPSignature signature : signatures) {
            Owner owner = findOwner(signature);
            if (owner == null) {
                lastReason = "it was made by key " + String.format("%016X", issuer(signature))
                        + ", which is not in the trusted keyring " + source;
                continue;
            }
            if (signature.getSignatureType() != PGPSignature.BINARY_DOCUMENT) {
                lastReason = "it is not a binary-document signature (type 0x" + Integer.toHexString(signature.getSignatureType()) + ")";
                continue;
            }
            if (WEAK_HASHES.contains(signature.getHashAlgorithm())) {
                lastReason = "it uses a weak digest (" + hashName(signature.getHashAlgorithm()) + "); SHA-256 or stronger is required";
                continue;
            }
            Optional<String> unbound = selfSignatureProblem(owner.key(), owner.ring().getPublicKey());
            if (unbound.isPresent()) {
                lastReason = unbound.get();
                continue;
            }
            Instant created = signature.getCreationTime().toInstant();
            PGPPublicKey primary = owner.ring().getPublicKey();
            Optional<String> revoked = revocation(owner.key(), primary, created).or(() -> revocation(primary, primary, created));
            if (revoked.isPresent()) {
                lastReason = "the signing key " + Fingerprint.of(owner.ring().getPublicKey().getFingerprint()) + " is revoked ("
                        + revoked.get() + ")";
                continue;
            }
            if (created.isBefore(owner.key().getCreationTime().toInstant())) {
                lastReason = "it claims to be older than the key that made it (as gpg: 'Time conflict')";
                continue;
            }
            // A subkey lives no longer than its primary key (RFC 4880 §5.2.3.6): an expired primary voids its subkeys' new signatures too.
            if (expiredAt(owner.key(), created) || expiredAt(primary, created)) {
                lastReason = "the signing key had expired when the signature was made";
                continue;
            }
            if (!maySign(owner.key(), owner.ring().getPublicKey())) {
                lastReason = "the key " + Fingerprint.of(owner.key().getFingerprint()) + " is not allowed to sign data";
                continue;
            }
            try {
                signature.init(new BcPGPContentVerifierBuilderProvider(), owner.key());
                signature.update(data);
                if (signature.verify()) {
                    // primary is the signer's primary key (above)
                    Iterator<String> ids = primary.getUserIDs();
                    return new VerifiedSignature(Fingerprint.of(primary.getFingerprint()), ids.hasNext() ? ids.next() : "", created);
                }
                lastReason = "it does not match the content (the file or its signature was changed)";
            } catch (PGPException e) {
                lastReason = "it could not be checked (" + e.getMessage() + ")";
            }
        }
        throw IngotException.tried(ErrorCode.CHECK_FAILED, "verify the signature of " + what, lastReason);
    }

    /**
     * Whether a revocation voids a signature made at {@code signed}. Only a revocation signature that verifies
     * (made by the primary key over this key, RFC 4880 §5.2.4) counts: anyone can append a packet to a key file.
     * A key revoked as superseded or retired (RFC 4880 §5.2.3.23, reasons 1 and 3) keeps the signatures it made
     * before the revocation: retiring a key must not void every release it signed. Any other reason — key
     * compromised, or none given — voids them all, whatever time a signature claims.
     */
    private static Optional<String> revocation(PGPPublicKey key, PGPPublicKey primary, Instant signed) {
        int type = key.isMasterKey() ? PGPSignature.KEY_REVOCATION : PGPSignature.SUBKEY_REVOCATION;
        for (Iterator<PGPSignature> revocations = key.getSignaturesOfType(type); revocations.hasNext(); ) {
            PGPSignature revocation = revocations.next();
            if (!certifies(revocation, key, primary)) {
                continue;
            }
            var hashed = revocation.getHashedSubPackets();
            var reason = hashed == null ? null : hashed.getRevocationReason();
            int code = reason == null ? -1 : reason.getRevocationReason();
            boolean retired = code == org.bouncycastle.bcpg.sig.RevocationReasonTags.KEY_SUPERSEDED
                    || code == org.bouncycastle.bcpg.sig.RevocationReasonTags.KEY_RETIRED;
            if (!retired || !signed.isBefore(revocation.getCreationTime().toInstant())) {
                return Optional.of(retired ? "retired on " + revocation.getCreationTime().toInstant() + ", before this signature was made"
                        : (code == -1 || code == 0 ? "revoked without a reason: every signature it made is void"
                                : "compromised: every signature it made is void"));
            }
        }
        return Optional.empty();
    }

    /** Whether a revocation or binding signature verifies: by the primary key, over this key (and the primary, for a subkey). */
    private static boolean certifies(PGPSignature certification, PGPPublicKey key, PGPPublicKey primary) {
        // A signature object holds its verifier's state: one verification at a time (keyrings are shared by threads).
        synchronized (certification) {
            try {
                certification.init(new BcPGPContentVerifierBuilderProvider(), primary);
                return key.isMasterKey() ? certification.verifyCertification(key) : certification.verifyCertification(primary, key);
            } catch (PGPException | RuntimeException e) {
                return false;
            }
        }
    }

    /**
     * Why a key may not be trusted at all, or empty: a primary key needs a user ID certification or a direct-key
     * signature made by itself that verifies (RFC 4880 §5.2.1, §11.1); a subkey a binding signature by its primary.
     * Without one, nothing ties the key material to the key's flags, expiry or owner.
     */
    private static Optional<String> selfSignatureProblem(PGPPublicKey key, PGPPublicKey primary) {
        return verifiedSelfSignatures(key, primary).isEmpty()
                ? Optional.of("the key " + Fingerprint.of(key.getFingerprint()) + " has no valid self-signature (its key material or binding was altered)")
                : Optional.empty();
    }

    private static List<PGPSignature> verifiedSelfSignatures(PGPPublicKey key, PGPPublicKey primary) {
        List<PGPSignature> verified = new ArrayList<>();
        if (!key.isMasterKey()) {
            for (Iterator<PGPSignature> bindings = key.getSignaturesOfType(PGPSignature.SUBKEY_BINDING); bindings.hasNext(); ) {
                PGPSignature binding = bindings.next();
                if (certifies(binding, key, primary)) {
                    verified.add(binding);
                }
            }
            return verified;
        }
        for (Iterator<String> ids = key.getUserIDs(); ids.hasNext(); ) {
            String id = ids.next();
            for (Iterator<PGPSignature> certifications = key.getSignaturesForID(id); certifications != null && certifications.hasNext(); ) {
                PGPSignature certification = certifications.next();
                if (!certification.isCertification() || certification.getKeyID() != key.getKeyID() && issuer(certification) != key.getKeyID()) {
                    continue;
                }
                synchronized (certification) {
                    try {
                        certification.init(new BcPGPContentVerifierBuilderProvider(), key);
                        if (certification.verifyCertification(id, key)) {
                            verified.add(certification);
                        }
                    } catch (PGPException | RuntimeException ignored) {
                        // a certification that does not verify does not count
                    }
                }
            }
        }
        for (Iterator<PGPSignature> direct = key.getSignaturesOfType(PGPSignature.DIRECT_KEY); direct.hasNext(); ) {
            PGPSignature signature = direct.next();
            if (certifies(signature, key, key)) {
                verified.add(signature);
            }
        }
        return verified;
    }

    /** Whether a verified revocation voids everything the key signs from now on (the revocation status {@code keys list} shows). */
    private static boolean revokedNow(PGPPublicKey key, PGPPublicKey primary) {
        return revocation(key, primary, Instant.MAX).isPresent();
    }

    private static List<PGPSignature> readSignatures(byte[] signatureFile, String what) {
        List<PGPSignature> signatures = new ArrayList<>();
        try (InputStream in = PGPUtil.getDecoderStream(new ByteArrayInputStream(signatureFile))) {
            BcPGPObjectFactory factory = new BcPGPObjectFactory(in);
            Object object;
            while ((object = factory.nextObject()) != null) {
                if (object instanceof PGPSignatureList list) {
                    list.forEach(signatures::add);
                }
            }
        } catch (IOException | RuntimeException e) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, "verify the signature of " + what,
                    "the signature file is not an OpenPGP signature (" + e.getMessage() + ")");
        }
        if (signatures.isEmpty()) {
            String text = new String(signatureFile, StandardCharsets.US_ASCII);
            throw IngotException.tried(ErrorCode.CHECK_FAILED, "verify the signature of " + what,
                    text.isBlank() ? "the signature file is empty" : "the signature file holds no signature");
        }
        return signatures;
    }

    private Owner findOwner(PGPSignature signature) {
        return keysById.get(issuer(signature));
    }

    private static long issuer(PGPSignature signature) {
        long keyId = signature.getKeyID();
        if (keyId != 0) {
            return keyId;
        }
        var hashed = signature.getHashedSubPackets();
        if (hashed != null && hashed.getIssuerFingerprint() != null) {
            byte[] fingerprint = hashed.getIssuerFingerprint().getFingerprint();
            // A v4 key id is the low 64 bits of its fingerprint (RFC 4880 §12.2).
            return java.nio.ByteBuffer.wrap(fingerprint, fingerprint.length - 8, 8).getLong();
        }
        return 0;
    }

    /** Whether {@code key} had expired at {@code moment} (its self-signature's key expiration time; none: never). */
    private static boolean expiredAt(PGPPublicKey key, Instant moment) {
        long validSeconds = key.getValidSeconds();
        return validSeconds > 0 && moment.isAfter(key.getCreationTime().toInstant().plusSeconds(validSeconds));
    }

    /** Whether a key's verified self-signature allows data signing (or has no key flags at all, as old keys). */
    static boolean maySign(PGPPublicKey key, PGPPublicKey primary) {
        boolean sawFlags = false;
        for (PGPSignature signature : verifiedSelfSignatures(key, primary)) {
            var hashed = signature.getHashedSubPackets();
            if (hashed != null && hashed.getKeyFlags() != 0) {
                sawFlags = true;
                if ((hashed.getKeyFlags() & KeyFlags.SIGN_DATA) != 0) {
                    return true;
                }
            }
        }
        return !sawFlags;
    }

    private static String hashName(int algorithm) {
        return switch (algorithm) {
            case HashAlgorithmTags.MD5 -> "MD5";
            case HashAlgorithmTags.SHA1 -> "SHA-1";
            case HashAlgorithmTags.RIPEMD160 -> "RIPEMD-160";
            case HashAlgorithmTags.SHA224 -> "SHA-224";
            default -> "algorithm " + algorithm;
        };
    }

    private static String algorithmName(int algorithm) {
        return switch (algorithm) {
            case 1, 2, 3 -> "RSA";
            case 17 -> "DSA";
            case 19 -> "ECDSA";
            case 22 -> "EdDSA (Ed25519)";
            case 27 -> "Ed25519";
            case 28 -> "Ed448";
            default -> "algorithm " + algorithm;
        };
    }
}
