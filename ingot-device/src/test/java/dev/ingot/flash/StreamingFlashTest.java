package dev.ingot.flash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fetch.OrderedFetch;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageScanner;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.PayloadSet;
import dev.ingot.image.Publisher;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
import dev.ingot.store.HttpStore;
import dev.ingot.testing.RangeHttpServer;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flashing straight from an HTTP(S) server with range requests, as the agent does from presigned URLs or the control
 * plane: a server on loopback that speaks the protocol on the wire and misbehaves on purpose (a dropped connection, a
 * stall, a wrong byte, a lie in Content-Range, an object that changes, no range support).
 */
class StreamingFlashTest {
    private static final String PAYLOAD = "golden-images/edge-golden-v1.4.img.zst";
    /** Short waits: the behaviour is the point, not the time (no timing is asserted). */
    private static final OrderedFetch.Policy QUICK = new OrderedFetch.Policy(1, 1 << 20, Duration.ofMillis(10), Duration.ofMillis(50),
            Duration.ofMinutes(1));

    @TempDir
    Path folder;

    private Path image;
    private Keyring keyring;
    private RangeHttpServer server;
    private final Flasher flasher = new Flasher(Clock.systemUTC(), Progress.NONE, () -> folder.resolve("spool"));

    @BeforeEach
    void publishAndServe() throws IOException {
        image = SparseImages.create(folder.resolve("edge.img"), 48L << 20, 5,
                new SparseImages.Region(0, 64 * 1024), new SparseImages.Region(4L << 20, 20 << 20),
                new SparseImages.Region(40L << 20, 3000));
        SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        new Publisher(new FolderStore(folder.resolve("store")), key, FlasherTest.CLOCK, Progress.NONE).publish(new Publisher.Request(image,
                ImageName.DEFAULT, ImageVersion.parse("v1.4"), Optional.empty(), false, Optional.empty(), new ImageScanner.Compression(3, 2),
                ImageScanner.DEFAULT_BLOCK_SIZE));
        server = RangeHttpServer.serve(folder.resolve("store"));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpStore store(Duration stall) {
        URI root = server.uri();
        return new HttpStore(HttpStore.defaultClient(), key -> Optional.of(root.resolve(key)), root.toString(), stall);
    }

    private FlashJob job(HttpStore store) {
        return FlashSources.fromStore(store, "golden-images/", ImageName.DEFAULT, ImageVersion.parse("v1.4"), keyring, PayloadSet.DISK,
                Progress.NONE);
    }

    private Flasher.Report flash(FlashJob job, Path disk, int connections) {
        return flasher.flash(job, FlashTarget.inspect(disk, 48L << 20, SystemView.live()),
                new Flasher.Options(true, true, Flasher.Direct.AUTO, QUICK.withConnections(connections)));
    }

    private long payloadSize() throws IOException {
        return Files.size(folder.resolve("store").resolve(PAYLOAD));
    }

    private Path unwritten() throws IOException {
        byte[] bytes = new byte[48 << 20];
        Arrays.fill(bytes, FlasherTest.UNWRITTEN);
        return Files.write(folder.resolve("disk.img"), bytes);
    }

    @Test
    void aDownloadCutInTheMiddleResumesAndTheDiskEqualsTheImage() throws IOException {
        long cut = payloadSize() * 2 / 5;
        server.cutOnceAt(PAYLOAD, cut);
        Path disk = folder.resolve("disk.img");

        Flasher.Report report = flash(job(store(Duration.ofSeconds(30))), disk, 1);

        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
        assertThat(report.resumes()).isEqualTo(1);
        List<RangeHttpServer.Request> payloadRequests = server.requests().stream().filter(request -> request.path().equals(PAYLOAD)).toList();
        String etag = payloadRequests.get(1).ifMatch();
        assertThat(etag).as("every read after the first contact names the object it started with").isNotNull();
        assertThat(payloadRequests).anySatisfy(request -> {
            assertThat(request.range()).isEqualTo("bytes=" + cut + "-" + (payloadSize() - 1));
            assertThat(request.ifMatch()).isEqualTo(etag);
        });
    }

    @Test
    void aCutInOneOfSeveralParallelRangesResumesOnlyThatRange() throws IOException {
        long cut = payloadSize() / 2 + 12345;
        server.cutOnceAt(PAYLOAD, cut);
        Path disk = folder.resolve("disk.img");

        Flasher.Report report = flash(job(store(Duration.ofSeconds(30))), disk, 4);

        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
        assertThat(report.resumes()).isEqualTo(1);
        long chunkEnd = (cut / QUICK.chunkBytes() + 1) * QUICK.chunkBytes() - 1;
        assertThat(server.requests()).extracting(RangeHttpServer.Request::range).contains("bytes=" + cut + "-" + Math.min(chunkEnd, payloadSize() - 1));
    }

    @Test
    void aStalledConnectionIsAbandonedAndResumed() throws IOException {
        server.stallOnceAt(PAYLOAD, payloadSize() / 3, Duration.ofSeconds(3));
        Path disk = folder.resolve("disk.img");

        Flasher.Report report = flash(job(store(Duration.ofMillis(500))), disk, 1);

        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
        assertThat(report.resumes()).isEqualTo(1);
    }

    @Test
    void aServerThatServesAWrongByteInARangeIsRefusedBeforeThatRangeIsWritten() throws IOException {
        byte[] payload = Files.readAllBytes(folder.resolve("store").resolve(PAYLOAD));
        List<FlasherTest.Frame> frames = FlasherTest.frames(payload);
        FlasherTest.Frame damaged = frames.get(FlasherTest.frameAt(frames, 20L << 20));
        long at = damaged.offset() + damaged.length() / 2;
        server.serveInstead(PAYLOAD, at, new byte[] {(byte) (payload[(int) at] ^ 0x04)});
        Path disk = unwritten();

        assertThatThrownBy(() -> flash(job(store(Duration.ofSeconds(30))), disk, 4))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED))
                .hasMessageContaining("of edge-golden-v1.4.img.zst").hasMessageContaining("that range was not written")
                .hasMessageContaining("2 of 4 ranges were written");

