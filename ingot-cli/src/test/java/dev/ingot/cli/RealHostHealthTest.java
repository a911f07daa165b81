package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.health.HealthReportJson;
import dev.ingot.testing.JsonSchemas;
import dev.ingot.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `ingot health` on the machine running the tests, with its real tools and files. On the build machine (no GPU,
 * no Docker engine, no systemd as PID 1) it must still print a valid report that fails those checks with reasons.
 * The wall time is printed, not asserted: bench/health.sh measures it.
 */
class RealHostHealthTest {
    @TempDir
    Path folder;

    @Test
    void aRealRunGivesAValidReportWhoseChecksAllSayWhy() {
        CommandRunner ingot = new CommandRunner(folder, System.getenv());
        long started = System.nanoTime();

        CommandRunner.Run run = ingot.run("health", "--json");

        long wallMillis = (System.nanoTime() - started) / 1_000_000;
        JsonNode report = run.json();
        System.out.println(HealthCommandTestSupport.table(report));
        System.out.printf("real run on this host: %s in %d ms wall (took_ms %d), exit %d%n", report.get("status").asText(), wallMillis,
                report.get("took_ms").asLong(), run.exitCode());
        assertThat(JsonSchemas.problems(HealthReportJson.schema(), report)).isEmpty();
        assertThat(run.exitCode()).isEqualTo(report.get("status").asText().equals("healthy") ? 0 : 1);
        assertThat(report.get("checks")).hasSize(18).allSatisfy(check -> assertThat(check.get("reason").asText()).isNotBlank());
        if (!Tools.available("nvidia-smi")) {
            assertThat(check(report, "gpu").get("status").asText()).isEqualTo("fail");
            assertThat(check(report, "gpu").get("reason").asText()).isEqualTo("nvidia-smi is not installed (not found on PATH)");
            assertThat(report.get("errors").get("gpus").asText()).isEqualTo("nvidia-smi is not installed (not found on PATH)");
        }
        if (!Files.exists(Path.of("/var/run/docker.sock"))) {
            assertThat(check(report, "docker").get("status").asText()).isEqualTo("fail");
            assertThat(check(report, "docker").get("reason").asText()).isNotBlank();
            assertThat(report.get("status").asText()).isEqualTo("unhealthy");
        }
        if (!Files.exists(Path.of("/run/systemd/system"))) {
            assertThat(check(report, "video_ingest_unit").get("status").asText()).isEqualTo("fail");
        }
    }

    private static JsonNode check(JsonNode report, String name) {
        for (JsonNode check : report.get("checks")) {
            if (check.get("name").asText().equals(name)) {
                return check;
            }
        }
        throw new AssertionError("no check " + name);
    }
}
