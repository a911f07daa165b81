package dev.ingot.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.health.ChronyTracking;
import dev.ingot.health.DockerJson;
import dev.ingot.health.NvidiaSmi;
import dev.ingot.health.SystemctlShow;
import dev.ingot.testing.FakeTools;
import dev.ingot.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `ingot agent` as ingot-agent.service runs it, one tick at a time (--once), on a device root in a folder: what provisioning
 * wrote, the data partition, fake docker and systemctl on PATH that play the video-ingest unit, and the real control plane
 * on loopback.
 */
class AgentCommandTest {
    private static final String MACHINE_ID = "3d1219c7c4c5404aaa1f6d2a48adfda4";
    private static final String REPOSITORY = "registry.example.net/video-ingest";

    @TempDir
    Path folder;

    private LiveControlPlane server;
    private Path root;
    private FakeTools tools;

    @BeforeEach
    void aProvisionedDevice() throws IOException {
        server = LiveControlPlane.start(folder, Duration.ofSeconds(60)).publish("v1.5");
        server.addSite("SITE-2847");
        root = folder.resolve("device");
        write("etc/ingot/agent.json", """
                {
                  "aws_region": "us-east-1",
                  "control_plane_url": "%s",
                  "enrollment_token_file": "/etc/ingot/enrollment-token",
                  "site": "SITE-2847",
                  "video_ingest_image": "%s:2.8.1"
                }
                """.formatted(server.url(), REPOSITORY));
        write("etc/ingot/enrollment-token", server.enrollmentToken("SITE-2847") + "\n");
        Files.setPosixFilePermissions(root.resolve("etc/ingot/enrollment-token"), PosixFilePermissions.fromString("rw-------"));
        write("etc/edge/site-id", "SITE-2847\n");
        write("etc/machine-id", MACHINE_ID + "\n");
        write("proc/sys/kernel/hostname", "edge-site-2847\n");
        write("proc/sys/kernel/random/boot_id", "7c1d2a3e-0c1f-4a5b-9d8e-112233445566\n");
        write("etc/edge/image-version", "IMAGE_NAME=edge-golden\nIMAGE_VERSION=v1.4\nBUILD_DATE=2026-11-20T09:30:00Z\n");
        write("proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/disk/by-partlabel/root-a ro panic=30 ingot.slot=a\n");
        write("proc/uptime", "3600.00 7000.00\n");
        write("proc/meminfo", "MemTotal:       32768000 kB\nMemAvailable:   21000000 kB\n");
        write("etc/edge/video-ingest.env", "SITE_ID=SITE-2847\n");
        Files.createDirectories(root.resolve("var/lib/docker"));
        Files.createDirectories(root.resolve("media/usb/ingot"));
        Files.createDirectories(root.resolve("data"));

        tools = FakeTools.in(folder.resolve("tools"))
                .answer("nvidia-smi", NvidiaSmi.arguments(), Fixtures.recording("written/nvidia-smi-t4"))
                .answer("docker", DockerJson.INFO_ARGUMENTS, Fixtures.recording("written/docker-info"))
                .answer("chronyc", ChronyTracking.ARGUMENTS, Fixtures.recording("written/chronyc-tracking-synchronised"))
                .answer("docker", List.of("pull", REPOSITORY + ":2.9.0"), "Status: Downloaded newer image for 2.9.0\n");
        Path data = tools.data();
        String running = Fixtures.recording("written/docker-inspect-running").stdout();
        for (String tag : List.of("2.8.1", "2.9.0")) {
            Files.writeString(data.resolve("inspect-" + tag), running.replace("video-ingest:2.8.1", "video-ingest:" + tag));
        }
        Files.writeString(data.resolve("show"), Fixtures.recording("written/systemctl-show-active").stdout());
        Files.writeString(data.resolve("running-tag"), "2.8.1");
        // What systemd does on a restart: the unit's tag, overridden by the agent's file on the data partition when there is one.
        tools.script("systemctl", List.of("restart", "--no-block", "video-ingest.service"), """
                tag=2.8.1
                if [ -f '%1$s' ]; then tag=$(/bin/sed -n 's/^VIDEO_INGEST_TAG=//p' '%1$s'); fi
                printf '%%s' "$tag" > '%2$s/running-tag'
                """.formatted(root.resolve("data/ingot/agent/video-ingest-tag.env"), data));
        tools.script("docker", DockerJson.inspectArguments("video-ingest"), "/bin/cat \"%1$s/inspect-$(/bin/cat '%1$s/running-tag')\"".formatted(data));
        tools.script("systemctl", SystemctlShow.arguments("video-ingest.service"), "/bin/cat '%s/show'".formatted(data));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private void write(String path, String content) throws IOException {
        Path file = root.resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content, UTF_8);
    }

    private CommandRunner.Run tick() {
        return new CommandRunner(folder, Map.of("PATH", tools.path())).run("agent", "--root", root.toString(), "--once", "--json");
    }

