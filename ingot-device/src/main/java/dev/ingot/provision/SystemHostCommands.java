package dev.ingot.provision;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.DeviceHealth;
import dev.ingot.health.HealthReport;
import dev.ingot.health.Probed;
import dev.ingot.health.ToolRunner;
import dev.ingot.registry.RegistryCredentials;
import dev.ingot.site.FirewallRules;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The host's own {@code systemctl}, {@code iptables-restore}, {@code ip6tables-restore} and {@code docker}, run through {@link ToolRunner} (the
 * one runner: a deadline per call, a hung tool killed with its children, the PATH it was given).
 */
public final class SystemHostCommands implements HostCommands {
    /** Restarting chrony or loading rules takes seconds; a hung call must not hang provisioning. */
    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    /** A pull downloads the image's layers over the site's link. */
    private static final Duration PULL_TIMEOUT = Duration.ofMinutes(30);
    /** Reading a unit or a container is quick; the health probe allows as long. */
    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(10);

    private final ToolRunner tools;

    /** The tools on this process's PATH. */
    public SystemHostCommands() {
        this(new ToolRunner(System.getenv()));
    }

    public SystemHostCommands(ToolRunner tools) {
        this.tools = requireNonNull(tools, "tools");
    }

    @Override
    public void reloadUnits() {
        run(null, TIMEOUT, Optional.empty(), "systemctl", "daemon-reload");
    }

    @Override
    public void restartUnit(String unit, boolean wait) {
        List<String> command = new ArrayList<>(List.of("restart"));
        if (!wait) {
            command.add("--no-block");
        }
        command.add(unit);
        run(unit, TIMEOUT, Optional.empty(), "systemctl", command.toArray(String[]::new));
    }

    @Override
    public void enableUnit(String unit, boolean start) {
        if (start) {
            run(unit, TIMEOUT, Optional.empty(), "systemctl", "enable", "--now", "--no-block", unit);
        } else {
            run(unit, TIMEOUT, Optional.empty(), "systemctl", "enable", unit);
        }
    }

    @Override
    public void loadFirewallRules(FirewallRules.Family family, Path rules) {
        run(null, TIMEOUT, Optional.empty(), family.restore(), "--noflush", rules.toString());
    }

    @Override
    public Probed<HealthReport.UnitState> unitState(String unit) {
        return DeviceHealth.unitState(tools, QUERY_TIMEOUT, unit);
    }

    @Override
    public void registryLogin(RegistryCredentials credentials) {
        run(null, TIMEOUT, Optional.of(credentials.password().reveal().getBytes(StandardCharsets.UTF_8)), "docker", "login",
                "--username", credentials.username(), "--password-stdin", credentials.registry());
    }

    @Override
    public void pullImage(String reference) {
        run(null, PULL_TIMEOUT, Optional.empty(), "docker", "pull", reference);
    }

    @Override
    public Probed<HealthReport.ContainerInfo> inspectContainer(String name) {
        return DeviceHealth.containerInspect(tools, QUERY_TIMEOUT, name);
    }

    @Override
    public void reboot() {
        run(null, TIMEOUT, Optional.empty(), "systemctl", "reboot");
    }

    private void run(String unit, Duration timeout, Optional<byte[]> input, String tool, String... arguments) {
        String line = ToolRunner.display(tool, List.of(arguments));
        ToolRunner.Outcome outcome = tools.run(timeout, tool, List.of(arguments), input);
        switch (outcome) {
            case ToolRunner.Outcome.Exited exited when exited.exitCode() == 0 -> { }
            case ToolRunner.Outcome.Exited exited -> {
                String said = (exited.stderr().isBlank() ? exited.stdout() : exited.stderr()).strip();
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "run '" + line + "'", "it exited " + exited.exitCode()
                                + (said.isEmpty() ? "" : ": " + said.lines().reduce((first, second) -> second).orElse("")))
                        .withHint(unit == null ? "fix the cause and run again"
                                : "see journalctl -u " + unit + "; fix the cause and run again");
            }
            case ToolRunner.Outcome.NotFound notFound -> throw IngotException.tried(ErrorCode.UNAVAILABLE, "run '" + line + "'",
                    tool + " is not installed (not found on PATH " + notFound.path() + ")")
                    .withHint("run this on the device itself, or pass --no-apply");
            case ToolRunner.Outcome.TimedOut timedOut -> throw IngotException.tried(ErrorCode.UNAVAILABLE, "run '" + line + "'",
                    "it did not finish in " + timedOut.timeout().toSeconds() + " s and was killed");
            case ToolRunner.Outcome.FailedToStart failed -> throw IngotException.tried(ErrorCode.UNAVAILABLE, "run '" + line + "'",
                    tool + " cannot be started (" + failed.reason() + ")").withHint("run this on the device itself, or pass --no-apply");
        }
    }
}
