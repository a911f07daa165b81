package dev.ingot.image;

import dev.ingot.error.IngotException;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.VerifiedSignature;
import dev.ingot.store.ArtifactStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The published releases in a store, newest first, each with its signature status (when a keyring
 * is given) and its known-good flag. Lists manifests, never payloads: cheap on any store.
 */
public final class Catalog {
    private static final String MANIFEST_SUFFIX = ".manifest.json";

    public enum SignatureStatus { VERIFIED, INVALID, NOT_CHECKED }

    /**
     * {@code knownGoodVerified} is false when the known-good list was read without a keyring: the flag then only
     * repeats what an unsigned file says.
     */
    public record Entry(Manifest manifest, SignatureStatus signature, Optional<String> problem, boolean knownGood,
            boolean knownGoodVerified) {}

    private Catalog() {}

    public static List<Entry> list(ArtifactStore store, Optional<Keyring> keyring, Optional<ImageName> onlyName) {
        Map<ImageName, KnownGood.Document> knownGood = new HashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (String key : store.list(ReleaseFiles.STORE_FOLDER)) {
            if (!key.endsWith(MANIFEST_SUFFIX) || key.indexOf('/', ReleaseFiles.STORE_FOLDER.length()) >= 0) {
                continue;
            }
            Optional<byte[]> content;
            try {
                content = store.readAtMost(key, ReleaseVerifier.SMALL_FILE_LIMIT).map(ArtifactStore.VersionedBytes::content);
            } catch (IngotException e) {
                if (e.code() != dev.ingot.error.ErrorCode.CHECK_FAILED) {
                    throw e;
                }
                continue; // too large to be a manifest: for `verify` to report
            }
            if (content.isEmpty()) {
                continue; // removed while listing
            }
            Manifest manifest;
            try {
                manifest = ManifestJson.parse(content.get(), key);
            } catch (IngotException e) {
                continue; // unreadable manifests are for `verify` to report
            }
            if (onlyName.isPresent() && !onlyName.get().equals(manifest.name())) {
                continue;
            }
            SignatureStatus status = SignatureStatus.NOT_CHECKED;
            Optional<String> problem = Optional.empty();
            if (keyring.isPresent()) {
                try {
                    Optional<byte[]> signature = store.readAtMost(key + ".asc", ReleaseVerifier.SMALL_FILE_LIMIT)
                            .map(ArtifactStore.VersionedBytes::content);
                    if (signature.isEmpty()) {
                        throw IngotException.tried(dev.ingot.error.ErrorCode.CHECK_FAILED, "verify " + key, "its signature is missing");
                    }
                    VerifiedSignature verified = keyring.get().verify(content.get(), signature.get(), key);
                    String storedAs = key.substring(ReleaseFiles.STORE_FOLDER.length());
                    String itsName = new ReleaseFiles(manifest.name(), manifest.version()).manifest();
                    if (!storedAs.equals(itsName)) {
                        // A signed manifest of another release, copied under this name (as ReleaseVerifier refuses it).
                        throw IngotException.tried(dev.ingot.error.ErrorCode.CHECK_FAILED, "verify " + key, "it describes "
                                + manifest.name() + " " + manifest.version() + " but is stored as " + storedAs);
                    }
                    status = verified.signer().equals(manifest.signer().fingerprint()) ? SignatureStatus.VERIFIED : SignatureStatus.INVALID;
                } catch (IngotException e) {
                    status = SignatureStatus.INVALID;
                    problem = Optional.of(ReleaseVerifier.reasonOf(e));
                }
            }
            KnownGood.Document document = knownGood.computeIfAbsent(manifest.name(),
                    name -> KnownGood.load(store, name, keyring).document());
            entries.add(new Entry(manifest, status, problem, document.contains(manifest.version()), keyring.isPresent()));
        }
        entries.sort(Comparator.comparing((Entry entry) -> entry.manifest().name().value())
                .thenComparing(entry -> entry.manifest().version(), Comparator.reverseOrder()));
        return entries;
    }
}
