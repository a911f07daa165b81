package dev.ingot.server.device;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.ActionState;
import dev.ingot.health.DeviceId;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.ReleaseFiles;
import dev.ingot.server.fleet.Action;
import dev.ingot.server.fleet.Actions;
import dev.ingot.server.fleet.DeviceCredentials;
import dev.ingot.server.fleet.DeviceCredentials.Identity;
import dev.ingot.server.fleet.Enrollment;
import dev.ingot.server.fleet.ReportText;
import dev.ingot.server.fleet.ReportWriter;
import dev.ingot.server.fleet.ReportWriter.ReportWrite;
import dev.ingot.server.http.ApiErrors;
import dev.ingot.server.http.ApiJson;
import dev.ingot.server.http.ByteRanges;
import dev.ingot.server.http.Bearer;
import dev.ingot.server.metrics.ServerMetrics;
import dev.ingot.site.SiteId;
import dev.ingot.store.ArtifactStore;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.random.RandomGenerator;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device API under {@code /api/v1/device/} (docs/api.md): enroll, poll (report in, desired state out),
 * report an action's progress, and fetch a release. Every call but enroll carries the device's credential; a
 * device reaches only its own records.
 */
public final class DeviceApi {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceApi.class);
    static final int MAX_POLL_BYTES = 64 * 1024;
    static final int MAX_SMALL_BYTES = 4 * 1024;
    private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,200}");

    /** How often devices poll and what is kept of their reports. */
    public record PollPolicy(Duration interval, double jitter, Duration historyInterval) {
        public PollPolicy {
            requireNonNull(interval, "interval");
            requireNonNull(historyInterval, "historyInterval");
            if (interval.toSeconds() < 1 || jitter < 0 || jitter >= 1) {
                throw new IllegalArgumentException("a poll interval is at least a second and the jitter a fraction below 1");
            }
        }
    }

    private final Enrollment enrollment;
    private final DeviceCredentials credentials;
    private final Actions actions;
    private final ReportWriter writer;
    private final ReportCheck reportCheck;
    private final ArtifactStore store;
    private final ServerMetrics metrics;
    private final PollPolicy policy;
    private final Optional<Duration> presignedDownloads;
    private final Clock clock;
    private final RandomGenerator random;

    /**
     * @param presignedDownloads hand out presigned store URLs valid this long for release files (the store must make them);
     *     empty: paths of this server's own download endpoint
     */
    public DeviceApi(Enrollment enrollment, DeviceCredentials credentials, Actions actions, ReportWriter writer, ReportCheck reportCheck,
            ArtifactStore store, ServerMetrics metrics, PollPolicy policy, Optional<Duration> presignedDownloads, Clock clock, RandomGenerator random) {
        this.enrollment = requireNonNull(enrollment, "enrollment");
        this.credentials = requireNonNull(credentials, "credentials");
        this.actions = requireNonNull(actions, "actions");
        this.writer = requireNonNull(writer, "writer");
        this.reportCheck = requireNonNull(reportCheck, "reportCheck");
        this.store = requireNonNull(store, "store");
        this.metrics = requireNonNull(metrics, "metrics");
        this.policy = requireNonNull(policy, "policy");
        this.presignedDownloads = requireNonNull(presignedDownloads, "presignedDownloads");
        presignedDownloads.ifPresent(lifetime -> checkPresigning(store, lifetime));
        this.clock = requireNonNull(clock, "clock");
        this.random = requireNonNull(random, "random");
    }

    public void routes(RoutesConfig routes) {
        routes.post("/api/v1/device/enroll", this::enroll);
        routes.post("/api/v1/device/credential", this::rotate);
        routes.post("/api/v1/device/poll", this::poll);
        routes.post("/api/v1/device/actions/{id}", this::progress);
        routes.get("/api/v1/device/releases/{version}", this::release);
        routes.get("/api/v1/device/releases/{version}/files/{name}", this::download);
    }

    private void enroll(Context ctx) {
        String attempt = "enroll the device";
        DeviceWire.EnrollRequest request = ApiJson.read(ctx, DeviceWire.EnrollRequest.class, MAX_SMALL_BYTES, attempt);
        String token = ApiJson.required(request.token(), "token", attempt);
        DeviceId device = deviceId(ApiJson.required(request.deviceId(), "device_id", attempt));
        SiteId site = new SiteId(ApiJson.required(request.siteId(), "site_id", attempt));
        Enrollment.Enrolled enrolled = enrollment.enroll(token, device, site);
        LOG.atInfo().addKeyValue("device", device).addKeyValue("site", site).addKeyValue("reenrolled", enrolled.reenrolled()).log("device enrolled");
        ApiJson.write(ctx, 201, new DeviceWire.EnrollResponse(device.value(), site.value(), enrolled.credential(), enrolled.reenrolled(),
                nextInterval()));
    }

    /** Credential rotation: a new credential for the device that presents its current one (docs/api.md). */
    private void rotate(Context ctx) {
        Identity identity = authenticate(ctx);
        String attempt = "rotate the credential of device " + identity.device();
        ApiJson.read(ctx, DeviceWire.RotateRequest.class, MAX_SMALL_BYTES, attempt);
        String credential = credentials.rotate(identity);
        LOG.atInfo().addKeyValue("device", identity.device()).log("device credential rotated");
        ApiJson.write(ctx, 201, new DeviceWire.RotateResponse(identity.device().value(), credential));
    }

    private void poll(Context ctx) {
        long started = System.nanoTime();
        String outcome = "refused";
        try {
            Identity identity = authenticate(ctx);
            String attempt = "accept the poll of device " + identity.device();
            PollBody request = PollBody.read(ApiJson.body(ctx, MAX_POLL_BYTES, attempt), attempt);
            if (request.generation() != null && request.generation() < 0) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, attempt, "generation is negative").withHint("send the generation last received, or none");
            }
            ReportCheck.Summary summary = reportCheck.check(ApiJson.required(request.report(), "report", attempt));
            if (summary.deviceId().isPresent() && !summary.deviceId().get().equals(identity.device().value())) {
                throw IngotException.tried(ErrorCode.FORBIDDEN, attempt, "the report names device " + summary.deviceId().get()
                        + " and a device reports only for itself");
            }
            if (summary.siteId().isPresent() && !summary.siteId().get().equals(identity.site().value())) {
                throw IngotException.tried(ErrorCode.FORBIDDEN, attempt, "the report names site " + summary.siteId().get()
                        + " but the device is enrolled at " + identity.site());
            }
            long now = clock.millis();
            boolean keep = !Optional.of(summary.status()).equals(identity.status()) || !summary.imageVersion().equals(identity.imageVersion())
                    || !summary.containerTag().equals(identity.containerTag()) || now - identity.historyAt() >= policy.historyInterval().toMillis();
            ReportWrite write = new ReportWrite(identity.device(), now, summary.status(), summary.imageVersion(), summary.containerTag(),
                    summary.slotBooted(), summary.rebootRequired(), summary.securityUpdates(), summary.checkedAt().toEpochMilli(),
                    ReportText.store(request.reportText()), keep);
            try {
                writer.submit(write).join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof IngotException ingot ? ingot
                        : IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "the report could not be stored").withCause(e.getCause());
            }
            long generation = identity.desired().generation();
            DeviceWire.PollResponse response;
            if (request.generation() != null && request.generation() == generation) {
                response = new DeviceWire.PollResponse(false, generation, null, null, nextInterval());
            } else {
                List<DeviceWire.ActionDocument> current = actions.current(identity.device()).stream().map(DeviceWire.ActionDocument::of).toList();
                response = new DeviceWire.PollResponse(true, generation, DeviceWire.Desired.of(identity.desired()), current, nextInterval());
            }
            ApiJson.writeDirect(ctx, 200, response);
            outcome = "ok";
        } catch (IngotException e) {
            outcome = e.code() == ErrorCode.UNAVAILABLE ? "unavailable" : "refused";
            throw e;
        } finally {
            metrics.poll(outcome, System.nanoTime() - started);
        }
    }

    private void progress(Context ctx) {
        Identity identity = authenticate(ctx);
        String actionId = ctx.pathParam("id");
        String attempt = "report the progress of action " + actionId;
        DeviceWire.ProgressRequest request = ApiJson.read(ctx, DeviceWire.ProgressRequest.class, MAX_SMALL_BYTES, attempt);
        ActionState state = ActionState.parse(ApiJson.required(request.state(), "state", attempt));
        Action action = actions.report(identity.device(), actionId, state, Optional.ofNullable(request.reason()));
        LOG.atInfo().addKeyValue("device", identity.device()).addKeyValue("action", actionId).addKeyValue("track", action.track().json())
                .addKeyValue("state", state.json()).addKeyValue("reason", action.reason().orElse(null)).log("action progress");
        ApiJson.write(ctx, 200, DeviceWire.ActionDocument.of(action));
    }

    /**
     * Where each file of a published release is: a path under the control plane's URL (fetched with the credential), or, with
     * presigned downloads, an absolute store URL that needs none and expires at {@code expires_at}.
     */
    private void release(Context ctx) {
        authenticate(ctx);
        ImageVersion version = ImageVersion.parse(ctx.pathParam("version"));
        Optional<Instant> expires = presignedDownloads.map(lifetime -> clock.instant().plus(lifetime).truncatedTo(ChronoUnit.SECONDS));
        List<DeviceWire.ReleaseFile> files = releaseFiles(version).stream()
                .map(key -> {
                    String name = key.substring(ReleaseFiles.STORE_FOLDER.length());
                    long size = store.stat(key).map(ArtifactStore.ObjectInfo::size).orElse(0L);
                    String url = presignedDownloads.map(lifetime -> store.presignedGet(key, lifetime).orElseThrow().toString())
                            .orElse("/api/v1/device/releases/" + version + "/files/" + name);
                    return new DeviceWire.ReleaseFile(name, size, url);
                })
                .toList();
        ApiJson.write(ctx, 200, new DeviceWire.ReleaseDocument(version.toString(), ImageName.DEFAULT.value(), files,
                expires.map(Instant::toString).orElse(null)));
    }

    /** Presigned downloads need a store that presigns (S3) and a lifetime S3 accepts (SigV4: at most 7 days). */
    static void checkPresigning(ArtifactStore store, Duration lifetime) {
        if (lifetime.compareTo(Duration.ofMinutes(1)) < 0 || lifetime.compareTo(Duration.ofDays(7)) > 0) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "hand out presigned downloads valid for " + lifetime, "the lifetime is not from 1m to 7d")
                    .withHint("a download that outlives its URL asks for the release again; 15m to 1h suits most links");
        }
        if (store.presignedGet(ReleaseFiles.STORE_FOLDER + "presign-check", lifetime).isEmpty()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "hand out presigned downloads from " + store.describe(), "that store makes no presigned URLs")
                    .withHint("presigned downloads need an S3 store (--store s3://…); without --presigned-downloads the server streams releases itself");
        }
    }

    private void download(Context ctx) {
        authenticate(ctx);
        ImageVersion version = ImageVersion.parse(ctx.pathParam("version"));
        String name = ctx.pathParam("name");
        if (!FILE_NAME.matcher(name).matches()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "fetch " + name, "it is not a release file name");
        }
        String key = ReleaseFiles.STORE_FOLDER + name;
        if (!releaseFiles(version).contains(key)) {
            throw IngotException.tried(ErrorCode.NOT_FOUND, "fetch " + name, "release " + version + " has no such file");
        }
        ArtifactStore.ObjectInfo info = store.stat(key)
                .orElseThrow(() -> IngotException.tried(ErrorCode.NOT_FOUND, "fetch " + name, "the store lost it"));
        long size = info.size();
        String etag = quoted(info.etag());
        // If-Range (RFC 9110 section 13.1.5): a resumed download of a file that changed starts over.
        Optional<String> range = Optional.ofNullable(ctx.header("If-Range")).filter(ifRange -> !ifRange.equals(etag)).isPresent()
                ? Optional.empty() : Optional.ofNullable(ctx.header("Range"));
        ByteRanges wanted = switch (ByteRanges.parse(range, size)) {
            case ByteRanges.Whole whole -> new ByteRanges(0, size - 1);
            case ByteRanges.Part part -> part.range();
            case ByteRanges.Unsatisfiable unsatisfiable -> {
                ctx.header("Content-Range", "bytes */" + size);
                ApiErrors.write(ctx, 416, ErrorCode.BAD_INPUT, "Tried to fetch " + name + " but failed because the range "
                        + range.orElse("") + " lies outside its " + size + " bytes", null);
                yield null;
            }
        };
        if (wanted == null) {
            return;
        }
        // Opened before any header is set: a store that fails here is a 503 with its message, not a cut-off file.
        try (InputStream in = openRange(key, wanted.first())) {
            ctx.header("Accept-Ranges", "bytes");
            ctx.header("ETag", etag);
            ctx.header("Cache-Control", "private, max-age=3600");
            ctx.contentType("application/octet-stream");
            if (wanted.length() != size) {
                ctx.status(206);
                ctx.header("Content-Range", "bytes " + wanted.first() + "-" + wanted.last() + "/" + size);
            }
            ctx.header("Content-Length", String.valueOf(wanted.length()));
            send(ctx, key, in, wanted.length());
        } catch (IOException e) {
            LOG.atDebug().addKeyValue("key", key).setCause(e).log("store stream not closed cleanly");
        }
    }

    /**
     * The store's object from {@code offset} on; {@link #send} stops after the range's length. Through {@code open} and a skip:
     * a folder store's stream skips in place, an S3 store's reads the bytes before the offset and drops them. The flash
     * engine's ranged store reads (ArtifactStore.range: a ranged GET on S3, with If-Match) replace this once they are merged.
     */
    private InputStream openRange(String key, long offset) {
        InputStream in = store.open(key);
        try {
            in.skipNBytes(offset);
            return in;
        } catch (IOException e) {
            try {
                in.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read " + key + " from byte " + offset, e instanceof java.io.EOFException
                    ? "the store's copy is shorter than it says" : String.valueOf(e.getMessage())).withCause(e);
        }
    }

    /** An ETag as HTTP writes it (RFC 9110 section 8.8.3): S3's come quoted already, a folder store's do not. */
    static String quoted(String etag) {
        return etag.length() >= 2 && etag.startsWith("\"") && etag.endsWith("\"") ? etag : "\"" + etag + "\"";
    }

    /** Streams {@code length} bytes of what the store opened. */
    private void send(Context ctx, String key, InputStream in, long length) {
        try {
            OutputStream out = ctx.res().getOutputStream();
            byte[] buffer = new byte[64 * 1024];
            long left = length;
            while (left > 0) {
                int read = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (read < 0) {
                    // Content-Length promised more: the device sees a short body and resumes from what it has.
                    LOG.atWarn().addKeyValue("key", key).addKeyValue("missing", left).log("the store's copy ended before its size");
                    break;
                }
                out.write(buffer, 0, read);
                left -= read;
            }
            out.flush();
        } catch (IOException e) {
            // The device went away mid-download (or the store's stream broke); the device resumes with a Range request.
            LOG.atDebug().addKeyValue("key", key).setCause(e).log("download ended early");
        }
    }

    /** The store's files of a published release (its manifest exists); a version that is not published has none. */
    private List<String> releaseFiles(ImageVersion version) {
        ReleaseFiles release = new ReleaseFiles(ImageName.DEFAULT, version);
        if (store.stat(ReleaseFiles.STORE_FOLDER + release.manifest()).isEmpty()) {
            throw IngotException.tried(ErrorCode.NOT_FOUND, "find release " + version, "it is not published in the store");
        }
        String prefix = ReleaseFiles.STORE_FOLDER + release.base() + ".";
        // edge-golden-v1.4. is also the start of edge-golden-v1.4.1.*: a file of this release continues with a letter.
        return store.list(prefix).stream()
                .filter(key -> key.length() > prefix.length() && Character.isLetter(key.charAt(prefix.length())))
                .filter(key -> FILE_NAME.matcher(key.substring(ReleaseFiles.STORE_FOLDER.length())).matches())
                .toList();
    }

    private Identity authenticate(Context ctx) {
        String token = Bearer.token(ctx).orElseThrow(() -> IngotException.tried(ErrorCode.UNAUTHENTICATED, "serve " + ctx.path(),
                "the request carries no device credential").withHint("send Authorization: Bearer <the credential from enrollment>"));
        Optional<Identity> identity = credentials.authenticate(token);
        if (identity.isPresent()) {
            return identity.get();
        }
        DeviceCredentials.Refusal refusal = credentials.refusal(token);
        throw IngotException.tried(ErrorCode.UNAUTHENTICATED, "serve " + ctx.path(), refusal.reason()).withHint(refusal.hint());
    }

    private static DeviceId deviceId(String text) {
        try {
            return new DeviceId(text);
        } catch (IllegalArgumentException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the device id", Objects.requireNonNullElse(e.getMessage(), "it is malformed"));
        }
    }

    /** The next poll interval: the policy's, spread by up to ±jitter so that a fleet restarted together drifts apart. */
    long nextInterval() {
        double factor = 1 + policy.jitter() * (2 * random.nextDouble() - 1);
        return Math.max(1, Math.round(policy.interval().toSeconds() * factor));
    }
}
