package dev.ingot.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.cache.UsbCache;
import dev.ingot.error.ErrorCode;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.sign.Keyring;
import dev.ingot.store.ArtifactStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "cache", mixinStandardHelpOptions = true, description = "The USB cache of known-good images kept at each site.",
        subcommands = {CacheCommand.Sync.class, CacheCommand.ListCache.class})
final class CacheCommand {

    @Command(name = "sync",
            description = {"Make the cache folder hold the newest known-good images (default: the last two), each fetched",
                "and verified in full before an older one is removed. A cached copy that no longer verifies is fetched again."},
            footer = {"", "Example:", "  ingot cache sync --dir /media/usb/ingot --store s3://artifacts/prod --keyring trusted/"})
    static final class Sync extends BaseCommand {
        @Option(names = "--dir", required = true, paramLabel = "DIR", description = "The cache folder (on the USB drive).")
        Path dir;

        @Mixin
        StoreOptions store = new StoreOptions();

        @Mixin
        ImageCommand.NameOption name = new ImageCommand.NameOption();

        @Mixin
        KeyringOption keyring = new KeyringOption();

        @Option(names = "--keep", paramLabel = "N", defaultValue = "2", description = "How many known-good versions to keep. Default: ${DEFAULT-VALUE}.")
        int keep;

        Sync(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            Keyring ring = keyring.load(context);
            try (ArtifactStore artifactStore = store.open(context, true)) {
                UsbCache.SyncResult result = new UsbCache(context.resolve(dir), ring, progress()).sync(artifactStore, name.value(), keep);
                ObjectNode json = Ingot.JSON.createObjectNode();
                json.put("dir", context.resolve(dir).toString());
                json.set("wanted", versions(result.wanted()));
                json.set("fetched", versions(result.fetched()));
                json.set("kept", versions(result.kept()));
                json.set("removed", versions(result.removed()));
                emit("Cache " + context.resolve(dir) + " holds " + join(result.wanted()) + "\n"
                        + "  fetched: " + join(result.fetched()) + "\n  already there: " + join(result.kept()) + "\n  removed: "
                        + join(result.removed()), json);
                return 0;
            }
        }
    }

    @Command(name = "list",
            description = "Show the cached images and whether each verifies (signature and digests; --deep also decompresses).",
            footer = {"", "Example:", "  ingot cache list --dir /media/usb/ingot --keyring trusted/"})
    static final class ListCache extends BaseCommand {
        @Option(names = "--dir", required = true, paramLabel = "DIR", description = "The cache folder.")
        Path dir;

        @Mixin
        KeyringOption keyring = new KeyringOption();

        @Option(names = "--name", paramLabel = "NAME", description = "Only this image line.")
        String name;

        @Option(names = "--deep", description = "Decompress each payload and check the image's and every range's SHA-256.")
        boolean deep;

        ListCache(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            UsbCache cache = new UsbCache(context.resolve(dir), keyring.load(context), progress());
            List<UsbCache.Entry> entries = cache.list(Optional.ofNullable(name).map(ImageName::new), deep);
            ArrayNode list = Ingot.JSON.createArrayNode();
            StringBuilder human = new StringBuilder(entries.isEmpty() ? "The cache " + cache.folder() + " holds no image.\n" : "");
            for (UsbCache.Entry entry : entries) {
                ObjectNode node = list.addObject();
                node.put("name", entry.name().value());
                node.put("version", entry.version().toString());
                node.put("ok", entry.ok());
                node.put("detail", entry.detail());
                node.put("bytes", entry.bytes());
                entry.manifest().ifPresent(manifest -> node.put("build_date", manifest.buildDate().toString()));
                human.append(String.format("%-12s %-10s %10s  %s  %s%n", entry.name(), entry.version(), Sizes.bytes(entry.bytes()),
                        entry.ok() ? "ok    " : "FAILED", entry.detail()));
            }
            ObjectNode json = Ingot.JSON.createObjectNode();
            json.put("dir", cache.folder().toString());
            json.set("images", list);
            emit(human.toString(), json);
            return entries.stream().allMatch(UsbCache.Entry::ok) ? 0 : ErrorCode.CHECK_FAILED.exitCode();
        }
    }

    static ArrayNode versions(List<ImageVersion> versions) {
        ArrayNode array = Ingot.JSON.createArrayNode();
        versions.forEach(version -> array.add(version.toString()));
        return array;
    }

    static String join(List<ImageVersion> versions) {
        return versions.isEmpty() ? "-" : String.join(", ", versions.stream().map(ImageVersion::toString).toList());
    }
}
