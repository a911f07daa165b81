package dev.ingot.provision;

import dev.ingot.site.FirewallRules;
import java.nio.file.Path;

/**
 * What provisioning asks of the host once the files are in place: the few systemd and iptables calls, behind an
 * interface so tests can record them (the machine that runs the tests is not the device to configure).
 * {@link SystemHostCommands} runs the real commands.
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
}
