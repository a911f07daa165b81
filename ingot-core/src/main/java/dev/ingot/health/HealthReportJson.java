package dev.ingot.health;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.health.HealthReport.Camera;
import dev.ingot.health.HealthReport.ClockSync;
import dev.ingot.health.HealthReport.ContainerInfo;
import dev.ingot.health.HealthReport.DiskUsage;
import dev.ingot.health.HealthReport.DockerInfo;
import dev.ingot.health.HealthReport.Findings;
import dev.ingot.health.HealthReport.GpuInfo;
import dev.ingot.health.HealthReport.UnitState;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;

import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The report's wire form, schema_version {@value HealthReport#SCHEMA_VERSION} (docs/health-report.md): sorted
 * keys, every section present, {@code null} where a probe found nothing, and {@code errors} saying why.
 */
public final class HealthReportJson {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .setDefaultPrettyPrinter(new DefaultPrettyPrinter()
                    .withObjectIndenter(new DefaultIndenter("  ", "\n"))
                    .withArrayIndenter(new DefaultIndenter("  ", "\n")));

    /** The JSON Schema (draft 2020-12) every report satisfies, in this package's resources. */
    public static final String SCHEMA_RESOURCE = "health-report.schema.json";

    private HealthReportJson() {}

    /** The report's JSON Schema, for consumers that check what devices send. */
    public static InputStream schema() {
        return Objects.requireNonNull(HealthReportJson.class.getResourceAsStream(SCHEMA_RESOURCE), SCHEMA_RESOURCE);
    }

