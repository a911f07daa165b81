package dev.ingot.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.aws.SsmParameterSource;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.provision.HostAction;
import dev.ingot.provision.Provisioner;
import dev.ingot.provision.SystemHostCommands;
import dev.ingot.site.FolderParameterSource;
import dev.ingot.site.ParameterSource;
import dev.ingot.site.SiteId;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "provision",
        description = {"Configure this device for its site from the parameter store (/edge/SITE/…).",
            "Reads every parameter under /edge/SITE/ (AWS SSM, or a folder tree with the same paths), checks them all",
            "(any problem: nothing is written), renders the site's files, replaces those that differ atomically, then",
            "reloads units, restarts chrony, loads the firewall rules and starts video-ingest as needed. A second run with",
            "the same parameters changes nothing. With --root other than / it only writes files (a mounted image, a test tree)."},
        footer = {"", "Files: /etc/edge/video-ingest.env (0600), /etc/chrony/chrony.conf, /etc/iptables/rules.v4 and rules.v6,",
            "/etc/systemd/system/video-ingest.service, /etc/apt/apt.conf.d/52ingot-unattended-upgrades,",
            "/etc/ingot/agent.json, /etc/ingot/enrollment-token (0600), /etc/edge/site-id (written last).",
            "Parameters: docs/site-parameters.md.", "", "Examples:",
            "  ingot provision --site SITE-2847 --params ssm:",
            "  ingot provision --site SITE-2847 --params dir:deploy/examples/params --root /tmp/site --dry-run",
            "  SITE_ID=SITE-2847 bash /opt/edge/provision_site.sh      (the runbook's wrapper)"})
final class ProvisionCommand extends BaseCommand {
    static final String DEFAULT_PARAMS = "dir:/etc/ingot/params";

    @Option(names = "--site", required = true, paramLabel = "SITE", description = "The site's id, e.g. SITE-2847.")
    String site;

    @Option(names = "--params", paramLabel = "ssm:|dir:PATH", defaultValue = DEFAULT_PARAMS,
            description = "Where the parameters are: ssm: (AWS SSM Parameter Store; credentials and region from the AWS SDK's "
                    + "default chain) or dir:PATH (PATH/edge/SITE/NAME holds each value). Default: ${DEFAULT-VALUE}.")
    String params;

    @Option(names = "--endpoint-url", paramLabel = "URL", description = "For ssm:: an SSM-compatible endpoint instead of AWS.")
    URI endpoint;

    @Option(names = "--root", paramLabel = "DIR", defaultValue = "/",
            description = "The device's root file system. Default: ${DEFAULT-VALUE}. Any other root only gets files, never host calls.")
    Path root;

    @Option(names = "--no-apply", description = "Write the files but make no host calls (systemctl, iptables-restore, ip6tables-restore).")
    boolean noApply;

    @Option(names = "--dry-run", description = "Print a unified diff of what would change (secrets masked); write nothing.")
    boolean dryRun;

    ProvisionCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        SiteId siteId = new SiteId(site);
        Path rootPath = context.resolve(root);
        boolean runningSystem = isRunningSystem(rootPath);
        try (ParameterSource source = openSource(context, params, endpoint)) {
            Provisioner.Result result = new Provisioner(source, new SystemHostCommands())
                    .provision(new Provisioner.Request(siteId, rootPath, dryRun, !noApply && runningSystem));
            String notApplied = dryRun ? "dry run" : noApply ? "--no-apply" : runningSystem ? null : "--root is not /";
            emit(human(result, notApplied), json(result, notApplied));
            return 0;
        }
    }

    /** A parameter source as --params names it: {@code ssm:} or {@code dir:PATH}; shared with rollback's provisioning check. */
    static ParameterSource openSource(CliContext context, String params, URI endpoint) {
        if (params.equals("ssm:")) {
            return SsmParameterSource.at(Optional.ofNullable(endpoint));
        }
        if (endpoint != null) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read parameters from " + params, "--endpoint-url applies to --params ssm: only");
        }
        if (params.startsWith("dir:") && params.length() > "dir:".length()) {
            return new FolderParameterSource(context.resolve(Path.of(params.substring("dir:".length()))));
        }
        throw IngotException.tried(ErrorCode.BAD_INPUT, "read parameters from '" + params + "'", "it is neither ssm: nor dir:PATH")
                .withHint("use --params ssm: (AWS SSM) or --params dir:/etc/ingot/params (a folder tree)");
    }

    private static boolean isRunningSystem(Path root) {
        try {
            return Files.isSameFile(root, Path.of("/"));
        } catch (IOException e) {
            return false;
        }
    }

    private static String human(Provisioner.Result result, String notApplied) {
        StringBuilder text = new StringBuilder();
        if (result.dryRun()) {
            text.append(result.diff());
            text.append(result.changed().isEmpty() ? "No changes: site " + result.site() + " is up to date under " + result.root() + ".\n"
                    : "Would change " + count(result.changed().size(), "file") + " under " + result.root() + " for site "
                            + result.site() + " (dry run: nothing written).\n");
        } else if (result.changed().isEmpty()) {
            text.append("No changes: site ").append(result.site()).append(" is up to date under ").append(result.root())
                    .append(" (").append(count(result.files().size(), "file")).append(" checked, from ").append(result.source()).append(").\n");
        } else {
            text.append("Provisioned site ").append(result.site()).append(" under ").append(result.root()).append(" from ")
                    .append(result.source()).append(": ").append(count(result.changed().size(), "file")).append(" changed.\n");
        }
        for (Provisioner.FileOutcome file : result.files()) {
            text.append(String.format(Locale.ROOT, "  %-9s  %s%s%n", file.change().name().toLowerCase(Locale.ROOT), file.path(),
                    file.mode() == 0600 ? "  (0600)" : ""));
        }
        if (!result.ignoredParameters().isEmpty()) {
            text.append("Ignored (not site parameters Ingot knows): ").append(String.join(", ", result.ignoredParameters())).append('\n');
        }
        String commands = String.join("; ", result.actions().stream().map(HostAction::command).toList());
        if (result.applied()) {
            text.append("Applied: ").append(commands).append('\n');
        } else {
            text.append("Not applied (").append(notApplied).append("): ").append(commands).append('\n');
        }
        return text.toString();
    }

    private static ObjectNode json(Provisioner.Result result, String notApplied) {
        ObjectNode json = Ingot.JSON.createObjectNode();
        json.put("site", result.site().value());
        json.put("source", result.source());
        json.put("root", result.root().toString());
        json.put("dry_run", result.dryRun());
        ArrayNode changed = json.putArray("changed");
        ArrayNode unchanged = json.putArray("unchanged");
        ArrayNode files = json.putArray("files");
        for (Provisioner.FileOutcome file : result.files()) {
            // A file the site does not have and the device has none of is in files (absent), in neither list.
            if (file.change().isChange()) {
                changed.add(file.path());
            } else if (file.change() == Provisioner.Change.UNCHANGED) {
                unchanged.add(file.path());
            }
            ObjectNode node = files.addObject();
            node.put("path", file.path());
            node.put("change", file.change().name().toLowerCase(Locale.ROOT));
            node.put("mode", String.format(Locale.ROOT, "%04o", file.mode()));
        }
        ArrayNode ignored = json.putArray("ignored_parameters");
        result.ignoredParameters().forEach(ignored::add);
        ArrayNode actions = json.putArray("host_actions");
        result.actions().forEach(action -> actions.add(action.command()));
        json.put("applied", result.applied());
        if (notApplied != null) {
            json.put("not_applied_because", notApplied);
        }
        if (result.dryRun()) {
            json.put("diff", result.diff());
        }
        return json;
    }

    private static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }
}
