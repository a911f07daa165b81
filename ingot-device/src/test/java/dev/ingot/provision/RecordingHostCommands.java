package dev.ingot.provision;

import dev.ingot.health.HealthReport;
import dev.ingot.health.Probed;
import dev.ingot.registry.RegistryCredentials;
import dev.ingot.site.FirewallRules;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Records the host calls instead of making them, as the commands they stand for; queries find nothing. */
final class RecordingHostCommands implements HostCommands {
    final List<String> calls = new ArrayList<>();

    @Override
    public void reloadUnits() {
        calls.add("systemctl daemon-reload");
    }

    @Override
    public void restartUnit(String unit, boolean wait) {
        calls.add("systemctl restart " + (wait ? "" : "--no-block ") + unit);
    }

    @Override
    public void enableUnit(String unit, boolean start) {
        calls.add("systemctl enable " + (start ? "--now " : "") + unit);
    }

    @Override
    public void loadFirewallRules(FirewallRules.Family family, Path rules) {
        calls.add(family.restore() + " --noflush " + rules);
    }

    @Override
    public Probed<HealthReport.UnitState> unitState(String unit) {
        calls.add("systemctl show " + unit);
        return Probed.failed("a recording host has no units");
    }

    @Override
    public void registryLogin(RegistryCredentials credentials) {
        calls.add("docker login --username " + credentials.username() + " --password-stdin " + credentials.registry());
    }

    @Override
    public void pullImage(String reference) {
        calls.add("docker pull " + reference);
    }

    @Override
    public Probed<HealthReport.ContainerInfo> inspectContainer(String name) {
        calls.add("docker inspect " + name);
        return Probed.failed("a recording host has no containers");
    }

    @Override
    public void reboot() {
        calls.add("systemctl reboot");
    }
}