    /** The document as bytes: sorted keys, two-space indent, "\n" line ends and a final newline. */
    public static byte[] write(HealthReport report) {
        try {
            // Through plain maps, so ORDER_MAP_ENTRIES_BY_KEYS sorts every level.
            Object plain = MAPPER.treeToValue(tree(report), Object.class);
            return (MAPPER.writeValueAsString(plain) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }

    public static ObjectNode tree(HealthReport report) {
        Findings findings = report.findings();
        Map<String, String> errors = new TreeMap<>();
        ObjectNode root = MAPPER.createObjectNode();
        root.put("schema_version", HealthReport.SCHEMA_VERSION);
        root.put("status", report.status().json());
        root.put("checked_at", report.checkedAt().toString());
        root.put("took_ms", report.took().toMillis());
        root.set("site_id", section("site_id", findings.site(), site -> root.textNode(site.value()), errors));
        root.set("device_id", section("device_id", findings.device(), device -> root.textNode(device.value()), errors));
        root.set("hostname", section("hostname", findings.hostname(), root::textNode, errors));
        root.set("image", section("image", findings.image(), image -> {
            ObjectNode node = MAPPER.createObjectNode();
            node.put("name", image.name().value());
            node.put("version", image.version().toString());
            node.put("build_date", image.buildDate().toString());
            return node;
        }, errors));
        root.set("slot", section("slot", findings.slot(), slots -> {
            ObjectNode node = MAPPER.createObjectNode();
            node.put("present", slots.present());
            node.put("booted", slots.booted().orElse(null));
            node.put("committed", slots.committed().orElse(null));
            return node;
        }, errors));
        root.set("uptime_seconds", section("uptime_seconds", findings.uptime(), uptime -> root.numberNode(uptime.toSeconds()), errors));
        root.set("docker", section("docker", findings.docker(), HealthReportJson::docker, errors));
        ObjectNode videoIngest = root.putObject("video_ingest");
        videoIngest.set("unit", section("video_ingest.unit", findings.videoIngestUnit(), HealthReportJson::unit, errors));
        videoIngest.set("container", section("video_ingest.container", findings.videoIngestContainer(), HealthReportJson::container, errors));
        root.set("gpus", section("gpus", findings.gpus(), gpus -> {
            ArrayNode array = MAPPER.createArrayNode();
            gpus.forEach(gpu -> array.add(gpu(gpu)));
            return array;
        }, errors));
        root.set("clock", section("clock", findings.clock(), HealthReportJson::clock, errors));
        ObjectNode disks = root.putObject("disks");
        disks.set("root", section("disks.root", findings.diskRoot(), HealthReportJson::disk, errors));
        disks.set("docker", section("disks.docker", findings.diskDocker(), HealthReportJson::disk, errors));
        root.set("memory", section("memory", findings.memory(), memory -> {
            ObjectNode node = MAPPER.createObjectNode();
            node.put("total_bytes", memory.totalBytes());
            node.put("available_bytes", memory.availableBytes());
            node.put("available_percent", tenths(memory.availablePercent()));
            return node;
        }, errors));
        root.set("cameras", section("cameras", findings.cameras(), cameras -> {
            ObjectNode node = MAPPER.createObjectNode();
            node.put("source", cameras.source());
            node.put("configured", cameras.cameras().size());
            node.put("reachable", cameras.reachable());
            ArrayNode list = node.putArray("cameras");
            for (Camera camera : cameras.cameras()) {
                ObjectNode entry = list.addObject();
                entry.put("address", camera.address());
                entry.put("port", camera.port());
                entry.put("reachable", camera.reachable());
                entry.set("connect_ms", number(camera.connectMillis()));
                entry.put("error", camera.error().orElse(null));
            }
            return node;
        }, errors));
        root.set("updates", section("updates", findings.updates(), updates -> {
            ObjectNode node = MAPPER.createObjectNode();
            node.put("pending", updates.pending());
            node.put("security", updates.security());
            node.put("counted_at", updates.countedAt().toString());
            return node;
        }, errors));
        root.set("reboot", section("reboot", findings.reboot(), reboot -> {
            ObjectNode node = MAPPER.createObjectNode();
            node.put("required", reboot.required());
            ArrayNode packages = node.putArray("packages");
            reboot.packages().forEach(packages::add);
            return node;
        }, errors));
        root.set("usb_cache", section("usb_cache", findings.usbCache(), cache -> {
            ObjectNode node = MAPPER.createObjectNode();
            node.put("dir", cache.dir());
            node.put("present", cache.present());
            ArrayNode images = node.putArray("images");
            cache.images().forEach(image -> {
                ObjectNode entry = images.addObject();
                entry.put("name", image.name().value());
                entry.put("version", image.version().toString());
            });
            return node;
        }, errors));
        ArrayNode checks = root.putArray("checks");
        for (Check check : report.checks()) {
            ObjectNode node = checks.addObject();
            node.put("name", check.name());
            node.put("status", check.status().json());
            node.put("critical", check.critical());
            node.put("reason", check.reason());
        }
        ObjectNode errorNode = root.putObject("errors");
        errors.forEach(errorNode::put);
        root.set("publish", report.publish().<JsonNode>map(publish -> {
            ObjectNode node = MAPPER.createObjectNode();
            node.put("target", publish.target());
            node.put("ok", publish.ok());
            node.put("metrics", publish.metrics());
            node.put("requests", publish.requests());
            node.put("error", publish.error().orElse(null));
            return node;
        }).orElse(root.nullNode()));
        return root;
    }

    private static <T> JsonNode section(String name, Probed<T> probed, Function<T, JsonNode> render, Map<String, String> errors) {
        return switch (probed) {
            case Probed.Found<T> found -> render.apply(found.value());
            case Probed.Failed<T> failed -> {
                errors.put(name, failed.reason());
                yield MAPPER.nullNode();
            }
        };
    }

    private static JsonNode docker(DockerInfo docker) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("server_version", docker.serverVersion());
        node.put("root_dir", docker.rootDir());
        node.put("storage_driver", docker.storageDriver());
        node.put("default_runtime", docker.defaultRuntime());
        ArrayNode runtimes = node.putArray("runtimes");
        docker.runtimes().forEach(runtimes::add);
        node.put("containers_running", docker.containersRunning());
        node.put("images", docker.images());
        ArrayNode warnings = node.putArray("warnings");
        docker.warnings().forEach(warnings::add);
        return node;
    }

    private static JsonNode unit(UnitState unit) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("name", unit.unit());
        node.put("load_state", unit.loadState());
        node.put("active_state", unit.activeState());
        node.put("sub_state", unit.subState());
        node.put("result", unit.result().orElse(null));
        node.set("restarts", number(unit.restarts()));
        return node;
    }

