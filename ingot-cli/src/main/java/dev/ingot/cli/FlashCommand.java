package dev.ingot.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.flash.FlashSources;
import dev.ingot.flash.FlashTarget;
import dev.ingot.flash.Flasher;
import dev.ingot.flash.SystemView;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.ReleaseFiles;
import dev.ingot.sign.Keyring;
import dev.ingot.site.SiteId;
import dev.ingot.store.ArtifactStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "flash",
        description = {"Write an image onto a disk: verified first, only the mapped blocks, read back after.",
            "SOURCE is a published VERSION (taken from --cache when it holds it, else fetched from --store) or a local",
            "NAME.img.zst / NAME.img with its bmap beside it (or --bmap) and its signed manifest beside it (or",
            "--allow-unsigned). Nothing reaches the disk before the manifest's signature, the bmap's and the payload's",
            "digests check out, and each range's SHA-256 is checked before the range is written. Unmapped blocks are",
            "made to read as zeros where that is cheap (--no-zero leaves them, as bmaptool does). Refuses a mounted disk,",
            "the running root disk, a disk smaller than the image; asks before overwriting a partitioned disk (--yes).",
            "With --site, the site's identity goes onto the flashed disk: its first boot provisions it by itself."},
        footer = {"", "Examples:",
            "  ingot flash v1.4 --target /dev/nvme0n1 --store s3://artifacts/prod --keyring keys/signing-key.pub.asc",
            "  ingot flash v1.4 --target /dev/nvme0n1 --cache /media/usb/ingot --keyring trusted/ --site SITE-2847",
            "  ingot flash v1.3 --target /dev/nvme0n1 --cache /media/usb/ingot --keyring trusted/ --yes",
            "  ingot flash edge-golden-v1.4.img.zst --target disk.img --keyring keys/signing-key.pub.asc",
            "  ingot flash custom.img --bmap custom.img.bmap --target /dev/sdb --allow-unsigned"})
final class FlashCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "SOURCE", description = "A version (v1.4) or a local image file (.img.zst or .img).")
    String source;

    @Option(names = "--target", required = true, paramLabel = "DISK", description = "The block device or image file to write.")
    Path target;

    @Mixin
    StoreOptions store = new StoreOptions();

    @Mixin
    ImageCommand.NameOption name = new ImageCommand.NameOption();

    @Option(names = "--keyring", paramLabel = "FILE|DIR", description = "Trusted public key(s); required unless --allow-unsigned.")
    Path keyring;

    @Option(names = "--cache", paramLabel = "DIR", description = "A USB cache (ingot cache sync) to take the version from first.")
    Path cache;

    @Option(names = "--bmap", paramLabel = "FILE", description = "The block map for a local image (default: IMAGE.bmap beside it).")
    Path bmap;

    @Option(names = "--allow-unsigned", description = "Flash a local image without a signed manifest (only the bmap's checksums vouch for it).")
    boolean allowUnsigned;

    @Option(names = "--site", paramLabel = "SITE", description = {"Then write this site's identity onto the disk (SITE_ID in the data "
            + "partition, /data/ingot/provision.env on the device), so that its first boot provisions it with nobody typing anything."})
    String site;




    @Mixin
    WriteOptions write = new WriteOptions();

    FlashCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        // Refuse a wrong target before fetching anything; the size check follows once the image is known.
        Optional<SiteId> siteId = Optional.ofNullable(site).map(SiteId::new);
        FlashTarget early = FlashTarget.inspect(context.resolve(target), 0, SystemView.live());
        siteId.ifPresent(id -> FirstBootIdentity.check(context, early));
        Flasher.Source flashSource = resolveSource();
        FlashTarget flashTarget = FlashTarget.inspect(context.resolve(target), flashSource.map().imageSize(), SystemView.live());
        write.confirmOverwrite(context, flashTarget);
        Flasher.Report report = new Flasher(context.clock(), progress(), write.workFolder(context).folder("spool"))
                .flash(flashSource, flashTarget, write.flasherOptions());
        Optional<FirstBootIdentity.Outcome> identity = siteId.map(id -> FirstBootIdentity.write(context, flashTarget.path(), id, false));
        ObjectNode json = json(flashSource, report);
        identity.ifPresent(outcome -> FirstBootIdentity.json(json, outcome));
        emit(human(flashSource, report) + identity.map(FirstBootIdentity::human).orElse(""), json);
        return 0;
    }

    private Flasher.Source resolveSource() {
        Path asFile = context.resolve(Path.of(source));
        boolean looksLikeVersion = source.startsWith("v") && !Files.exists(asFile);
        if (!looksLikeVersion) {
            return FlashSources.fromFiles(asFile, Optional.ofNullable(bmap).map(context::resolve),
                    Optional.ofNullable(keyring).map(path -> Keyring.load(context.resolve(path))), allowUnsigned);
        }
        ImageVersion version = ImageVersion.parse(source);
        if (keyring == null) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "flash " + version, "no --keyring was given")
                    .withHint("pass --keyring keys/signing-key.pub.asc: a published release is always checked against it");
        }
        if (bmap != null || allowUnsigned) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "flash " + version, "--bmap and --allow-unsigned apply to local image files only");
        }
        Keyring trusted = Keyring.load(context.resolve(keyring));
        ImageName imageName = name.value();
        ReleaseFiles files = new ReleaseFiles(imageName, version);
        if (cache != null && Files.exists(context.resolve(cache).resolve(files.manifest()))) {
            return FlashSources.fromReleaseFolder(context.resolve(cache), imageName, version, trusted);
        }
        try (ArtifactStore artifactStore = store.open(context, true)) {
            return FlashSources.fromStore(artifactStore, imageName, version, trusted, write.workFolder(context), progress());
        }
    }

    private static String human(Flasher.Source source, Flasher.Report report) {
        StringBuilder text = new StringBuilder();
        text.append("Flashed ").append(source.description()).append(" onto ").append(report.target()).append('\n');
        text.append(String.format(Locale.ROOT, "  image %s, %s mapped and written; unmapped: %s; decompression: %s%n",
                Sizes.bytes(report.imageSize()), Sizes.bytes(report.writtenBytes()), report.zeroing(), report.decompression()));
        for (Flasher.Phase phase : report.phases()) {
            text.append(String.format(Locale.ROOT, "  %-15s %8s%s%n", phase.name(), Sizes.seconds(phase.duration()),
                    phase.bytes() > 0 ? "  " + Sizes.rate(phase.bytes(), phase.duration()) : ""));
        }
        text.append(String.format(Locale.ROOT, "  %-15s %8s%s%n", "total", Sizes.seconds(report.total()),
                report.readBack() ? "  (written data read back and checked)" : "  (not read back: --no-verify)"));
        return text.toString();
    }

    private static ObjectNode json(Flasher.Source source, Flasher.Report report) {
        ObjectNode json = Ingot.JSON.createObjectNode();
        json.put("source", source.description());
        json.put("target", report.target().toString());
        json.put("image_size", report.imageSize());
        json.put("written_bytes", report.writtenBytes());
        json.put("zeroed_bytes", report.zeroedBytes());
        json.put("zeroing", report.zeroing());
        json.put("decompression", report.decompression());
        json.put("read_back", report.readBack());
        json.put("total_ms", report.total().toMillis());
        ArrayNode phases = json.putArray("phases");
        for (Flasher.Phase phase : report.phases()) {
            ObjectNode node = phases.addObject();
            node.put("name", phase.name());
            node.put("ms", phase.duration().toMillis());
            node.put("bytes", phase.bytes());
        }
        return json;
    }
}
