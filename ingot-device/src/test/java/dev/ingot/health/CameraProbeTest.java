package dev.ingot.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.health.EdgeFiles.CameraAddress;
import dev.ingot.health.HealthReport.Camera;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CameraProbeTest {
    @Test
    void eachCameraIsReachableRefusedOrNotAnAddressInTheConfiguredOrder() throws IOException {
        int closedPort;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = closed.getLocalPort();
        }
        try (ServerSocket camera = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Camera> cameras = CameraProbe.probe(List.of(new CameraAddress("127.0.0.1", camera.getLocalPort()),
                    new CameraAddress("127.0.0.1", closedPort), new CameraAddress("camera-7.site.local", 554)),
                    Duration.ofMillis(500), 2, Duration.ofSeconds(5));

            assertThat(cameras.get(0).reachable()).isTrue();
            assertThat(cameras.get(0).connectMillis()).isPresent();
            assertThat(cameras.get(1)).isEqualTo(new Camera("127.0.0.1", closedPort, false, java.util.OptionalLong.empty(),
                    Optional.of("connection refused")));
            assertThat(cameras.get(2).error()).hasValue("'camera-7.site.local' is not an IP address");
        }
    }

    @Test
    void cameraTriesBeyondTheBudgetAreReportedNotTried() throws IOException {
        try (ServerSocket camera = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Camera> cameras = CameraProbe.probe(List.of(new CameraAddress("127.0.0.1", camera.getLocalPort())), Duration.ofMillis(500), 1,
                    Duration.ZERO);

            assertThat(cameras).singleElement().satisfies(result -> {
                assertThat(result.reachable()).isFalse();
                assertThat(result.error()).hasValue("not tried within the probe's time limit");
            });
        }
    }

    @Test
    void manyCamerasThroughAFewConnectsAtOnceAreAllTried() throws IOException {
        try (ServerSocket camera = new ServerSocket(0, 100, InetAddress.getLoopbackAddress())) {
            List<CameraAddress> addresses = java.util.Collections.nCopies(40, new CameraAddress("127.0.0.1", camera.getLocalPort()));

            List<Camera> cameras = CameraProbe.probe(addresses, Duration.ofMillis(500), 4, Duration.ofSeconds(10));

            assertThat(cameras).hasSize(40).allSatisfy(result -> assertThat(result.reachable()).isTrue());
        }
    }

    @Test
    void configuredAddressesTakeAnOptionalPort() {
        assertThat(CameraProbe.parse("10.28.47.21", 554)).isEqualTo(new CameraAddress("10.28.47.21", 554));
        assertThat(CameraProbe.parse("10.28.47.21:8554", 554)).isEqualTo(new CameraAddress("10.28.47.21", 8554));
        assertThat(CameraProbe.parse("[fd00::21]:8554", 554)).isEqualTo(new CameraAddress("fd00::21", 8554));
        assertThat(CameraProbe.parse("fd00::21", 554)).isEqualTo(new CameraAddress("fd00::21", 554));
    }
}
