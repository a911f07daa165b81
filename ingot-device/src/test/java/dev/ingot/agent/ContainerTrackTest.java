package dev.ingot.agent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.agent.AgentState.Container;
import dev.ingot.fleet.ActionState;
import dev.ingot.health.ChronyTracking;
import dev.ingot.health.DeviceHealth;
import dev.ingot.health.DockerJson;
import dev.ingot.health.HealthConfig;
import dev.ingot.health.NvidiaSmi;
import dev.ingot.health.SystemctlShow;
import dev.ingot.health.ToolRunner;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.Manifest;
import dev.ingot.provision.SystemHostCommands;
import dev.ingot.registry.EcrRegistry;
import dev.ingot.registry.RegistryCredentials;
import dev.ingot.registry.RegistryLogin;
import dev.ingot.sim.ManualClock;
import dev.ingot.site.ContainerImage;
import dev.ingot.site.Secret;
import dev.ingot.testing.FakeTools;
import dev.ingot.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container track on the real host commands (docker and systemctl run as processes) with fake docker and
 * systemctl on PATH that record their calls: the fake systemctl starts the tag the unit's configuration names (the
 * agent's override file, else the site parameter's tag), the fake docker shows that container running, or
 * restarting for a tag that crash-loops, and fails a pull of a tag the registry does not have. The health check is
 * the real one, over the same fakes.
 */
class ContainerTrackTest {
    private static final ContainerImage SITE_IMAGE = ContainerImage.parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest:2.3.1");
    private static final String REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    private static final String ECR_PASSWORD = "ecr-token-3f9a";

    @TempDir
    Path folder;

    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-26T08:00:00Z"));
    private Path root;
    private FakeTools tools;
    private ContainerTrack track;
    private FileTagOverride override;

    @BeforeEach
    void aDeviceRunningTheSiteParametersTag() throws IOException {
        root = folder.resolve("root");
        write("etc/edge/site-id", "SITE-2847\n");
        write("etc/machine-id", "3d1219c7c4c5404aaa1f6d2a48adfda4\n");
        write("proc/sys/kernel/hostname", "edge-site-2847\n");
        write("etc/edge/image-version", Manifest.imageVersionFile(ImageName.DEFAULT, ImageVersion.parse("v1.4"),
                Instant.parse("2026-11-20T09:30:00Z")));
        write("proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/disk/by-partlabel/root-a ro ingot.slot=a\n");
        write("proc/uptime", "3600.00 7000.00\n");
        write("proc/meminfo", "MemTotal:       32768000 kB\nMemAvailable:   21000000 kB\n");
        write("etc/edge/video-ingest.env", "SITE_ID=SITE-2847\n");
        Files.createDirectories(root.resolve("var/lib/docker"));
        Files.createDirectories(root.resolve("media/usb/ingot"));

        tools = FakeTools.in(folder.resolve("tools"))
                .answer("nvidia-smi", NvidiaSmi.arguments(), Fixtures.recording("written/nvidia-smi-t4"))
                .answer("docker", DockerJson.INFO_ARGUMENTS, Fixtures.recording("written/docker-info"))
                .answer("chronyc", ChronyTracking.ARGUMENTS, Fixtures.recording("written/chronyc-tracking-synchronised"));
        Path data = tools.data();
        String running = Fixtures.recording("written/docker-inspect-running").stdout();
        for (String tag : List.of("2.3.1", "2.4.0", "2.5.0")) {
            boolean crashes = tag.equals("2.5.0");
            String inspect = running.replace("video-ingest:2.8.1", "video-ingest:" + tag);
            if (crashes) {
                inspect = inspect.replace("\"Status\": \"running\"", "\"Status\": \"restarting\"").replace("\"Running\": true", "\"Running\": false")
                        .replace("\"Restarting\": false", "\"Restarting\": true");
            }
            Files.writeString(data.resolve("inspect-" + tag), inspect);
            Files.writeString(data.resolve("show-" + tag), Fixtures.recording(crashes ? "written/systemctl-show-restarting"
                    : "written/systemctl-show-active").stdout());
            tools.answer("docker", List.of("pull", SITE_IMAGE.repository() + ":" + tag), "Status: Downloaded newer image for " + tag + "\n");
        }
        tools.answer("docker", List.of("pull", SITE_IMAGE.repository() + ":9.9.9"), new Fixtures.Recording("",
                "Error response from daemon: manifest for " + SITE_IMAGE.repository() + ":9.9.9 not found: manifest unknown\n", 1));
        Path overrideFile = root.resolve("data/ingot/agent/video-ingest-tag.env");
        // What systemd does on a restart: the unit's tag, overridden by the agent's file when there is one.
        tools.script("systemctl", List.of("restart", "--no-block", "video-ingest.service"), """
                tag=2.3.1
                if [ -f '%1$s' ]; then tag=$(/bin/sed -n 's/^VIDEO_INGEST_TAG=//p' '%1$s'); fi
                printf '%%s' "$tag" > '%2$s/running-tag'
                """.formatted(overrideFile, data));
        tools.script("docker", DockerJson.inspectArguments("video-ingest"), "/bin/cat \"%1$s/inspect-$(/bin/cat '%1$s/running-tag')\"".formatted(data));
        tools.script("systemctl", SystemctlShow.arguments("video-ingest.service"), "/bin/cat \"%1$s/show-$(/bin/cat '%1$s/running-tag')\"".formatted(data));
        tools.script("docker", List.of("login", "--username", "AWS", "--password-stdin", REGISTRY),
                "/bin/cat > '%s/login-password'; echo 'Login Succeeded'".formatted(data));
        Files.writeString(data.resolve("running-tag"), "2.3.1");

        ToolRunner runner = new ToolRunner(Map.of("PATH", tools.path()));
        RegistryLogin ecr = image -> EcrRegistry.of(image.repository()).map(registry -> new RegistryCredentials(registry.host(), "AWS",
                Secret.of(ECR_PASSWORD), clock.instant().plusSeconds(43_200)));
        override = FileTagOverride.under(root);
        track = new ContainerTrack(clock, new SystemHostCommands(runner), override, ecr,
                new DeviceHealth(root, HealthConfig.DEFAULTS, runner, clock)::check, Timings.DEFAULTS, Optional.of(SITE_IMAGE));
    }

