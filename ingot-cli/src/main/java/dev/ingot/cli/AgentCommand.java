package dev.ingot.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.agent.Agent;
import dev.ingot.agent.AgentHost;
import dev.ingot.agent.AgentSettings;
import dev.ingot.agent.AgentState;
import dev.ingot.agent.DeviceAgentHost;
import dev.ingot.agent.HttpControlPlane;
import dev.ingot.agent.Timings;
import dev.ingot.aws.EcrRegistryLogin;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.HealthConfig;
import dev.ingot.health.ToolRunner;
import dev.ingot.progress.Progress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "agent",
        header = "Run the device agent: enroll, poll the control plane, apply image, container and reboot changes.",
        description = {"Run the device agent (the ingot-agent.service of the golden image): enroll with the control plane once, then",
            "poll it with this device's health report and bring the device to its desired state — a new golden image (A/B",
            "slots, committed only after a healthy boot, else the old slot comes back), a new video-ingest tag, a reboot an",
            "operator asked for — reporting each step. Reads /etc/ingot/agent.json and /etc/ingot/enrollment-token (written",
            "by ingot provision); keeps its credential and state in /data/ingot/agent/state.json (mode 0600), so that both",
            "root slots find them. Runs until stopped, one status line per tick; --once ticks once and exits.",
            "docs/agent.md describes every step and where each piece of state lives."},
        footer = {"", "Examples:",
            "  ingot agent                                   (what ingot-agent.service runs)",
            "  ingot agent --once --json                     (one tick: enroll or poll, then the status line)",
            "  ingot agent --root /tmp/device --once --cacert ca.pem",
            "",
            "--json prints one JSON object per line (JSON Lines), one per tick.",
            "Exit codes: 0 stopped or ticked once; 2 no agent.json, or one without control_plane_url;",
            "3 the state file or the data partition cannot be read."})
final class AgentCommand extends BaseCommand {
    @Option(names = "--root", paramLabel = "DIR", defaultValue = "/",
            description = "The device's root: agent.json, the token, /data and the ESP are read under it. Tools (systemctl, docker, "
                    + "grub-editenv, nvidia-smi) still run on this host. Default: ${DEFAULT-VALUE}.")
    Path root;

    @Option(names = "--once", description = "One tick (enroll or poll, then the next step of any update), then exit.")
    boolean once;

    @Option(names = "--cacert", paramLabel = "FILE",
            description = "A PEM certificate to trust for the control plane (a private CA). Default: control_plane_ca_file in agent.json, "
                    + "else the runtime's authorities.")
    Path caCertificate;

    AgentCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() throws InterruptedException {
        Path device = context.resolve(root);
        if (!Files.isDirectory(device)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "run the agent under " + device, "that folder does not exist")
                    .withHint("pass the device's root file system (default: /)");
        }
        AgentSettings settings = AgentSettings.load(device);
        URI url = settings.config().controlPlaneUrl().orElseThrow(() -> IngotException.tried(ErrorCode.BAD_INPUT,
                "start the agent of site " + settings.config().site(), device.resolve(AgentSettings.CONFIG_PATH.substring(1))
                        + " names no control_plane_url").withHint("set the site parameter control_plane_url, then run ingot provision again"));
        Optional<Path> ca = Optional.ofNullable(caCertificate).map(context::resolve)
                .or(() -> settings.controlPlaneCaFile(device));
        HttpControlPlane controlPlane = new HttpControlPlane(url, HttpControlPlane.client(ca,
                caCertificate != null ? "--cacert" : "control_plane_ca_file in agent.json", Optional.empty()));
        ToolRunner tools = new ToolRunner(context.environment());
        HealthConfig health = HealthCommand.loadConfig(context, device, Optional.empty());
        AgentHost host = DeviceAgentHost.under(device, health, tools, context.clock(), controlPlane, Progress.NONE, this::log);
        try (EcrRegistryLogin registry = EcrRegistryLogin.aws()) {
            Agent agent = new Agent(settings, host, controlPlane, registry, context.clock(), new SecureRandom(), Timings.DEFAULTS, Progress.NONE,
                    this::log);
            while (true) {
                Agent.Tick tick = agent.tick();
                Duration next = switch (tick) {
                    case Agent.Tick.Sleep sleep -> sleep.duration();
                    // systemd stops the agent on the way down; if the reboot never comes, the next tick asks again.
                    case Agent.Tick.Rebooting rebooting -> Timings.DEFAULTS.commitWindow();
                };
                status(settings, agent.state(), tick, next);
                if (once) {
                    return 0;
                }
                Thread.sleep(next.toMillis());
            }
        }
    }

    private synchronized void log(String line) {
        context.err().println(line);
        context.err().flush();
    }

    /** One line per tick: enrolled or not, the action in flight, unsent reports, when the next tick comes. */
    private void status(AgentSettings settings, AgentState state, Agent.Tick tick, Duration next) {
        Instant now = context.clock().instant();
        ObjectNode json = Ingot.JSON.createObjectNode();
        json.put("at", now.toString());
        json.put("site", settings.config().site().value());
        json.put("enrolled", state.enrollment().isPresent());
        state.enrollment().ifPresent(enrolled -> json.put("device_id", enrolled.deviceId()));
        if (state.action().isPresent()) {
            ObjectNode action = json.putObject("action");
            action.put("track", state.action().get().track().json());
            action.put("target", state.action().get().target());
            action.put("generation", state.action().get().generation());
            action.put("state", state.action().get().reported().json());
        } else {
            json.putNull("action");
        }
        ObjectNode outcomes = json.putObject("outcomes");
        state.outcomes().forEach((track, outcome) -> {
            ObjectNode node = outcomes.putObject(track.json());
            node.put("target", outcome.target());
            node.put("state", outcome.state().json());
            outcome.reason().ifPresent(reason -> node.put("reason", reason));
        });
        json.put("unsent_reports", state.outbox().size());
        json.put("rebooting", tick instanceof Agent.Tick.Rebooting);
        json.put("next_tick_seconds", next.toSeconds());
        String doing = state.action().map(action -> action.track().json() + " " + action.target() + " (" + action.reported().json() + ")")
                .orElse("idle");
        String human = String.format(Locale.ROOT, "%s %s %s: %s; %s%s", now, settings.config().site(),
                state.enrollment().map(enrolled -> "device " + enrolled.deviceId()).orElse("not enrolled"), doing,
                tick instanceof Agent.Tick.Rebooting ? "rebooting" : "next tick in " + next.toSeconds() + " s",
                state.outbox().isEmpty() ? "" : "; " + state.outbox().size() + " report(s) to send");
        if (json()) {
            JsonOutput.printLine(context.out(), json);
        } else {
            context.out().println(human);
            context.out().flush();
        }
    }

}
