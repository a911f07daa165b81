package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The units in deploy/ the image runs ingot with (the health report and its timer, the device agent) pass
 * {@code systemd-analyze verify} in a stand-in root: the host's own unit files (copied, for the targets they depend on), the
 * units where the image installs them, and an executable where the image installs {@code /opt/edge/bin/ingot}
 * (packer/scripts/40-ingot-agent.sh). Verify only warns on an unknown key, so its output is checked too.
 */
class DeployUnitsTest {
    private static final Path DEPLOY = Path.of("../deploy");
    private static final Path SYSTEM_UNITS = Path.of("/usr/lib/systemd/system");

    @TempDir
    Path root;

    /** The units where the image installs them, the launcher they run, and the host's units beside them; verified. */
    private Tools.Outcome verify(String... units) throws IOException {
        assumeTrue(Tools.available("systemd-analyze") && Files.isDirectory(SYSTEM_UNITS), "systemd-analyze and the host's units are needed");
        Path bin = Files.createDirectories(root.resolve("opt/edge/bin"));
        Files.writeString(bin.resolve("ingot"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(bin.resolve("ingot"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Path installed = Files.createDirectories(root.resolve("etc/systemd/system"));
        List<String> command = new java.util.ArrayList<>(List.of("systemd-analyze", "--root=" + root, "verify"));
        for (String unit : units) {
            Files.copy(DEPLOY.resolve(unit), installed.resolve(unit));
            command.add("/etc/systemd/system/" + unit);
        }
        Files.createDirectories(root.resolve("usr/lib/systemd"));
        Tools.succeed(root, "cp", "-a", SYSTEM_UNITS.toString(), root.resolve("usr/lib/systemd/").toString());
        return Tools.run(root, Map.of(), command);
    }

    @Test
    void theHealthServiceAndTimerVerify() throws IOException {
        Tools.Outcome verified = verify("ingot-health.service", "ingot-health.timer");

        assertThat(verified.exitCode()).as(verified.output()).isZero();
        assertThat(verified.output()).doesNotContain("ingot-health");
    }

    @Test
    void theAgentUnitVerifies() throws IOException {
        Tools.Outcome verified = verify("ingot-agent.service");

        assertThat(verified.exitCode()).as(verified.output()).isZero();
        assertThat(verified.output()).doesNotContain("ingot-agent");
    }

    @Test
    void theAgentRunsFromTheLauncherIsRestartedWheneverItStopsAndWaitsForTheDataPartitionAndTheEsp() throws IOException {
        String unit = Files.readString(DEPLOY.resolve("ingot-agent.service"));

        assertThat(unit).contains("ExecStart=/opt/edge/bin/ingot agent --json\n", "Restart=always\n", "StartLimitIntervalSec=0\n",
                "RequiresMountsFor=/data /boot/efi\n", "After=network-online.target docker.service ingot-provision-first-boot.service\n",
                "WantedBy=multi-user.target\n");
    }

    @Test
    void theServiceRunsTheReportWithPublishingAndTheTimerEveryMinute() throws IOException {
        String service = Files.readString(DEPLOY.resolve("ingot-health.service"));
        String timer = Files.readString(DEPLOY.resolve("ingot-health.timer"));

        assertThat(service).contains("Type=oneshot\n", "ExecStart=/opt/edge/bin/ingot health --json --publish cloudwatch\n",
                "SuccessExitStatus=1\n");
        assertThat(timer).contains("OnUnitActiveSec=1min\n", "WantedBy=timers.target\n");
    }
}
