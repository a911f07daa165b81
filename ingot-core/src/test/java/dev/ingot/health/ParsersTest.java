package dev.ingot.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.health.HealthReport.ClockSync;
import dev.ingot.health.HealthReport.ContainerInfo;
import dev.ingot.health.HealthReport.DockerInfo;
import dev.ingot.health.HealthReport.GpuInfo;
import dev.ingot.health.HealthReport.UnitState;
import dev.ingot.testing.Fixtures;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Each tool's output, as recorded on real hosts or written from its documented format, read by the pure parsers. */
class ParsersTest {
    @Nested
    class NvidiaSmiOutput {
        @Test
        void theQueryIsTheOneTheH200WasRecordedWith() {
            assertThat(Fixtures.text("recorded/nvidia-h200/README.md")).contains("`nvidia-smi " + NvidiaSmi.arguments().get(0) + " "
                    + NvidiaSmi.arguments().get(1) + "`");
        }

        @Test
        void aRecordedH200ReadsWithItsFanNotReported() {
            List<GpuInfo> gpus = NvidiaSmi.parse(Fixtures.text("recorded/nvidia-h200/query-gpu-csv-noheader-nounits.txt")).found().orElseThrow();

            assertThat(gpus).singleElement().satisfies(gpu -> {
                assertThat(gpu.index()).isZero();
                assertThat(gpu.uuid()).isEqualTo("GPU-c34da0e2-3370-dac5-054d-f0aa6ef827f3");
                assertThat(gpu.name()).isEqualTo("NVIDIA H200");
                assertThat(gpu.driverVersion()).isEqualTo("580.159.04");
                assertThat(gpu.pciBusId()).isEqualTo("00000000:00:06.0");
                assertThat(gpu.temperatureC()).hasValue(39);
                assertThat(gpu.utilizationPercent()).hasValue(0);
                assertThat(gpu.memoryTotalMib()).hasValue(143771);
                assertThat(gpu.memoryUsedMib()).hasValue(0);
                assertThat(gpu.memoryFreeMib()).hasValue(143156);
                assertThat(gpu.powerDrawWatts()).hasValue(126.79);
                assertThat(gpu.powerLimitWatts()).hasValue(700.0);
                assertThat(gpu.eccMode()).hasValue("Enabled");
                assertThat(gpu.eccCorrectedVolatile()).hasValue(0);
                assertThat(gpu.eccUncorrectedVolatile()).hasValue(0);
                assertThat(gpu.smClockMhz()).hasValue(1980);
                assertThat(gpu.memoryClockMhz()).hasValue(3201);
                assertThat(gpu.performanceState()).hasValue("P0");
                assertThat(gpu.fanSpeedPercent()).isEmpty();
                assertThat(gpu.vbiosVersion()).hasValue("96.00.A5.00.1A");
            });
        }

        @Test
        void aRecordedH100ReadsTheSameWayAndItsHeaderNamesTheFieldsInTheQueriedOrder() {
            GpuInfo gpu = NvidiaSmi.parse(Fixtures.text("recorded/nvidia-h100/query-gpu-csv-noheader-nounits.txt")).found().orElseThrow()
                    .getFirst();
            String header = Fixtures.text("recorded/nvidia-h100/query-gpu-csv-header.txt").lines().findFirst().orElseThrow();

            assertThat(gpu.name()).isEqualTo("NVIDIA H100 80GB HBM3");
            assertThat(gpu.memoryTotalMib()).hasValue(81559);
            assertThat(gpu.powerDrawWatts()).hasValue(124.01);
            assertThat(gpu.vbiosVersion()).hasValue("96.00.DA.00.0C");
            assertThat(gpu.fanSpeedPercent()).isEmpty();
            // nvidia-smi writes two fields by their long names: clocks.sm is clocks.current.sm, clocks.mem is clocks.current.memory.
            assertThat(java.util.Arrays.stream(header.split(", ")).map(name -> name.replaceFirst(" \\[.*]$", "")).toList())
                    .isEqualTo(NvidiaSmi.FIELDS.stream().map(field -> switch (field) {
                        case "clocks.sm" -> "clocks.current.sm";
                        case "clocks.mem" -> "clocks.current.memory";
                        default -> field;
                    }).toList());
        }

