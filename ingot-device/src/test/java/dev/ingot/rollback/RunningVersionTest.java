package dev.ingot.rollback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.image.ImageVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rollback learns what a device runs from its root's /etc/edge/image-version, read by the health report's parser. */
class RunningVersionTest {
    @TempDir
    Path root;

    private void imageVersion(String content) throws IOException {
        Files.createDirectories(root.resolve("etc/edge"));
        Files.writeString(root.resolve("etc/edge/image-version"), content);
    }

    @Test
    void anImageBuiltByIngotNamesItsVersion() throws IOException {
        imageVersion("IMAGE_NAME=edge-golden\nIMAGE_VERSION=v1.4\nBUILD_DATE=2026-11-01T12:00:00Z\n");

        assertThat(Rollback.runningVersion(root)).hasValue(ImageVersion.parse("v1.4"));
    }

    @Test
    void anImageBuiltByTheOldRunbookNamesItsVersionInOneLine() throws IOException {
        imageVersion("v1.3 2026-08-02\n");

        assertThat(Rollback.runningVersion(root)).hasValue(ImageVersion.parse("v1.3"));
    }

    @Test
    void anUnreadableOrMissingFileLeavesTheVersionUnknown() throws IOException {
        assertThat(Rollback.runningVersion(root)).isEmpty();

        imageVersion("built some time in August\n");

        assertThat(Rollback.runningVersion(root)).isEmpty();
    }
}