    private static JsonNode container(ContainerInfo container) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("name", container.name());
        node.put("image", container.image());
        node.put("repository", container.repository());
        node.put("tag", container.tag().orElse(null));
        node.put("digest", container.digest().orElse(null));
        node.put("image_id", container.imageId());
        node.put("state", container.state());
        node.put("running", container.running());
        node.put("restart_count", container.restartCount());
        node.put("started_at", container.startedAt().map(Object::toString).orElse(null));
        return node;
    }

    private static JsonNode gpu(GpuInfo gpu) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("index", gpu.index());
        node.put("uuid", gpu.uuid());
        node.put("name", gpu.name());
        node.put("driver_version", gpu.driverVersion());
        node.put("pci_bus_id", gpu.pciBusId());
        node.set("temperature_c", number(gpu.temperatureC()));
        node.set("utilization_percent", number(gpu.utilizationPercent()));
        node.set("memory_utilization_percent", number(gpu.memoryUtilizationPercent()));
        node.set("memory_total_mib", number(gpu.memoryTotalMib()));
        node.set("memory_used_mib", number(gpu.memoryUsedMib()));
        node.set("memory_free_mib", number(gpu.memoryFreeMib()));
        node.set("power_draw_watts", number(gpu.powerDrawWatts()));
        node.set("power_limit_watts", number(gpu.powerLimitWatts()));
        node.put("ecc_mode", gpu.eccMode().orElse(null));
        node.set("ecc_corrected_volatile", number(gpu.eccCorrectedVolatile()));
        node.set("ecc_uncorrected_volatile", number(gpu.eccUncorrectedVolatile()));
        node.set("sm_clock_mhz", number(gpu.smClockMhz()));
        node.set("memory_clock_mhz", number(gpu.memoryClockMhz()));
        node.put("performance_state", gpu.performanceState().orElse(null));
        node.set("fan_speed_percent", number(gpu.fanSpeedPercent()));
        node.put("vbios_version", gpu.vbiosVersion().orElse(null));
        return node;
    }

    private static JsonNode clock(ClockSync clock) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("reference_id", clock.referenceId());
        node.put("reference_name", clock.referenceName());
        node.put("stratum", clock.stratum());
        node.put("reference_time", clock.referenceTime().toString());
        node.put("offset_seconds", clock.offsetSeconds());
        node.put("last_offset_seconds", clock.lastOffsetSeconds());
        node.put("rms_offset_seconds", clock.rmsOffsetSeconds());
        node.put("frequency_ppm", clock.frequencyPpm());
        node.put("skew_ppm", clock.skewPpm());
        node.put("root_delay_seconds", clock.rootDelaySeconds());
        node.put("root_dispersion_seconds", clock.rootDispersionSeconds());
        node.put("update_interval_seconds", clock.updateIntervalSeconds());
        node.put("leap_status", clock.leapStatus());
        node.put("synchronised", clock.synchronised());
        return node;
    }

    private static JsonNode disk(DiskUsage disk) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("path", disk.path());
        node.put("total_bytes", disk.totalBytes());
        node.put("used_bytes", disk.usedBytes());
        node.put("available_bytes", disk.availableBytes());
        node.put("used_percent", tenths(disk.usedPercent()));
        return node;
    }

    private static JsonNode number(OptionalLong value) {
        return value.isPresent() ? MAPPER.getNodeFactory().numberNode(value.getAsLong()) : MAPPER.nullNode();
    }

    private static JsonNode number(OptionalDouble value) {
        return value.isPresent() ? MAPPER.getNodeFactory().numberNode(value.getAsDouble()) : MAPPER.nullNode();
    }

    /** Percentages to one decimal: enough for a threshold, stable in a golden file. */
    static double tenths(double value) {
        return Math.round(value * 10) / 10.0;
    }

}