        @Test
        void aT4ReadsWithItsFanNotReported() {
            GpuInfo gpu = NvidiaSmi.parse(Fixtures.recording("written/nvidia-smi-t4").stdout()).found().orElseThrow().getFirst();

            assertThat(gpu.name()).isEqualTo("Tesla T4");
            assertThat(gpu.temperatureC()).hasValue(52);
            assertThat(gpu.memoryUsedPercent().getAsDouble()).isCloseTo(26.9, org.assertj.core.data.Offset.offset(0.1));
            assertThat(gpu.fanSpeedPercent()).isEmpty();
        }

        @Test
        void unknownErrorAndNotSupportedReadAsNotReported() {
            List<GpuInfo> gpus = NvidiaSmi.parse(Fixtures.recording("written/nvidia-smi-two-t4").stdout()).found().orElseThrow();

            assertThat(gpus).extracting(GpuInfo::index).containsExactly(0, 1);
            GpuInfo second = gpus.get(1);
            assertThat(second.temperatureC()).hasValue(46);
            assertThat(second.utilizationPercent()).isEmpty();
            assertThat(second.powerDrawWatts()).isEqualTo(OptionalDouble.empty());
            assertThat(second.eccMode()).hasValue("Disabled");
            assertThat(second.eccUncorrectedVolatile()).isEqualTo(OptionalLong.empty());
        }

        @Test
        void noLineMeansNoGpu() {
            assertThat(NvidiaSmi.parse("\n").found()).hasValue(List.of());
        }

        @Test
        void theDriversErrorMessageIsNotReadAsAGpu() {
            assertThat(NvidiaSmi.parse(Fixtures.recording("written/nvidia-smi-no-driver").stdout()).failure()).hasValueSatisfying(reason ->
                    assertThat(reason).startsWith("nvidia-smi printed a line of 1 value where 21 were asked for: 'NVIDIA-SMI has failed"));
        }

        @Test
        void aTextWhereANumberBelongsIsRefusedNamingTheField() {
            String line = Fixtures.recording("written/nvidia-smi-t4").stdout().replace(", 52, ", ", hot, ");

            assertThat(NvidiaSmi.parse(line).failure())
                    .hasValue("nvidia-smi printed something that is not a number: temperature.gpu is 'hot'");
        }
    }

    @Nested
    class ChronycOutput {
        @Test
        void aSynchronisedTrackingLineReadsEveryField() {
            ClockSync clock = ChronyTracking.parse(Fixtures.recording("written/chronyc-tracking-synchronised").stdout()).found().orElseThrow();

            assertThat(clock).isEqualTo(new ClockSync("0A1C2F01", "10.28.47.1", 3, Instant.parse("2026-11-26T00:52:00.482913117Z"),
                    0.000021744, 0.000018262, 0.000041977, -3.917, 0.052, 0.001842106, 0.000611203, 64.4, "Normal"));
            assertThat(clock.synchronised()).isTrue();
        }

        @Test
        void aRealChronydFollowingOnlyItsLocalClockReadsAsSynchronisedToLocl() {
            ClockSync clock = ChronyTracking.parse(Fixtures.recording("recorded/debian12-no-gpu/chronyc-tracking-local").stdout())
                    .found().orElseThrow();

            assertThat(clock.referenceId()).isEqualTo(ClockSync.LOCAL_REFERENCE);
            assertThat(clock.referenceName()).isEmpty();
            assertThat(clock.stratum()).isEqualTo(10);
            assertThat(clock.synchronised()).isTrue();
        }

        @Test
        void aRealChronydWithoutAReachableServerIsNotSynchronised() {
            ClockSync clock = ChronyTracking.parse(Fixtures.recording("recorded/debian12-no-gpu/chronyc-tracking-unsynchronised").stdout())
                    .found().orElseThrow();

            assertThat(clock.leapStatus()).isEqualTo("Not synchronised");
            assertThat(clock.referenceTime()).isEqualTo(Instant.EPOCH);
            assertThat(clock.synchronised()).isFalse();
        }

