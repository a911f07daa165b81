package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.testing.Fixtures;
import dev.ingot.testing.GoldenImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ingot image test --live --ssh}, against a stand-in device: {@code ssh} on PATH is a script that runs the remote
 * command as the remote shell would (the words joined and parsed by sh) with the device's programs first on its PATH,
 * and the device's files in a folder (its root). Its programs are stand-ins that answer as the real ones do: sudo runs
 * the command (an absolute path inside the device's root), cat reads the device's files, systemctl is-enabled reads the
 * wants/ links, docker and nvidia-smi print a recorded H200's GPU line, sshd -T prints the effective settings.
 */
class LiveImageTestCommandTest {
    @TempDir
    Path folder;

    private Path device;
    private Path deviceBin;
    private Map<String, String> files;

    @BeforeEach
    void aGoodDeviceBehindSsh() throws IOException {
        device = folder.resolve("device");
        deviceBin = Files.createDirectories(folder.resolve("device-bin"));
        files = new HashMap<>(GoldenImages.goodFiles());
        // The device's launcher answers as ingot --version does; its real runtime is not what this test is about.
        files.put("/opt/edge/bin/ingot", "#!/bin/sh\necho 'ingot 0.1.0'\necho 'Java 25.0.1+8 (Eclipse Adoptium)'\n");
        Path bin = Files.createDirectories(folder.resolve("bin"));
        script(bin.resolve("ssh"), """
                #!/bin/sh
                echo "$*" >> '%s'
                while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done
                shift
                PATH='%s' exec sh -c "$*"
                """.formatted(folder.resolve("ssh.log"), deviceBin + ":/usr/bin:/bin"));
        script(deviceBin.resolve("sudo"), """
                #!/bin/sh
                case "$1" in /*) program='%s'"$1"; shift; exec "$program" "$@" ;; esac
                exec "$@"
                """.formatted(device));
        script(deviceBin.resolve("cat"), "#!/bin/sh\nexec /bin/cat '" + device + "'\"$1\"\n");
        script(deviceBin.resolve("systemctl"), """
                #!/bin/sh
                # systemctl is-enabled UNIT...: one state per unit; exit 0 only when every one is enabled.
                [ "$1" = is-enabled ] || exit 64
                shift
                status=0
                for unit in "$@"; do
                  if ls '%1$s'/etc/systemd/system/*.wants/"$unit" >/dev/null 2>&1; then echo enabled
                  elif [ -e '%1$s'/etc/systemd/system/"$unit" ]; then echo disabled; status=1
                  else echo "Failed to get unit file state for $unit: No such file or directory" >&2; status=1
                  fi
                done
                exit $status
                """.formatted(device));
        String gpu = Fixtures.text("recorded/nvidia-h200/nvidia-smi-L.txt").strip();
        script(deviceBin.resolve("nvidia-smi"), "#!/bin/sh\necho '" + gpu + "'\n");
        script(deviceBin.resolve("docker"), """
                #!/bin/sh
                case "$1" in
                  info) echo nvidia ;;
                  run) echo '%s' ;;
                  *) exit 64 ;;
                esac
                """.formatted(gpu));
        script(deviceBin.resolve("sshd"), "#!/bin/sh\nprintf 'port 22\\npermitrootlogin no\\npasswordauthentication no\\n"
                + "kbdinteractiveauthentication no\\nallowusers edgeuser\\n'\n");
        script(deviceBin.resolve("true"), "#!/bin/sh\nexit 0\n");
    }

    private static void script(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private CommandRunner.Run live(String... extra) {
        GoldenImages.writeTree(device, files);
        CommandRunner runner = new CommandRunner(folder, Map.of("PATH", folder.resolve("bin") + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin")));
        List<String> args = new java.util.ArrayList<>(List.of("image", "test", "--live", "--ssh", "edgeuser@edge-2847", "--versions", "versions.hcl",
                "--version", GoldenImages.VERSION, "--json"));
        args.addAll(List.of(extra));
        return runner.run(args.toArray(String[]::new));
    }

    @BeforeEach
    void thePinnedVersions() throws IOException {
        Files.writeString(folder.resolve("versions.hcl"), GoldenImages.VERSIONS_FILE);
    }

    private static JsonNode check(CommandRunner.Run run, String name) {
        for (JsonNode check : run.json().get("checks")) {
            if (check.get("name").asText().equals(name)) {
                return check;
            }
        }
        throw new AssertionError("no check " + name + " in " + run);
    }

    @Test
    void aGoodDevicePassesEveryLiveCheckOverSsh() throws IOException {
        CommandRunner.Run run = live();

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.json().get("subject").asText()).isEqualTo("edgeuser@edge-2847");
        assertThat(run.json().get("checks")).extracting(node -> node.get("name").asText()).containsExactly("accounts", "packages",
                "docker-runtime", "image-version", "docker-starts", "nvidia-smi", "container-gpu", "sshd-effective", "units-enabled",
                "launcher-runs");
        // Every command went through ssh in batch mode, its words quoted for the remote shell.
        assertThat(Files.readAllLines(folder.resolve("ssh.log"))).contains("-o BatchMode=yes edgeuser@edge-2847 -- 'sudo' 'cat' '/etc/passwd'",
                "-o BatchMode=yes edgeuser@edge-2847 -- 'systemctl' 'is-enabled' 'ingot-provision-first-boot.service' "
                        + "'ingot-ssh-host-keys.service' 'ingot-health.timer' 'ingot-agent.service'",
                "-o BatchMode=yes edgeuser@edge-2847 -- 'sudo' '/opt/edge/bin/ingot' '--version'");
    }

    @Test
    void aDeviceWhoseHealthTimerIsNotEnabledAndWhoseLauncherFailsExitsOne() {
        files.remove("/etc/systemd/system/timers.target.wants/ingot-health.timer");
        files.put("/opt/edge/bin/ingot", "#!/bin/sh\necho 'exec: /opt/edge/agent/runtime/bin/java: not found' >&2\nexit 127\n");

        CommandRunner.Run run = live();

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
        assertThat(check(run, "units-enabled").get("findings")).extracting(JsonNode::asText)
                .containsExactly("ingot-health.timer is disabled, not enabled");
        assertThat(check(run, "launcher-runs").get("findings")).extracting(JsonNode::asText)
                .containsExactly("sudo /opt/edge/bin/ingot --version failed (exit 127): exec: /opt/edge/agent/runtime/bin/java: not found");
    }

    @Test
    void aDeviceWithoutTheNvidiaDriverFailsTheGpuChecksWithTheToolsOwnWords() throws IOException {
        Fixtures.Recording noDriver = Fixtures.recording("written/nvidia-smi-no-driver");
        script(deviceBin.resolve("nvidia-smi"), "#!/bin/sh\nprintf '%s' '" + noDriver.stdout().replace("'", "") + "'\nexit "
                + noDriver.exitCode() + "\n");

        CommandRunner.Run run = live();

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(check(run, "nvidia-smi").get("findings").get(0).asText()).startsWith("nvidia-smi -L failed (exit " + noDriver.exitCode() + "): ")
                .contains(noDriver.stdout().strip().lines().findFirst().orElseThrow().replace("'", ""));
        assertThat(check(run, "units-enabled").get("ok").asBoolean()).isTrue();
    }

    @Test
    void aDeviceThatSshCannotReachIsUnavailableNotAFailedCheck() throws IOException {
        script(folder.resolve("bin/ssh"), "#!/bin/sh\necho 'ssh: connect to host edge-2847 port 22: Connection refused' >&2\nexit 255\n");

        CommandRunner.Run run = live();

        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.err()).contains("ssh could not reach it: ssh: connect to host edge-2847 port 22: Connection refused",
                "Hint: check that ssh -o BatchMode=yes edgeuser@edge-2847 true works");
    }

    @Test
    void withoutSshThisHostIsCheckedWithItsOwnFilesAndTheSameProbes() {
        // The machine running the tests is no edge device: its own files fail the device checks, and that is the point here.
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.exists(Path.of("/etc/systemd/system/ingot-health.timer")),
                "this host has Ingot's units installed");
        CommandRunner runner = new CommandRunner(folder, Map.of("PATH", deviceBin + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin")));

        CommandRunner.Run run = runner.run("image", "test", "--live", "--versions", "versions.hcl", "--json");

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
        assertThat(run.json().get("subject").asText()).isEqualTo("this host");
        assertThat(run.json().get("checks")).extracting(node -> node.get("name").asText()).containsExactly("accounts", "packages",
                "docker-runtime", "image-version", "ssh-hardening", "unattended-upgrades", "no-site-config", "units", "launcher", "fstab",
                "boot-loader-held", "docker-starts", "nvidia-smi", "container-gpu", "sshd-effective", "units-enabled", "launcher-runs");
        assertThat(check(run, "units").get("findings").get(0).asText())
                .isEqualTo("/etc/systemd/system/ingot-provision-first-boot.service is missing (packer/scripts/40-ingot-agent.sh installs it)");
        assertThat(check(run, "nvidia-smi").get("ok").asBoolean()).isTrue();
    }

    @Test
    void sshWithoutLiveAndAnImageWithLiveAreBadInput() {
        CommandRunner runner = new CommandRunner(folder);

        CommandRunner.Run sshAlone = runner.run("image", "test", "edge-golden.img", "--ssh", "edgeuser@edge-2847");
        CommandRunner.Run both = runner.run("image", "test", "edge-golden.img", "--live");

        assertThat(sshAlone.exitCode()).isEqualTo(2);
        assertThat(sshAlone.err()).contains("--ssh applies to --live only");
        assertThat(both.exitCode()).isEqualTo(2);
        assertThat(both.err()).contains("--live checks a running host, not an image");
    }
}
