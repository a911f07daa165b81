package dev.ingot.cli;

import dev.ingot.sign.Keyring;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** A required {@code --keyring}: the public keys a command trusts. */
final class KeyringOption {
    @Option(names = "--keyring", required = true, paramLabel = "FILE|DIR",
            description = "Trusted public key(s): a key file, or a folder of them (several trusted at once for key rotation).")
    Path keyring;

    Keyring load(CliContext context) {
        return Keyring.load(context.resolve(keyring));
    }
}