        @Test
        void theNoDaemonMessageAndGarbageAreRefusedWithWhatWasPrinted() {
            assertThat(ChronyTracking.parse(Fixtures.recording("recorded/debian12-no-gpu/chronyc-no-daemon").stdout()).failure())
                    .hasValue("chronyc printed 1 value where 14 were expected: '506 Cannot talk to daemon'");
            assertThat(ChronyTracking.parse("").failure()).hasValue("chronyc printed 0 lines where one CSV line was expected");
            assertThat(ChronyTracking.parse("A,B,C,D,E,F,G,H,I,J,K,L,M,N").failure()).hasValueSatisfying(reason ->
                    assertThat(reason).startsWith("chronyc printed a tracking line that cannot be read (the reference ID 'A' is not 8 hex digits)"));
        }
    }

    @Nested
    class DockerOutput {
        @Test
        void aRunningDaemonsInfoReadsItsVersionRootAndRuntimes() {
            DockerInfo docker = DockerJson.parseInfo(Fixtures.recording("written/docker-info").stdout()).found().orElseThrow();

            assertThat(docker).isEqualTo(new DockerInfo("27.3.1", "/var/lib/docker", "overlay2", "nvidia",
                    List.of("io.containerd.runc.v2", "nvidia", "runc"), 1, 3, List.of()));
        }

        @Test
        void theRealClientWithoutADaemonPrintsAnEmptyServerWhichIsNoAnswer() {
            assertThat(DockerJson.parseInfo(Fixtures.recording("recorded/debian12-no-gpu/docker-info").stdout()).failure())
                    .hasValue("the Docker daemon did not answer (docker info has no server version)");
            assertThat(DockerJson.parseInfo("{\"ServerErrors\":[\"Cannot connect to the Docker daemon\"]}").failure())
                    .hasValue("the Docker daemon did not answer: Cannot connect to the Docker daemon");
            assertThat(DockerJson.parseInfo("Segmentation fault").failure())
                    .hasValue("docker info printed something that is not JSON: 'Segmentation fault'");
        }

        @Test
        void theRunningContainerReadsItsImageSplitIntoRepositoryAndTag() {
            ContainerInfo container = DockerJson.parseInspect(Fixtures.recording("written/docker-inspect-running").stdout(), "video-ingest")
                    .found().orElseThrow();

            assertThat(container.name()).isEqualTo("video-ingest");
            assertThat(container.image()).isEqualTo("123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest:2.8.1");
            assertThat(container.repository()).isEqualTo("123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest");
            assertThat(container.tag()).hasValue("2.8.1");
            assertThat(container.running()).isTrue();
            assertThat(container.state()).isEqualTo("running");
            assertThat(container.startedAt()).hasValue(Instant.parse("2026-11-25T22:14:03.117529406Z"));
            assertThat(container.imageId()).startsWith("sha256:9d3e5c7a");
            assertThat(container.toString()).doesNotContain("sk-live");
        }

        @Test
        void imageReferencesWithARegistryPortOrADigestSplitWhereTheGrammarSays() {
            assertThat(DockerJson.ImageReference.parse("registry.local:5000/video-ingest"))
                    .isEqualTo(new DockerJson.ImageReference("registry.local:5000/video-ingest", Optional.empty(), Optional.empty()));
            assertThat(DockerJson.ImageReference.parse("registry.local:5000/video-ingest:2.8.1@sha256:abc"))
                    .isEqualTo(new DockerJson.ImageReference("registry.local:5000/video-ingest", Optional.of("2.8.1"), Optional.of("sha256:abc")));
        }

        @Test
        void anEmptyInspectIsNoSuchContainer() {
            assertThat(DockerJson.parseInspect(Fixtures.recording("written/docker-inspect-missing").stdout(), "video-ingest").failure())
                    .hasValue("there is no container named video-ingest");
        }
    }

    @Nested
    class SystemctlOutput {
        @Test
        void anActiveUnitIsRunning() {
            UnitState unit = SystemctlShow.parse("video-ingest.service", Fixtures.recording("written/systemctl-show-active").stdout())
                    .found().orElseThrow();

            assertThat(unit).isEqualTo(new UnitState("video-ingest.service", "loaded", "active", "running", Optional.of("success"),
                    OptionalLong.of(0)));
            assertThat(unit.running()).isTrue();
        }

