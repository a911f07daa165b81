package dev.ingot.server.http;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;

/**
 * A TLS certificate chain and its private key from PEM files (RFC 7468), as Let's Encrypt and openssl write them,
 * turned into the in-memory key store Jetty takes. The JDK reads PEM certificates itself; for the key only
 * unencrypted PKCS#8 ("BEGIN PRIVATE KEY") is read, which is short enough to do here rather than pull in a library.
 */
public final class Pem {
    private static final char[] NO_PASSWORD = new char[0];

    private Pem() {}

    public static KeyStore keyStore(Path certFile, Path keyFile) {
        try {
            List<? extends Certificate> chain;
            try (InputStream in = Files.newInputStream(certFile)) {
                chain = List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
            }
            if (chain.isEmpty()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "read the TLS certificate " + certFile, "it holds no PEM certificate");
            }
            PrivateKey key = privateKey(keyFile);
            checkPair(key, chain.getFirst(), certFile, keyFile);
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("ingot", key, NO_PASSWORD, chain.toArray(Certificate[]::new));
            return store;
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the TLS files " + certFile + " and " + keyFile, String.valueOf(e.getMessage()));
        } catch (GeneralSecurityException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "load the TLS certificate " + certFile, String.valueOf(e.getMessage()))
                    .withHint("--tls-cert is a PEM certificate chain, leaf first");
        }
    }

    /**
     * The key must be the leaf certificate's: Jetty takes any pair and the server would start, then fail every
     * handshake with an error that names neither file. Signing a probe with the key and verifying it with the
     * certificate's public key is the check that works for every key type.
     */
    private static void checkPair(PrivateKey key, Certificate leaf, Path certFile, Path keyFile) throws GeneralSecurityException {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> "Ed25519"; // EdDSA: the only other kind privateKey reads
        };
        byte[] probe = "ingot: does this key belong to this certificate?".getBytes(StandardCharsets.US_ASCII);
        boolean belongs;
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(probe);
            belongs = verifier.verify(signature);
        } catch (InvalidKeyException | SignatureException e) {
            belongs = false; // the certificate holds another kind of key
        }
        if (!belongs) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "serve HTTPS with " + certFile + " and " + keyFile,
                    "the key does not belong to the certificate (the first one in the chain)")
                    .withHint("give the key the certificate was issued for, and the leaf certificate first");
        }
    }

    public static char[] password() {
        return NO_PASSWORD.clone();
    }

    private static PrivateKey privateKey(Path keyFile) throws IOException {
        String text = Files.readString(keyFile, StandardCharsets.US_ASCII);
        String begin = "-----BEGIN PRIVATE KEY-----";
        int start = text.indexOf(begin);
        int end = text.indexOf("-----END PRIVATE KEY-----");
        if (start < 0 || end < start) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the TLS key " + keyFile, "it is not an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY)")
                    .withHint("convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
        }
        byte[] der = Base64.getMimeDecoder().decode(text.substring(start + begin.length(), end));
        for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // not this algorithm; try the next
            }
        }
        throw IngotException.tried(ErrorCode.BAD_INPUT, "read the TLS key " + keyFile, "it is neither an RSA, an EC nor an Ed25519 key");
    }
}
