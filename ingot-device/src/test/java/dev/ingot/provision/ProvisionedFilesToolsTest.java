package dev.ingot.provision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.site.FirewallRules;
import dev.ingot.site.FolderParameterSource;
import dev.ingot.testing.SiteTrees;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The provisioned files, as written, read by the real tools that read them on a device: chronyd, iptables-restore,
 * ip6tables-restore, systemd-analyze and apt-config. Each test is skipped, saying why, where its tool is missing or the machine
 * forbids what it needs.
 */
class ProvisionedFilesToolsTest {
    @TempDir
    Path folder;

    private Path root;

    @BeforeEach
    void provisionTheTypicalSite() throws IOException {
        Path params = SiteTrees.write(folder.resolve("params"), "SITE-2847", SiteTrees.typical(), SiteTrees.typicalSecure());
        root = Files.createDirectories(folder.resolve("root"));
        new Provisioner(new FolderParameterSource(params), new RecordingHostCommands())
                .provision(new Provisioner.Request(ProvisionerTest.SITE, root, false, false));
    }

    private Path file(String path) {
        return root.resolve(path.substring(1));
    }

    @Test
    void chronydParsesTheChronyConfiguration() {
        assumeTrue(Tools.available("chronyd"), "chronyd is not installed (apt-get install chrony)");

        Tools.Outcome parsed = Tools.run(folder, "chronyd", "-p", "-f", file("/etc/chrony/chrony.conf").toString());

        assertThat(parsed.exitCode()).as(parsed.output()).isZero();
        assertThat(parsed.output()).contains("server ntp.site-2847.example.net iburst prefer", "makestep 1 3", "rtcsync",
                "driftfile /var/lib/chrony/chrony.drift");
    }

    @ParameterizedTest
    @EnumSource(FirewallRules.Family.class)
    void theRestoreToolAcceptsEachFamilysRulesInBothWaysTheyAreLoaded(FirewallRules.Family family) throws IOException {
        String tool = family.restore();
        assumeTrue(Tools.available(tool), tool + " is not installed (apt-get install iptables)");
        Path trivial = Files.writeString(folder.resolve("trivial"), "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n");
        Tools.Outcome probe = Tools.run(folder, tool, "--test", trivial.toString());
        assumeTrue(probe.exitCode() == 0, "this machine does not let " + tool + " --test run: " + probe.output().strip());
        String rules = file(family.path()).toString();

        // At boot iptables-persistent loads the file whole; ingot provision loads it with --noflush.
        Tools.Outcome whole = Tools.run(folder, tool, "--test", rules);
        Tools.Outcome noFlush = Tools.run(folder, tool, "--test", "--noflush", rules);

        assertThat(whole.exitCode()).as(whole.output()).isZero();
        assertThat(noFlush.exitCode()).as(noFlush.output()).isZero();
    }

    @Test
    void ip6tablesRestoreRefusesABrokenRuleSoItsSilenceMeansSomething() throws IOException {
        assumeTrue(Tools.available("ip6tables-restore"), "ip6tables-restore is not installed (apt-get install iptables)");
        Path broken = Files.writeString(folder.resolve("broken.v6"), Files.readString(file("/etc/iptables/rules.v6"))
                .replace("--icmpv6-type packet-too-big", "--icmpv6-type packet-too-bigg"));

        Tools.Outcome outcome = Tools.run(folder, "ip6tables-restore", "--test", broken.toString());

        assertThat(outcome.exitCode()).as(outcome.output()).isNotZero();
    }

    @Test
    void systemdAnalyzeVerifiesTheVideoIngestUnit() throws IOException {
        Path tree = SystemdTree.create(folder.resolve("systemd-tree"));
        Files.copy(file("/etc/systemd/system/video-ingest.service"), tree.resolve("etc/systemd/system/video-ingest.service"));

        SystemdTree.verify(tree, "video-ingest.service");
    }

    @Test
    void systemdAnalyzeNoticesABrokenUnitSoItsSilenceMeansSomething() throws IOException {
        Path tree = SystemdTree.create(folder.resolve("systemd-tree"));
        Files.writeString(tree.resolve("etc/systemd/system/video-ingest.service"),
                Files.readString(file("/etc/systemd/system/video-ingest.service")).replace("Restart=always", "Restart=sometimes"));

        Tools.Outcome outcome = Tools.run(folder, "systemd-analyze", "verify", "--root=" + tree, "video-ingest.service");

        assertThat(outcome.output()).contains("restart");
    }

