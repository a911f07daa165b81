package dev.ingot.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.flash.FlashTarget;
import dev.ingot.flash.SystemView;
import dev.ingot.provision.SiteIdentity;
import dev.ingot.site.SiteId;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * The site identity step that {@code flash --site} and {@code rollback} add after the write ({@link SiteIdentity}), and how
 * both report it: the same line in the text, the same {@code site_identity} object in the JSON.
 */
final class FirstBootIdentity {
    private FirstBootIdentity() {}

    /** What the step did: written (maybe replacing another site's identity), or not, and why. */
    record Outcome(SiteId site, Optional<SiteIdentity.Written> written, Optional<String> notWrittenBecause, Duration took) {}

    /** Before anything is fetched or written: refuses a partition as target, or a machine without debugfs. */
    static void check(CliContext context, FlashTarget target) {
        SiteIdentity.checkTarget(target, SystemView.live(), ImageBuildCommands.toolEnvironment(context));
    }

    /**
     * Writes the identity onto the flashed disk. With {@code layoutOptional}, an image without the golden layout (no GPT or
     * no data partition: built before Ingot) is reported as not written instead of failing; any other failure fails.
     */
    static Outcome write(CliContext context, Path disk, SiteId site, boolean layoutOptional) {
        Instant started = context.clock().instant();
        if (layoutOptional) {
            Optional<String> problem = SiteIdentity.layoutProblem(disk);
            if (problem.isPresent()) {
                return new Outcome(site, Optional.empty(), problem, Duration.between(started, context.clock().instant()));
            }
        }
        SiteIdentity.Written written = SiteIdentity.write(disk, site, ImageBuildCommands.toolEnvironment(context));
        return new Outcome(site, Optional.of(written), Optional.empty(), Duration.between(started, context.clock().instant()));
    }

    /** One line for the text report, after the phases. */
    static String human(Outcome outcome) {
        if (outcome.written().isEmpty()) {
            return String.format(Locale.ROOT, "  %-15s %8s  not written: %s; provision by hand after the boot: SITE_ID=%s bash "
                    + "/opt/edge/provision_site.sh%n", "site identity", "-", outcome.notWrittenBecause().orElseThrow(), outcome.site());
        }
        SiteIdentity.Written written = outcome.written().get();
        return String.format(Locale.ROOT, "  %-15s %8s  SITE_ID=%s in the data partition (%s on the device)%s%n", "site identity",
                Sizes.seconds(outcome.took()), outcome.site(), SiteIdentity.ON_DEVICE,
                written.replaced().map(previous -> ", replacing " + previous).orElse(""));
    }

    static void json(ObjectNode json, Outcome outcome) {
        ObjectNode node = json.putObject("site_identity");
        node.put("site", outcome.site().value());
        node.put("written", outcome.written().isPresent());
        node.put("ms", outcome.took().toMillis());
        outcome.written().ifPresent(written -> {
            node.put("partition", written.partition().name());
            node.put("partition_offset", written.partition().offset());
            node.put("file", SiteIdentity.FILE);
            node.put("on_device", SiteIdentity.ON_DEVICE);
            written.replaced().ifPresent(previous -> node.put("replaced", previous.value()));
        });
        outcome.notWrittenBecause().ifPresent(reason -> node.put("not_written_because", reason));
    }
}
