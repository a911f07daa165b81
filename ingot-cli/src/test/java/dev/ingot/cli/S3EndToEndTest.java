package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.testing.S3Server;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole CLI against a real S3 API (S3Proxy on loopback), with credentials from the SDK's default chain. */
class S3EndToEndTest {
    private static S3Server server;

    @TempDir
    Path folder;

    @BeforeAll
    static void startS3() {
        server = S3Server.start("releases");
        // The SDK's default chain reads these system properties (what AWS_ACCESS_KEY_ID etc. would be in production).
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
    void aReleasePublishedToS3VerifiesPromotesAndPulls() throws IOException {
        CommandRunner ingot = new CommandRunner(folder);
        TestKeys.RELEASE.secretKey(folder.resolve("keys"));
        TestKeys.RELEASE.publicKey(folder.resolve("keys"));
        SparseImages.typical(folder.resolve("edge.img"));
        String store = "s3://releases/prod";
        String endpoint = server.endpoint().toString();

        CommandRunner.Run published = ingot.run("image", "publish", "edge.img", "--version", "v1.4", "--key", "keys/release.asc",
                "--store", store, "--endpoint-url", endpoint, "--raw");
        assertThat(published.exitCode()).as(published.toString()).isZero();

        CommandRunner.Run again = ingot.run("image", "publish", "edge.img", "--version", "v1.4", "--key", "keys/release.asc",
                "--store", store, "--endpoint-url", endpoint);
        assertThat(again.exitCode()).as(again.toString()).isEqualTo(3);

        CommandRunner.Run verified = ingot.run("image", "verify", "v1.4", "--keyring", "keys/release.pub.asc", "--store", store,
                "--endpoint-url", endpoint);
        assertThat(verified.exitCode()).as(verified.toString()).isZero();

        CommandRunner.Run promoted = ingot.run("image", "promote", "v1.4", "--known-good", "--key", "keys/release.asc",
                "--keyring", "keys/release.pub.asc", "--store", store, "--endpoint-url", endpoint);
        assertThat(promoted.exitCode()).as(promoted.toString()).isZero();

        CommandRunner.Run listed = ingot.run("image", "list", "--store", store, "--endpoint-url", endpoint, "--json");
        assertThat(listed.json().at("/releases/0/known_good").asBoolean()).isTrue();

        CommandRunner.Run pulled = ingot.run("image", "pull", "v1.4", "--to", "pulled", "--keyring", "keys/release.pub.asc",
                "--store", store, "--endpoint-url", endpoint);
        assertThat(pulled.exitCode()).as(pulled.toString()).isZero();
        assertThat(Files.mismatch(folder.resolve("pulled/edge-golden-v1.4.img"), folder.resolve("edge.img"))).isEqualTo(-1);
    }
}