    @Test
    void theAgentEnrollsOnceKeepsItsCredentialOnTheDataPartitionAndPollsWithItAfterARestart() throws IOException {
        CommandRunner.Run first = tick();
        CommandRunner.Run second = tick();

        assertThat(first.exitCode()).as(first.toString()).isZero();
        JsonNode status = first.json();
        assertThat(status.path("enrolled").asBoolean()).isTrue();
        assertThat(status.path("device_id").asText()).isEqualTo(MACHINE_ID);
        assertThat(status.path("action").isNull()).isTrue();
        assertThat(status.path("next_tick_seconds").asLong()).isBetween(48L, 72L);
        assertThat(first.err()).contains("enrolled as device " + MACHINE_ID + " of site SITE-2847");
        Path state = root.resolve("data/ingot/agent/state.json");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state))).isEqualTo("rw-------");
        assertThat(Files.readString(state)).contains("ingot_dev_");
        assertThat(second.exitCode()).as(second.toString()).isZero();
        assertThat(second.err()).as("the token was used once; the credential serves from then on").doesNotContain("enroll");
        JsonNode device = server.device(MACHINE_ID);
        assertThat(device.path("device").path("site_id").asText()).isEqualTo("SITE-2847");
        assertThat(device.path("device").path("reported").path("image_version").asText()).isEqualTo("v1.4");
        assertThat(device.path("device").path("reported").path("status").asText()).as("the report was stored").isIn("healthy", "degraded");
    }

    @Test
    void aTagTheOperatorSetsIsPulledSwitchedCheckedAndReportedCommitted() throws IOException {
        assertThat(tick().exitCode()).isZero();
        server.desire(MACHINE_ID, Map.of("container_tag", "2.9.0"));

        for (int ticks = 0; ticks < 3 && !server.action(MACHINE_ID, "container").path("state").asText().equals("committed"); ticks++) {
            CommandRunner.Run run = tick();
            assertThat(run.exitCode()).as(run.toString()).isZero();
        }

        JsonNode action = server.action(MACHINE_ID, "container");
        assertThat(action.path("state").asText()).isEqualTo("committed");
        assertThat(action.path("events").findValuesAsText("state")).containsExactly("pending", "downloading", "committed");
        assertThat(Files.readString(root.resolve("data/ingot/agent/video-ingest-tag.env"))).endsWith("VIDEO_INGEST_TAG=2.9.0\n");
        assertThat(Files.readString(tools.data().resolve("running-tag"))).isEqualTo("2.9.0");
        assertThat(tools.calls()).containsSubsequence("docker pull " + REPOSITORY + ":2.9.0", "systemctl restart --no-block video-ingest.service");
        assertThat(tick().json().path("outcomes").path("container").path("state").asText()).isEqualTo("committed");
    }

    @Test
    void aReimageOnADeviceBuiltWithoutAReleaseKeyringEndsFailedWithAReasonThatSaysSoAndTheSlotKeepsRunning() {
        assertThat(tick().exitCode()).isZero();
        server.desire(MACHINE_ID, Map.of("image", "v1.5"));

        CommandRunner.Run run = tick();

        assertThat(run.exitCode()).as(run.toString()).isZero();
        JsonNode action = server.action(MACHINE_ID, "reimage");
        assertThat(action.path("state").asText()).isEqualTo("failed");
        assertThat(action.path("reason").asText()).contains("there is no keyring at", "etc/ingot/keyring");
        assertThat(Files.exists(root.resolve("boot/efi/EFI/ubuntu/grubenv"))).as("the bootloader was not touched").isFalse();
        assertThat(tick().err()).as("blocked: not tried again while v1.5 stays desired").doesNotContain("starting reimage");
    }

    @Test
    void aDeviceThatWasNotProvisionedOrNamesNoControlPlaneIsBadInputAndWritesNothing() throws IOException {
        Files.delete(root.resolve("etc/ingot/agent.json"));
        CommandRunner.Run missing = tick();
        write("etc/ingot/agent.json", "{\"site\": \"SITE-2847\", \"aws_region\": \"us-east-1\"}\n");
        CommandRunner.Run noUrl = tick();
        write("etc/ingot/agent.json", "{\"site\": \"SITE-2847\", \"aws_region\": \"us-east-1\", \"control_plane_url\": \"http://ingot.example.net\"}\n");
        CommandRunner.Run plain = tick();

        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("agent.json", "does not exist", "ingot provision");
        assertThat(noUrl.exitCode()).isEqualTo(2);
        assertThat(noUrl.err()).contains("names no control_plane_url");
        assertThat(plain.exitCode()).isEqualTo(2);
        assertThat(plain.err()).contains("plain http://");
        assertThat(plain.json().path("error").path("code").asText()).isEqualTo("BAD_INPUT");
        assertThat(Files.exists(root.resolve("data/ingot"))).isFalse();
    }
}
