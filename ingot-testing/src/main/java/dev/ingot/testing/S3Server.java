package dev.ingot.testing;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.util.Optional;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.Constants;

/**
 * An S3 server inside the test's own process (S3Proxy over an in-memory blob store), so S3 code
 * is tested against real HTTP, real AWS v4 signatures and real S3 error responses without Docker
 * or a network. Listens on 127.0.0.1 on a free port; everything it holds vanishes on close.
 *
 * <p>Known difference from AWS S3: S3Proxy answers {@code If-None-Match: *} atomically (it
 * publishes with link(2)), but answers {@code If-Match} on PUT by looking first and writing after,
 * so a stale tag gets 412 while two writers racing on the same tag can both succeed. And Jetty
 * answers {@code Expect: 100-continue} at once, so when S3Proxy refuses a PUT before reading its
 * body (a stale If-Match), a body larger than about 100 KiB ends in a broken pipe instead of a 412.
 */
public final class S3Server implements AutoCloseable {
    public static final String DEFAULT_BUCKET = "ingot-test";
    public static final String ACCESS_KEY = "ingot-test-access-key";
    public static final String SECRET_KEY = "ingot-test-secret-key";
    private static final String HOST = "127.0.0.1";

    private final BlobStore blobStore;
    private final S3Proxy proxy;
    private final URI endpoint;
    private final String bucket;

    private S3Server(String bucket) {
        this(bucket, Optional.empty());
    }

    /** Over {@code folder} (each sub-folder a bucket), without authentication; else in memory with the test keys. */
    private S3Server(String bucket, Optional<java.nio.file.Path> folder) {
        this.bucket = requireNonNull(bucket, "bucket");
        Properties properties = new Properties();
        properties.setProperty(Constants.PROPERTY_IDENTITY, ACCESS_KEY);
        properties.setProperty(Constants.PROPERTY_CREDENTIAL, SECRET_KEY);
        folder.ifPresent(root -> properties.setProperty("jclouds.filesystem.basedir", root.toAbsolutePath().toString()));
        this.blobStore = BlobStores.create(folder.isPresent() ? "filesystem" : "transient", properties);
        this.proxy = S3Proxy.builder()
                .blobStore(blobStore)
                .endpoint(URI.create("http://" + HOST + ":0"))
                .awsAuthentication(folder.isPresent() ? AuthenticationType.NONE : AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                // Tests finish their requests before closing; the graceful drain would only wait on idle keep-alives.
                .stopTimeout(0)
                .build();
        try {
            // Jetty's start returns once the connector listens.
            proxy.start();
        } catch (Exception e) {
            close();
            throw new IllegalStateException("S3Proxy did not start: " + e.getMessage(), e);
        }
        this.endpoint = URI.create("http://" + HOST + ":" + proxy.getPort());
        if (folder.isEmpty()) {
            createBucket(bucket);
        }
    }

    /**
     * Serves the folders under {@code root} as buckets (S3Proxy's filesystem store), anonymously: any credentials are
     * accepted and plain GETs work (bmaptool reads a URL). For benchmarks: a real S3 API over files already there.
     */
    public static S3Server serving(java.nio.file.Path root) {
        return new S3Server("-", Optional.of(root));
    }

    /** Starts a server holding one empty bucket, {@value #DEFAULT_BUCKET}. */
    public static S3Server start() {
        return start(DEFAULT_BUCKET);
    }

    /** Starts a server holding one empty bucket with the given name. */
    public static S3Server start(String bucket) {
        return new S3Server(bucket);
    }

    /** Where clients connect, e.g. {@code http://127.0.0.1:41234}; needs path-style addressing. */
    public URI endpoint() {
        return endpoint;
    }

    public String accessKey() {
        return ACCESS_KEY;
    }

    public String secretKey() {
        return SECRET_KEY;
    }

    /** The bucket created at start. */
    public String bucket() {
        return bucket;
    }

    /** Creates another empty bucket, for tests that need more than one. */
    public void createBucket(String name) {
        blobStore.createContainer(requireNonNull(name, "name"));
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException("S3Proxy did not stop: " + e.getMessage(), e);
        } finally {
            blobStore.close();
        }
    }
}
