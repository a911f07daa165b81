package dev.ingot.provision;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.site.FirewallRules;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The host's own {@code systemctl}, {@code iptables-restore} and {@code ip6tables-restore}, run as child processes. */
public final class SystemHostCommands implements HostCommands {
    /** Restarting chrony or loading rules takes seconds; a hung call must not hang provisioning. */
    private static final long TIMEOUT_SECONDS = 120;

    @Override
    public void reloadUnits() {
        run(null, "systemctl", "daemon-reload");
    }

    @Override
    public void restartUnit(String unit, boolean wait) {
        List<String> command = new ArrayList<>(List.of("systemctl", "restart"));
        if (!wait) {
            command.add("--no-block");
        }
        command.add(unit);
        run(unit, command.toArray(String[]::new));
    }

    @Override
    public void enableUnit(String unit, boolean start) {
        if (start) {
            run(unit, "systemctl", "enable", "--now", "--no-block", unit);
        } else {
            run(unit, "systemctl", "enable", unit);
        }
    }

    @Override
    public void loadFirewallRules(FirewallRules.Family family, Path rules) {
        run(null, family.restore(), "--noflush", rules.toString());
    }

    private static void run(String unit, String... command) {
        String line = String.join(" ", command);
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "run '" + line + "'", command[0] + " cannot be started ("
                    + e.getMessage() + ")").withHint("provision on the device itself, or pass --no-apply").withCause(e);
        }
        try {
            process.getOutputStream().close();
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "run '" + line + "'", "it did not finish in " + TIMEOUT_SECONDS + " s");
            }
            if (process.exitValue() != 0) {
                String said = new String(output, StandardCharsets.UTF_8).strip();
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "run '" + line + "'", "it exited " + process.exitValue()
                                + (said.isEmpty() ? "" : ": " + said.lines().reduce((first, second) -> second).orElse("")))
                        .withHint(unit == null ? "the files are in place; fix the cause and run ingot provision again"
                                : "see journalctl -u " + unit + "; the files are in place, run ingot provision again after fixing it");
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "run '" + line + "'", String.valueOf(e.getMessage())).withCause(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "run '" + line + "'", "it was interrupted").withCause(e);
        }
    }
}
