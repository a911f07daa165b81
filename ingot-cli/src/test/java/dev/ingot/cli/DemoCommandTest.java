package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
        assertThat(outcome.path("folder").asText()).isEqualTo(folder.resolve("demo").toString());
        assertThat(outcome.path("dashboard").asText()).startsWith("http://127.0.0.1:").contains("/ui/rollouts/demo-bad-canary-");
        assertThat(run.err().lines().findFirst().orElseThrow()).as("the dashboard's link comes first").startsWith("Dashboard: http://127.0.0.1:");
        assertThat(run.err()).contains("SITE-0001 cannot take the change").contains("halted");
        assertThat(Files.exists(folder.resolve("demo/store/golden-images/edge-golden-v1.5.manifest.json.asc"))).as("signed and published").isTrue();
        assertThat(Files.exists(folder.resolve("demo/keys/demo-signing-key.pub.asc"))).isTrue();
    }

    @Test
    void withoutAScenarioTheDemoPrintsTheDashboardsLinkFirstAndRollsAGoodVersionOutToEverySite() throws Exception {
        CommandRunner.Run run = new CommandRunner(folder, Map.of()).run("demo", "--sites", "10", "--soak", "1s", "--dir", "demo", "--stop");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        List<String> out = run.out().lines().toList();
        assertThat(out.getFirst()).as("the link before anything else").startsWith("Dashboard: http://127.0.0.1:").contains("/ui/rollouts/demo-good-");
        assertThat(out.get(1)).startsWith("  sign in with the admin token ingot_op_");
        assertThat(run.out()).contains("v1.5 (reimage), completed").contains("fleet versions: v1.5 10")
                .contains("Outcome: completed").contains("4 of 4 stages reached, 10 of 10 devices written — as the good scenario must end.");
        assertThat(run.err()).contains("stage-started: stage 1 (1): 1 site, 1 device, canary SITE-0001").contains("completed: 10 devices on v1.5");
    }

    @Test
    void badInputIsRefusedBeforeAnythingStarts() throws Exception {
        CommandRunner ingot = new CommandRunner(folder, Map.of());
        assertThat(ingot.run("demo", "--scenario", "worst-case").err()).contains("a scenario is good, bad-canary or bad-stage");
        assertThat(ingot.run("demo", "--sites", "5").exitCode()).isEqualTo(2);
        assertThat(ingot.run("demo", "--track", "reboot").exitCode()).isEqualTo(2);
        assertThat(ingot.run("demo", "--soak", "never").exitCode()).isEqualTo(2);
        CommandRunner.Run port = ingot.run("demo", "--port", "70000");
        assertThat(port.exitCode()).isEqualTo(2);
        assertThat(port.err()).contains("a port is 0 to 65535");
        assertThat(folder.toFile().list()).as("nothing made").isEmpty();
        Files.writeString(folder.resolve("taken"), "a file");
        CommandRunner.Run file = ingot.run("demo", "--dir", "taken");
        assertThat(file.exitCode()).isEqualTo(2);
        assertThat(file.err()).contains("it is a file, not a folder");
        assertThat(folder.toFile().list()).as("nothing made").containsExactly("taken");
        CommandRunner.Run help = ingot.run("demo", "--help");
        assertThat(help.out()).contains("Examples:").contains("--scenario bad-stage").contains("bad-canary");
    }

    @Test
    void aPortAnotherServerHoldsIsAnUnexpectedStateWithAHint() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CommandRunner.Run run = new CommandRunner(folder, Map.of()).run("demo", "--port", String.valueOf(taken.getLocalPort()), "--dir", "demo",
                    "--json");
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(3);
            assertThat(run.err().strip().lines()).last().asString().startsWith("error: Tried to listen on 127.0.0.1:" + taken.getLocalPort())
                    .contains("Hint: is another server on that port?");
        }
    }
}