    private void write(String path, String content) throws IOException {
        Path file = root.resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content, UTF_8);
    }

    /** Runs the action's steps to its end, jumping the clock over every wait. */
    private StepResult.Done run(Container action) {
        Container current = action;
        for (int steps = 0; steps < 200; steps++) {
            switch (track.step(current)) {
                case StepResult.Next next -> current = (Container) next.action();
                case StepResult.Wait wait -> clock.advance(wait.delay());
                case StepResult.Done done -> {
                    return done;
                }
                case StepResult.Reboot reboot -> throw new AssertionError("a container update never reboots");
            }
        }
        throw new AssertionError("no end after 200 steps");
    }

    private String running() throws IOException {
        return Files.readString(tools.data().resolve("running-tag"));
    }

    @Test
    void aNewTagIsPulledAfterAnEcrLoginThenSwitchedToRestartedCheckedAndCommitted() throws IOException {
        StepResult.Done done = run(track.start(4, "2.4.0"));

        assertThat(done.state()).isEqualTo(ActionState.COMMITTED);
        assertThat(running()).isEqualTo("2.4.0");
        assertThat(override.current()).contains("2.4.0");
        assertThat(Files.readString(root.resolve("data/ingot/agent/video-ingest-tag.env"))).endsWith("\nVIDEO_INGEST_TAG=2.4.0\n");
        assertThat(tools.calls()).containsSubsequence(
                "docker login --username AWS --password-stdin " + REGISTRY,
                "docker pull " + SITE_IMAGE.repository() + ":2.4.0",
                "systemctl restart --no-block video-ingest.service",
                "systemctl show video-ingest.service --property=LoadState,ActiveState,SubState,Result,NRestarts");
        // The password went in on stdin, never on a command line.
        assertThat(Files.readString(tools.data().resolve("login-password"))).isEqualTo(ECR_PASSWORD);
        assertThat(tools.calls()).noneMatch(call -> call.contains(ECR_PASSWORD));
    }

    @Test
    void aTagThatCrashLoopsIsSwitchedBackToTheSiteTagAndReportedRolledBackWithTheReason() throws IOException {
        StepResult.Done done = run(track.start(5, "2.5.0"));

        assertThat(done.state()).isEqualTo(ActionState.ROLLED_BACK);
        assertThat(done.reason()).hasValueSatisfying(reason -> assertThat(reason).contains("2.5.0 was not running and healthy within 5 min",
                "video-ingest.service is activating", "back on the site parameter's tag 2.3.1"));
        assertThat(running()).isEqualTo("2.3.1");
        assertThat(override.current()).isEmpty();
        assertThat(Files.exists(root.resolve("data/ingot/agent/video-ingest-tag.env"))).isFalse();
        assertThat(tools.calls().stream().filter(call -> call.equals("systemctl restart --no-block video-ingest.service"))).hasSize(2);
    }

    @Test
    void aRevertPutsBackTheTagThatWasRolledOutBefore() throws IOException {
        assertThat(run(track.start(4, "2.4.0")).state()).isEqualTo(ActionState.COMMITTED);

        StepResult.Done done = run(track.start(5, "2.5.0"));

        assertThat(done.state()).isEqualTo(ActionState.ROLLED_BACK);
        assertThat(done.reason()).hasValueSatisfying(reason -> assertThat(reason).endsWith("back on tag 2.4.0"));
        assertThat(override.current()).contains("2.4.0");
        assertThat(running()).isEqualTo("2.4.0");
    }

    @Test
    void aPullThatKeepsFailingFailsTheActionAndChangesNothing() throws IOException {
        StepResult.Done done = run(track.start(6, "9.9.9"));

        assertThat(done.state()).isEqualTo(ActionState.FAILED);
        assertThat(done.reason()).hasValueSatisfying(reason -> assertThat(reason).contains("pulling", "9.9.9", "(3 attempts)",
                "manifest unknown", "nothing was changed"));
        assertThat(tools.calls().stream().filter(call -> call.startsWith("docker pull"))).hasSize(3);
        assertThat(tools.calls()).doesNotContain("systemctl restart --no-block video-ingest.service");
        assertThat(override.current()).isEmpty();
        assertThat(running()).isEqualTo("2.3.1");
    }

    @Test
    void aRestartThatFailsSwitchesBackAtOnce() throws IOException {
        tools.answer("systemctl", List.of("restart", "--no-block", "video-ingest.service"),
                new Fixtures.Recording("", "Failed to restart video-ingest.service: Unit video-ingest.service not found.\n", 5));

        StepResult.Done done = run(track.start(7, "2.4.0"));

        assertThat(done.state()).isEqualTo(ActionState.FAILED);
        assertThat(done.reason()).hasValueSatisfying(reason -> assertThat(reason).contains("switching to 2.4.0 failed",
                "Unit video-ingest.service not found", "putting back the site parameter's tag 2.3.1 failed too"));
        assertThat(override.current()).isEmpty();
    }
}
