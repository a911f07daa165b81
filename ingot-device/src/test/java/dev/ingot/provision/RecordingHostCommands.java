package dev.ingot.provision;

import dev.ingot.site.FirewallRules;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Records the host calls instead of making them, as the commands they stand for. */
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
}
