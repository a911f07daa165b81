package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.testing.GoldenImages;
import dev.ingot.testing.TestKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageBuildCommandsTest {
    @TempDir
    Path folder;

    private CommandRunner ingot;

    @BeforeEach
    void setUp() throws IOException {
        ingot = new CommandRunner(folder);
        Files.createDirectories(folder.resolve("packer"));
        Files.writeString(folder.resolve("packer/versions.pkrvars.hcl"), GoldenImages.VERSIONS_FILE);
    }

    private Path image(Map<String, String> extra, String... without) {
        String reason = GoldenImages.unavailableBecause();
        assumeTrue(reason == null, reason);
        Map<String, String> files = new HashMap<>(GoldenImages.goodFiles());
        files.putAll(extra);
        for (String path : without) {
            assertThat(files.remove(path)).as(path).isNotNull();
        }
        return GoldenImages.diskImage(GoldenImages.writeTree(folder.resolve("tree"), files), folder.resolve("edge-golden.img"));
    }

    @Test
    void aGoodImagePassesWithATableJsonAndAJunitReport() throws IOException {
        image(Map.of());

        CommandRunner.Run table = ingot.run("image", "test", "edge-golden.img", "--version", "v1.5", "--junit", "reports/image.xml");
        assertThat(table.exitCode()).as(table.toString()).isZero();
        assertThat(table.out()).contains("ssh-hardening", "units", "launcher").contains("fstab", "boot-loader-held", "ab-boot")
                .contains("PASSED: edge-golden.img (root-a): 13 of 13 checks passed");
        assertThat(Files.readString(folder.resolve("reports/image.xml"))).contains("tests=\"13\" failures=\"0\"");

        CommandRunner.Run json = ingot.run("image", "test", "edge-golden.img", "--json");
        assertThat(json.json().get("ok").asBoolean()).isTrue();
        assertThat(json.json().get("checks")).hasSize(13);
    }

    @Test
    void anImageWithoutTheHealthTimerFails() {
        image(Map.of(), "/etc/systemd/system/ingot-health.timer", "/etc/systemd/system/timers.target.wants/ingot-health.timer");

        CommandRunner.Run run = ingot.run("image", "test", "edge-golden.img", "--version", "v1.5");

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
        assertThat(run.out()).contains("/etc/systemd/system/ingot-health.timer is missing (packer/scripts/40-ingot-agent.sh installs it)")
                .contains("FAILED");
    }

    @Test
    void anImageWhoseLauncherPointsAtNothingFails() {
        image(Map.of(), "/opt/edge/agent/runtime/bin/java", "/opt/edge/agent/ingot.jar");

        CommandRunner.Run run = ingot.run("image", "test", "edge-golden.img", "--version", "v1.5", "--json");

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
        JsonNode launcher = run.json().get("checks").get(8);
        assertThat(launcher.get("name").asText()).isEqualTo("launcher");
        assertThat(launcher.get("findings")).extracting(JsonNode::asText).containsExactly(
                "/opt/edge/bin/ingot runs /opt/edge/agent/runtime/bin/java, which is not in the image (the agent bundle is missing)",
                "/opt/edge/bin/ingot runs /opt/edge/agent/ingot.jar, which is not in the image (the agent bundle is missing)");
    }

    @Test
    void aViolationExitsOneNamingTheFinding() {
        image(Map.of("/etc/systemd/system/video-ingest.service", "[Service]\n"));

        CommandRunner.Run run = ingot.run("image", "test", "edge-golden.img", "--version", "v1.5", "--json");

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
        JsonNode failed = run.json().get("checks").get(6);
        assertThat(failed.get("name").asText()).isEqualTo("no-site-config");
        assertThat(failed.get("findings").get(0).asText())
                .isEqualTo("/etc/systemd/system/video-ingest.service is present; the video-ingest unit is site configuration");
    }

    @Test
    void aMissingVersionsFileIsBadInputWithAHint() {
        CommandRunner.Run run = ingot.run("image", "test", "edge-golden.img", "--versions", "nowhere.hcl");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).startsWith("error: Tried to read the pinned versions").contains("Hint:");
    }

    @Test
    void bumpRewritesOnlyTheNamedValuesAndPrintsTheDiff() throws IOException {
        CommandRunner.Run run = ingot.run("image", "bump", "--docker-ce", "5:27.4.0-1~ubuntu.22.04~jammy");

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).contains("-docker_ce_version  = \"5:27.3.1-1~ubuntu.22.04~jammy\"")
                .contains("+docker_ce_version  = \"5:27.4.0-1~ubuntu.22.04~jammy\"");
        assertThat(Files.readString(folder.resolve("packer/versions.pkrvars.hcl")))
                .isEqualTo(GoldenImages.VERSIONS_FILE.replace("5:27.3.1-1", "5:27.4.0-1"));
    }

    @Test
    void bumpRefusesABadShaAndAnUnknownOptionAndChangesNothing() throws IOException {
        assertThat(ingot.run("image", "bump", "--iso-sha256", "xyz").exitCode()).isEqualTo(2);
        assertThat(ingot.run("image", "bump", "--kernel", "6.8").exitCode()).isEqualTo(2);
        assertThat(Files.readString(folder.resolve("packer/versions.pkrvars.hcl"))).isEqualTo(GoldenImages.VERSIONS_FILE);
    }

    @Test
    void buildWithoutPackerSaysSoAndExitsThree() {
        CommandRunner.Run run = new CommandRunner(folder, Map.of("PATH", folder.resolve("empty").toString()))
                .run("image", "build", "--version", "v1.5");

        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.err()).contains("packer is not installed").contains("Hint: apt-get install packer");
    }

    @Test
    void buildRunsPackerThenTestsThenPublishesWithThePinnedVersions() throws IOException {
        Path built = image(Map.of());
        TestKeys.RELEASE.secretKey(folder.resolve("keys"));
        // A stand-in for packer on PATH: writes the image to the output folder it is given, as the QEMU builder does.
        Path bin = Files.createDirectories(folder.resolve("bin"));
        Path packer = bin.resolve("packer");
        Files.writeString(packer, """
                #!/bin/sh
                for arg in "$@"; do
                  case "$arg" in output_directory=*) out="${arg#output_directory=}" ;; esac
                done
                mkdir -p "$out" && cp '%s' "$out/edge-golden-v1.5.img" && echo "packer $*"
                """.formatted(built));
        Files.setPosixFilePermissions(packer, PosixFilePermissions.fromString("rwxr-xr-x"));
        CommandRunner runner = new CommandRunner(folder, Map.of("PATH", bin + ":" + System.getenv("PATH")));

        CommandRunner.Run run = runner.run("image", "build", "--version", "v1.5", "--publish", "--key", "keys/release.asc", "--json");

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.err()).contains("packer build -var-file=versions.pkrvars.hcl -var version=v1.5 -var build_date=2026-11-26T00:20:00Z");
        JsonNode manifest = run.json().get("manifest");
        assertThat(manifest.at("/source/packages/docker-ce").asText()).isEqualTo("5:27.3.1-1~ubuntu.22.04~jammy");
        assertThat(manifest.at("/source/packages/jre").asText()).isEqualTo("25.0.1+8");
        assertThat(manifest.get("image_version_file").asText()).isEqualTo("IMAGE_NAME=edge-golden\nIMAGE_VERSION=v1.5\nBUILD_DATE="
                + GoldenImages.BUILD_DATE + "\n");
        assertThat(folder.resolve("store/golden-images/edge-golden-v1.5.manifest.json")).exists();
    }
}