        @Test
        void aUnitInRestartBackOffAndAMissingUnitAreNotRunning() {
            UnitState restarting = SystemctlShow.parse("video-ingest.service",
                    Fixtures.recording("written/systemctl-show-restarting").stdout()).found().orElseThrow();
            UnitState missing = SystemctlShow.parse("video-ingest.service",
                    Fixtures.recording("written/systemctl-show-not-found").stdout()).found().orElseThrow();

            assertThat(restarting.running()).isFalse();
            assertThat(restarting.restarts()).hasValue(7);
            assertThat(restarting.result()).hasValue("exit-code");
            assertThat(missing.loadState()).isEqualTo("not-found");
            assertThat(missing.running()).isFalse();
        }

        @Test
        void outputWithoutTheStatesIsRefused() {
            assertThat(SystemctlShow.parse("video-ingest.service", "Hello").failure())
                    .hasValue("systemctl show video-ingest.service printed no LoadState: 'Hello'");
        }
    }

    @Nested
    class DeviceFiles {
        @Test
        void theImageVersionFileReadsWhatTheManifestWritesIntoTheImage() {
            String file = dev.ingot.image.Manifest.imageVersionFile(dev.ingot.image.ImageName.DEFAULT,
                    dev.ingot.image.ImageVersion.parse("v1.4"), Instant.parse("2026-11-20T09:30:00Z"));

            HealthReport.ImageInfo image = EdgeFiles.imageVersion(file).found().orElseThrow();

            assertThat(image.name().value()).isEqualTo("edge-golden");
            assertThat(image.version().toString()).isEqualTo("v1.4");
            assertThat(image.buildDate()).isEqualTo(Instant.parse("2026-11-20T09:30:00Z"));
        }

        @Test
        void theOldRunbooksOneLineImageVersionIsReadAsTheRunbooksImage() {
            // What the runbook's build wrote before Ingot: the version tag and the build date, one line.
            HealthReport.ImageInfo image = EdgeFiles.imageVersion("v1.3 2026-08-02\n").found().orElseThrow();
            HealthReport.ImageInfo withTime = EdgeFiles.imageVersion("v1.2   2026-05-01T08:15:00Z").found().orElseThrow();

            assertThat(image.name().value()).isEqualTo("edge-golden");
            assertThat(image.version().toString()).isEqualTo("v1.3");
            assertThat(image.buildDate()).isEqualTo(Instant.parse("2026-08-02T00:00:00Z"));
            assertThat(withTime.version().toString()).isEqualTo("v1.2");
            assertThat(withTime.buildDate()).isEqualTo(Instant.parse("2026-05-01T08:15:00Z"));
        }

        @Test
        void aBrokenOneLineImageVersionSaysWhatIsWrong() {
            assertThat(EdgeFiles.imageVersion("v1.3\n").failure()).hasValue("/etc/edge/image-version holds neither IMAGE_NAME=, "
                    + "IMAGE_VERSION=, BUILD_DATE= lines nor the one-line form 'v1.3 2026-08-02': 'v1.3'");
            assertThat(EdgeFiles.imageVersion("v1.3 yesterday\n").failure())
                    .hasValue("/etc/edge/image-version has a build date that is not an ISO-8601 date: 'yesterday'");
            assertThat(EdgeFiles.imageVersion("1.3 2026-08-02\n").failure())
                    .hasValueSatisfying(reason -> assertThat(reason).startsWith("/etc/edge/image-version cannot be read: Tried to read the version '1.3'"));
            assertThat(EdgeFiles.imageVersion("\n").failure()).hasValue("/etc/edge/image-version is empty");
        }

        @Test
        void aBrokenImageVersionFileSaysWhatIsWrong() {
            assertThat(EdgeFiles.imageVersion("IMAGE_NAME=edge-golden\nIMAGE_VERSION=1.4\nBUILD_DATE=2026-11-20T09:30:00Z\n").failure())
                    .hasValueSatisfying(reason -> assertThat(reason).startsWith("/etc/edge/image-version cannot be read: Tried to read the version '1.4'"));
            assertThat(EdgeFiles.imageVersion("IMAGE_NAME=edge-golden\n").failure()).hasValue("/etc/edge/image-version has no IMAGE_VERSION= line");
        }

