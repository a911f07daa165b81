package dev.ingot.cli;

import dev.ingot.aws.S3Store;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.store.ArtifactStore;
import dev.ingot.store.FolderStore;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** {@code --store} and {@code --endpoint-url}, and turning them into a store. */
final class StoreOptions {
    @Option(names = "--store", paramLabel = "URI", defaultValue = "./store",
            description = "Where releases live: a folder (./store, file:///srv/ingot), s3://bucket/prefix, or a store's folder served "
                    + "over https:// (read-only). Default: ${DEFAULT-VALUE}.")
    String store;

    @Option(names = "--endpoint-url", paramLabel = "URL",
            description = "For s3:// stores: an S3-compatible endpoint (MinIO, S3Proxy, Ceph) instead of AWS.")
    URI endpoint;

    /** Opens the store; {@code mustExist} refuses a folder that is not there (reading commands). */
    ArtifactStore open(CliContext context, boolean mustExist) {
        if (store.startsWith("s3://")) {
            return S3Store.at(store, Optional.ofNullable(endpoint));
        }
        if (endpoint != null) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "open the store " + store, "--endpoint-url applies to s3:// stores only");
        }
        if (store.startsWith("https://") || store.startsWith("http://")) {
            return dev.ingot.store.HttpStore.at(URI.create(store));
        }
        Path folder;
        if (store.startsWith("file://")) {
            folder = Path.of(URI.create(store));
        } else if (store.contains("://")) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "open the store " + store,
                    "its scheme is not one Ingot knows").withHint("use a folder path, file:///path or s3://bucket/prefix");
        } else {
            folder = context.resolve(Path.of(store));
        }
        if (mustExist && !Files.isDirectory(folder)) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "open the store " + store, "the folder " + folder + " does not exist")
                    .withHint("check --store, or publish to it first");
        }
        return new FolderStore(folder, store);
    }
}
