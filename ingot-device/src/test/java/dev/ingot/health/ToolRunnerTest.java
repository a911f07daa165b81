package dev.ingot.health;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.testing.FakeTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class ToolRunnerTest {
    private static final Duration TIMEOUT = Duration.ofMillis(300);

    @TempDir
    Path folder;

    @Test
    void aToolsOutputErrorsAndExitCodeComeBack() {
        FakeTools tools = FakeTools.in(folder).answer("chronyc", List.of("-c", "tracking"),
                new dev.ingot.testing.Fixtures.Recording("out\n", "err\n", 3));

        ToolRunner.Outcome outcome = new ToolRunner(Map.of("PATH", tools.path())).run(TIMEOUT, "chronyc", List.of("-c", "tracking"));

        assertThat(outcome).isEqualTo(new ToolRunner.Outcome.Exited(3, "out\n", "err\n"));
        assertThat(ToolRunner.output(outcome, "chronyc -c tracking").failure()).hasValue("chronyc -c tracking exited 3: err");
    }

    @Test
    void toolsAreLookedUpOnTheGivenPathNotTheJvms() {
        FakeTools tools = FakeTools.in(folder);

        ToolRunner.Outcome outcome = new ToolRunner(Map.of("PATH", tools.path())).run(TIMEOUT, "ls", List.of());

        assertThat(outcome).isEqualTo(new ToolRunner.Outcome.NotFound("ls", tools.path()));
        assertThat(ToolRunner.output(outcome, "ls").failure()).hasValue("ls is not installed (not found on PATH)");
    }

    @Test
    void aFileThatCannotRunFailsToStart() {
        FakeTools tools = FakeTools.in(folder).notExecutable("nvidia-smi");

        ToolRunner.Outcome outcome = new ToolRunner(Map.of("PATH", tools.path())).run(TIMEOUT, "nvidia-smi", List.of());

        assertThat(outcome).isInstanceOf(ToolRunner.Outcome.FailedToStart.class);
        assertThat(ToolRunner.output(outcome, "nvidia-smi").failure()).hasValueSatisfying(reason ->
                assertThat(reason).startsWith("nvidia-smi could not be started: "));
    }

    @Test
    void theEnvironmentIsTheGivenOneWithTheCLocale() throws IOException {
        Path bin = Files.createDirectories(folder.resolve("bin"));
        script(bin.resolve("show-env"), "#!/bin/sh\necho \"$LC_ALL $SECRET_FROM_JVM $GIVEN\"\n");

        ToolRunner.Outcome outcome = new ToolRunner(Map.of("PATH", bin.toString(), "GIVEN", "yes", "LC_ALL", "fr_FR.UTF-8"))
                .run(TIMEOUT, "show-env", List.of());

        assertThat(outcome).isEqualTo(new ToolRunner.Outcome.Exited(0, "C  yes\n", ""));
    }

    // The timeout guards against a regression that hangs the build; it is no performance bound.
    @Test
    @Timeout(60)
    void aHungToolIsKilledAtItsTimeoutWithTheChildHoldingItsOutput() throws IOException, InterruptedException {
        Path bin = Files.createDirectories(folder.resolve("bin"));
        Path pidFile = folder.resolve("child.pid");
        script(bin.resolve("nvidia-smi"), "#!/bin/sh\necho started\n/bin/sleep 3600 &\necho $! > '" + pidFile + "'\nwait\n");
        long started = System.nanoTime();

        ToolRunner.Outcome outcome = new ToolRunner(Map.of("PATH", bin.toString())).run(TIMEOUT, "nvidia-smi", List.of());

        System.out.printf("hung tool: outcome after %d ms (timeout %d ms)%n", (System.nanoTime() - started) / 1_000_000, TIMEOUT.toMillis());
        assertThat(outcome).isEqualTo(new ToolRunner.Outcome.TimedOut(TIMEOUT, "started\n"));
        assertThat(ToolRunner.output(outcome, "nvidia-smi").failure()).hasValue("nvidia-smi did not finish within 300 ms and was killed");
        long child = Long.parseLong(Files.readString(pidFile, UTF_8).strip());
        assertThat(waitUntilGone(child)).as("the hung tool's child process %d was killed", child).isTrue();
    }

    @Test
    void longArgumentsAreCutAndSpacesQuotedWhenACommandIsShown() {
        assertThat(ToolRunner.display("docker", List.of("info", "--format", "{{json .}}"))).isEqualTo("docker info --format '{{json .}}'");
        assertThat(ToolRunner.display("nvidia-smi", NvidiaSmi.arguments()))
                .isEqualTo("nvidia-smi --query-gpu=index,uuid,name,driver_version,pci.bus_id,temper… --format=csv,noheader,nounits");
    }

    private static boolean waitUntilGone(long pid) throws InterruptedException {
        for (int attempt = 0; attempt < 100; attempt++) {
            Optional<ProcessHandle> handle = ProcessHandle.of(pid);
            if (handle.isEmpty() || !handle.get().isAlive()) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    private static void script(Path file, String text) throws IOException {
        Files.writeString(file, text, UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