        @Test
        void camerasComeFromTheProvisionedEnvironmentFileAndNothingElseOfItIsKept() {
            // The format `ingot provision` writes (docker run --env-file), secrets included.
            String environment = """
                    # Written by `ingot provision` for site SITE-2847 from /edge/SITE-2847/.
                    SITE_ID=SITE-2847
                    CAMERA_IPS=10.28.47.21,10.28.47.22
                    CAMERA_RTSP_PORT=8554
                    API_KEY=sk-live-7d1c0ffee-do-not-print
                    """;

            assertThat(EdgeFiles.cameras(environment).found()).hasValue(List.of(new EdgeFiles.CameraAddress("10.28.47.21", 8554),
                    new EdgeFiles.CameraAddress("10.28.47.22", 8554)));
            assertThat(EdgeFiles.cameras("CAMERA_IPS=10.0.0.5\n").found()).hasValue(List.of(new EdgeFiles.CameraAddress("10.0.0.5", 554)));
            assertThat(EdgeFiles.cameras("CAMERA_IPS=10.0.0.5\nCAMERA_RTSP_PORT=rtsp\n").failure())
                    .hasValue("/etc/edge/video-ingest.env has CAMERA_RTSP_PORT='rtsp', not a port number");
        }

        @Test
        void theBootedSlotComesFromTheKernelCommandLine() {
            assertThat(EdgeFiles.bootedSlot("BOOT_IMAGE=/vmlinuz root=LABEL=root-b ro quiet ingot.slot=b")).hasValue("b");
            assertThat(EdgeFiles.bootedSlot("BOOT_IMAGE=/vmlinuz ro quiet")).isEmpty();
            assertThat(EdgeFiles.bootedSlot("ingot.slot=c")).isEmpty();
        }

        @Test
        void theCommittedSlotIsTheOneGrubsEnvironmentSavesAndSlotAWhenItSavesNone() {
            assertThat(EdgeFiles.committedSlot(grubenv("saved_entry=ingot-b\n"))).hasValue("b");
            assertThat(EdgeFiles.committedSlot(grubenv("saved_entry=ingot-a\nnext_entry=ingot-b\n"))).hasValue("a");
            assertThat(EdgeFiles.committedSlot(grubenv(""))).hasValue("a");
            assertThat(EdgeFiles.committedSlot("b\n")).as("not an environment block: GRUB boots slot a").hasValue("a");
        }

        @Test
        void procFilesReadUptimeAndAvailableMemory() {
            assertThat(ProcFiles.uptime("3940.45 4841.57\n").found()).hasValue(java.time.Duration.ofMillis(3_940_450));
            assertThat(ProcFiles.memory("MemTotal:       24641536 kB\nMemFree:        1000 kB\nMemAvailable:   23961600 kB\n").found())
                    .hasValue(new HealthReport.MemoryInfo(24641536L * 1024, 23961600L * 1024));
            assertThat(ProcFiles.memory("MemTotal: 1 kB\n").failure()).hasValue("/proc/meminfo lacks MemTotal or MemAvailable");
        }

        @Test
        void updateNotifierCountsReadInBothWordings() {
            Instant counted = Instant.parse("2026-11-26T00:17:12Z");
            assertThat(UpdateNotifier.parse(Fixtures.text("written/updates-available"), counted).found())
                    .hasValue(new HealthReport.Updates(12, 5, counted));
            assertThat(UpdateNotifier.parse("1 update can be applied immediately.\n1 of these updates is a standard security update.\n", counted)
                    .found()).hasValue(new HealthReport.Updates(1, 1, counted));
            assertThat(UpdateNotifier.parse("7 packages can be updated.\n2 updates are security updates.\n", counted).found())
                    .hasValue(new HealthReport.Updates(7, 2, counted));
            assertThat(UpdateNotifier.parse("bonjour", counted).failure()).isPresent();
        }

        @Test
        void aMachineIdIs32HexDigits() {
            assertThat(DeviceId.fromMachineIdFile("3d1219c7c4c5404aaa1f6d2a48adfda4\n").found())
                    .hasValue(new DeviceId("3d1219c7c4c5404aaa1f6d2a48adfda4"));
            assertThat(DeviceId.fromMachineIdFile("uninitialized\n").failure()).isPresent();
            assertThat(DeviceId.fromMachineIdFile("xyz").failure()).hasValue("/etc/machine-id does not hold 32 hex digits: 'xyz'");
        }
    }

    /** An environment block as grub-editenv lays it out. */
    static String grubenv(String variables) {
        String text = "# GRUB Environment Block\n" + variables;
        return text + "#".repeat(1024 - text.length());
    }
}
