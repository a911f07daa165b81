package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.DesiredState;
import dev.ingot.fleet.Track;
import dev.ingot.health.HealthReport;
import dev.ingot.health.HealthReportJson;
import dev.ingot.http.ApiAnswers;
import dev.ingot.http.PemTrust;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.Secret;
import dev.ingot.site.SiteParameters;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * The agent's {@link ControlPlane} over the control plane's device API (docs/api.md), on the JDK's HTTP client: enroll
 * with the site's one-time token, poll with the health report and the generation held, report each action's progress,
 * and fetch releases with byte ranges. One instance per agent process: it remembers what the last full poll answer
 * said (each track's newest action, to address progress reports by action id; the desired image's download URLs), as
 * the agent's process remembers the desired state. Many instances may share one {@link HttpClient}.
 *
 * <p>Where the API and the port differ, the API's words are mapped here: the answer's {@code poll_interval_seconds}
 * is already spread by the server (±20 %), so the port's jitter is zero; a progress report names an action by id, which
 * the client finds by track and target among the actions of the last full answer; a report about an action that is no
 * longer the track's newest (superseded at the control plane) is {@code CONFLICT}, as the server answers a report that
 * comes too late. HTTP errors become the agent's codes: 409 {@code CONFLICT}, 401 {@code UNAUTHENTICATED} (the
 * credential or token was refused), 403 {@code FORBIDDEN}, 404 {@code NOT_FOUND}, 400/413/416 {@code BAD_INPUT}; any 5xx,
 * a timeout, a refused connection or a failed TLS handshake {@code UNAVAILABLE} (try again later).
 */
public final class HttpControlPlane implements ControlPlane {
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** For the JSON calls; a download's body may take as long as it takes once its headers arrived. */
    public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /** The server keeps a reason of at most this many characters (docs/api.md). */
    static final int MAX_REASON = 1000;
    /** The fallback when an answer names no interval: the server's default. */
    static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(60);
    /** An error document is small; a proxy's error page is not worth reading whole. */
    private static final int MAX_ERROR_BODY = 64 * 1024;
    /**
     * The largest JSON answer read: a poll answer or a release's file list is a few kilobytes; a control plane (or
     * whatever answers in its name) that sends more would hold the agent's memory, so the answer is cut off and refused.
     */
    static final int MAX_ANSWER = 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
    private static final String USER_AGENT = "ingot-agent/" + Optional.ofNullable(HttpControlPlane.class.getPackage().getImplementationVersion())
            .orElse("development");

    private final URI base;
    private final HttpClient http;
    /** How long a JSON call may take, its whole answer included (the client's own timeout stops at the headers). */
    private final Duration answerTimeout;
    /** Each track's newest action as the last full poll answer listed it; null until one arrived. */
    private Map<Track, KnownAction> actions;
    private Optional<ImageVersion> desiredImage = Optional.empty();
    private final Map<ImageVersion, ReleaseDownload> downloads = new LinkedHashMap<>();

    /** One action as the control plane listed it. */
    record KnownAction(String id, long generation, String target, ActionState state) {}

    /**
     * @param base the control plane, as agent.json's {@code control_plane_url} names it: https, or http to a loopback
     *     address only (the enrollment token and the credential travel in these requests)
     */
    public HttpControlPlane(URI base, HttpClient http) {
        this(base, http, REQUEST_TIMEOUT);
    }

    /** @param answerTimeout how long a JSON call may take from the request to the last byte of its answer (tests shorten it) */
    HttpControlPlane(URI base, HttpClient http, Duration answerTimeout) {
        requireNonNull(base, "base");
        this.answerTimeout = requireNonNull(answerTimeout, "answerTimeout");
        String text = base.toString();
        Optional<String> problem = SiteParameters.controlPlaneProblem(text);
        if (problem.isPresent()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "use the control plane URL " + text, "it " + problem.get())
                    .withHint("control_plane_url in agent.json (the site parameter control_plane_url) names it");
        }
        this.base = URI.create(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
        this.http = requireNonNull(http, "http");
    }

    /**
     * An HTTP client for the control plane: HTTP/1.1 with keep-alive, redirects never followed (they would carry the
     * credential elsewhere), a connect timeout, and the JDK's certificate authorities or those of {@code caFile}.
     *
     * @param executor runs the client's work; the fleet simulation gives it virtual threads
     */
    public static HttpClient client(Optional<Path> caFile, String caOption, Optional<Executor> executor) {
        HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(CONNECT_TIMEOUT);
        caFile.ifPresent(file -> builder.sslContext(PemTrust.context(file, caOption)));
        executor.ifPresent(builder::executor);
        return builder.build();
    }

