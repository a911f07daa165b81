package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.agent.Agent;
import dev.ingot.agent.AgentSettings;
import dev.ingot.agent.AgentState;
import dev.ingot.agent.ControlPlaneReleases;
import dev.ingot.agent.EngineSlotFetcher;
import dev.ingot.agent.EngineSlotWriter;
import dev.ingot.agent.HttpControlPlane;
import dev.ingot.agent.Timings;
import dev.ingot.boot.Slot;
import dev.ingot.flash.Flasher;
import dev.ingot.image.GptTable;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageScanner;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.Publisher;
import dev.ingot.progress.Progress;
import dev.ingot.registry.RegistryLogin;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.sim.ManualClock;
import dev.ingot.sim.SimulatedDevice;
import dev.ingot.sim.SimulatedHost;
import dev.ingot.site.AgentConfig;
import dev.ingot.site.ContainerImage;
import dev.ingot.site.Secret;
import dev.ingot.site.SiteId;
import dev.ingot.store.FolderStore;
import dev.ingot.testing.GoldenImages;
import dev.ingot.testing.TcpProxy;
import dev.ingot.testing.TestKeys;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole re-image by the real agent through a real {@code ingot server} (in this process, SQLite, a folder store): the
 * device enrolls, the operator desires v1.5, the agent trusts the release through the control plane's download URLs,
 * the streaming flash engine writes the root-a slot payload into root-b of a file-backed GPT disk while the link drops
 * mid-download (TcpProxy) and resumes, the simulated bootloader boots slot b once, the health check passes, the agent
 * commits and the control plane hears "committed". A payload tampered with at the server fails the write's checks: slot
 * b is never booted, the failure is reported, and the version is not tried again.
 */
class AgentEngineReimageTest {
    private static final SiteId SITE = new SiteId("SITE-2847");
    private static final ContainerImage SITE_IMAGE = ContainerImage.parse("registry.example.net/video-ingest:2.8.1");

    @TempDir
    Path folder;

    private LiveControlPlane server;
    private TcpProxy proxy;
    private Path disk;
    private final ManualClock clock = new ManualClock(Instant.now());
    private final List<String> log = new CopyOnWriteArrayList<>();
    private SimulatedHost host;
    private SimulatedDevice device;
    private String deviceId;
    private volatile long cutMidPayload;

