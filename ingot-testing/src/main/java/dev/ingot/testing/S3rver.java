package dev.ingot.testing;

import static java.util.Objects.requireNonNull;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A second S3 implementation for tests, besides S3Proxy: s3rver, the npm package (a Node.js server that keeps objects
 * as files). It is what many teams run as "S3-compatible" in development, and it differs from AWS where it matters to
 * us: it stores a request body as it arrives, so an {@code aws-chunked} upload would be kept with its chunk framing;
 * and it knows no conditional writes ({@code If-None-Match} is ignored on PUT). Started as a child process on
 * 127.0.0.1 with a free port and its own data folder; {@code build-support/test-tools.sh} installs it ({@code npm install -g s3rver}).
 */
public final class S3rver implements AutoCloseable {
    public static final String VERSION = "3.7.1";
    public static final String BUCKET = "ingot-test";
    /** s3rver accepts any key pair that signs well; these are the ones it documents. */
    public static final String ACCESS_KEY = "S3RVER";
    public static final String SECRET_KEY = "S3RVER";
    private static final Pattern LISTENING = Pattern.compile("S3rver listening on [0-9.]+:(\\d+)");

    private final Process process;
    private final URI endpoint;
    private final Path data;

    private S3rver(Process process, URI endpoint, Path data) {
        this.process = process;
        this.endpoint = endpoint;
        this.data = data;
    }

    /** Why s3rver cannot run here, or empty when it can. */
    public static Optional<String> unavailableBecause() {
        return Tools.available("s3rver") ? Optional.empty()
                : Optional.of("s3rver is not on PATH (npm install -g s3rver@" + VERSION + "; build-support/test-tools.sh does it)");
    }

    /** Starts s3rver keeping its objects under {@code data}, with one empty bucket, {@value #BUCKET}. */
    public static S3rver start(Path data) {
        requireNonNull(data, "data");
        try {
            Files.createDirectories(data);
            Process process = new ProcessBuilder(List.of("s3rver", "-d", data.toString(), "-a", "127.0.0.1", "-p", "0",
                    "--configure-bucket", BUCKET)).redirectErrorStream(true).start();
            process.getOutputStream().close();
            BufferedReader output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            CompletableFuture<Integer> port = new CompletableFuture<>();
            StringBuilder said = new StringBuilder();
            Thread.ofVirtual().start(() -> {
                try {
                    String line;
                    while ((line = output.readLine()) != null) {
                        Matcher matcher = LISTENING.matcher(line);
                        if (matcher.find()) {
                            port.complete(Integer.parseInt(matcher.group(1)));
                        } else if (!port.isDone()) {
                            said.append(line).append('\n');
                        }
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
                port.completeExceptionally(new IllegalStateException("s3rver exited before listening:\n" + said));
            });
            try {
                return new S3rver(process, URI.create("http://127.0.0.1:" + port.get(30, TimeUnit.SECONDS)), data);
            } catch (Exception e) {
                process.destroyForcibly();
                throw new IllegalStateException("s3rver did not start: " + e.getMessage(), e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public URI endpoint() {
        return endpoint;
    }

    /** The folder s3rver keeps its objects in. */
    public Path data() {
        return data;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
