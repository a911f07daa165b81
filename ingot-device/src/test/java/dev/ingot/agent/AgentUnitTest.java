package dev.ingot.agent;

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

/** The agent's systemd unit passes {@code systemd-analyze verify} in a stand-in root (as deploy/'s units do). */
class AgentUnitTest {
    private static final Path UNIT = Path.of("../pending/agent/ingot-agent.service");
    private static final Path SYSTEM_UNITS = Path.of("/usr/lib/systemd/system");

    @TempDir
    Path root;

    @Test
    void theAgentUnitVerifiesAndRestartsTheAgentWheneverItStops() throws IOException {
        assumeTrue(Tools.available("systemd-analyze") && Files.isDirectory(SYSTEM_UNITS), "systemd-analyze and the host's units are needed");
        Path bin = Files.createDirectories(root.resolve("usr/local/bin"));
        Files.writeString(bin.resolve("ingot"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(bin.resolve("ingot"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Path units = Files.createDirectories(root.resolve("etc/systemd/system"));
        Files.copy(UNIT, units.resolve("ingot-agent.service"));
        Files.createDirectories(root.resolve("usr/lib/systemd"));
        Tools.succeed(root, "cp", "-a", SYSTEM_UNITS.toString(), root.resolve("usr/lib/systemd/").toString());

        Tools.Outcome verified = Tools.run(root, Map.of(), List.of("systemd-analyze", "--root=" + root, "verify",
                "/etc/systemd/system/ingot-agent.service"));

        assertThat(verified.exitCode()).as(verified.output()).isZero();
        assertThat(verified.output()).doesNotContain("ingot-agent");
        assertThat(Files.readString(UNIT)).contains("ExecStart=/usr/local/bin/ingot agent\n", "Restart=always\n",
                "RequiresMountsFor=/data /boot/efi\n", "WantedBy=multi-user.target\n");
    }
}
