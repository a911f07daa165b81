package dev.ingot.http;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Collection;
import java.util.Optional;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A TLS context that trusts the certificates of one PEM file (RFC 7468; a private CA, or a self-signed server
 * certificate) instead of the JDK's default authorities, for a control plane whose certificate no public CA signed.
 * Host names are still checked by the HTTP client.
 */
public final class PemTrust {
    private PemTrust() {}

    /**
     * @param option how the caller names the file, for the hint ("--cacert", "control_plane_ca_file in agent.json")
     */
    public static SSLContext context(Path pem, String option) {
        String attempt = "trust the certificates in " + pem;
        try (InputStream in = Files.newInputStream(pem)) {
            Collection<? extends Certificate> certificates = certificates(in);
            if (certificates.isEmpty()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, attempt, "it holds no PEM certificate")
                        .withHint(option + " names a PEM file that starts with -----BEGIN CERTIFICATE-----");
            }
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int index = 0;
            for (Certificate certificate : certificates) {
                trust.setCertificateEntry("ca-" + index++, certificate);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, attempt, String.valueOf(e.getMessage()))
                    .withHint(option + " names a PEM certificate file");
        }
    }

    /**
     * What is wrong with {@code pem} as the text of a trust file (the site parameter {@code control_plane_ca}), read
     * as {@link #context} will read the file it becomes; empty when it holds at least one certificate.
     */
    public static Optional<String> problemWith(String pem) {
        if (!pem.strip().startsWith("-----BEGIN CERTIFICATE-----")) {
            return Optional.of("is not PEM certificates (the text starts with -----BEGIN CERTIFICATE-----)");
        }
        try {
            return certificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))).isEmpty()
                    ? Optional.of("holds no certificate") : Optional.empty();
        } catch (GeneralSecurityException e) {
            return Optional.of("is not readable as X.509 certificates (" + e.getMessage() + ")");
        }
    }

    private static Collection<? extends Certificate> certificates(InputStream in) throws GeneralSecurityException {
        return CertificateFactory.getInstance("X.509").generateCertificates(in);
    }
}
