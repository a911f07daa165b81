package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ingot demo} as a new user runs it: the whole thing in one command, the scenario's outcome as one JSON document. */
class DemoCommandTest {
    @TempDir
    Path folder;

    @Test
    void aBadCanaryScenarioRunsToItsEndAndPrintsTheOutcome() throws Exception {
        CommandRunner.Run run = new CommandRunner(folder, Map.of()).run("demo", "--scenario", "bad-canary", "--sites", "10", "--soak", "3s",
                "--dir", "demo", "--json");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        JsonNode outcome = run.json();
        assertThat(outcome.path("scenario").asText()).isEqualTo("bad-canary");
        assertThat(outcome.path("state").asText()).isEqualTo("halted");
        assertThat(outcome.path("as_expected").asBoolean()).isTrue();
        assertThat(outcome.path("stages_reached").asInt()).isEqualTo(1);
        assertThat(outcome.path("devices_written").asInt()).isEqualTo(1);
        assertThat(outcome.path("devices_per_version").path("v1.4").asInt()).isEqualTo(10);
        assertThat(outcome.path("dashboard").asText()).startsWith("http://127.0.0.1:").contains("/ui/rollouts/demo-bad-canary-");
        assertThat(run.err().lines().findFirst().orElseThrow()).as("the dashboard's link comes first").startsWith("Dashboard: http://127.0.0.1:");
        assertThat(run.err()).contains("SITE-0001 cannot take the change").contains("halted");
        assertThat(Files.exists(folder.resolve("demo/store/golden-images/edge-golden-v1.5.manifest.json.asc"))).as("signed and published").isTrue();
        assertThat(Files.exists(folder.resolve("demo/keys/demo-signing-key.pub.asc"))).isTrue();
    }

    @Test
    void badInputIsRefusedBeforeAnythingStarts() {
        CommandRunner ingot = new CommandRunner(folder, Map.of());
        assertThat(ingot.run("demo", "--scenario", "worst-case").err()).contains("a scenario is good, bad-canary or bad-stage");
        assertThat(ingot.run("demo", "--sites", "5").exitCode()).isEqualTo(2);
        assertThat(ingot.run("demo", "--track", "reboot").exitCode()).isEqualTo(2);
        assertThat(ingot.run("demo", "--soak", "never").exitCode()).isEqualTo(2);
        assertThat(folder.toFile().list()).as("nothing made").isEmpty();
        CommandRunner.Run help = ingot.run("demo", "--help");
        assertThat(help.out()).contains("Examples:").contains("--scenario bad-stage").contains("bad-canary");
    }
}
