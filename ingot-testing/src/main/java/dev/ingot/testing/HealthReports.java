package dev.ingot.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Health reports as devices send them (schema_version 1, docs/health-report.md): a healthy T4 device's report as
 * {@code ingot health --json} wrote it, with the fields a fleet varies — site, device, status, image version,
 * container tag — set per test.
 */
public final class HealthReports {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectNode HEALTHY = load();

    private HealthReports() {}

    /** A healthy report of this device at this site, running this image version and container tag. */
    public static ObjectNode healthy(String siteId, String deviceId, String imageVersion, String containerTag) {
        return report(siteId, deviceId, "healthy", imageVersion, containerTag);
    }

    public static ObjectNode report(String siteId, String deviceId, String status, String imageVersion, String containerTag) {
        ObjectNode report = HEALTHY.deepCopy();
        report.put("site_id", siteId);
        report.put("device_id", deviceId);
        report.put("status", status);
        ((ObjectNode) report.get("image")).put("version", imageVersion);
        ObjectNode container = (ObjectNode) report.get("video_ingest").get("container");
        container.put("tag", containerTag);
        container.put("image", container.get("repository").asText() + ":" + containerTag);
        for (var check : report.get("checks")) {
            ObjectNode entry = (ObjectNode) check;
            switch (entry.get("name").asText()) {
                case "identity" -> entry.put("reason", "site " + siteId + ", device " + deviceId);
                case "image" -> entry.put("reason", "edge-golden " + imageVersion + " built 2026-11-20T09:30:00Z");
                case "video_ingest_container" -> entry.put("reason", "container video-ingest runs " + container.get("image").asText());
                case "gpu" -> {
                    if (status.equals("unhealthy")) {
                        entry.put("status", "fail").put("reason", "nvidia-smi did not answer within 10 s");
                    }
                }
                case "gpu_temperature" -> {
                    if (status.equals("degraded")) {
                        entry.put("status", "warn").put("reason", "GPU 0 at 86 °C (warn above 85 °C)");
                    }
                }
                default -> { }
            }
        }
        return report;
    }

    public static String compact(ObjectNode report) {
        try {
            return JSON.writeValueAsString(report);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode load() {
        try (InputStream in = HealthReports.class.getResourceAsStream("fixtures/health/healthy-report.json")) {
            return (ObjectNode) JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
