package dev.ingot.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.aws.CloudWatchAlarms;
import dev.ingot.aws.CloudWatchMetricSink;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.Check;
import dev.ingot.health.DeviceHealth;
import dev.ingot.health.HealthConfig;
import dev.ingot.health.HealthMetrics;
import dev.ingot.health.HealthReport;
import dev.ingot.health.HealthReportJson;
import dev.ingot.health.HealthStatus;
import dev.ingot.health.Metric;
import dev.ingot.health.MetricSink;
import dev.ingot.health.StandardAlarms;
import dev.ingot.health.ToolRunner;
import dev.ingot.site.SiteId;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "health",
        description = {"Check this device and print one health report: what it runs and whether it is well.",
            "Reports the golden image, the A/B slot and the video-ingest container and tag; checks Docker, video-ingest,",
            "the GPU, the clock, disks, memory, cameras, updates and the USB cache. Every probe runs at once with a",
            "timeout: a hung tool delays the report by the timeout at most. Exits 0 when healthy, 1 when degraded or",
            "unhealthy. --json prints the report (schema: docs/health-report.md)."},
        subcommands = HealthCommand.Alarms.class,
        footer = {"", "Examples:",
            "  ingot health",
            "  ingot health --json --publish cloudwatch          (what the ingot-health.timer runs every minute)",
            "  ingot health --root /mnt/device --config health.json --json"})
final class HealthCommand extends BaseCommand {
    /** Where a report can be published. */
    enum Target {
        CLOUDWATCH
    }

