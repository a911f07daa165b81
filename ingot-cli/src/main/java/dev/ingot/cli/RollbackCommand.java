package dev.ingot.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.cache.UsbCache;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.flash.SystemView;
import dev.ingot.image.ImageVersion;
import dev.ingot.rollback.Rollback;
import dev.ingot.sign.Keyring;
import dev.ingot.site.SiteId;
import dev.ingot.store.ArtifactStore;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "rollback",
        description = {"Put a site back on a known-good image and report the recovery time.",
            "Picks the newest known-good version older than the one the device runs (--current, or the target root's",
            "/etc/edge/image-version via --root), or the one named with --to; takes it from the USB cache first and the",
            "store second; flashes it verified (as ingot flash); then prints the provisioning step and a timed report."},
        footer = {"", "Examples:",
            "  ingot rollback --site SITE-2847 --target /dev/nvme0n1 --cache /media/usb/ingot --keyring trusted/ --current v1.4",
            "  ingot rollback --site SITE-2847 --target /dev/nvme0n1 --to v1.3 --store s3://artifacts/prod --keyring trusted/ --yes"})
final class RollbackCommand extends BaseCommand {
    @Option(names = "--site", required = true, paramLabel = "SITE", description = "The site's id, e.g. SITE-2847.")
    String site;

    @Option(names = "--target", required = true, paramLabel = "DISK", description = "The device's disk (block device or image file).")
    Path target;

    @Option(names = "--to", paramLabel = "VERSION", description = "Roll back to exactly this version.")
    String to;

    @Option(names = "--current", paramLabel = "VERSION", description = "The version the device runs now (default: read from --root).")
    String current;

    @Option(names = "--root", paramLabel = "DIR", description = "A mounted copy of the device's root file system, to read /etc/edge/image-version from.")
    Path root;

    @Option(names = "--cache", paramLabel = "DIR", description = "The site's USB cache (tried first).")
    Path cache;

    @Option(names = "--store", paramLabel = "URI", description = "Where releases live, tried second (s3://bucket/prefix or a folder).")
    String storeUri;

    @Option(names = "--endpoint-url", paramLabel = "URL", description = "For s3:// stores: an S3-compatible endpoint.")
    java.net.URI endpoint;

    @Mixin
    ImageCommand.NameOption name = new ImageCommand.NameOption();

    @Mixin
    KeyringOption keyring = new KeyringOption();




    @Mixin
    WriteOptions write = new WriteOptions();

    RollbackCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        SiteId siteId = new SiteId(site);
        Keyring trusted = keyring.load(context);
        Optional<ImageVersion> currentVersion = Optional.ofNullable(current).map(ImageVersion::parse)
                .or(() -> Optional.ofNullable(root).flatMap(path -> Rollback.runningVersion(context.resolve(path))));
        Optional<UsbCache> usbCache = Optional.ofNullable(cache).map(path -> new UsbCache(context.resolve(path), trusted, progress()));
        if (usbCache.isEmpty() && storeUri == null) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "roll " + siteId + " back", "neither --cache nor --store was given")
                    .withHint("pass the site's USB cache (--cache /media/usb/ingot) and/or --store");
        }
        StoreOptions storeOptions = new StoreOptions();
        storeOptions.store = storeUri;
        storeOptions.endpoint = endpoint;
        try (ArtifactStore artifactStore = storeUri == null ? null : storeOptions.open(context, true)) {
            dev.ingot.store.WorkFolder work = write.workFolder(context);
            Rollback.Result result = new Rollback(context.clock(), progress(), SystemView.live()).rollBack(new Rollback.Request(siteId,
                    context.resolve(target), name.value(), Optional.ofNullable(to).map(ImageVersion::parse), currentVersion, usbCache,
                    Optional.ofNullable(artifactStore), trusted, work, write.flasherOptions(), target -> write.confirmOverwrite(context, target)));
            String provision = "SITE_ID=" + siteId + " bash /opt/edge/provision_site.sh";
            emit(human(result, provision), json(result, provision));
            return 0;
        }
    }

    private static String human(Rollback.Result result, String provision) {
        StringBuilder text = new StringBuilder();
        text.append("Rolled ").append(result.site()).append(" back to ").append(result.version()).append(" from ").append(result.source())
                .append(" onto ").append(result.flash().target()).append('\n');
        for (Rollback.Phase phase : result.phases()) {
            text.append(String.format(Locale.ROOT, "  %-15s %8s%n", phase.name(), Sizes.seconds(phase.duration())));
        }
        text.append(String.format(Locale.ROOT, "  %-15s %8s  (runs on the device after the reboot: the disk holds no site configuration)%n",
                "provision", "-"));
        text.append(String.format(Locale.ROOT, "  %-15s %8s  = recovery time so far (RTO target: 30 min)%n", "total", Sizes.seconds(result.total())));
        text.append("Next: reboot the device; provision it with ").append(provision)
                .append(" (or let ingot-provision-first-boot.service do it: SITE_ID=").append(result.site())
                .append(" in /etc/edge/provision.env)").append('\n');
        return text.toString();
    }

    private static ObjectNode json(Rollback.Result result, String provision) {
        ObjectNode json = Ingot.JSON.createObjectNode();
        json.put("site", result.site().value());
        json.put("version", result.version().toString());
        json.put("source", result.source());
        json.put("target", result.flash().target().toString());
        json.put("total_ms", result.total().toMillis());
        json.put("provision_command", provision);
        ArrayNode phases = json.putArray("phases");
        for (Rollback.Phase phase : result.phases()) {
            ObjectNode node = phases.addObject();
            node.put("name", phase.name());
            node.put("ms", phase.duration().toMillis());
        }
        return json;
    }
}
