package dev.ingot.health;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The health check's thresholds and where it looks, with defaults for everything. The file form
 * ({@code /etc/ingot/health.json}, docs/health-report.md) is a JSON object of sections; any key left out
 * keeps its default, an unknown key is refused (a typo must not silently keep a default).
 */
public record HealthConfig(Duration probeTimeout, Gpu gpu, Clock clock, Disk disk, Memory memory, Cameras cameras, Updates updates,
        UsbCache usbCache, VideoIngest videoIngest) {
    public static final String DEFAULT_PATH = "/etc/ingot/health.json";
    public static final HealthConfig DEFAULTS = new HealthConfig(Duration.ofMillis(1500), new Gpu(1, 80, 90, 95),
            new Clock(100, 1000, 8), new Disk(85, 95), new Memory(10, 5), new Cameras(Duration.ofMillis(500), 16, List.of()),
            new Updates(1), new UsbCache("/media/usb/ingot", 1), new VideoIngest("video-ingest.service", "video-ingest"));

    public HealthConfig {
        requireNonNull(probeTimeout, "probeTimeout");
        requireNonNull(gpu, "gpu");
        requireNonNull(clock, "clock");
        requireNonNull(disk, "disk");
        requireNonNull(memory, "memory");
        requireNonNull(cameras, "cameras");
        requireNonNull(updates, "updates");
        requireNonNull(usbCache, "usbCache");
        requireNonNull(videoIngest, "videoIngest");
    }

    /** GPUs expected, temperature (°C) to warn and to fail at, used memory (%) to warn at. */
    public record Gpu(int expectedCount, int temperatureWarnC, int temperatureFailC, int memoryUsedWarnPercent) {}

    /** Clock offset (ms) to warn and to fail at; the highest stratum still counted as synchronised. */
    public record Clock(long offsetWarnMs, long offsetFailMs, int maxStratum) {}

    /** Used space (%, as df counts it) to warn and to fail at, for / and Docker's data root alike. */
    public record Disk(int usedWarnPercent, int usedFailPercent) {}

    /** Available memory (% of total) below which to warn and to fail. */
    public record Memory(int availableWarnPercent, int availableFailPercent) {}

    /**
     * Per-camera connect timeout and how many connects run at once. {@code addresses} ("IP" or "IP:PORT"),
     * when given, replaces the cameras of {@code /etc/edge/video-ingest.env}.
     */
    public record Cameras(Duration connectTimeout, int parallelism, List<String> addresses) {
        public Cameras {
            requireNonNull(connectTimeout, "connectTimeout");
            addresses = List.copyOf(addresses);
        }
    }

    /** Pending security updates at which to warn. */
    public record Updates(int securityWarnAt) {}

    /** Where the USB drive's cache folder is mounted, and how many images it should hold. */
    public record UsbCache(String dir, int minImages) {
        public UsbCache {
            requireNonNull(dir, "dir");
        }
    }

    /** The systemd unit and the container that run video-ingest (as provisioning writes them). */
    public record VideoIngest(String unit, String container) {
        public VideoIngest {
            requireNonNull(unit, "unit");
            requireNonNull(container, "container");
        }
    }

    private static final Map<String, Set<String>> KEYS = Map.of(
            "", Set.of("schema_version", "probe_timeout_ms", "gpu", "clock", "disk", "memory", "cameras", "updates", "usb_cache",
                    "video_ingest"),
            "gpu", Set.of("expected_count", "temperature_warn_c", "temperature_fail_c", "memory_used_warn_percent"),
            "clock", Set.of("offset_warn_ms", "offset_fail_ms", "max_stratum"),
            "disk", Set.of("used_warn_percent", "used_fail_percent"),
            "memory", Set.of("available_warn_percent", "available_fail_percent"),
            "cameras", Set.of("connect_timeout_ms", "parallelism", "addresses"),
            "updates", Set.of("security_warn_at"),
            "usb_cache", Set.of("dir", "min_images"),
            "video_ingest", Set.of("unit", "container"));

    /** Reads the file form; {@code source} names it in errors. */
    public static HealthConfig parse(byte[] content, String source) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(content);
        } catch (IOException e) {
            throw invalid(source, "it is not JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (root == null || !root.isObject()) {
            throw invalid(source, "it is not a JSON object");
        }
        Reader reader = new Reader(root, source);
        reader.checkKeys();
        if (root.has("schema_version") && root.get("schema_version").asInt(-1) != 1) {
            throw invalid(source, "its schema_version is " + root.get("schema_version") + "; this Ingot reads 1");
        }
        HealthConfig defaults = DEFAULTS;
        HealthConfig config = new HealthConfig(
                Duration.ofMillis(reader.number("", "probe_timeout_ms", defaults.probeTimeout.toMillis(), 100, 60_000)),
                new Gpu((int) reader.number("gpu", "expected_count", defaults.gpu.expectedCount, 0, 64),
                        (int) reader.number("gpu", "temperature_warn_c", defaults.gpu.temperatureWarnC, 0, 200),
                        (int) reader.number("gpu", "temperature_fail_c", defaults.gpu.temperatureFailC, 0, 200),
                        (int) reader.number("gpu", "memory_used_warn_percent", defaults.gpu.memoryUsedWarnPercent, 0, 100)),
                new Clock(reader.number("clock", "offset_warn_ms", defaults.clock.offsetWarnMs, 0, 86_400_000),
                        reader.number("clock", "offset_fail_ms", defaults.clock.offsetFailMs, 0, 86_400_000),
                        (int) reader.number("clock", "max_stratum", defaults.clock.maxStratum, 1, 15)),
                new Disk((int) reader.number("disk", "used_warn_percent", defaults.disk.usedWarnPercent, 0, 100),
                        (int) reader.number("disk", "used_fail_percent", defaults.disk.usedFailPercent, 0, 100)),
                new Memory((int) reader.number("memory", "available_warn_percent", defaults.memory.availableWarnPercent, 0, 100),
                        (int) reader.number("memory", "available_fail_percent", defaults.memory.availableFailPercent, 0, 100)),
                new Cameras(Duration.ofMillis(reader.number("cameras", "connect_timeout_ms", defaults.cameras.connectTimeout.toMillis(), 10,
                        60_000)), (int) reader.number("cameras", "parallelism", defaults.cameras.parallelism, 1, 256),
                        reader.strings("cameras", "addresses", defaults.cameras.addresses)),
                new Updates((int) reader.number("updates", "security_warn_at", defaults.updates.securityWarnAt, 1, 100_000)),
                new UsbCache(reader.text("usb_cache", "dir", defaults.usbCache.dir),
                        (int) reader.number("usb_cache", "min_images", defaults.usbCache.minImages, 0, 100)),
                new VideoIngest(reader.text("video_ingest", "unit", defaults.videoIngest.unit),
                        reader.text("video_ingest", "container", defaults.videoIngest.container)));
        if (config.gpu.temperatureWarnC > config.gpu.temperatureFailC) {
            throw invalid(source, "gpu.temperature_warn_c is above gpu.temperature_fail_c");
        }
        if (config.clock.offsetWarnMs > config.clock.offsetFailMs) {
            throw invalid(source, "clock.offset_warn_ms is above clock.offset_fail_ms");
        }
        if (config.disk.usedWarnPercent > config.disk.usedFailPercent) {
            throw invalid(source, "disk.used_warn_percent is above disk.used_fail_percent");
        }
        if (config.memory.availableWarnPercent < config.memory.availableFailPercent) {
            throw invalid(source, "memory.available_warn_percent is below memory.available_fail_percent");
        }
        return config;
    }

    private static IngotException invalid(String source, String reason) {
        return IngotException.tried(ErrorCode.BAD_INPUT, "read the health config " + source, reason)
                .withHint("see docs/health-report.md for its keys; leave a key out to keep its default");
    }

    private record Reader(JsonNode root, String source) {
        void checkKeys() {
            List<String> unknown = new ArrayList<>();
            root.fieldNames().forEachRemaining(key -> {
                if (!KEYS.get("").contains(key)) {
                    unknown.add(key);
                } else if (KEYS.containsKey(key)) {
                    JsonNode section = root.get(key);
                    if (!section.isObject()) {
                        throw invalid(source, "'" + key + "' is not an object");
                    }
                    section.fieldNames().forEachRemaining(inner -> {
                        if (!KEYS.get(key).contains(inner)) {
                            unknown.add(key + "." + inner);
                        }
                    });
                }
            });
            if (!unknown.isEmpty()) {
                throw invalid(source, "it has unknown keys: " + String.join(", ", new TreeSet<>(unknown)));
            }
        }

        private JsonNode node(String section, String key) {
            return section.isEmpty() ? root.get(key) : root.path(section).get(key);
        }

        private String name(String section, String key) {
            return section.isEmpty() ? key : section + "." + key;
        }

        long number(String section, String key, long fallback, long minimum, long maximum) {
            JsonNode node = node(section, key);
            if (node == null) {
                return fallback;
            }
            if (!node.isIntegralNumber() || node.asLong() < minimum || node.asLong() > maximum) {
                throw invalid(source, name(section, key) + " is " + node + ", not a whole number from " + minimum + " to " + maximum);
            }
            return node.asLong();
        }

        String text(String section, String key, String fallback) {
            JsonNode node = node(section, key);
            if (node == null) {
                return fallback;
            }
            if (!node.isTextual() || node.asText().isBlank()) {
                throw invalid(source, name(section, key) + " is " + node + ", not a non-empty string");
            }
            return node.asText();
        }

        List<String> strings(String section, String key, List<String> fallback) {
            JsonNode node = node(section, key);
            if (node == null) {
                return fallback;
            }
            List<String> values = new ArrayList<>();
            if (node.isArray()) {
                node.forEach(element -> values.add(element.isTextual() ? element.asText() : null));
            }
            if (!node.isArray() || values.contains(null)) {
                throw invalid(source, name(section, key) + " is not an array of strings");
            }
            return values;
        }
    }
}
