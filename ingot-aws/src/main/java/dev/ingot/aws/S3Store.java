package dev.ingot.aws;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.progress.Progress;
import dev.ingot.store.ArtifactStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * An artifact store in an S3 bucket (or an S3-compatible server such as MinIO or S3Proxy).
 * Keys live under the location's prefix. Entity tags are S3's ETags, verbatim (quotes included).
 * Compare-and-set uses S3's conditional writes ({@code If-Match}, {@code If-None-Match: *}), so its
 * guarantee is exactly the server's: AWS S3 decides them atomically; S3Proxy does so only for
 * {@code If-None-Match: *} and checks {@code If-Match} before writing, leaving a window.
 */
public final class S3Store implements ArtifactStore {
    /** Files up to this size go in one PutObject; larger ones in parts. */
    static final long SINGLE_PUT_LIMIT = 64L << 20;
    /** Part size for multipart uploads, grown for huge files so they stay within {@link #MAXIMUM_PARTS}. */
    static final long PART_SIZE = 16L << 20;
    /** S3's limit on the parts of one upload. */
    static final int MAXIMUM_PARTS = 10_000;
    /** Parts in flight at once for one file: enough to fill a link, few enough to bound memory and connections. */
    static final int UPLOAD_THREADS = 4;
    /** An unreachable endpoint fails within a few of these, not after minutes. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** The longest silence while a connection is open; a slow link still sends something this often. */
    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(30);
    private static final int MAXIMUM_ATTEMPTS = 3;
    private static final Set<String> ACCESS_ERRORS = Set.of("AccessDenied", "InvalidAccessKeyId",
            "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "AllAccessDisabled");
    private static final Set<String> REGION_ERRORS = Set.of("PermanentRedirect", "AuthorizationHeaderMalformed",
            "IllegalLocationConstraintException");

    private final S3Location location;
    private final Optional<URI> endpoint;
    private final Region region;
    private final S3Client client;
    /** The credentials the client was given; empty: the SDK's default chain, which the presigner then builds (and closes) too. */
    private final Optional<AwsCredentialsProvider> credentials;
    /** Made at the first presigned URL: only a control plane that hands them out needs one. */
    private software.amazon.awssdk.services.s3.presigner.S3Presigner presigner;
    /** Set once the bucket answered; a 404 on HEAD then means a missing key, not a missing bucket. */
    private volatile boolean bucketSeen;

    /**
     * A store with explicit credentials and region, for tests and callers that manage their own;
     * {@code endpoint} points at an S3-compatible server (path-style addressing then).
     */
    public S3Store(S3Location location, Optional<URI> endpoint, AwsCredentialsProvider credentials, Region region) {
        this(location, endpoint, region, builder(endpoint, region).credentialsProvider(
                requireNonNull(credentials, "credentials")).build(), Optional.of(credentials));
    }

    /** A store on a client built elsewhere (tests: the SDK's defaults, to show what a server does with them). */
    static S3Store withClient(S3Location location, Optional<URI> endpoint, Region region, S3Client client) {
        return new S3Store(location, endpoint, region, client, Optional.empty());
    }

    private S3Store(S3Location location, Optional<URI> endpoint, Region region, S3Client client, Optional<AwsCredentialsProvider> credentials) {
        this.location = requireNonNull(location, "location");
        this.endpoint = requireNonNull(endpoint, "endpoint");
        this.region = requireNonNull(region, "region");
        this.client = requireNonNull(client, "client");
        this.credentials = requireNonNull(credentials, "credentials");
    }

    /**
     * The store at {@code s3://bucket/prefix}, with credentials and region from the AWS SDK's default
     * chains (environment, profiles, SSO, container and instance roles). An S3-compatible server
     * often has no region: with an endpoint override, a missing region means us-east-1.
     */
    public static S3Store at(String location, Optional<URI> endpoint) {
        S3Location parsed = S3Location.parse(location);
        Region region = defaultRegion(parsed, endpoint);
        // Leaving the credentials provider unset lets the client build the default chain and close it.
        return new S3Store(parsed, endpoint, region, builder(endpoint, region).build(), Optional.empty());
    }

    private static Region defaultRegion(S3Location location, Optional<URI> endpoint) {
        requireNonNull(endpoint, "endpoint");
        try {
            return new DefaultAwsRegionProviderChain().getRegion();
        } catch (SdkClientException e) {
            if (endpoint.isPresent()) {
                return Region.US_EAST_1;
            }
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "open store " + location, "no AWS region is configured")
                    .withHint("set AWS_REGION (or region in ~/.aws/config) to the bucket's region")
                    .withCause(e);
        }
    }

