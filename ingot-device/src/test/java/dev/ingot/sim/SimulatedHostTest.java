package dev.ingot.sim;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ingot.boot.Slot;
import dev.ingot.health.Check;
import dev.ingot.health.HealthReport;
import dev.ingot.health.HealthReportJson;
import dev.ingot.health.HealthStatus;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.ContainerImage;
import dev.ingot.site.SiteId;
import dev.ingot.testing.JsonSchemas;
import java.io.IOException;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The simulated device's own behaviour: its reports are real reports, and its failures show where a real device's would. */
class SimulatedHostTest {
    private static final ManualClock CLOCK = new ManualClock(Instant.parse("2026-11-26T08:00:00Z"));
    private static final ContainerImage IMAGE = ContainerImage.parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest:2.3.1");

    private static SimulatedHost host(SimulatedFailure... failures) {
        return new SimulatedHost(new SiteId("SITE-0042"), 3, CLOCK, ImageVersion.parse("v1.4"), IMAGE, Set.of(failures));
    }

    @Test
    void aFreshDevicesReportWarnsOnlyOfItsEmptyUsbCacheAndKeepsToTheReportsSchema() throws IOException {
        HealthReport report = host().healthReport();

        assertThat(report.checks()).filteredOn(check -> check.status() != Check.Status.OK && check.status() != Check.Status.SKIP)
                .extracting(Check::name).containsExactly("usb_cache");
        assertThat(report.status()).isEqualTo(HealthStatus.DEGRADED);
        assertThat(JsonSchemas.problems(HealthReportJson.schema(), new ObjectMapper().readTree(HealthReportJson.write(report)))).isEmpty();
        assertThat(report.findings().slot().found().orElseThrow().booted()).contains("a");
        assertThat(report.findings().videoIngestContainer().found().orElseThrow().tag()).contains("2.3.1");
    }

    @Test
    void eachInjectedFailureFailsTheCheckARealDevicesWould() throws IOException {
        HealthReport full = host(SimulatedFailure.HEALTH).healthReport();

        assertThat(full.status()).isEqualTo(HealthStatus.UNHEALTHY);
        assertThat(full.checks()).anySatisfy(check -> assertThat(check.name()).isEqualTo("disk_root"));
        assertThat(JsonSchemas.problems(HealthReportJson.schema(), new ObjectMapper().readTree(HealthReportJson.write(full)))).isEmpty();
        // The image and container failures only show on what the device did not start with.
        assertThat(host(SimulatedFailure.REIMAGE, SimulatedFailure.CONTAINER).healthReport().checks())
                .noneMatch(check -> check.status() == Check.Status.FAIL);
    }

    @Test
    void aPowerCutBeforeAnOperationLeavesItUndoneAndTheDeviceBootsItsDefaultSlot() {
        SimulatedHost host = host();
        var boot = host.agentHost().boot();
        host.cutPowerBefore(1);

        try {
            boot.bootOnce(Slot.B);
        } catch (PowerCut cut) {
            assertThat(cut.operation()).isEqualTo("grub-editenv set next_entry=ingot-b");
        }

        assertThat(host.up()).isFalse();
        assertThat(host.grubEnv()).doesNotContainKey("next_entry");
        host.boot();
        assertThat(host.booted()).isEqualTo(Slot.A);
        assertThat(host.bricked()).isFalse();
    }
}
