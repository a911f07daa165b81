package dev.ingot.imagebuild;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.IngotException;
import dev.ingot.testing.GoldenImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VersionsFileTest {
    private final VersionsFile file = VersionsFile.parse(GoldenImages.VERSIONS_FILE, "versions.pkrvars.hcl");

    @Test
    void theCommittedVersionsFileParses() throws Exception {
        Path committed = Path.of("..", VersionsFile.DEFAULT_PATH);
        VersionsFile parsed = VersionsFile.parse(Files.readString(committed), committed.toString());

        assertThat(parsed.packages()).containsOnlyKeys("docker-ce", "docker-ce-cli", "containerd.io", "nvidia-driver-535",
                "nvidia-container-toolkit");
        assertThat(parsed.value(VersionsFile.Key.NVIDIA_DRIVER)).startsWith("535.");
    }

    @Test
    void aBumpChangesOnlyTheNamedLinesAndKeepsCommentsAndAlignment() {
        VersionsFile bumped = file.with(Map.of(VersionsFile.Key.DOCKER_CE, "5:27.4.0-1~ubuntu.22.04~jammy",
                VersionsFile.Key.ISO_SHA256, "a".repeat(64)));

        assertThat(bumped.text()).isEqualTo(GoldenImages.VERSIONS_FILE
                .replace("5:27.3.1-1~ubuntu.22.04~jammy", "5:27.4.0-1~ubuntu.22.04~jammy")
                .replace("9bc6028870aef3f74f4e16b900008179e78b130e6b0b9a140635434a46aa98b0", "a".repeat(64)));
        assertThat(bumped.packages()).containsEntry("docker-ce-cli", "5:27.4.0-1~ubuntu.22.04~jammy");
    }

    @Test
    void aBadShaOrVersionIsRefusedWithEveryProblem() {
        assertThatThrownBy(() -> file.with(Map.of(VersionsFile.Key.ISO_SHA256, "abc", VersionsFile.Key.CONTAINERD, "latest")))
                .isInstanceOf(IngotException.class)
                .hasMessageContaining("--iso-sha256 'abc' is not a SHA-256 (64 lowercase hex digits)")
                .hasMessageContaining("--containerd 'latest' is not a Debian package version");
    }

    @Test
    void anUnknownOrMissingVariableIsRefused() {
        assertThatThrownBy(() -> VersionsFile.parse(GoldenImages.VERSIONS_FILE.replace("jre_version", "java_version"), "v.hcl"))
                .hasMessageContaining("unknown variable java_version").hasMessageContaining("jre_version is missing");
    }
}