    @Test
    void aptConfigReadsTheUnattendedUpgradesPolicyOverThePackagesDefaults() throws IOException {
        assumeTrue(Tools.available("apt-config"), "apt-config is not installed (apt)");
        Path etc = Files.createDirectories(folder.resolve("apt-tree/etc/apt/apt.conf.d"));
        // What Ubuntu 22.04's unattended-upgrades package ships, abridged: more origins than security, and a reboot switch.
        Files.writeString(etc.resolve("50unattended-upgrades"), """
                Unattended-Upgrade::Allowed-Origins {
                        "${distro_id}:${distro_codename}";
                        "${distro_id}:${distro_codename}-security";
                        "${distro_id}:${distro_codename}-updates";
                };
                Unattended-Upgrade::Automatic-Reboot "true";
                """);
        Files.writeString(etc.resolve("20auto-upgrades"), "APT::Periodic::Unattended-Upgrade \"0\";\n");
        Files.copy(file("/etc/apt/apt.conf.d/52ingot-unattended-upgrades"), etc.resolve("52ingot-unattended-upgrades"));
        Path config = Files.writeString(folder.resolve("apt.conf"), "Dir::Etc \"" + etc.getParent() + "\";\n");

        Tools.Outcome dump = Tools.run(folder, Map.of("APT_CONFIG", config.toString()), List.of("apt-config", "dump"));

        assertThat(dump.exitCode()).as(dump.output()).isZero();
        List<String> unattended = dump.output().lines().filter(line -> line.startsWith("Unattended-Upgrade::")
                || line.startsWith("APT::Periodic::")).toList();
        assertThat(unattended).contains("Unattended-Upgrade::Automatic-Reboot \"false\";", "APT::Periodic::Unattended-Upgrade \"1\";",
                "Unattended-Upgrade::Origins-Pattern:: \"origin=Ubuntu,archive=${distro_codename}-security,label=Ubuntu\";");
        assertThat(unattended).noneMatch(line -> line.startsWith("Unattended-Upgrade::Allowed-Origins::"))
                .noneMatch(line -> line.contains("-updates"));
    }

    @Test
    void theEnvironmentFileHasOneVariablePerLineAsDockerReadsIt() throws IOException {
        List<String> lines = Files.readAllLines(file("/etc/edge/video-ingest.env")).stream()
                .filter(line -> !line.startsWith("#")).toList();

        // docker's opts/envfile.go: NAME=value, the name without whitespace, the value taken as it is.
        assertThat(lines).allSatisfy(line -> assertThat(line).matches("[A-Za-z_][A-Za-z0-9_]*=.*"));
        assertThat(lines).contains("SITE_ID=SITE-2847", "CAMERA_RTSP_PORT=8554", "SITE_NAME=Riverside distribution centre");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file("/etc/edge/video-ingest.env")))).isEqualTo("rw-------");
    }

    /** A root for {@code systemd-analyze verify --root}: the system's targets, and stand-ins for what a unit runs. */
    static final class SystemdTree {
        private SystemdTree() {}

        static Path create(Path tree) throws IOException {
            assumeTrue(Tools.available("systemd-analyze"), "systemd-analyze is not installed (systemd)");
            Path system = Files.createDirectories(tree.resolve("usr/lib/systemd/system"));
            Files.createDirectories(tree.resolve("etc/systemd/system"));
            Path targets = Stream.of(Path.of("/usr/lib/systemd/system"), Path.of("/lib/systemd/system"))
                    .filter(path -> Files.exists(path.resolve("multi-user.target"))).findFirst().orElse(null);
            assumeTrue(targets != null, "this machine has no systemd target units to verify against");
            try (Stream<Path> units = Files.list(targets)) {
                for (Path target : units.filter(path -> path.getFileName().toString().endsWith(".target")).toList()) {
                    Files.copy(target, system.resolve(target.getFileName()));
                }
            }
            standIn(tree, "usr/bin/docker");
            standIn(tree, "usr/bin/bash");
            Files.createDirectories(tree.resolve("bin"));
            Files.copy(tree.resolve("usr/bin/bash"), tree.resolve("bin/bash"));
            Files.writeString(system.resolve("docker.service"), "[Unit]\nDescription=Docker stand-in\n\n[Service]\nExecStart=/usr/bin/docker\n");
            return tree;
        }

        static void standIn(Path tree, String path) throws IOException {
            Path file = tree.resolve(path);
            Files.createDirectories(file.getParent());
            Files.writeString(file, "#!/bin/sh\nexit 0\n");
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        }

        /** Verifies a unit and insists on silence: systemd-analyze exits 0 on many problems and only prints them. */
        static void verify(Path tree, String unit) {
            Tools.Outcome outcome = Tools.run(tree, "systemd-analyze", "verify", "--root=" + tree, unit);
            assertThat(outcome.exitCode()).as(outcome.output()).isZero();
            assertThat(outcome.output()).as("systemd-analyze verify says").isBlank();
        }
    }
}
