package dev.ingot.health;

import dev.ingot.health.HealthReport.Cameras;
import dev.ingot.health.HealthReport.ClockSync;
import dev.ingot.health.HealthReport.DiskUsage;
import dev.ingot.health.HealthReport.Findings;
import dev.ingot.health.HealthReport.GpuInfo;
import dev.ingot.health.HealthReport.MemoryInfo;
import dev.ingot.health.HealthReport.Slots;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * Judges findings against thresholds: the checks, always the same names in the same order
 * ({@link #NAMES}), each critical or not (a failed critical check makes the device unhealthy).
 * A pure function: the same findings and config give the same checks.
 */
public final class HealthEvaluator {
    /** Every check's name, in report order. */
    public static final List<String> NAMES = List.of("identity", "image", "ab_slot", "docker", "video_ingest_unit",
            "video_ingest_container", "gpu", "gpu_temperature", "gpu_memory", "gpu_ecc", "clock", "disk_root", "disk_docker", "memory",
            "cameras", "security_updates", "reboot_required", "usb_cache");

    private HealthEvaluator() {}

    public static List<Check> evaluate(Findings findings, HealthConfig config) {
        List<Check> checks = new ArrayList<>();
        checks.add(identity(findings));
        checks.add(findings.image().found()
                .map(image -> Check.ok("image", false, image.name() + " " + image.version() + " built " + image.buildDate()))
                .orElseGet(() -> Check.fail("image", false, findings.image().failure().orElseThrow())));
        checks.add(slot(findings.slot()));
        checks.add(findings.docker().found()
                .map(docker -> Check.ok("docker", true, "Docker " + docker.serverVersion() + " answers, " + docker.containersRunning()
                        + " container(s) running, default runtime " + docker.defaultRuntime()))
                .orElseGet(() -> Check.fail("docker", true, findings.docker().failure().orElseThrow())));
        checks.add(findings.videoIngestUnit().found()
                .map(unit -> unit.running() ? Check.ok("video_ingest_unit", true, unit.unit() + " is active (running)")
                        : Check.fail("video_ingest_unit", true, unit.unit() + " is " + unit.activeState() + " (" + unit.subState() + ")"
                                + (unit.loadState().equals("loaded") ? "" : ", unit " + unit.loadState())
                                + unit.result().filter(result -> !result.equals("success")).map(result -> ", last result " + result).orElse("")))
                .orElseGet(() -> Check.fail("video_ingest_unit", true, findings.videoIngestUnit().failure().orElseThrow())));
        checks.add(findings.videoIngestContainer().found()
                .map(container -> container.running()
                        ? Check.ok("video_ingest_container", true, "container " + container.name() + " runs " + container.image())
                        : Check.fail("video_ingest_container", true, "container " + container.name() + " is " + container.state()
                                + " (image " + container.image() + ")"))
                .orElseGet(() -> Check.fail("video_ingest_container", true, findings.videoIngestContainer().failure().orElseThrow())));
        gpuChecks(findings, config.gpu(), checks);
        checks.add(clock(findings, config.clock()));
        checks.add(disk("disk_root", findings.diskRoot(), config.disk()));
        checks.add(disk("disk_docker", findings.diskDocker(), config.disk()));
        checks.add(memory(findings, config.memory()));
        checks.add(cameras(findings));
        checks.add(findings.updates().found()
                .map(updates -> updates.security() >= config.updates().securityWarnAt()
                        ? Check.warn("security_updates", false, updates.security() + " security update(s) pending of " + updates.pending()
                                + " (counted " + updates.countedAt() + ")")
                        : Check.ok("security_updates", false, updates.security() + " security update(s) pending of " + updates.pending()
                                + " (counted " + updates.countedAt() + ")"))
                .orElseGet(() -> Check.skip("security_updates", false, findings.updates().failure().orElseThrow())));
        checks.add(findings.reboot().found()
                .map(reboot -> reboot.required()
                        ? Check.warn("reboot_required", false, "a reboot is required" + (reboot.packages().isEmpty() ? ""
                                : " by " + String.join(", ", reboot.packages())) + " (reboots are operator-started rollouts)")
                        : Check.ok("reboot_required", false, "no reboot required"))
                .orElseGet(() -> Check.skip("reboot_required", false, findings.reboot().failure().orElseThrow())));
        checks.add(findings.usbCache().found()
                .map(cache -> !cache.present()
                        ? Check.warn("usb_cache", false, cache.dir() + " does not exist (is the USB drive mounted?)")
                        : cache.images().size() < config.usbCache().minImages()
                                ? Check.warn("usb_cache", false, cache.dir() + " holds " + cache.images().size() + " image(s), fewer than "
                                        + config.usbCache().minImages() + " (ingot cache sync fills it)")
                                : Check.ok("usb_cache", false, cache.dir() + " holds " + (cache.images().isEmpty() ? "no image"
                                        : cache.images().stream().map(image -> image.name() + " " + image.version())
                                                .collect(Collectors.joining(", ")))))
                .orElseGet(() -> Check.warn("usb_cache", false, findings.usbCache().failure().orElseThrow())));
        return List.copyOf(checks);
    }

    private static Check identity(Findings findings) {
        List<String> missing = new ArrayList<>();
        findings.site().failure().ifPresent(missing::add);
        findings.device().failure().ifPresent(missing::add);
        if (!missing.isEmpty()) {
            return Check.fail("identity", false, String.join("; ", missing));
        }
        return Check.ok("identity", false, "site " + findings.site().found().orElseThrow() + ", device "
                + findings.device().found().orElseThrow());
    }

    private static Check slot(Probed<Slots> probed) {
        if (probed.failure().isPresent()) {
            return Check.warn("ab_slot", false, probed.failure().get());
        }
        Slots slots = probed.found().orElseThrow();
        if (!slots.present()) {
            return Check.skip("ab_slot", false, "not present: no ingot.slot= on the kernel command line and no committed slot");
        }
        if (slots.booted().isPresent() && slots.committed().isPresent() && !slots.booted().equals(slots.committed())) {
            return Check.warn("ab_slot", false, "booted slot " + slots.booted().get() + " but slot " + slots.committed().get()
                    + " is committed (an update awaits its commit, or the device fell back)");
        }
        return Check.ok("ab_slot", false, "booted " + slots.booted().orElse("unknown") + ", committed " + slots.committed().orElse("none"));
    }

    private static void gpuChecks(Findings findings, HealthConfig.Gpu config, List<Check> checks) {
        Optional<String> failure = findings.gpus().failure();
        if (failure.isPresent()) {
            checks.add(Check.fail("gpu", true, failure.get()));
            String reason = "no GPU reading (see the gpu check)";
            checks.add(Check.skip("gpu_temperature", true, reason));
            checks.add(Check.skip("gpu_memory", false, reason));
            checks.add(Check.skip("gpu_ecc", true, reason));
            return;
        }
        List<GpuInfo> gpus = findings.gpus().found().orElseThrow();
        String names = gpus.stream().map(gpu -> gpu.name() + " (driver " + gpu.driverVersion() + ")").collect(Collectors.joining(", "));
        checks.add(gpus.size() < config.expectedCount()
                ? Check.fail("gpu", true, "nvidia-smi sees " + gpus.size() + " GPU(s), " + config.expectedCount() + " expected"
                        + (gpus.isEmpty() ? "" : ": " + names))
                : Check.ok("gpu", true, gpus.size() + " GPU(s): " + (gpus.isEmpty() ? "none expected" : names)));

        List<String> hot = new ArrayList<>();
        List<String> warm = new ArrayList<>();
        List<String> readings = new ArrayList<>();
        for (GpuInfo gpu : gpus) {
            if (gpu.temperatureC().isEmpty()) {
                continue;
            }
            long celsius = gpu.temperatureC().getAsLong();
            String text = "GPU " + gpu.index() + " at " + celsius + " °C";
            readings.add(text);
            if (celsius >= config.temperatureFailC()) {
                hot.add(text);
            } else if (celsius >= config.temperatureWarnC()) {
                warm.add(text);
            }
        }
        checks.add(!hot.isEmpty() ? Check.fail("gpu_temperature", true, String.join(", ", hot) + ", at or above " + config.temperatureFailC() + " °C")
                : !warm.isEmpty() ? Check.warn("gpu_temperature", true, String.join(", ", warm) + ", at or above " + config.temperatureWarnC() + " °C")
                : readings.isEmpty() ? Check.skip("gpu_temperature", true, "no GPU reports its temperature")
                : Check.ok("gpu_temperature", true, String.join(", ", readings)));

        List<String> full = new ArrayList<>();
        List<String> memory = new ArrayList<>();
        for (GpuInfo gpu : gpus) {
            gpu.memoryUsedPercent().ifPresent(percent -> {
                String text = String.format(Locale.ROOT, "GPU %d memory %.0f%% used (%d of %d MiB)", gpu.index(), percent,
                        gpu.memoryUsedMib().getAsLong(), gpu.memoryTotalMib().getAsLong());
                memory.add(text);
                if (percent >= config.memoryUsedWarnPercent()) {
                    full.add(text);
                }
            });
        }
        checks.add(!full.isEmpty() ? Check.warn("gpu_memory", false, String.join(", ", full) + ", at or above "
                + config.memoryUsedWarnPercent() + "%")
                : memory.isEmpty() ? Check.skip("gpu_memory", false, "no GPU reports its memory")
                : Check.ok("gpu_memory", false, String.join(", ", memory)));

        List<String> errors = new ArrayList<>();
        List<String> clean = new ArrayList<>();
        for (GpuInfo gpu : gpus) {
            OptionalLong uncorrected = gpu.eccUncorrectedVolatile();
            if (uncorrected.isPresent()) {
                (uncorrected.getAsLong() > 0 ? errors : clean).add("GPU " + gpu.index() + ": " + uncorrected.getAsLong()
                        + " uncorrected ECC error(s) since the driver loaded");
            }
        }
        checks.add(!errors.isEmpty() ? Check.fail("gpu_ecc", true, String.join(", ", errors) + " (the GPU needs a reset)")
                : clean.isEmpty() ? Check.skip("gpu_ecc", true, "no GPU reports ECC errors (ECC off or not supported)")
                : Check.ok("gpu_ecc", true, String.join(", ", clean)));
    }

    private static Check clock(Findings findings, HealthConfig.Clock config) {
        if (findings.clock().failure().isPresent()) {
            return Check.fail("clock", false, findings.clock().failure().get());
        }
        ClockSync clock = findings.clock().found().orElseThrow();
        double offsetMs = Math.abs(clock.offsetSeconds()) * 1000;
        String state = String.format(Locale.ROOT, "offset %.3f ms, stratum %d, reference %s%s, leap status %s", offsetMs, clock.stratum(),
                clock.referenceId(), clock.referenceName().isEmpty() ? "" : " (" + clock.referenceName() + ")", clock.leapStatus());
        if (!clock.synchronised()) {
            return Check.fail("clock", false, "chronyd is not synchronised: " + state);
        }
        if (clock.referenceId().equals(ClockSync.LOCAL_REFERENCE)) {
            return Check.warn("clock", false, "chronyd follows only the local clock (no NTP source reachable): " + state);
        }
        if (offsetMs >= config.offsetFailMs()) {
            return Check.fail("clock", false, state + ", offset at or above " + config.offsetFailMs() + " ms");
        }
        if (offsetMs >= config.offsetWarnMs()) {
            return Check.warn("clock", false, state + ", offset at or above " + config.offsetWarnMs() + " ms");
        }
        if (clock.stratum() > config.maxStratum()) {
            return Check.warn("clock", false, state + ", stratum above " + config.maxStratum());
        }
        return Check.ok("clock", false, state);
    }

    private static Check disk(String name, Probed<DiskUsage> probed, HealthConfig.Disk config) {
        if (probed.failure().isPresent()) {
            return Check.fail(name, true, probed.failure().get());
        }
        DiskUsage disk = probed.found().orElseThrow();
        String text = String.format(Locale.ROOT, "%s %.1f%% used, %s available", disk.path(), disk.usedPercent(), gib(disk.availableBytes()));
        return disk.usedPercent() >= config.usedFailPercent() ? Check.fail(name, true, text + ", at or above " + config.usedFailPercent() + "%")
                : disk.usedPercent() >= config.usedWarnPercent() ? Check.warn(name, true, text + ", at or above " + config.usedWarnPercent() + "%")
                : Check.ok(name, true, text);
    }

    private static Check memory(Findings findings, HealthConfig.Memory config) {
        if (findings.memory().failure().isPresent()) {
            return Check.fail("memory", true, findings.memory().failure().get());
        }
        MemoryInfo memory = findings.memory().found().orElseThrow();
        String text = String.format(Locale.ROOT, "%.1f%% available (%s of %s)", memory.availablePercent(), gib(memory.availableBytes()),
                gib(memory.totalBytes()));
        return memory.availablePercent() < config.availableFailPercent()
                ? Check.fail("memory", true, text + ", below " + config.availableFailPercent() + "%")
                : memory.availablePercent() < config.availableWarnPercent()
                        ? Check.warn("memory", true, text + ", below " + config.availableWarnPercent() + "%")
                        : Check.ok("memory", true, text);
    }

    private static Check cameras(Findings findings) {
        if (findings.cameras().failure().isPresent()) {
            return Check.fail("cameras", false, findings.cameras().failure().get());
        }
        Cameras cameras = findings.cameras().found().orElseThrow();
        if (cameras.cameras().isEmpty()) {
            return Check.warn("cameras", false, "no camera is configured (" + cameras.source() + ")");
        }
        List<String> down = cameras.cameras().stream().filter(camera -> !camera.reachable())
                .map(camera -> camera.address() + ":" + camera.port() + " " + camera.error().orElse("unreachable")).toList();
        String summary = cameras.reachable() + " of " + cameras.cameras().size() + " camera(s) reachable";
        if (down.isEmpty()) {
            return Check.ok("cameras", false, summary);
        }
        return (down.size() == cameras.cameras().size() ? Check.fail("cameras", false, summary + ": " + String.join("; ", down))
                : Check.warn("cameras", false, summary + ": " + String.join("; ", down)));
    }

    static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
}