    private static S3ClientBuilder builder(Optional<URI> endpoint, Region region) {
        requireNonNull(endpoint, "endpoint");
        S3ClientBuilder builder = S3Client.builder()
                .region(requireNonNull(region, "region"))
                .httpClientBuilder(ApacheHttpClient.builder()
                        .connectionTimeout(CONNECT_TIMEOUT)
                        .socketTimeout(SOCKET_TIMEOUT))
                .overrideConfiguration(configuration -> configuration
                        .retryStrategy(retry -> retry.maxAttempts(MAXIMUM_ATTEMPTS)))
                // Flexible checksums by default break S3-compatible servers that predate them.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        // An S3-compatible server may keep an aws-chunked body as it arrives, chunk signatures and all (s3rver does):
        // send plain bodies there. AWS itself decodes aws-chunked, so the SDK's default stays for AWS.
        endpoint.ifPresent(uri -> builder.endpointOverride(uri).forcePathStyle(true)
                .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build()));
        return builder;
    }

    public S3Location location() {
        return location;
    }

    @Override
    public String describe() {
        return location.toString();
    }

    @Override
    public Optional<ObjectInfo> stat(String key) {
        String objectKey = objectKey(key);
        try {
            HeadObjectResponse head = client.headObject(request -> request.bucket(location.bucket()).key(objectKey));
            bucketSeen = true;
            return Optional.of(new ObjectInfo(key, head.contentLength(), head.eTag()));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                // HEAD answers without a body, so a missing bucket looks like a missing key: ask once.
                requireBucket("read " + key);
                return Optional.empty();
            }
            throw unavailable("read " + key, e);
        } catch (SdkException e) {
            throw unavailable("read " + key, e);
        }
    }

    @Override
    public InputStream open(String key) {
        String objectKey = objectKey(key);
        try {
            return client.getObject(request -> request.bucket(location.bucket()).key(objectKey));
        } catch (S3Exception e) {
            if (isMissingKey(e)) {
                throw IngotException.tried(ErrorCode.NOT_FOUND, "read " + key + " from " + describe(), "it does not exist");
            }
            throw unavailable("read " + key, e);
        } catch (SdkException e) {
            throw unavailable("read " + key, e);
        }
    }

    /**
     * Ranged GETs ({@code Range: bytes=a-b}) with {@code If-Match} on the entity tag seen first: a cut read resumes
     * with the rest, and an object replaced meanwhile is a 412, never mixed bytes. Each answer's Content-Range and
     * ETag are checked as {@link dev.ingot.fetch.HttpRange} checks them.
     */
    @Override
    public dev.ingot.fetch.RangeReadable range(String key) {
        ObjectInfo info = stat(key).orElseThrow(() -> IngotException.tried(ErrorCode.NOT_FOUND, "read " + key + " from " + describe(),
                "it does not exist"));
        String objectKey = objectKey(key);
        String where = describe() + (describe().endsWith("/") ? "" : "/") + key;
        return new dev.ingot.fetch.RangeReadable() {
            @Override
            public String describe() {
                return where;
            }

            @Override
            public long size() {
                return info.size();
            }

            @Override
            public int preferredConnections() {
                return 4;
            }

            @Override
            public InputStream open(long offset, long length) throws IOException {
                if (length == 0) {
                    return InputStream.nullInputStream();
                }
                String range = "bytes=" + offset + "-" + (offset + length - 1);
                software.amazon.awssdk.core.ResponseInputStream<GetObjectResponse> response;
                try {
                    response = client.getObject(request -> request.bucket(location.bucket()).key(objectKey).range(range)
                            .ifMatch(info.etag()));
                } catch (S3Exception e) {
                    if (e.statusCode() == 412) {
                        throw IngotException.tried(ErrorCode.CHECK_FAILED, "read " + where, "it changed in the store during the download "
                                + "(412: the ETag " + info.etag() + " no longer matches)").withHint("a published release never changes: check the store");
                    }
                    if (isMissingKey(e)) {
                        throw IngotException.tried(ErrorCode.NOT_FOUND, "read " + where, "it does not exist any more");
                    }
                    if (e.statusCode() == 403 || e.statusCode() == 401) {
                        throw unavailable("read " + key, e);
                    }
                    throw new IOException(e.getMessage(), e);
                } catch (SdkException e) {
                    throw new IOException(e.getMessage(), e);
                }
                GetObjectResponse answer = response.response();
                String contentRange = String.valueOf(answer.contentRange());
                String expected = "bytes " + offset + "-" + (offset + length - 1) + "/" + info.size();
                boolean wholeFromZero = offset == 0 && length == info.size() && answer.contentRange() == null;
                if (!wholeFromZero && !contentRange.equals(expected)
                        || answer.eTag() != null && !answer.eTag().equals(info.etag())) {
                    response.abort();
                    throw IngotException.tried(ErrorCode.CHECK_FAILED, "read " + where, "the store broke the range contract: it returned "
                            + contentRange + " (ETag " + answer.eTag() + ") for " + expected + " (ETag " + info.etag()
                            + "); nothing from that answer was used");
                }
                return new java.io.FilterInputStream(response) {
                    @Override
                    public int read(byte[] bytes, int from, int count) throws IOException {
                        try {
                            return in.read(bytes, from, count);
                        } catch (SdkException e) {
                            throw new IOException(e.getMessage(), e);
                        }
                    }

                    @Override
                    public void close() throws IOException {
                        response.abort(); // an unread rest is dropped, not drained over the network
                        super.close();
                    }
                };
            }
        };
    }

    @Override
    public Optional<VersionedBytes> read(String key) {
        String objectKey = objectKey(key);
        try {
            ResponseBytes<GetObjectResponse> object =
                    client.getObjectAsBytes(request -> request.bucket(location.bucket()).key(objectKey));
            return Optional.of(new VersionedBytes(object.asByteArray(), object.response().eTag()));
        } catch (S3Exception e) {
            if (isMissingKey(e)) {
                return Optional.empty();
            }
            throw unavailable("read " + key, e);
        } catch (SdkException e) {
            throw unavailable("read " + key, e);
        }
    }

    @Override
    public void put(String key, Path file, Progress progress) {
        String objectKey = objectKey(key);
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "store " + key + " in store " + describe(),
                    e instanceof NoSuchFileException ? "the file " + file + " does not exist" : "the file "
                            + file + " cannot be read: " + e.getMessage()).withCause(e);
        }
        progress.start("store " + lastSegment(key), size);
        try {
            if (size <= SINGLE_PUT_LIMIT) {
                client.putObject(request -> request.bucket(location.bucket()).key(objectKey),
                        RequestBody.fromFile(file));
                progress.advance(size);
            } else {
                putInParts(key, objectKey, file, size, progress);
            }
        } catch (SdkException e) {
            throw unavailable("store " + key, e);
        } finally {
            progress.done();
        }
    }

    /**
     * Uploads a large file as a multipart upload with a few parts in flight. On failure the upload is
     * aborted only after every part has stopped, so no part lands after the abort and lingers billed.
     */
    private void putInParts(String key, String objectKey, Path file, long size, Progress progress) {
        String uploadId = client.createMultipartUpload(request -> request.bucket(location.bucket()).key(objectKey))
                .uploadId();
        try {
            List<CompletedPart> parts = uploadParts(key, objectKey, uploadId, file, size, progress);
            client.completeMultipartUpload(request -> request.bucket(location.bucket()).key(objectKey)
                    .uploadId(uploadId).multipartUpload(upload -> upload.parts(parts)));
        } catch (RuntimeException e) {
            IngotException failure = switch (e) {
                case IngotException ingot -> ingot;
                case SdkException sdk -> unavailable("store " + key, sdk);
                default -> IngotException.tried(ErrorCode.INTERNAL, "store " + key + " in store " + describe(),
                        String.valueOf(e)).withCause(e);
            };
            abortQuietly(uploadId, objectKey, failure);
            throw failure;
        }
    }

    /** Uploads every part, at most {@link #UPLOAD_THREADS} at once; returns them in order once all are stored. */
    private List<CompletedPart> uploadParts(String key, String objectKey, String uploadId, Path file, long size,
            Progress progress) {
        long partSize = partSize(size);
        int partCount = (int) ((size + partSize - 1) / partSize);
        // Closing the executor waits for the parts still running, even after a failure.
        try (ExecutorService uploads = Executors.newFixedThreadPool(Math.min(UPLOAD_THREADS, partCount),
                Thread.ofVirtual().name("ingot-s3-part-", 1).factory())) {
            List<Future<CompletedPart>> pending = new ArrayList<>(partCount);
            for (int index = 0; index < partCount; index++) {
                int partNumber = index + 1;
                long offset = index * partSize;
                FileSlice slice = new FileSlice(file, offset, Math.min(partSize, size - offset));
                pending.add(uploads.submit(() -> uploadPart(objectKey, uploadId, partNumber, slice, progress)));
            }
            List<CompletedPart> parts = new ArrayList<>(partCount);
            try {
                for (Future<CompletedPart> part : pending) {
                    parts.add(part.get());
                }
                return parts;
            } catch (ExecutionException e) {
                uploads.shutdownNow();
                throw partFailure(key, e.getCause());
            } catch (InterruptedException e) {
                uploads.shutdownNow();
                Thread.currentThread().interrupt();
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "store " + key + " in store " + describe(),
                        "the upload was interrupted").withCause(e);
            }
        }
    }

    private CompletedPart uploadPart(String objectKey, String uploadId, int partNumber, FileSlice slice,
            Progress progress) {
        String etag = client.uploadPart(request -> request.bucket(location.bucket()).key(objectKey)
                        .uploadId(uploadId).partNumber(partNumber).contentLength(slice.length()),
                RequestBody.fromContentProvider(slice, slice.length(), "application/octet-stream")).eTag();
        progress.advance(slice.length());
        return CompletedPart.builder().partNumber(partNumber).eTag(etag).build();
    }

    private IngotException partFailure(String key, Throwable cause) {
        return switch (cause) {
            case SdkException sdk -> unavailable("store " + key, sdk);
            case IngotException ingot -> ingot;
            case UncheckedIOException io -> IngotException.tried(ErrorCode.UNAVAILABLE,
                    "store " + key + " in store " + describe(), "the file cannot be read: " + io.getCause().getMessage())
                    .withCause(io);
            default -> IngotException.tried(ErrorCode.INTERNAL, "store " + key + " in store " + describe(),
                    String.valueOf(cause)).withCause(cause);
        };
    }

    private void abortQuietly(String uploadId, String objectKey, IngotException failure) {
        // An interrupted thread would abort the abort; clear the flag for this one request and restore it after.
        boolean interrupted = Thread.interrupted();
        try {
            client.abortMultipartUpload(request -> request.bucket(location.bucket()).key(objectKey).uploadId(uploadId));
        } catch (SdkException e) {
            // The upload's failure matters more; a lifecycle rule on the bucket removes what is left.
            failure.addSuppressed(e);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The part size for a file: {@link #PART_SIZE}, or whole MiB large enough to need at most {@link #MAXIMUM_PARTS}. */
    static long partSize(long size) {
        long mebibyte = 1L << 20;
        long needed = (size + MAXIMUM_PARTS - 1) / MAXIMUM_PARTS;
        long rounded = (needed + mebibyte - 1) / mebibyte * mebibyte;
        return Math.max(PART_SIZE, rounded);
    }

    /** S3's limit for one CopyObject; larger objects are copied in parts (UploadPartCopy). */
    static final long SINGLE_COPY_LIMIT = 5L << 30;

    @Override
    public void move(String fromKey, String toKey) {
        String source = objectKey(fromKey);
        String target = objectKey(toKey);
        try {
            long size = stat(fromKey).map(ObjectInfo::size).orElseThrow(() -> IngotException.tried(ErrorCode.NOT_FOUND,
                    "move " + fromKey + " in store " + describe(), "it does not exist"));
            if (size <= SINGLE_COPY_LIMIT) {
                client.copyObject(request -> request.sourceBucket(location.bucket()).sourceKey(source)
                        .destinationBucket(location.bucket()).destinationKey(target));
            } else {
                copyInParts(source, target, size);
            }
            client.deleteObject(request -> request.bucket(location.bucket()).key(source));
        } catch (S3Exception e) {
            if (isMissingKey(e)) {
                throw IngotException.tried(ErrorCode.NOT_FOUND, "move " + fromKey + " in store " + describe(), "it does not exist");
            }
            throw unavailable("move " + fromKey + " to " + toKey, e);
        } catch (SdkException e) {
            throw unavailable("move " + fromKey + " to " + toKey, e);
        }
    }

    /** A server-side copy of an object above 5 GiB: one UploadPartCopy per part, aborted on failure. */
    private void copyInParts(String source, String target, long size) {
        String uploadId = client.createMultipartUpload(request -> request.bucket(location.bucket()).key(target)).uploadId();
        try {
            long partSize = Math.max(partSize(size), 512L << 20);
            List<CompletedPart> parts = new ArrayList<>();
            for (long offset = 0, number = 1; offset < size; offset += partSize, number++) {
                long first = offset;
                long last = Math.min(size, offset + partSize) - 1;
                int partNumber = (int) number;
                String etag = client.uploadPartCopy(request -> request.sourceBucket(location.bucket()).sourceKey(source)
                        .destinationBucket(location.bucket()).destinationKey(target).uploadId(uploadId)
                        .partNumber(partNumber).copySourceRange("bytes=" + first + "-" + last)).copyPartResult().eTag();
                parts.add(CompletedPart.builder().partNumber(partNumber).eTag(etag).build());
            }
            client.completeMultipartUpload(request -> request.bucket(location.bucket()).key(target)
                    .uploadId(uploadId).multipartUpload(upload -> upload.parts(parts)));
        } catch (SdkException e) {
            IngotException failure = unavailable("copy " + source + " to " + target, e);
            abortQuietly(uploadId, target, failure);
            throw failure;
        }
    }

    @Override
    public boolean compareAndSet(String key, Optional<String> expectedEtag, byte[] content) {
        String objectKey = objectKey(key);
        PutObjectRequest.Builder request = PutObjectRequest.builder().bucket(location.bucket()).key(objectKey);
        expectedEtag.ifPresentOrElse(request::ifMatch, () -> request.ifNoneMatch("*"));
        try {
            client.putObject(request.build(), RequestBody.fromBytes(content));
            return true;
        } catch (S3Exception e) {
            String code = errorCode(e);
            // 412: the tag no longer matches, or the key exists. 409: a concurrent conditional write won.
            // 404 under If-Match: the key was deleted since it was read, so the condition failed too.
            if (e.statusCode() == 412 || (e.statusCode() == 409 && "ConditionalRequestConflict".equals(code))
                    || (expectedEtag.isPresent() && isMissingKey(e))) {
                return false;
            }
            throw unavailable("write " + key, e);
        } catch (SdkException e) {
            throw unavailable("write " + key, e);
        }
    }

    @Override
    public List<String> list(String prefix) {
        requireNonNull(prefix, "prefix");
        try {
            return client.listObjectsV2Paginator(request -> request.bucket(location.bucket())
                            .prefix(location.keyBase() + prefix))
                    .contents().stream()
                    .map(S3Object::key)
                    // Folder markers that consoles create are not artifacts.
                    .filter(objectKey -> !objectKey.endsWith("/"))
                    .map(location::storeKey)
                    .sorted()
                    .toList();
        } catch (SdkException e) {
            throw unavailable("list " + (prefix.isEmpty() ? "all keys" : prefix), e);
        }
    }

    @Override
    public void delete(String key) {
        String objectKey = objectKey(key);
        try {
            client.deleteObject(request -> request.bucket(location.bucket()).key(objectKey));
        } catch (S3Exception e) {
            if (isMissingKey(e)) {
                return;
            }
            throw unavailable("delete " + key, e);
        } catch (SdkException e) {
            throw unavailable("delete " + key, e);
        }
    }

    /**
     * A presigned GetObject URL (SigV4 query authentication, at most 7 days on AWS): whoever holds it reads this one key, Range
     * requests included, until it expires, and holds no credential. Signed locally, no request is made; with an endpoint
     * override the URL names that endpoint (path-style), so the devices must reach it.
     */
    @Override
    public Optional<URI> presignedGet(String key, java.time.Duration lifetime) {
        requireNonNull(lifetime, "lifetime");
        String objectKey = objectKey(key);
        try {
            return Optional.of(presigner().presignGetObject(request -> request.signatureDuration(lifetime)
                    .getObjectRequest(get -> get.bucket(location.bucket()).key(objectKey))).url().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException("the SDK makes valid URLs", e);
        } catch (SdkException e) {
            throw unavailable("presign " + key, e);
        }
    }

    private synchronized software.amazon.awssdk.services.s3.presigner.S3Presigner presigner() {
        if (presigner == null) {
            var builder = software.amazon.awssdk.services.s3.presigner.S3Presigner.builder().region(region);
            credentials.ifPresent(builder::credentialsProvider);
            endpoint.ifPresent(uri -> builder.endpointOverride(uri)
                    .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build()));
            presigner = builder.build();
        }
        return presigner;
    }

    @Override
    public void close() {
        client.close();
        synchronized (this) {
            if (presigner != null) {
                presigner.close();
            }
        }
    }

    /** The object key of a store key; the key must be a relative '/'-separated path without '.' or '..'. */
    private String objectKey(String key) {
        requireNonNull(key, "key");
        boolean valid = !key.isEmpty() && !key.startsWith("/") && !key.endsWith("/") && !key.contains("//");
        for (String segment : key.split("/")) {
            valid &= !segment.equals(".") && !segment.equals("..");
        }
        if (!valid) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "address '" + key + "' in store " + describe(),
                    "a key is a relative path of non-empty segments without '.' or '..'");
        }
        return location.objectKey(key);
    }

    private void requireBucket(String attempt) {
        if (bucketSeen) {
            return;
        }
        try {
            client.headBucket(request -> request.bucket(location.bucket()));
            bucketSeen = true;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt + " in store " + describe(),
                        "the bucket " + location.bucket() + " does not exist" + atEndpoint())
                        .withHint(bucketHint()).withCause(e);
            }
            throw unavailable(attempt, e);
        } catch (SdkException e) {
            throw unavailable(attempt, e);
        }
    }

    private static boolean isMissingKey(S3Exception e) {
        return e instanceof NoSuchKeyException || (e.statusCode() == 404 && !"NoSuchBucket".equals(errorCode(e)));
    }

    private static String errorCode(S3Exception e) {
        return e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    }

    private IngotException unavailable(String attempt, SdkException cause) {
        String networkHint = endpoint.isPresent() ? "check --endpoint-url (" + endpoint.get() + ") and that the server is running"
                : "check the network connection to S3";
        AwsFailures.Explanation explanation = AwsFailures.explain("S3", cause, endpoint, networkHint, (service, code, answer) -> {
            if ("NoSuchBucket".equals(code)) {
                return Optional.of(new AwsFailures.Explanation("the bucket " + location.bucket() + " does not exist" + atEndpoint(),
                        bucketHint()));
            }
            if (service.statusCode() == 403 || ACCESS_ERRORS.contains(code)) {
                return Optional.of(new AwsFailures.Explanation("S3 denied access (" + answer + ")",
                        "check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, aws sso login) and that they may use the bucket "
                                + location.bucket()));
            }
            if (service.statusCode() == 301 || REGION_ERRORS.contains(code)) {
                return Optional.of(new AwsFailures.Explanation("the bucket " + location.bucket() + " is not in region " + region
                        + " (" + answer + ")", "set AWS_REGION to the bucket's region"));
            }
            return Optional.empty();
        });
        return AwsFailures.unavailable(attempt + " in store " + describe(), explanation, cause);
    }

    private String atEndpoint() {
        return endpoint.map(uri -> " at " + uri).orElse("");
    }

    private String bucketHint() {
        return endpoint.isPresent() ? "check the bucket name in " + describe() + " and --endpoint-url (" + endpoint.get() + ")"
                : "check the bucket name in " + describe() + ", and AWS_REGION";
    }

    private static String lastSegment(String key) {
        return key.substring(key.lastIndexOf('/') + 1);
    }

    /** One part of a file, reopened for every attempt so that a retried part sends the same bytes. */
    private record FileSlice(Path file, long offset, long length) implements ContentStreamProvider {
        @Override
        public InputStream newStream() {
            try {
                FileChannel channel = FileChannel.open(file);
                try {
                    channel.position(offset);
                } catch (IOException e) {
                    channel.close();
                    throw e;
                }
                return new dev.ingot.fetch.BoundedInputStream(Channels.newInputStream(channel), length);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
