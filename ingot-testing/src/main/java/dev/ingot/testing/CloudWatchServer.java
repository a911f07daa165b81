package dev.ingot.testing;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.zip.GZIPInputStream;

/**
 * A CloudWatch endpoint inside the test's process, on 127.0.0.1, speaking the protocol the AWS SDK's
 * CloudWatch client speaks today: Smithy RPC v2 CBOR ({@code POST /service/GraniteServiceVersion20100801/operation/OP},
 * {@code smithy-protocol: rpc-v2-cbor}, CBOR bodies, gzip-compressed above the SDK's threshold). It accepts
 * PutMetricData and PutMetricAlarm, decodes and records each request for assertions, and answers with an
 * empty CBOR map. It can be told to fail the next requests with a protocol error: a CBOR map with
 * {@code __type} and {@code message}, and (CloudWatch being query-compatible) the {@code x-amzn-query-error}
 * header that carries the query protocol's error code, which the SDK prefers.
 *
 * <p>Not checked: the SigV4 signature (the SDK computes it; S3Proxy covers signing elsewhere), the
 * operations' own validation (limits are asserted by the tests on what was recorded).
 */
public final class CloudWatchServer implements AutoCloseable {
    public static final String PATH_PREFIX = "/service/GraniteServiceVersion20100801/operation/";
    private static final Set<String> OPERATIONS = Set.of("PutMetricData", "PutMetricAlarm");
    private static final CBORMapper CBOR = new CBORMapper();

    /** One request as it arrived: the operation, the decoded body, its size on the wire and its content encoding. */
    public record Request(String operation, JsonNode body, int wireBytes, String contentEncoding) {}

    /** A failure to answer with: HTTP status, the query error code (e.g. "Throttling") and a message. */
    public record Failure(int status, String code, String message) {}

    private final HttpServer server;
    private final List<Request> requests = new ArrayList<>();
    private final Deque<Failure> failures = new ArrayDeque<>();

    private CloudWatchServer() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("could not listen on 127.0.0.1", e);
        }
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    public static CloudWatchServer start() {
        return new CloudWatchServer();
    }

    /** Where clients connect: {@code http://127.0.0.1:PORT}. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** The next {@code count} requests fail with {@code failure}; those after succeed again. */
    public synchronized void failNext(int count, Failure failure) {
        requireNonNull(failure, "failure");
        for (int index = 0; index < count; index++) {
            failures.add(failure);
        }
    }

    /** Every request that arrived, failed ones included, in order. */
    public synchronized List<Request> requests() {
        return List.copyOf(requests);
    }

    /** The requests of one operation that were answered with success. */
    public synchronized List<Request> accepted(String operation) {
        return List.copyOf(accepted.stream().filter(request -> request.operation().equals(operation)).toList());
    }

    public synchronized void clear() {
        requests.clear();
        accepted.clear();
        failures.clear();
    }

    private final List<Request> accepted = new ArrayList<>();

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String operation = path.startsWith(PATH_PREFIX) ? path.substring(PATH_PREFIX.length()) : "";
            if (!exchange.getRequestMethod().equals("POST") || !OPERATIONS.contains(operation)) {
                respondError(exchange, new Failure(404, "UnknownOperationException", "no operation at " + exchange.getRequestMethod() + " " + path));
                return;
            }
            if (!"rpc-v2-cbor".equals(exchange.getRequestHeaders().getFirst("smithy-protocol"))
                    || !"application/cbor".equals(exchange.getRequestHeaders().getFirst("Content-Type"))) {
                respondError(exchange, new Failure(400, "InvalidParameterValue", "expected smithy-protocol: rpc-v2-cbor and application/cbor, got "
                        + exchange.getRequestHeaders().getFirst("smithy-protocol") + " and " + exchange.getRequestHeaders().getFirst("Content-Type")));
                return;
            }
            byte[] wire = exchange.getRequestBody().readAllBytes();
            String encoding = String.valueOf(exchange.getRequestHeaders().getFirst("Content-Encoding"));
            InputStream body = new ByteArrayInputStream(wire);
            if (encoding.equals("gzip")) {
                body = new GZIPInputStream(body);
            }
            JsonNode decoded = CBOR.readTree(body);
            Request request = new Request(operation, decoded, wire.length, encoding);
            Failure failure;
            synchronized (this) {
                requests.add(request);
                failure = failures.poll();
                if (failure == null) {
                    accepted.add(request);
                }
            }
            if (failure != null) {
                respondError(exchange, failure);
                return;
            }
            respond(exchange, 200, CBOR.writeValueAsBytes(CBOR.createObjectNode()));
        }
    }

    private static void respondError(HttpExchange exchange, Failure failure) throws IOException {
        ObjectNode body = CBOR.createObjectNode();
        body.put("__type", "com.amazonaws.cloudwatch#" + failure.code());
        body.put("message", failure.message());
        exchange.getResponseHeaders().add("x-amzn-query-error", failure.code() + ";" + (failure.status() >= 500 ? "Receiver" : "Sender"));
        respond(exchange, failure.status(), CBOR.writeValueAsBytes(body));
    }

    private static void respond(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.getResponseHeaders().add("smithy-protocol", "rpc-v2-cbor");
        exchange.getResponseHeaders().add("Content-Type", "application/cbor");
        exchange.getResponseHeaders().add("x-amzn-RequestId", java.util.UUID.randomUUID().toString());
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
