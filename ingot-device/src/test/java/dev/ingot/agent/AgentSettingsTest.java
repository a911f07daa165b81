package dev.ingot.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.site.AgentConfig;
import dev.ingot.site.Secret;
import dev.ingot.site.SiteId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the agent reads of what provisioning wrote. */
class AgentSettingsTest {
    @TempDir
    Path root;

    @Test
    void theAgentReadsAgentJsonAndTheTokenFileItNamesUnderTheRoot() throws IOException {
        Files.createDirectories(root.resolve("etc/ingot"));
        Files.writeString(root.resolve("etc/ingot/agent.json"), """
                {
                  "aws_region" : "us-east-1",
                  "control_plane_url" : "https://ingot.example.net",
                  "enrollment_token_file" : "/etc/ingot/enrollment-token",
                  "site" : "SITE-2847",
                  "video_ingest_image" : "123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest:2.3.1"
                }
                """);

        AgentSettings settings = AgentSettings.load(root);

        assertThat(settings.config().site()).isEqualTo(new SiteId("SITE-2847"));
        assertThat(settings.token().get()).isEmpty();
        Files.writeString(root.resolve("etc/ingot/enrollment-token"), "tok-3f9a1c\n");
        assertThat(settings.token().get()).contains(Secret.of("tok-3f9a1c"));
        assertThat(settings.tokenSource()).isEqualTo(root.resolve("etc/ingot/enrollment-token").toString());
    }

    @Test
    void anUnprovisionedDeviceIsToldToProvisionFirst() {
        assertThatThrownBy(() -> AgentSettings.load(root)).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
            assertThat(e.oneLine()).contains(AgentConfig.PATH.substring(1), "does not exist", "ingot provision --site");
        });
    }
}