    @BeforeEach
    void aDeviceOnV14WithAFileBackedGptDiskEnrolledThroughALinkThatCanDrop() throws IOException {
        assumeTrue(GoldenImages.unavailableBecause() == null, String.valueOf(GoldenImages.unavailableBecause()));
        server = LiveControlPlane.start(folder.resolve("server"), Duration.ofSeconds(60));
        server.addSite(SITE.value());
        Path tree = GoldenImages.writeTree(folder.resolve("tree"), GoldenImages.goodFiles());
        Path image = GoldenImages.diskImage(tree, folder.resolve("golden.img"));
        publish(image, "v1.5");
        publish(image, "v1.6");
        disk = Files.copy(image, folder.resolve("device-disk.img"));
        Keyring keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));

        proxy = TcpProxy.to(URI.create(server.url()));
        HttpControlPlane controlPlane = new HttpControlPlane(proxy.uri(), HttpControlPlane.client(Optional.empty(), "--cacert", Optional.empty()));
        host = new SimulatedHost(SITE, 1, clock, ImageVersion.parse("v1.4"), SITE_IMAGE, Set.of());
        ControlPlaneReleases releases = new ControlPlaneReleases(controlPlane,
                () -> host.agentHost().store().load().enrollment().map(AgentState.Enrolled::credential));
        EngineSlotFetcher fetcher = new EngineSlotFetcher(() -> keyring, folder.resolve("usb"), ImageName.DEFAULT, releases::store, log::add);
        EngineSlotWriter engine = new EngineSlotWriter(slot -> disk, folder.resolve("data/download"), Clock.systemUTC(),
                dev.ingot.flash.SystemView.live(), Flasher.Options.defaults(), log::add);
        // The link drops once the server has sent half the slot payload (cutMidPayload), after the small files were read.
        dev.ingot.agent.SlotWriter writer = (payload, slot, resumeFrom, checkpoint, progress) -> {
            if (cutMidPayload > 0) {
                proxy.cutOnceAfter(cutMidPayload);
                cutMidPayload = 0;
            }
            engine.write(payload, slot, resumeFrom, checkpoint, progress);
        };
        String token = server.enrollmentToken(SITE.value());
        AgentSettings settings = new AgentSettings(new AgentConfig.Document(SITE, Optional.empty(), "us-east-1", Optional.of(proxy.uri()),
                Optional.of(AgentConfig.TOKEN_PATH), Optional.of(SITE_IMAGE), Optional.empty()), () -> Optional.of(Secret.of(token)),
                AgentConfig.TOKEN_PATH);
        device = new SimulatedDevice(host, running -> new Agent(settings, running.agentHost(fetcher, writer), controlPlane, RegistryLogin.NONE,
                clock, new SplittableRandom(7), Timings.DEFAULTS, Progress.NONE, log::add));
        runUntil(() -> device.agent().state().enrollment().isPresent(), Duration.ofMinutes(5));
        deviceId = device.agent().state().enrollment().orElseThrow().deviceId();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private void publish(Path image, String version) {
        SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        new Publisher(new FolderStore(server.store()), key, Clock.systemUTC(), Progress.NONE).publish(new Publisher.Request(image,
                ImageName.DEFAULT, ImageVersion.parse(version), Optional.empty(), false, Optional.empty(), new ImageScanner.Compression(3, 1),
                ImageScanner.DEFAULT_BLOCK_SIZE));
    }

    private void runUntil(BooleanSupplier done, Duration limit) {
        Instant end = clock.instant().plus(limit);
        while (!done.getAsBoolean()) {
            if (clock.instant().isAfter(end)) {
                throw new AssertionError("not done after " + limit + "; agent log:\n" + String.join("\n", log) + "\noperations:\n"
                        + String.join("\n", host.operationLog()));
            }
            clock.advance(device.wake());
        }
    }

    private String reimageState() {
        return server.action(deviceId, "reimage").path("state").asText();
    }

    private byte[] partition(String name) throws IOException {
        GptTable.Partition partition;
        try (FileChannel channel = FileChannel.open(disk, StandardOpenOption.READ)) {
            partition = GptTable.read(channel, channel.size(), disk.toString()).partition(name).orElseThrow();
            ByteBuffer buffer = ByteBuffer.allocate((int) partition.size());
            while (buffer.hasRemaining() && channel.read(buffer, partition.offset() + buffer.position()) >= 0) {
                // read on
            }
            return buffer.array();
        }
    }

    @Test
    void aDesiredImageIsDownloadedThroughACutResumedWrittenIntoRootBBootedCommittedAndReported() throws IOException {
        long payload = Files.size(server.store().resolve("golden-images/edge-golden-v1.5.root-a.img.zst"));
        byte[] rootA = partition("root-a");
        cutMidPayload = payload / 2;
        server.desire(deviceId, Map.of("image", "v1.5"));

        runUntil(() -> "committed".equals(reimageState()) && device.agent().state().action().isEmpty(), Duration.ofHours(1));

        assertThat(log).anyMatch(line -> line.startsWith("wrote v1.5 into slot b") && line.contains("cut read(s) resumed"));
        assertThat(partition("root-b")).as("root-b holds the release's root-a").isEqualTo(partition("root-a"));
        assertThat(partition("root-a")).as("the running slot is never written").isEqualTo(rootA);
        assertThat(host.booted()).isEqualTo(Slot.B);
        assertThat(host.committed()).isEqualTo(Slot.B);
        assertThat(host.runningVersion()).isEqualTo(ImageVersion.parse("v1.5"));
        assertThat(folder.resolve("data/download")).isEmptyDirectory();
    }

    @Test
    void aPayloadTamperedWithAtTheServerIsNeverBootedIsReportedFailedAndIsNotTriedAgain() throws IOException {
        Path slotPayload = server.store().resolve("golden-images/edge-golden-v1.6.root-a.img.zst");
        byte[] bytes = Files.readAllBytes(slotPayload);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(slotPayload, bytes);
        server.desire(deviceId, Map.of("image", "v1.6"));

        runUntil(() -> "failed".equals(reimageState()) && device.agent().state().action().isEmpty(), Duration.ofHours(1));
        long writes = host.operationLog().stream().filter(line -> line.startsWith("write v1.6")).count();
        for (int wake = 0; wake < 50; wake++) {
            clock.advance(device.wake());
        }

        assertThat(server.action(deviceId, "reimage").path("reason").asText()).contains("v1.6", "slot b");
        assertThat(host.slot(Slot.B).bootable()).as("slot b is not bootable").isFalse();
        assertThat(host.booted()).isEqualTo(Slot.A);
        assertThat(host.committed()).isEqualTo(Slot.A);
        assertThat(writes).isEqualTo(1);
        assertThat(host.operationLog().stream().filter(line -> line.startsWith("write v1.6")).count()).as("not retried").isEqualTo(writes);
        assertThat(reimageState()).isEqualTo("failed");
    }
}
