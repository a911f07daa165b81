package dev.ingot.health;

import dev.ingot.health.HealthReport.Findings;
import dev.ingot.health.HealthReport.GpuInfo;
import dev.ingot.health.Metric.Unit;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * The report's numbers as metrics (docs/health-report.md, "Metrics"). A number the report does not have
 * is left out rather than sent as zero, except where its absence is itself the finding: Docker not
 * answering is {@code DockerUp 0}, no GPU seen is {@code GpuCount 0}. Several GPUs give one value each:
 * the hottest, the busiest, the fullest, the sum of errors and watts.
 */
public final class HealthMetrics {
    private HealthMetrics() {}

    public static List<Metric> of(HealthReport report) {
        Findings findings = report.findings();
        List<Metric> metrics = new ArrayList<>();
        metrics.add(new Metric("HealthStatus", report.status().metricValue(), Unit.NONE));
        metrics.add(new Metric("ChecksFailed", report.checks().stream().filter(check -> check.status() == Check.Status.FAIL).count(), Unit.COUNT));
        metrics.add(new Metric("ChecksWarning", report.checks().stream().filter(check -> check.status() == Check.Status.WARN).count(), Unit.COUNT));
        findings.uptime().found().ifPresent(uptime -> metrics.add(new Metric("Uptime", uptime.toSeconds(), Unit.SECONDS)));
        metrics.add(new Metric("DockerUp", findings.docker().found().isPresent() ? 1 : 0, Unit.NONE));
        boolean unitRunning = findings.videoIngestUnit().found().map(HealthReport.UnitState::running).orElse(false);
        boolean containerRunning = findings.videoIngestContainer().found().map(HealthReport.ContainerInfo::running).orElse(false);
        metrics.add(new Metric("VideoIngestActive", unitRunning && containerRunning ? 1 : 0, Unit.NONE));
        List<GpuInfo> gpus = findings.gpus().found().orElse(List.of());
        metrics.add(new Metric("GpuCount", gpus.size(), Unit.COUNT));
        maximum(gpus, GpuInfo::temperatureC).ifPresent(value -> metrics.add(new Metric("GpuTemperature", value, Unit.NONE)));
        maximum(gpus, GpuInfo::utilizationPercent).ifPresent(value -> metrics.add(new Metric("GpuUtilization", value, Unit.PERCENT)));
        gpus.stream().flatMapToDouble(gpu -> gpu.memoryUsedPercent().stream()).max()
                .ifPresent(value -> metrics.add(new Metric("GpuMemoryUsed", HealthReportJson.tenths(value), Unit.PERCENT)));
        if (gpus.stream().anyMatch(gpu -> gpu.powerDrawWatts().isPresent())) {
            metrics.add(new Metric("GpuPowerDraw", gpus.stream().flatMapToDouble(gpu -> gpu.powerDrawWatts().stream()).sum(), Unit.NONE));
        }
        if (gpus.stream().anyMatch(gpu -> gpu.eccUncorrectedVolatile().isPresent())) {
            metrics.add(new Metric("GpuEccUncorrected", gpus.stream().flatMapToLong(gpu -> gpu.eccUncorrectedVolatile().stream()).sum(),
                    Unit.COUNT));
        }
        metrics.add(new Metric("ClockSynchronised", findings.clock().found().map(HealthReport.ClockSync::synchronised).orElse(false) ? 1 : 0,
                Unit.NONE));
        findings.clock().found().ifPresent(clock -> metrics.add(new Metric("ClockOffset", Math.abs(clock.offsetSeconds()), Unit.SECONDS)));
        findings.diskRoot().found().ifPresent(disk -> metrics.add(new Metric("DiskRootUsed", HealthReportJson.tenths(disk.usedPercent()),
                Unit.PERCENT)));
        findings.diskDocker().found().ifPresent(disk -> metrics.add(new Metric("DiskDockerUsed", HealthReportJson.tenths(disk.usedPercent()),
                Unit.PERCENT)));
        findings.memory().found().ifPresent(memory -> metrics.add(new Metric("MemoryAvailable",
                HealthReportJson.tenths(memory.availablePercent()), Unit.PERCENT)));
        findings.cameras().found().ifPresent(cameras -> {
            metrics.add(new Metric("CamerasConfigured", cameras.cameras().size(), Unit.COUNT));
            metrics.add(new Metric("CamerasUnreachable", cameras.cameras().size() - cameras.reachable(), Unit.COUNT));
        });
        findings.updates().found().ifPresent(updates -> metrics.add(new Metric("SecurityUpdatesPending", updates.security(), Unit.COUNT)));
        findings.reboot().found().ifPresent(reboot -> metrics.add(new Metric("RebootRequired", reboot.required() ? 1 : 0, Unit.NONE)));
        findings.usbCache().found().ifPresent(cache -> metrics.add(new Metric("UsbCacheImages", cache.images().size(), Unit.COUNT)));
        return List.copyOf(metrics);
    }

    private static OptionalLong maximum(List<GpuInfo> gpus, Function<GpuInfo, OptionalLong> reading) {
        return gpus.stream().flatMapToLong(gpu -> reading.apply(gpu).stream()).max();
    }
}
