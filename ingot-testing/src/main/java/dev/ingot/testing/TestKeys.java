package dev.ingot.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Committed OpenPGP test keys (made once with {@code ingot keys generate}), so tests that pin exact
 * digests and signatures get the same bytes every run. Never use them for anything real.
 */
public enum TestKeys {
    /** The trusted release key; no passphrase. */
    RELEASE("release"),
    /** A key no test keyring trusts. */
    UNTRUSTED("untrusted"),
    /** A key protected by {@link #PASSPHRASE}. */
    PROTECTED("protected");

    public static final String PASSPHRASE = "correct horse battery staple";

    private final String name;

    TestKeys(String name) {
        this.name = name;
    }

    /** Writes the secret key file into {@code folder} and returns its path. */
    public Path secretKey(Path folder) {
        return copy(name + ".asc", folder);
    }

    /** Writes the public key file into {@code folder} and returns its path. */
    public Path publicKey(Path folder) {
        return copy(name + ".pub.asc", folder);
    }

    private static Path copy(String resource, Path folder) {
        try (InputStream in = TestKeys.class.getResourceAsStream("keys/" + resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource keys/" + resource);
            }
            Files.createDirectories(folder);
            Path target = folder.resolve(resource);
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
