package dev.ingot.health;

import static java.util.Objects.requireNonNull;

import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.SiteId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * One device's health report: what it runs and whether it is well. Each section is what a probe
 * found, or why it found nothing; the checks judge the sections against the configured thresholds.
 * Its JSON form ({@link HealthReportJson}, schema_version {@value #SCHEMA_VERSION}) is documented in
 * docs/health-report.md.
 */
public record HealthReport(Instant checkedAt, Duration took, HealthStatus status, Findings findings, List<Check> checks,
        Optional<PublishResult> publish) {

    public static final int SCHEMA_VERSION = 1;

    public HealthReport {
        requireNonNull(checkedAt, "checkedAt");
        requireNonNull(took, "took");
        requireNonNull(status, "status");
        requireNonNull(findings, "findings");
        checks = List.copyOf(checks);
        requireNonNull(publish, "publish");
    }

    /** A report of these findings judged by these checks: the status is their roll-up. */
    public static HealthReport of(Instant checkedAt, Duration took, Findings findings, List<Check> checks) {
        return new HealthReport(checkedAt, took, HealthStatus.rollUp(checks), findings, checks, Optional.empty());
    }

    /** The same report with the outcome of publishing it noted; nothing else changes. */
    public HealthReport withPublish(PublishResult result) {
        return new HealthReport(checkedAt, took, status, findings, checks, Optional.of(result));
    }

    /** What the probes found, one section each. */
    public record Findings(
            Probed<SiteId> site,
            Probed<DeviceId> device,
            Probed<String> hostname,
            Probed<ImageInfo> image,
            Probed<Slots> slot,
            Probed<Duration> uptime,
            Probed<DockerInfo> docker,
            Probed<UnitState> videoIngestUnit,
            Probed<ContainerInfo> videoIngestContainer,
            Probed<List<GpuInfo>> gpus,
            Probed<ClockSync> clock,
            Probed<DiskUsage> diskRoot,
            Probed<DiskUsage> diskDocker,
            Probed<MemoryInfo> memory,
            Probed<Cameras> cameras,
            Probed<Updates> updates,
            Probed<Reboot> reboot,
            Probed<UsbCacheInfo> usbCache) {
        public Findings {
            requireNonNull(site, "site");
            requireNonNull(device, "device");
            requireNonNull(hostname, "hostname");
            requireNonNull(image, "image");
            requireNonNull(slot, "slot");
            requireNonNull(uptime, "uptime");
            requireNonNull(docker, "docker");
            requireNonNull(videoIngestUnit, "videoIngestUnit");
            requireNonNull(videoIngestContainer, "videoIngestContainer");
            requireNonNull(gpus, "gpus");
            requireNonNull(clock, "clock");
            requireNonNull(diskRoot, "diskRoot");
            requireNonNull(diskDocker, "diskDocker");
            requireNonNull(memory, "memory");
            requireNonNull(cameras, "cameras");
            requireNonNull(updates, "updates");
            requireNonNull(reboot, "reboot");
            requireNonNull(usbCache, "usbCache");
        }
    }

    /** The golden image the device runs, from {@code /etc/edge/image-version}. */
    public record ImageInfo(ImageName name, ImageVersion version, Instant buildDate) {
        public ImageInfo {
            requireNonNull(name, "name");
            requireNonNull(version, "version");
            requireNonNull(buildDate, "buildDate");
        }
    }

    /** The A/B root slots: the one booted (kernel command line {@code ingot.slot=}) and the one committed; both absent on a single-root device. */
    public record Slots(Optional<String> booted, Optional<String> committed) {
        public Slots {
            requireNonNull(booted, "booted");
            requireNonNull(committed, "committed");
        }

        public boolean present() {
            return booted.isPresent() || committed.isPresent();
        }
    }

    /** What {@code docker info} says about the daemon. */
    public record DockerInfo(String serverVersion, String rootDir, String storageDriver, String defaultRuntime, List<String> runtimes,
            long containersRunning, long images, List<String> warnings) {
        public DockerInfo {
            requireNonNull(serverVersion, "serverVersion");
            requireNonNull(rootDir, "rootDir");
            requireNonNull(storageDriver, "storageDriver");
            requireNonNull(defaultRuntime, "defaultRuntime");
            runtimes = List.copyOf(runtimes);
            warnings = List.copyOf(warnings);
        }
    }

    /** A systemd unit's state, from {@code systemctl show} (systemd.unit(5) for the values). */
    public record UnitState(String unit, String loadState, String activeState, String subState, Optional<String> result,
            OptionalLong restarts) {
        public UnitState {
            requireNonNull(unit, "unit");
            requireNonNull(loadState, "loadState");
            requireNonNull(activeState, "activeState");
            requireNonNull(subState, "subState");
            requireNonNull(result, "result");
            requireNonNull(restarts, "restarts");
        }

        public boolean running() {
            return activeState.equals("active") && subState.equals("running");
        }
    }

    /** The running container, from {@code docker inspect}: its image reference split into repository and tag. */
    public record ContainerInfo(String name, String image, String repository, Optional<String> tag, Optional<String> digest,
            String imageId, String state, boolean running, long restartCount, Optional<Instant> startedAt) {
        public ContainerInfo {
            requireNonNull(name, "name");
            requireNonNull(image, "image");
            requireNonNull(repository, "repository");
            requireNonNull(tag, "tag");
            requireNonNull(digest, "digest");
            requireNonNull(imageId, "imageId");
            requireNonNull(state, "state");
            requireNonNull(startedAt, "startedAt");
        }
    }

    /**
     * One GPU as {@code nvidia-smi --query-gpu} reports it. A reading the GPU does not report
     * ({@code [N/A]}, {@code [Not Supported]}, …) is empty.
     */
    public record GpuInfo(int index, String uuid, String name, String driverVersion, String pciBusId, OptionalLong temperatureC,
            OptionalLong utilizationPercent, OptionalLong memoryUtilizationPercent, OptionalLong memoryTotalMib,
            OptionalLong memoryUsedMib, OptionalLong memoryFreeMib, OptionalDouble powerDrawWatts, OptionalDouble powerLimitWatts,
            Optional<String> eccMode, OptionalLong eccCorrectedVolatile, OptionalLong eccUncorrectedVolatile, OptionalLong smClockMhz,
            OptionalLong memoryClockMhz, Optional<String> performanceState, OptionalLong fanSpeedPercent, Optional<String> vbiosVersion) {
        public GpuInfo {
            requireNonNull(uuid, "uuid");
            requireNonNull(name, "name");
            requireNonNull(driverVersion, "driverVersion");
            requireNonNull(pciBusId, "pciBusId");
        }

        /** Used memory as a share of the total, when both are reported. */
        public OptionalDouble memoryUsedPercent() {
            if (memoryUsedMib.isEmpty() || memoryTotalMib.isEmpty() || memoryTotalMib.getAsLong() == 0) {
                return OptionalDouble.empty();
            }
            return OptionalDouble.of(100.0 * memoryUsedMib.getAsLong() / memoryTotalMib.getAsLong());
        }
    }

    /** chronyd's view of the clock, from {@code chronyc -c tracking} (chronyc(1), "tracking"). */
    public record ClockSync(String referenceId, String referenceName, int stratum, Instant referenceTime, double offsetSeconds,
            double lastOffsetSeconds, double rmsOffsetSeconds, double frequencyPpm, double skewPpm, double rootDelaySeconds,
            double rootDispersionSeconds, double updateIntervalSeconds, String leapStatus) {
        /** chronyd's reference id when it follows only its own clock ({@code local} directive): "LOCL" in ASCII. */
        public static final String LOCAL_REFERENCE = "7F7F0101";

        public ClockSync {
            requireNonNull(referenceId, "referenceId");
            requireNonNull(referenceName, "referenceName");
            requireNonNull(referenceTime, "referenceTime");
            requireNonNull(leapStatus, "leapStatus");
        }

        /** Whether chronyd has a source it trusts: a reference other than none, and a leap status other than "Not synchronised". */
        public boolean synchronised() {
            return !referenceId.equals("00000000") && !leapStatus.equals("Not synchronised");
        }
    }

    /** Space on one file system, as df(1) counts it: used + available can be less than total (reserved blocks). */
    public record DiskUsage(String path, long totalBytes, long usedBytes, long availableBytes) {
        public DiskUsage {
            requireNonNull(path, "path");
        }

        /** df's Use%: used / (used + available). */
        public double usedPercent() {
            long usable = usedBytes + availableBytes;
            return usable == 0 ? 0 : 100.0 * usedBytes / usable;
        }
    }

    /** From {@code /proc/meminfo}: MemTotal and MemAvailable. */
    public record MemoryInfo(long totalBytes, long availableBytes) {
        public double availablePercent() {
            return totalBytes == 0 ? 0 : 100.0 * availableBytes / totalBytes;
        }
    }

    /** The configured cameras, each tried with one TCP connect to its RTSP port. */
    public record Cameras(String source, List<Camera> cameras) {
        public Cameras {
            requireNonNull(source, "source");
            cameras = List.copyOf(cameras);
        }

        public long reachable() {
            return cameras.stream().filter(Camera::reachable).count();
        }
    }

    public record Camera(String address, int port, boolean reachable, OptionalLong connectMillis, Optional<String> error) {
        public Camera {
            requireNonNull(address, "address");
            requireNonNull(connectMillis, "connectMillis");
            requireNonNull(error, "error");
        }
    }

    /** Pending package updates, as update-notifier last counted them (its motd file), and when. */
    public record Updates(long pending, long security, Instant countedAt) {
        public Updates {
            requireNonNull(countedAt, "countedAt");
        }
    }

    /** Whether a package asked for a reboot ({@code /var/run/reboot-required}) and which ({@code .pkgs}). */
    public record Reboot(boolean required, List<String> packages) {
        public Reboot {
            packages = List.copyOf(packages);
        }
    }

    /** The site's USB drive of known-good images: the releases whose manifest is there (not verified: that is {@code ingot cache list}). */
    public record UsbCacheInfo(String dir, boolean present, List<CachedImage> images) {
        public UsbCacheInfo {
            requireNonNull(dir, "dir");
            images = List.copyOf(images);
        }
    }

    public record CachedImage(ImageName name, ImageVersion version) {}

    /** What happened when the report was sent somewhere (CloudWatch); a failure is noted here and changes nothing else. */
    public record PublishResult(String target, boolean ok, int metrics, int requests, Optional<String> error) {
        public PublishResult {
            requireNonNull(target, "target");
            requireNonNull(error, "error");
        }
    }
}
