package dev.ingot.provision;

import dev.ingot.health.HealthReport;
import dev.ingot.health.Probed;
import dev.ingot.registry.RegistryCredentials;
import dev.ingot.site.FirewallRules;
import java.nio.file.Path;

/**
 * What Ingot asks of the host beyond its files: the few systemd, iptables and docker calls of provisioning and of
 * the agent's container and reboot updates, behind an interface so tests can record them (the machine that runs
 * the tests is not the device to configure) and the simulated fleet can play them. {@link SystemHostCommands} runs
 * the real commands.
 */
public interface HostCommands {
    /** {@code systemctl daemon-reload}: systemd rereads unit files. */
    void reloadUnits();

    /** {@code systemctl restart UNIT}; without {@code wait}, the job is queued and the call returns at once. */
    void restartUnit(String unit, boolean wait);

    /** {@code systemctl enable UNIT}, and with {@code start} also start it when it is not running ({@code --now}). */
    void enableUnit(String unit, boolean start);

    /** {@code iptables-restore --noflush RULES} (or ip6tables-restore): the rules file replaces the chains it flushes, atomically. */
    void loadFirewallRules(FirewallRules.Family family, Path rules);

    /** {@code systemctl show UNIT --property=…}: the unit's state, or why it cannot be read. */
    Probed<HealthReport.UnitState> unitState(String unit);

    /** {@code docker login --username USER --password-stdin REGISTRY}: the password goes in on stdin, never as an argument. */
    void registryLogin(RegistryCredentials credentials);

    /** {@code docker pull REFERENCE}: may take minutes on a site's link. */
    void pullImage(String reference);

    /** {@code docker inspect --type container NAME}: the container, or why there is none (no such container, no daemon). */
    Probed<HealthReport.ContainerInfo> inspectContainer(String name);

    /** {@code systemctl reboot}: queues the reboot and returns; whoever asks stops acting until the device is back. */
    void reboot();
}
