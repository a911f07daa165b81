package dev.ingot.provision;

import static java.util.Objects.requireNonNull;

import dev.ingot.site.FirewallRules;
import java.nio.file.Path;

/** One call to the host, planned from what changed; {@link #command} says it as a person would type it. */
public sealed interface HostAction {
    void applyTo(HostCommands host);

    String command();

    record ReloadUnits() implements HostAction {
        @Override
        public void applyTo(HostCommands host) {
            host.reloadUnits();
        }

        @Override
        public String command() {
            return "systemctl daemon-reload";
        }
    }

    record RestartUnit(String unit, boolean waitForIt) implements HostAction {
        public RestartUnit {
            requireNonNull(unit, "unit");
        }

        @Override
        public void applyTo(HostCommands host) {
            host.restartUnit(unit, waitForIt);
        }

        @Override
        public String command() {
            return "systemctl restart " + (waitForIt ? "" : "--no-block ") + unit;
        }
    }

    record EnableUnit(String unit, boolean start) implements HostAction {
        public EnableUnit {
            requireNonNull(unit, "unit");
        }

        @Override
        public void applyTo(HostCommands host) {
            host.enableUnit(unit, start);
        }

        @Override
        public String command() {
            return "systemctl enable " + (start ? "--now --no-block " : "") + unit;
        }
    }

    record LoadFirewallRules(FirewallRules.Family family, Path rules) implements HostAction {
        public LoadFirewallRules {
            requireNonNull(family, "family");
            requireNonNull(rules, "rules");
        }

        @Override
        public void applyTo(HostCommands host) {
            host.loadFirewallRules(family, rules);
        }

        @Override
        public String command() {
            return family.restore() + " --noflush " + rules;
        }
    }
}
