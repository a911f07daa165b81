package dev.ingot.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.cache.UsbCache;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.flash.FlashTarget;
import dev.ingot.flash.SystemView;
import dev.ingot.image.ImageVersion;
import dev.ingot.rollback.Rollback;
import dev.ingot.sign.Keyring;
import dev.ingot.site.SiteId;
import dev.ingot.store.ArtifactStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "rollback",
        description = {"Put a site back on a known-good image and report the recovery time.",
            "Picks the newest known-good version older than the one the device runs (--current, or the target root's",
            "/etc/edge/image-version via --root), or the one named with --to; takes it from the USB cache first and the",
            "store second; flashes it verified (as ingot flash); writes the site's identity onto the disk's data partition,",
            "so that the device provisions itself at its first boot; and prints a timed report. With --params, the site's",
            "provisioning is run and timed first (a dry run: parameters read and checked, files rendered, nothing written),",
            "so a site whose parameters would not provision is found before its disk is touched."},
        footer = {"", "Examples:",
            "  ingot rollback --site SITE-2847 --target /dev/nvme0n1 --cache /media/usb/ingot --keyring trusted/ --current v1.4",
            "  ingot rollback --site SITE-2847 --target /dev/nvme0n1 --to v1.3 --store s3://artifacts/prod --keyring trusted/ --yes",
            "  ingot rollback --site SITE-2847 --target /dev/nvme0n1 --cache /media/usb/ingot --keyring trusted/ --current v1.4 --params ssm:"})
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

    @Option(names = "--params", paramLabel = "ssm:|dir:PATH", description = {"Run and time the site's provisioning before the flash, "
            + "as a dry run (ssm: AWS SSM, or dir:PATH): the report's provision step; bad parameters stop the rollback before the "
            + "disk is touched, an unreachable store only leaves the step unmeasured."})
    String params;

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
        FirstBootIdentity.check(context, FlashTarget.inspect(context.resolve(target), 0, SystemView.live()));
        Optional<ProvisionCheck> provisionCheck = Optional.ofNullable(params).map(where -> ProvisionCheck.run(context, siteId, where));
        StoreOptions storeOptions = new StoreOptions();
        storeOptions.store = storeUri;
        storeOptions.endpoint = endpoint;
        try (ArtifactStore artifactStore = storeUri == null ? null : storeOptions.open(context, true)) {
            dev.ingot.store.WorkFolder work = write.workFolder(context);
            Rollback.Result result = new Rollback(context.clock(), progress(), SystemView.live()).rollBack(new Rollback.Request(siteId,
                    context.resolve(target), name.value(), Optional.ofNullable(to).map(ImageVersion::parse), currentVersion, usbCache,
                    Optional.ofNullable(artifactStore), trusted, work, write.flasherOptions(), target -> write.confirmOverwrite(context, target)));
            FirstBootIdentity.Outcome identity = FirstBootIdentity.write(context, result.flash().target(), siteId, true);
            String provision = "SITE_ID=" + siteId + " bash /opt/edge/provision_site.sh";
            emit(human(result, identity, provisionCheck, provision), json(result, identity, provisionCheck, provision));
            return 0;
        }
    }

    private static Duration total(Rollback.Result result, FirstBootIdentity.Outcome identity, Optional<ProvisionCheck> check) {
        return result.total().plus(identity.took()).plus(check.map(ProvisionCheck::duration).orElse(Duration.ZERO));
    }

    private static String human(Rollback.Result result, FirstBootIdentity.Outcome identity, Optional<ProvisionCheck> check,
            String provision) {
        StringBuilder text = new StringBuilder();
        text.append("Rolled ").append(result.site()).append(" back to ").append(result.version()).append(" from ").append(result.source())
                .append(" onto ").append(result.flash().target()).append('\n');
        for (Rollback.Phase phase : result.phases()) {
            text.append(String.format(Locale.ROOT, "  %-15s %8s%n", phase.name(), Sizes.seconds(phase.duration())));
        }
        text.append(FirstBootIdentity.human(identity));
        if (check.flatMap(ProvisionCheck::took).isPresent()) {
            text.append(String.format(Locale.ROOT, "  %-15s %8s  measured before the flash: ingot provision --dry-run from %s (%d files "
                    + "read, checked, rendered); the device runs it at first boot, plus its writes and restarts%n", "provision",
                    Sizes.seconds(check.get().duration()), check.get().source(), check.get().files()));
        } else if (check.isPresent()) {
            text.append(String.format(Locale.ROOT, "  %-15s %8s  not measured: %s (the device retries at its first boot)%n", "provision",
                    "-", check.get().unmeasuredBecause().orElseThrow()));
        } else {
            text.append(String.format(Locale.ROOT, "  %-15s %8s  not measured: pass --params ssm: to run and time it here "
                    + "(docs/runbook-field.md has the figures)%n", "provision", "-"));
        }
        text.append(String.format(Locale.ROOT, "  %-15s %8s  = recovery time so far, before the reboot (RTO target: 30 min)%n", "total",
                Sizes.seconds(total(result, identity, check))));
        if (identity.written().isPresent()) {
            text.append("Next: reboot the device. Its first boot provisions ").append(result.site())
                    .append(" by itself (ingot-provision-first-boot.service; it retries until the parameter store answers);")
                    .append(" by hand: ").append(provision).append('\n');
        } else {
            text.append("Next: reboot the device; provision it with ").append(provision)
                    .append(" (or put SITE_ID=").append(result.site()).append(" into /etc/edge/provision.env)").append('\n');
        }
        return text.toString();
    }

    private static ObjectNode json(Rollback.Result result, FirstBootIdentity.Outcome identity, Optional<ProvisionCheck> check,
            String provision) {
        ObjectNode json = Ingot.JSON.createObjectNode();
        json.put("site", result.site().value());
        json.put("version", result.version().toString());
        json.put("source", result.source());
        json.put("target", result.flash().target().toString());
        json.put("total_ms", total(result, identity, check).toMillis());
        json.put("provision_command", provision);
        ArrayNode phases = json.putArray("phases");
        for (Rollback.Phase phase : result.phases()) {
            ObjectNode node = phases.addObject();
            node.put("name", phase.name());
            node.put("ms", phase.duration().toMillis());
        }
        phases.addObject().put("name", "site identity").put("ms", identity.took().toMillis());
        FirstBootIdentity.json(json, identity);
        ObjectNode provisionNode = json.putObject("provision");
        provisionNode.put("measured", check.flatMap(ProvisionCheck::took).isPresent());
        check.ifPresent(measured -> {
            provisionNode.put("source", measured.source());
            measured.took().ifPresent(took -> {
                phases.addObject().put("name", "provision").put("ms", took.toMillis());
                provisionNode.put("ms", took.toMillis());
                provisionNode.put("files", measured.files());
                provisionNode.put("how", "ingot provision --dry-run, run before the flash on this machine");
            });
            measured.unmeasuredBecause().ifPresent(reason -> provisionNode.put("not_measured_because", reason));
        });
        return json;
    }
}