    public URI base() {
        return base;
    }

    /** The client its calls go through (and the agent's downloads: the same TLS trust, the same redirect rule). */
    HttpClient http() {
        return http;
    }

    @Override
    public Enrollment enroll(EnrollmentRequest request) {
        ObjectNode body = JSON.createObjectNode();
        body.put("token", request.token().reveal());
        body.put("device_id", request.machineId().value());
        body.put("site_id", request.site().value());
        JsonNode answer = call(post("/api/v1/device/enroll", bytes(body)), Optional.empty(), "enroll device " + request.machineId()
                + " at site " + request.site());
        String device = text(answer, "device_id", "enroll");
        String credential = text(answer, "credential", "enroll");
        return new Enrollment(device, Secret.of(credential));
    }

    @Override
    public PollAnswer poll(Secret credential, HealthReport report, long knownGeneration) {
        byte[] body = pollBody(report, knownGeneration);
        JsonNode answer = call(post("/api/v1/device/poll", body), Optional.of(credential), "poll the control plane");
        Duration interval = answer.path("poll_interval_seconds").canConvertToLong() && answer.path("poll_interval_seconds").asLong() > 0
                ? Duration.ofSeconds(answer.path("poll_interval_seconds").asLong()) : DEFAULT_INTERVAL;
        Optional<DesiredState> desired = Optional.empty();
        if (answer.path("changed").asBoolean(false)) {
            DesiredState state = desired(answer.path("desired"));
            actions = actions(answer.path("actions"));
            desired = Optional.of(state);
            if (!state.image().equals(desiredImage)) {
                downloads.clear();
                desiredImage = state.image();
            }
        }
        // The release's file list is asked for once per desired image, and again after a failure: a poll whose report
        // was stored is not failed for it, the reimage step waits for the next answer that carries the download.
        if (desiredImage.isPresent() && !downloads.containsKey(desiredImage.get())) {
            try {
                downloads.put(desiredImage.get(), release(credential, desiredImage.get()).download());
            } catch (IngotException e) {
                if (e.code() == ErrorCode.UNAUTHENTICATED) {
                    throw e;
                }
            }
        }
        return new PollAnswer(desired, interval, Duration.ZERO, downloads);
    }

