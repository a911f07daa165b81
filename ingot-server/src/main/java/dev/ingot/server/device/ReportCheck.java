package dev.ingot.server.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.HealthReport;
import dev.ingot.health.HealthReportJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * A device's health report checked against the report's own JSON Schema (schema_version 1, the document
 * {@code ingot health --json} writes and docs/health-report.md describes), then read for the few fields the
 * inventory keeps beside it.
 */
public final class ReportCheck {
    /** What the inventory keeps of a report besides the report itself. */
    public record Summary(String status, Optional<String> siteId, Optional<String> deviceId, Optional<String> imageVersion,
            Optional<String> containerTag, Optional<String> slotBooted, Optional<Boolean> rebootRequired, OptionalLong securityUpdates,
            Instant checkedAt) {}

    private final Schema schema;

    public ReportCheck() {
        try (InputStream in = HealthReportJson.schema()) {
            this.schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(in);
        } catch (IOException e) {
            throw new UncheckedIOException("the report schema ships in core", e);
        }
    }

    /** The report's summary; a report that breaks its schema is bad input naming (up to three of) its problems. */
    public Summary check(JsonNode report) {
        if (report == null || !report.isObject()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "accept the health report", "'report' is not a JSON object")
                    .withHint("send the document ingot health --json prints");
        }
        List<Error> errors = schema.validate(report);
        if (!errors.isEmpty()) {
            String problems = errors.stream().limit(3).map(Error::toString).collect(Collectors.joining("; "));
            throw IngotException.tried(ErrorCode.BAD_INPUT, "accept the health report",
                    "it breaks schema_version " + HealthReport.SCHEMA_VERSION + " (" + errors.size() + " problem" + (errors.size() == 1 ? "" : "s")
                            + "): " + problems).withHint("docs/health-report.md describes every field");
        }
        Instant checkedAt;
        try {
            checkedAt = Instant.parse(report.path("checked_at").asText());
        } catch (DateTimeException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "accept the health report", "checked_at is not an RFC 3339 time in UTC: "
                    + report.path("checked_at").asText());
        }
        JsonNode container = report.path("video_ingest").path("container");
        JsonNode reboot = report.path("reboot");
        JsonNode updates = report.path("updates");
        Optional<String> imageVersion = kept(text(report.path("image").path("version")), "image.version", MAX_VERSION);
        Optional<String> containerTag = kept(text(container.path("tag")), "video_ingest.container.tag", MAX_TAG);
        return new Summary(report.path("status").asText(), text(report.path("site_id")), text(report.path("device_id")),
                imageVersion, containerTag, text(report.path("slot").path("booted")),
                reboot.isObject() ? Optional.of(reboot.path("required").asBoolean()) : Optional.empty(),
                updates.isObject() ? OptionalLong.of(updates.path("security").asLong()) : OptionalLong.empty(), checkedAt);
    }

    /** The widths of the inventory's columns (V1__fleet.sql), which PostgreSQL enforces and SQLite does not. */
    static final int MAX_VERSION = 64;
    static final int MAX_TAG = 128;

    /**
     * A field the inventory keeps in a column of its own (lists, filters, the dashboard, metrics labels): the schema
     * bounds neither its length nor its characters, so a report that names one the column cannot hold is refused here
     * rather than failing its write (PostgreSQL refuses an over-long value and any NUL).
     */
    private static Optional<String> kept(Optional<String> value, String field, int maxLength) {
        value.ifPresent(text -> {
            if (text.length() > maxLength || text.chars().anyMatch(Character::isISOControl)) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "accept the health report",
                        field + " is not up to " + maxLength + " printable characters").withHint("docs/health-report.md describes every field");
            }
        });
        return value;
    }

    private static Optional<String> text(JsonNode node) {
        return node.isTextual() ? Optional.of(node.asText()) : Optional.empty();
    }
}