        byte[] flashed = Files.readAllBytes(disk);
        byte[] expected = Files.readAllBytes(image);
        assertThat(Arrays.copyOfRange(flashed, 4 << 20, 20 << 20)).isEqualTo(Arrays.copyOfRange(expected, 4 << 20, 20 << 20));
        for (int i = 20 << 20; i < 24 << 20; i += 4096) {
            assertThat(flashed[i]).as("byte %d of the range the wrong byte was in", i).isEqualTo(FlasherTest.UNWRITTEN);
        }
    }

    @Test
    void aServerThatLiesInContentRangeIsRefusedAndNothingFromItIsUsed() throws IOException {
        FlashJob job = job(store(Duration.ofSeconds(30)));
        server.lieInContentRange();
        Path disk = Files.writeString(folder.resolve("disk.img"), "the old disk");

        assertThatThrownBy(() -> flash(job, disk, 1)).isInstanceOfSatisfying(IngotException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED))
                .hasMessageContaining("the server broke the range contract: it returned bytes 4096-")
                .hasMessageContaining("nothing was written");
        assertThat(Files.readString(disk)).isEqualTo("the old disk");
    }

    @Test
    void anObjectThatChangesOnTheServerDuringTheDownloadIsRefused() throws IOException {
        long cut = payloadSize() / 2;
        FlashJob job = job(store(Duration.ofSeconds(30)));
        // Cut mid-way, and from then on the server has another object: the resumed read's If-Match gets 412.
        server.cutOnceAt(PAYLOAD, cut).changeEtagAfter(server.requests().size() + 1);
        Path disk = folder.resolve("disk.img");

        assertThatThrownBy(() -> flash(job, disk, 1)).isInstanceOfSatisfying(IngotException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED)).hasMessageContaining("changed on the server during the download");
    }

    @Test
    void aServerWithoutRangeSupportStillFlashesOverOneConnection() throws IOException {
        server.ignoreRange();
        Path disk = folder.resolve("disk.img");

        Flasher.Report report = flash(job(store(Duration.ofSeconds(30))), disk, 0);

        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
        assertThat(server.requests().stream().filter(request -> request.path().equals(PAYLOAD)).count())
                .as("the first contact and one stream, not one download per chunk").isEqualTo(2);
        assertThat(report.resumes()).isZero();
    }

    @Test
    void aKilledDownloadOfAnAgentResumesFromItsKeptCopyAndFetchesOnlyTheRest() throws IOException {
        Path cache = Files.createDirectories(folder.resolve("agent-cache"));
        byte[] payload = Files.readAllBytes(folder.resolve("store").resolve(PAYLOAD));
        long kept = payload.length * 3L / 5;
        // What a power cut leaves: the part of the payload that was read before it.
        Files.write(cache.resolve("edge-golden-v1.4.img.zst.part"), Arrays.copyOf(payload, (int) kept));
        Path disk = folder.resolve("disk.img");

        Flasher.Report report = flash(job(store(Duration.ofSeconds(30))).keepingIn(cache), disk, 1);

        assertThat(report.replayedBytes()).isEqualTo(kept);
        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
        assertThat(server.requests()).extracting(RangeHttpServer.Request::range).contains("bytes=" + kept + "-" + (payload.length - 1));
        assertThat(Files.readAllBytes(cache.resolve("edge-golden-v1.4.img.zst"))).isEqualTo(payload);
    }

    @Test
    void anObjectWhoseEtagChangesOnAServerThatIgnoresIfMatchIsRefusedToo() throws IOException {
        long cut = payloadSize() / 2;
        FlashJob job = job(store(Duration.ofSeconds(30)));
        server.cutOnceAt(PAYLOAD, cut).changeEtagAfter(server.requests().size() + 1).ignoreIfMatch();
        Path disk = folder.resolve("disk.img");

        assertThatThrownBy(() -> flash(job, disk, 1)).isInstanceOfSatisfying(IngotException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED)).hasMessageContaining("its entity tag changed from");
    }

    @Test
    void aRefusedUrlIsAskedForAgainOnceAsAnExpiredPresignedUrlWouldBe() throws IOException {
        // The agent's URLs: the first one for the payload has expired (403); asked again, the caller hands a fresh one.
        Files.createDirectories(folder.resolve("store/expired"));
        Files.copy(folder.resolve("store").resolve(PAYLOAD), folder.resolve("store/expired/payload.zst"));
        server.refuse("expired/payload.zst");
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        URI root = server.uri();
        HttpStore presigned = new HttpStore(HttpStore.defaultClient(), key -> key.equals(PAYLOAD) && asked.getAndIncrement() == 0
                ? Optional.of(root.resolve("expired/payload.zst")) : Optional.of(root.resolve(key)), "control plane", Duration.ofSeconds(30));
        Path disk = folder.resolve("disk.img");

        flash(job(presigned), disk, 1);

        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
        assertThat(asked.get()).isGreaterThanOrEqualTo(2);
    }
    @Test
    void aServerThatCompressesBodiesNobodyAskedToBeCompressedIsRefusedAndNothingIsWritten() throws IOException {
        FlashJob job = job(store(Duration.ofSeconds(30)));
        server.gzipBodies();
        Path disk = Files.writeString(folder.resolve("disk.img"), "the old disk");

        assertThatThrownBy(() -> flash(job, disk, 1)).isInstanceOfSatisfying(IngotException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED))
                .hasMessageContaining("it sent the bytes with Content-Encoding: gzip").hasMessageContaining("nothing was written");
        assertThat(Files.readString(disk)).isEqualTo("the old disk");
    }

    @Test
    void aServerWhoseAnswersNeverEndCostsNoMoreThanTheSizesItAnnouncedAndTheFlashIsRight() throws IOException {
        // Every answer but the first contact is the file and then bytes without end: the manifest, signature, bmap and
        // sha256sum (read before anything is trusted) and the payload are each cut at the size the first contact gave.
        server.endlessBodies();
        Path disk = folder.resolve("disk.img");

        flash(job(store(Duration.ofSeconds(30))), disk, 1);

        assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
        assertThat(server.sentPastEnd()).as("bytes past the files' ends the server got onto the wire before the reader left")
                .isLessThan(64L << 20);
    }

    @Test
    void aStatusNoRetryCanChangeFailsAtOnceInsteadOfWaitingOutThePatience() throws IOException {
        long cut = payloadSize() / 2;
        FlashJob job = job(store(Duration.ofSeconds(30)));
        // Cut mid-way; from then on the server answers 400 (a proxy that rejects the request, a URL gone wrong).
        server.cutOnceAt(PAYLOAD, cut).answerAfter(server.requests().size() + 1, 400);
        Path disk = folder.resolve("disk.img");

        assertThatThrownBy(() -> flash(job, disk, 1)).isInstanceOfSatisfying(IngotException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE))
                .hasMessageContaining("the server answered 400 for bytes from " + cut).hasMessageNotContaining("no byte arrived");
        assertThat(server.requests().stream().filter(request -> request.path().equals(PAYLOAD)).count())
                .as("the first contact, the cut read and the one that got 400: no retries").isEqualTo(3);
    }

    @Test
    void aStoreThatRedirectsToAnotherHostIsReadThereWithItsRangesAndEntityTagChecked() throws IOException {
        try (RangeHttpServer cdn = RangeHttpServer.serve(folder.resolve("store"))) {
            server.redirectTo(URI.create("http://localhost:" + cdn.uri().getPort() + "/"));
            cdn.cutOnceAt(PAYLOAD, payloadSize() / 2);
            Path disk = folder.resolve("disk.img");

            Flasher.Report report = flash(job(store(Duration.ofSeconds(30))), disk, 1);

            assertThat(Files.mismatch(disk, image)).isEqualTo(-1);
            assertThat(report.resumes()).isEqualTo(1);
            List<RangeHttpServer.Request> atCdn = cdn.requests().stream().filter(request -> request.path().equals(PAYLOAD)).toList();
            assertThat(atCdn.getLast().range()).isEqualTo("bytes=" + payloadSize() / 2 + "-" + (payloadSize() - 1));
            assertThat(atCdn.getLast().ifMatch()).as("the resumed read names the object it started with").isNotNull();
        }
    }
}