    /** {@code {"generation": N, "report": {…}}}, the report compact: the server stores it as sent. */
    private static byte[] pollBody(HealthReport report, long knownGeneration) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(6 * 1024);
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            if (knownGeneration >= 0) {
                json.writeNumberField("generation", knownGeneration);
            }
            json.writeFieldName("report");
            JSON.writeTree(json, HealthReportJson.tree(report));
            json.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException("a report always serializes", e);
        }
        return out.toByteArray();
    }

    @Override
    public void report(Secret credential, ActionReport report) {
        Map<Track, KnownAction> known = actions;
        String what = report.track().json() + " " + report.target() + " " + report.state().json();
        if (known == null) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "report " + what, "no poll answer has listed this device's actions yet")
                    .withHint("it is sent after the next poll");
        }
        KnownAction action = known.get(report.track());
        // The agent starts an action from a desired state at least as new as the one that opened it at the control plane.
        if (action == null || !action.target().equals(report.target()) || action.generation() > report.generation()) {
            throw IngotException.tried(ErrorCode.CONFLICT, "report " + what, action == null
                    ? "the control plane has no " + report.track().json() + " action for this device"
                    : "the control plane's newest " + report.track().json() + " action is for " + action.target() + " (generation "
                            + action.generation() + "), so this one was superseded there");
        }
        ObjectNode body = JSON.createObjectNode();
        body.put("state", report.state().json());
        report.reason().map(HttpControlPlane::oneReason).ifPresent(reason -> body.put("reason", reason));
        call(post("/api/v1/device/actions/" + segment(action.id()), bytes(body)), Optional.of(credential), "report " + what);
    }

    /** A reason as the server keeps it: one line of at most {@value #MAX_REASON} characters. */
    static String oneReason(String reason) {
        String line = reason.replaceAll("[\\r\\n]+", " ").strip();
        return line.length() <= MAX_REASON ? line : line.substring(0, MAX_REASON - 1) + "…";
    }

    /**
     * One published release's files as the control plane lists them.
     *
     * @param expiresAt when presigned store URLs stop working (docs/api.md); empty for the control plane's own paths
     */
    public record Release(ImageVersion version, String name, List<ReleaseFile> files, Optional<java.time.Instant> expiresAt) {
        public Release {
            requireNonNull(version, "version");
            requireNonNull(name, "name");
            files = List.copyOf(files);
            requireNonNull(expiresAt, "expiresAt");
        }

        /** The port's view: each file's URL, resolved. */
        public ReleaseDownload download() {
            Map<String, URI> urls = new LinkedHashMap<>();
            files.forEach(file -> urls.put(file.name(), file.url()));
            return new ReleaseDownload(version, urls, expiresAt);
        }
    }

    /** @param url absolute: a path on the control plane is resolved against its URL */
    public record ReleaseFile(String name, long size, URI url) {}

    /** {@code GET /api/v1/device/releases/{version}}: where each file of a published release is. */
    public Release release(Secret credential, ImageVersion version) {
        JsonNode answer = call(HttpRequest.newBuilder(uri("/api/v1/device/releases/" + segment(version.toString()))).GET(),
                Optional.of(credential), "find release " + version);
        List<ReleaseFile> files = new ArrayList<>();
        for (JsonNode file : answer.path("files")) {
            String url = text(file, "url", "find release " + version);
            URI parsed;
            try {
                parsed = url.startsWith("/") ? uri(url) : new URI(url);
            } catch (URISyntaxException | IllegalArgumentException e) {
                // Not an IngotException, this would end the agent's tick (and with it a trial's commit) on every poll.
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "find release " + version, "the URL the control plane named for a file is not a URL ("
                        + oneReason(String.valueOf(e.getMessage())) + ")").withHint("is control_plane_url an Ingot control plane?");
            }
            files.add(new ReleaseFile(text(file, "name", "find release " + version), file.path("size").asLong(), parsed));
        }
        Optional<java.time.Instant> expiresAt;
        try {
            expiresAt = answer.hasNonNull("expires_at") ? Optional.of(java.time.Instant.parse(answer.path("expires_at").asText()))
                    : Optional.empty();
        } catch (java.time.format.DateTimeParseException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "find release " + version, "its expires_at is not an RFC 3339 time")
                    .withHint("the control plane answered what docs/api.md does not describe; is it a newer version?");
        }
        return new Release(version, answer.path("name").asText(""), files, expiresAt);
    }

    /**
     * An open download: the body starts at {@code offset} of a file of {@code size} bytes (the whole file when the server
     * ignored the range or the file changed since {@code etag}).
     */
    public record Download(long offset, long size, Optional<String> etag, InputStream body) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            body.close();
        }
    }

    /**
     * {@code GET} a release file from {@code from} on (RFC 9110 §14: {@code Range: bytes=FROM-}, with {@code If-Range:
     * ETAG} when resuming a file whose ETag is known, so that a file that changed comes whole rather than as a range of
     * another file). The credential goes only to the control plane itself, never to another host a URL may name (a
     * presigned store URL needs none).
     */
    public Download download(Secret credential, URI url, long from, Optional<String> etag) {
        if (from < 0) {
            throw new IllegalArgumentException("a range starts at 0 or later");
        }
        String text = url.toString();
        boolean ours = sameOrigin(url, base);
        // A presigned store URL carries its signature in the query (docs/api.md); the rest of the rules (https, or http to
        // loopback; no user or fragment) hold for every URL, and the control plane's own never have a query.
        Optional<String> problem = SiteParameters.controlPlaneProblem(ours || url.getRawQuery() == null ? text
                : text.substring(0, text.indexOf('?')));
        if (problem.isPresent()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "download " + (ours ? text : url.getScheme() + "://" + url.getRawAuthority()
                    + url.getRawPath()), "the URL " + problem.get());
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(url).GET().header("User-Agent", USER_AGENT);
        if (ours) {
            request.header("Authorization", "Bearer " + credential.reveal());
        }
        if (from > 0) {
            request.header("Range", "bytes=" + from + "-");
            etag.ifPresent(tag -> request.header("If-Range", tag));
        }
        String attempt = "download " + url.getPath() + (from > 0 ? " from byte " + from : "");
        HttpResponse<InputStream> response;
        try {
            response = http.send(request.timeout(REQUEST_TIMEOUT).build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw ApiAnswers.unreachable(e, url.getScheme() + "://" + url.getAuthority(), "check the network and control_plane_url",
                    "the control plane's certificate is not trusted: name its CA in control_plane_ca_file (agent.json) or --cacert");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "it was interrupted");
        }
        Optional<String> answeredTag = response.headers().firstValue("ETag");
        int status = response.statusCode();
        if (status == 200) {
            long size = response.headers().firstValueAsLong("Content-Length").orElse(-1);
            return new Download(0, size, answeredTag, response.body());
        }
        if (status == 206) {
            Matcher range = CONTENT_RANGE.matcher(response.headers().firstValue("Content-Range").orElse(""));
            if (!range.matches() || Long.parseLong(range.group(1)) != from || range.group(3).equals("*")) {
                closeQuietly(response.body());
                throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "the answer's Content-Range '"
                        + response.headers().firstValue("Content-Range").orElse("") + "' is not the range asked for");
            }
            return new Download(from, Long.parseLong(range.group(3)), answeredTag, response.body());
        }
        byte[] error = readAtMost(response.body(), MAX_ERROR_BODY);
        throw agentError(ApiAnswers.error(status, error, attempt), status);
    }

    /** What {@link #fetchFile} left: the file's size and the ETag to resume it with. */
    public record Fetched(long size, Optional<String> etag, boolean resumed) {}

    /**
     * Downloads {@code url} into {@code file}, resuming what an earlier call left there: the bytes already in the file
     * are asked for no more when {@code etag} says which file they belong to; without an ETag, or when the server sends
     * the whole file (it changed), the file starts over. Nothing here is trusted: the caller verifies the file against the
     * signed manifest.
     */
    public Fetched fetchFile(Secret credential, URI url, Path file, Optional<String> etag) {
        long have;
        try {
            have = etag.isPresent() && java.nio.file.Files.isRegularFile(file) ? java.nio.file.Files.size(file) : 0;
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read " + file, String.valueOf(e.getMessage())).withCause(e);
        }
        try (Download download = download(credential, url, have, etag);
                var out = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            out.truncate(download.offset());
            out.position(download.offset());
            long written = download.offset() + download.body().transferTo(java.nio.channels.Channels.newOutputStream(out));
            out.force(false);
            if (download.size() >= 0 && written != download.size()) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "download " + url.getPath(), "the connection ended after " + written
                        + " of " + download.size() + " bytes").withHint("fetch it again: the download resumes from there");
            }
            return new Fetched(written, download.etag(), download.offset() > 0);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "download " + url.getPath() + " into " + file, String.valueOf(e.getMessage()))
                    .withHint("fetch it again: the download resumes from what reached the file").withCause(e);
        }
    }

    // ---- the JSON calls ----

    private HttpRequest.Builder post(String path, byte[] body) {
        return HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body));
    }

    private JsonNode call(HttpRequest.Builder request, Optional<Secret> credential, String attempt) {
        request.header("Accept", "application/json").header("User-Agent", USER_AGENT).timeout(answerTimeout);
        credential.ifPresent(secret -> request.header("Authorization", "Bearer " + secret.reveal()));
        // The client's timeout ends when the headers arrive: an answer that trickles in a byte at a time would hold the
        // agent's tick (and with it a trial's commit or fall-back) for ever. So the whole exchange has a deadline, and
        // the body a size limit.
        CompletableFuture<HttpResponse<byte[]>> pending = http.sendAsync(request.build(), info -> new AtMost(MAX_ANSWER));
        HttpResponse<byte[]> response;
        try {
            response = pending.get(answerTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            pending.cancel(true);
            throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt + " at " + base, "no whole answer came within "
                    + answerTimeout.toSeconds() + " s").withHint("check the network and the control plane; it is tried again later");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException wrapped && wrapped.getCause() != null
                    ? wrapped.getCause() : e.getCause();
            if (cause instanceof AnswerTooLarge) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt + " at " + base, cause.getMessage())
                        .withHint("is control_plane_url an Ingot control plane? It is tried again later");
            }
            IOException failure = cause instanceof IOException io ? io : new IOException(String.valueOf(cause), cause);
            throw ApiAnswers.unreachable(failure, base.toString(), "check the network and control_plane_url in agent.json",
                    "the control plane's certificate is not trusted: name its CA in control_plane_ca_file (agent.json) or --cacert");
        } catch (InterruptedException e) {
            pending.cancel(true);
            Thread.currentThread().interrupt();
            throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "it was interrupted");
        }
        int status = response.statusCode();
        if (status >= 300) {
            throw agentError(ApiAnswers.error(status, response.body(), attempt + " at " + base), status);
        }
        JsonNode answer = ApiAnswers.document(response.body());
        if (!answer.isObject()) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt + " at " + base, "the answer (HTTP " + status + ") is not a JSON object")
                    .withHint("is control_plane_url an Ingot control plane?");
        }
        return answer;
    }

    /** An answer body over the limit: refused before it is all in memory. */
    private static final class AnswerTooLarge extends IOException {
        AnswerTooLarge(int limit) {
            super("the answer is larger than " + limit + " bytes");
        }
    }

    /** The body as bytes, cancelled with {@link AnswerTooLarge} once it passes {@code limit}. */
    private static final class AtMost implements HttpResponse.BodySubscriber<byte[]> {
        private final HttpResponse.BodySubscriber<byte[]> bytes = HttpResponse.BodySubscribers.ofByteArray();
        private final int limit;
        private Flow.Subscription subscription;
        private long received;
        private boolean over;

        AtMost(int limit) {
            this.limit = limit;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return bytes.getBody();
        }

        @Override
        public void onSubscribe(Flow.Subscription value) {
            subscription = value;
            bytes.onSubscribe(value);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (over) {
                return;
            }
            for (ByteBuffer item : items) {
                received += item.remaining();
            }
            if (received > limit) {
                over = true;
                subscription.cancel();
                bytes.onError(new AnswerTooLarge(limit));
                return;
            }
            bytes.onNext(items);
        }

        @Override
        public void onError(Throwable failure) {
            if (!over) {
                bytes.onError(failure);
            }
        }

        @Override
        public void onComplete() {
            if (!over) {
                bytes.onComplete();
            }
        }
    }

    /** A server error or a proxy's is worth another try later: the agent's contract says {@code UNAVAILABLE}. */
    private static IngotException agentError(IngotException error, int status) {
        if (status >= 500 || error.code() == ErrorCode.INTERNAL) {
            return IngotException.relayed(ErrorCode.UNAVAILABLE, error.getMessage(), error.hint().orElse("it is tried again later"));
        }
        if (status >= 300 && status < 400) {
            return IngotException.relayed(ErrorCode.UNAVAILABLE, error.getMessage(), "the control plane answered with a redirect, which the "
                    + "agent never follows (it would carry the credential elsewhere): set control_plane_url to the final URL");
        }
        return error;
    }

    private static DesiredState desired(JsonNode node) {
        try {
            List<ImageVersion> knownGood = new ArrayList<>();
            for (JsonNode version : node.path("known_good")) {
                knownGood.add(ImageVersion.parse(version.asText()));
            }
            if (!node.path("generation").canConvertToLong()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "read the desired state", "it has no generation");
            }
            return new DesiredState(node.path("generation").asLong(), optional(node, "image").map(ImageVersion::parse),
                    optional(node, "container_tag"), optional(node, "reboot_request"), knownGood);
        } catch (IngotException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "take in the poll answer's desired state", e.getMessage())
                    .withHint("the control plane answered what docs/api.md does not describe; is it a newer version?");
        }
    }

    private static Map<Track, KnownAction> actions(JsonNode list) {
        Map<Track, KnownAction> newest = new EnumMap<>(Track.class);
        for (JsonNode node : list) {
            try {
                Track track = Track.parse(node.path("track").asText());
                KnownAction action = new KnownAction(node.path("id").asText(), node.path("generation").asLong(), node.path("target").asText(),
                        ActionState.parse(node.path("state").asText()));
                newest.merge(track, action, (a, b) -> a.generation() >= b.generation() ? a : b);
            } catch (IngotException e) {
                // A track or state this agent does not know (a newer control plane): not one it can work on.
            }
        }
        return newest;
    }

    private static Optional<String> optional(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isTextual() ? Optional.of(value.asText()) : Optional.empty();
    }

    private static String text(JsonNode node, String field, String attempt) {
        JsonNode value = node.path(field);
        if (!value.isTextual() || value.asText().isEmpty()) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "the answer has no " + field)
                    .withHint("is control_plane_url an Ingot control plane?");
        }
        return value.asText();
    }

    private URI uri(String path) {
        return URI.create(base + path);
    }

    /** Same scheme, host and port (RFC 6454 §4): only such a URL may see the device's credential. */
    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI uri) {
        return uri.getPort() >= 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    private static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }

    private static byte[] readAtMost(InputStream in, int limit) {
        try (in) {
            return in.readNBytes(limit);
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException e) {
            // Nothing more to read from it either way.
        }
    }
}
