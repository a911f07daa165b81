package dev.ingot.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.sign.KeyGenerator;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.Passphrase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "keys", mixinStandardHelpOptions = true, description = "OpenPGP release signing keys and the trusted keyring.",
        subcommands = {KeysCommand.Generate.class, KeysCommand.ListKeys.class, KeysCommand.Export.class})
final class KeysCommand {

    @Command(name = "generate",
            description = {"Make a release signing key (Ed25519, OpenPGP v4).",
                "Writes OUT/signing-key.asc (secret, mode 0600) and OUT/signing-key.pub.asc (public: give it to",
                "every device and operator as --keyring). Refuses to overwrite existing key files."},
            footer = {"", "Example:", "  ingot keys generate --name \"Edge Release 2026\" --out keys/"})
    static final class Generate extends BaseCommand {
        @Option(names = "--name", required = true, paramLabel = "USER-ID", description = "The key's user id, e.g. \"Edge Release 2026 <release@example.com>\".")
        String name;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for the key files (created when missing).")
        Path out;

        @Option(names = "--passphrase-file", paramLabel = "FILE",
                description = "Protect the secret key with the first line of FILE (else INGOT_KEY_PASSPHRASE, else unprotected).")
        Path passphraseFile;

        Generate(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() throws IOException {
            Path folder = context.resolve(out);
            Path secretFile = folder.resolve("signing-key.asc");
            Path publicFile = folder.resolve("signing-key.pub.asc");
            for (Path existing : new Path[] {secretFile, publicFile}) {
                if (Files.exists(existing)) {
                    throw IngotException.tried(ErrorCode.CONFLICT, "generate a signing key in " + folder, existing + " already exists")
                            .withHint("choose another --out folder; Ingot never overwrites a key");
                }
            }
            Optional<char[]> passphrase = Passphrase.resolve(Optional.ofNullable(passphraseFile).map(context::resolve),
                    context.environment());
            KeyGenerator.GeneratedKey key = new KeyGenerator(new SecureRandom()).generate(name, passphrase, context.clock().instant());
            Files.createDirectories(folder);
            writeNew(secretFile, key.armoredSecretKey(), true);
            try {
                writeNew(publicFile, key.armoredPublicKey(), false);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(secretFile);
                throw e;
            }
            ObjectNode json = Ingot.JSON.createObjectNode();
            json.put("fingerprint", key.fingerprint().hex());
            json.put("user_id", key.userId());
            json.put("secret_key", secretFile.toString());
            json.put("public_key", publicFile.toString());
            json.put("protected", passphrase.isPresent());
            emit("Generated signing key " + key.fingerprint() + " (" + key.userId() + ")\n"
                    + "  secret: " + secretFile + " (mode 0600" + (passphrase.isPresent() ? ", passphrase-protected" : ", NOT passphrase-protected") + ")\n"
                    + "  public: " + publicFile + "  <- pass this as --keyring\n", json);
            return 0;
        }

        /** Creates the file with its final permissions from the start, failing if it exists (no window where a secret is world-readable). */
        private static void writeNew(Path file, String content, boolean secret) throws IOException {
            Path temp = file.resolveSibling("." + file.getFileName() + ".tmp");
            Files.deleteIfExists(temp);
            Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--")));
            try {
                Files.writeString(temp, content, StandardCharsets.US_ASCII);
                try (var channel = java.nio.channels.FileChannel.open(temp, java.nio.file.StandardOpenOption.WRITE)) {
                    channel.force(true);
                }
                try {
                    Files.createLink(file, temp);
                } catch (FileAlreadyExistsException e) {
                    throw IngotException.tried(ErrorCode.CONFLICT, "write " + file, "it already exists");
                }
            } finally {
                Files.deleteIfExists(temp);
            }
        }
    }

    @Command(name = "list",
            description = "Show the keys a keyring trusts: fingerprint, user id, algorithm, creation, expiry, revocation.",
            footer = {"", "Example:", "  ingot keys list --keyring keys/signing-key.pub.asc"})
    static final class ListKeys extends BaseCommand {
        @Option(names = "--keyring", required = true, paramLabel = "FILE|DIR",
                description = "A public key file, or a folder of them (several trusted keys: rotation).")
        Path keyring;

        ListKeys(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            Keyring ring = Keyring.load(context.resolve(keyring));
            ArrayNode keys = Ingot.JSON.createArrayNode();
            StringBuilder human = new StringBuilder();
            for (Keyring.KeyInfo key : ring.keys()) {
                ObjectNode node = keys.addObject();
                node.put("fingerprint", key.fingerprint().hex());
                node.put("user_id", key.userId());
                node.put("algorithm", key.algorithm());
                node.put("created", key.created().toString());
                if (key.expires() != null) {
                    node.put("expires", key.expires().toString());
                }
                node.put("revoked", key.revoked());
                human.append(key.fingerprint()).append("  ").append(key.userId()).append("  ").append(key.algorithm())
                        .append(", created ").append(key.created())
                        .append(key.expires() == null ? "" : ", expires " + key.expires())
                        .append(key.revoked() ? ", REVOKED" : "").append('\n');
            }
            ObjectNode json = Ingot.JSON.createObjectNode();
            json.put("keyring", ring.source());
            json.set("keys", keys);
            emit(human.toString(), json);
            return 0;
        }
    }

    @Command(name = "export",
            description = "Print (or write) the armored public key of a secret key file, for --keyring and gpg --import.",
            footer = {"", "Example:", "  ingot keys export --key keys/signing-key.asc --out trusted/release-2026.asc"})
    static final class Export extends BaseCommand {
        @Option(names = "--key", required = true, paramLabel = "FILE", description = "The secret (or public) key file.")
        Path key;

        @Option(names = "--out", paramLabel = "FILE", description = "Write here instead of standard output (refuses to overwrite).")
        Path out;

        Export(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() throws IOException {
            Keyring ring = Keyring.load(context.resolve(key));
            String armored = ring.armoredPublicKeys();
            if (out != null) {
                Path target = context.resolve(out);
                if (Files.exists(target)) {
                    throw IngotException.tried(ErrorCode.CONFLICT, "export to " + target, "the file already exists");
                }
                Files.writeString(target, armored, StandardCharsets.US_ASCII);
            }
            ObjectNode json = Ingot.JSON.createObjectNode();
            json.put("fingerprint", ring.keys().getFirst().fingerprint().hex());
            json.put("public_key", armored);
            if (out != null) {
                json.put("written_to", context.resolve(out).toString());
            }
            emit(out == null ? armored : "Wrote the public key " + ring.keys().getFirst().fingerprint() + " to " + context.resolve(out), json);
            return 0;
        }
    }
}
