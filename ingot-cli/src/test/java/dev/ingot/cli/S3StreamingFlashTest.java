package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.testing.S3Server;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TcpProxy;
import dev.ingot.testing.TestKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ingot flash VERSION --store s3://…} streams the payload from S3 (S3Proxy on loopback, the real AWS SDK) into
 * the target with ranged GETs, and a connection dropped in the middle (a TCP relay that cuts it) resumes: the disk
 * equals the image, nothing was downloaded first.
 */
class S3StreamingFlashTest {
    private static S3Server server;

    @TempDir
    Path folder;

    @BeforeAll
    static void startS3() {
        server = S3Server.start("releases");
        System.setProperty("aws.accessKeyId", server.accessKey());
        System.setProperty("aws.secretAccessKey", server.secretKey());
        System.setProperty("aws.region", "us-east-1");
    }

    @AfterAll
    static void stopS3() {
        server.close();
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
        System.clearProperty("aws.region");
    }

    @Test
    void aFlashFromS3WhoseConnectionIsCutInTheMiddleResumesAndTheDiskEqualsTheImage() throws IOException {
        CommandRunner ingot = new CommandRunner(folder);
        TestKeys.RELEASE.secretKey(folder.resolve("keys"));
        TestKeys.RELEASE.publicKey(folder.resolve("keys"));
        SparseImages.create(folder.resolve("edge.img"), 64L << 20, 17, new SparseImages.Region(0, 1 << 20),
                new SparseImages.Region(8L << 20, 24 << 20), new SparseImages.Region(50L << 20, 3 << 20));
        String store = "s3://releases/prod";
        CommandRunner.Run published = ingot.run("image", "publish", "edge.img", "--version", "v1.4", "--key", "keys/release.asc",
                "--store", store, "--endpoint-url", server.endpoint().toString());
        assertThat(published.exitCode()).as(published.toString()).isZero();

        try (TcpProxy link = TcpProxy.to(server.endpoint())) {
            // Past the manifest, signature and bmap, into the payload: the dropped connection is one of its ranged GETs.
            link.cutOnceAfter(3L << 20);
            CommandRunner.Run flashed = ingot.run("flash", "v1.4", "--target", "disk.img", "--keyring", "keys/release.pub.asc",
                    "--store", store, "--endpoint-url", link.uri().toString(), "--json");

            assertThat(flashed.exitCode()).as(flashed.toString()).isZero();
            assertThat(flashed.json().get("resumes").asInt()).isEqualTo(1);
            assertThat(flashed.json().get("read_from").asText()).isEqualTo("s3://releases/prod/golden-images/edge-golden-v1.4.img.zst");
        }
        assertThat(Files.mismatch(folder.resolve("disk.img"), folder.resolve("edge.img"))).isEqualTo(-1);
        assertThat(folder.resolve("work")).doesNotExist();
    }
}