    @Option(names = "--root", paramLabel = "DIR", defaultValue = "/",
            description = "Read the device's files under this root. Tools (nvidia-smi, docker, …) still run on this host. Default: ${DEFAULT-VALUE}.")
    Path root;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Thresholds and settings (JSON, see docs/health-report.md). Default: ROOT" + HealthConfig.DEFAULT_PATH
                    + " when it exists, else built-in defaults.")
    Path config;

    @Option(names = "--publish", paramLabel = "TARGET",
            description = "Also send the report's numbers: cloudwatch (namespace Edge/Health, dimension SiteId). A failure to publish is noted in the report and changes nothing else.")
    Target publish;

    @Option(names = "--endpoint-url", paramLabel = "URL", description = "With --publish cloudwatch: a CloudWatch endpoint instead of AWS's.")
    URI endpoint;

    HealthCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        Path rootFolder = context.resolve(root);
        if (!java.nio.file.Files.isDirectory(rootFolder)) {
            throw dev.ingot.error.IngotException.tried(dev.ingot.error.ErrorCode.BAD_INPUT, "check the device under " + rootFolder,
                    "that folder does not exist").withHint("pass the device's root file system (default: /)");
        }
        HealthConfig settings = loadConfig(context, rootFolder, Optional.ofNullable(config));
        HealthReport report = new DeviceHealth(rootFolder, settings, new ToolRunner(context.environment()), context.clock()).check();
        if (publish == Target.CLOUDWATCH) {
            report = report.withPublish(publish(report));
        }
        if (json()) {
            // The report's own wire form (docs/health-report.md), byte for byte what the agent will send.
            context.out().print(new String(HealthReportJson.write(report), StandardCharsets.UTF_8));
            context.out().flush();
        } else {
            emit(human(report), HealthReportJson.tree(report));
        }
        return report.status() == HealthStatus.HEALTHY ? 0 : ErrorCode.CHECK_FAILED.exitCode();
    }

    /** {@code --config}, or ROOT/etc/ingot/health.json when it exists, or the defaults. */
    static HealthConfig loadConfig(CliContext context, Path root, Optional<Path> explicit) {
        Path file = explicit.map(context::resolve).orElse(root.resolve(HealthConfig.DEFAULT_PATH.substring(1)));
        try {
            return HealthConfig.parse(Files.readAllBytes(file), file.toString());
        } catch (NoSuchFileException e) {
            if (explicit.isEmpty()) {
                return HealthConfig.DEFAULTS;
            }
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the health config " + file, "it does not exist")
                    .withHint("check --config, or leave it out to use the defaults");
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the health config " + file, String.valueOf(e.getMessage()));
        }
    }

    /** Publishing never throws: whatever goes wrong is noted in the result. */
    private HealthReport.PublishResult publish(HealthReport report) {
        List<Metric> metrics = HealthMetrics.of(report);
        Optional<SiteId> site = report.findings().site().found();
        if (site.isEmpty()) {
            return new HealthReport.PublishResult("cloudwatch", false, 0, 0,
                    Optional.of("not published: the metrics' SiteId dimension needs the site id (" + report.findings().site().failure().orElse("") + ")"));
        }
        try (MetricSink sink = CloudWatchMetricSink.fromDefaultChain(Optional.ofNullable(endpoint))) {
            MetricSink.Sent sent = sink.publish(site.get(), report.checkedAt(), metrics);
            return new HealthReport.PublishResult("cloudwatch", true, sent.metrics(), sent.requests(), Optional.empty());
        } catch (IngotException e) {
            return new HealthReport.PublishResult("cloudwatch", false, 0, 0, Optional.of(e.oneLine()));
        } catch (RuntimeException e) {
            return new HealthReport.PublishResult("cloudwatch", false, 0, 0, Optional.of("Tried to publish to CloudWatch but failed because " + e));
        }
    }

    static String human(HealthReport report) {
        HealthReport.Findings findings = report.findings();
        StringBuilder text = new StringBuilder();
        text.append(findings.site().found().map(SiteId::value).orElse("(no site id)"))
                .append(" · ").append(findings.hostname().found().orElse("(no hostname)"))
                .append(" · ").append(findings.image().found().map(image -> image.name() + " " + image.version()).orElse("(image unknown)"))
                .append(" · ").append(findings.videoIngestContainer().found().map(container -> "video-ingest " + container.tag().orElse(container.image()))
                        .orElse("(no video-ingest container)"))
                .append(": ").append(report.status().json().toUpperCase(Locale.ROOT)).append('\n');
        for (Check check : report.checks()) {
            text.append(String.format(Locale.ROOT, "  %-4s  %-24s %s%n", label(check), check.name() + (check.critical() ? " *" : ""),
                    check.reason()));
        }
        text.append(String.format(Locale.ROOT, "(* critical: its failure makes the device unhealthy; checked in %d ms)%n", report.took().toMillis()));
        report.publish().ifPresent(publish -> text.append(publish.ok()
                ? "Published " + publish.metrics() + " metrics to CloudWatch in " + publish.requests() + " request(s)."
                : "Not published: " + publish.error().orElse("")).append('\n'));
        return text.toString();
    }

    private static String label(Check check) {
        return switch (check.status()) {
            case OK -> "ok";
            case WARN -> "WARN";
            case FAIL -> "FAIL";
            case SKIP -> "-";
        };
    }

    @Command(name = "alarms",
            description = {"Show, or with --apply create or update, a site's standard CloudWatch alarms.",
                "Named edge-health-SITE-…, read by the rollout gates; thresholds are the health config's fail levels.",
                "Applying twice changes nothing."},
            footer = {"", "Examples:",
                "  ingot health alarms --site SITE-2847",
                "  ingot health alarms --apply --site SITE-2847 --alarm-action arn:aws:sns:us-east-1:123456789012:edge-alarms"})
    static final class Alarms extends BaseCommand {
        @Option(names = "--site", required = true, paramLabel = "SITE", description = "The site's id, e.g. SITE-2847.")
        String site;

        @Option(names = "--apply", description = "Create or update the alarms in CloudWatch (without it, only show them).")
        boolean apply;

        @Option(names = "--config", paramLabel = "FILE", description = "The health config whose thresholds the alarms use (default: built-in defaults).")
        Path config;

        @Option(names = "--alarm-action", paramLabel = "ARN", description = "Notify this (an SNS topic ARN) on alarm and on recovery.")
        String action;

        @Option(names = "--endpoint-url", paramLabel = "URL", description = "A CloudWatch endpoint instead of AWS's.")
        URI endpoint;

        Alarms(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            SiteId siteId = new SiteId(site);
            HealthConfig settings = config == null ? HealthConfig.DEFAULTS : loadConfig(context, Path.of("/"), Optional.of(config));
            List<StandardAlarms.Alarm> alarms = StandardAlarms.forSite(siteId, settings);
            if (apply) {
                try (CloudWatchAlarms cloudWatch = CloudWatchAlarms.fromDefaultChain(Optional.ofNullable(endpoint))) {
                    cloudWatch.apply(alarms, Optional.ofNullable(action));
                }
            }
            ObjectNode json = Ingot.JSON.createObjectNode();
            json.put("site", siteId.value());
            json.put("applied", apply);
            json.put("namespace", StandardAlarms.NAMESPACE);
            ArrayNode list = json.putArray("alarms");
            StringBuilder human = new StringBuilder((apply ? "Applied" : "Would apply (use --apply)") + " " + alarms.size()
                    + " alarms on " + StandardAlarms.NAMESPACE + ", " + StandardAlarms.DIMENSION + "=" + siteId + ":\n");
            for (StandardAlarms.Alarm alarm : alarms) {
                ObjectNode node = list.addObject();
                node.put("name", alarm.name());
                node.put("metric", alarm.metric());
                node.put("statistic", alarm.statistic());
                node.put("comparison", alarm.comparison().cloudWatchName());
                node.put("threshold", alarm.threshold());
                node.put("period_seconds", alarm.periodSeconds());
                node.put("evaluation_periods", alarm.evaluationPeriods());
                node.put("datapoints_to_alarm", alarm.datapointsToAlarm());
                node.put("treat_missing_data", alarm.missingData().cloudWatchName());
                node.put("description", alarm.description());
                human.append(String.format(Locale.ROOT, "  %-38s %s%n", alarm.name(), alarm.description()));
            }
            emit(human.toString(), json);
            return 0;
        }
    }
}
