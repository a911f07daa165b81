package dev.ingot.health;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ingot.testing.JsonSchemas;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The report's wire form: the same report always gives the same bytes (pinned in a golden file, which
 * docs/health-report.md shows), and every report, however little its probes found, satisfies the schema.
 * Run with {@code -Dingot.golden.update=true} to rewrite the golden file after a deliberate change.
 */
class HealthReportJsonTest {
    private static final Path GOLDEN = Path.of("src/test/resources/dev/ingot/health/healthy-report.json");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void aHealthyReportIsWrittenExactlyAsTheGoldenFile() throws IOException {
        byte[] written = HealthReportJson.write(SampleFindings.report(SampleFindings.healthy()));

        if (Boolean.getBoolean("ingot.golden.update")) {
            Files.write(GOLDEN, written);
        }
        assertThat(new String(written, UTF_8)).isEqualTo(Files.readString(GOLDEN, UTF_8));
    }

    @Test
    void theDocumentationShowsTheGoldenReport() throws IOException {
        String documentation = Files.readString(Path.of("../docs/health-report.md"), UTF_8);

        assertThat(documentation).contains(Files.readString(GOLDEN, UTF_8));
    }

    @Test
    void aHealthyReportSatisfiesTheSchema() throws IOException {
        JsonNode document = MAPPER.readTree(HealthReportJson.write(SampleFindings.report(SampleFindings.healthy())));

        assertThat(JsonSchemas.problems(HealthReportJson.schema(), document)).isEmpty();
    }

    @Test
    void aReportWhoseProbesAllFailedSatisfiesTheSchemaAndSaysWhyEachSectionIsNull() throws IOException {
        HealthReport report = SampleFindings.report(SampleFindings.nothing())
                .withPublish(new HealthReport.PublishResult("cloudwatch", false, 0, 0, Optional.of("no site id")));

        JsonNode document = MAPPER.readTree(HealthReportJson.write(report));

        assertThat(JsonSchemas.problems(HealthReportJson.schema(), document)).isEmpty();
        assertThat(document.get("status").asText()).isEqualTo("unhealthy");
        assertThat(document.get("gpus").isNull()).isTrue();
        assertThat(document.get("errors").get("gpus").asText()).isEqualTo("nvidia-smi is not installed (not found on PATH)");
        assertThat(document.get("video_ingest").get("unit").isNull()).isTrue();
        assertThat(document.get("errors").get("video_ingest.unit").asText()).isEqualTo("systemctl is not installed (not found on PATH)");
        assertThat(document.get("errors").size()).isEqualTo(18);
        assertThat(document.get("publish").get("error").asText()).isEqualTo("no site id");
    }

    @Test
    void theSchemaRefusesAReportThatDriftsFromIt() throws IOException {
        JsonNode document = MAPPER.readTree(HealthReportJson.write(SampleFindings.report(SampleFindings.healthy())));
        ((com.fasterxml.jackson.databind.node.ObjectNode) document).put("status", "fine");
        ((com.fasterxml.jackson.databind.node.ObjectNode) document.get("memory")).put("swap_bytes", 0);

        assertThat(JsonSchemas.problems(HealthReportJson.schema(), document)).hasSize(2);
    }

    @Test
    void keysAreSortedAndTheSchemaVersionIsOne() throws IOException {
        String text = new String(HealthReportJson.write(HealthReport.of(SampleFindings.CHECKED_AT, Duration.ZERO, SampleFindings.healthy(),
                HealthEvaluator.evaluate(SampleFindings.healthy(), HealthConfig.DEFAULTS))), UTF_8);

        assertThat(MAPPER.readTree(text).get("schema_version").asInt()).isEqualTo(HealthReport.SCHEMA_VERSION).isEqualTo(1);
        assertThat(text.indexOf("\"cameras\"")).isLessThan(text.indexOf("\"checked_at\""));
        assertThat(text).endsWith("}\n").doesNotContain("\r");
    }
}
