package dev.ingot.testing;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializable;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;
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
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.zip.GZIPInputStream;

/**
 * A CloudWatch endpoint inside the test's process, on 127.0.0.1, speaking the protocol the AWS SDK's
 * CloudWatch client speaks today: Smithy RPC v2 CBOR ({@code POST /service/GraniteServiceVersion20100801/operation/OP},
 * {@code smithy-protocol: rpc-v2-cbor}, CBOR bodies, gzip-compressed above the SDK's threshold). It decodes and
 * records each request for assertions and keeps alarms as CloudWatch does:
 * <ul>
 *   <li>PutMetricData: accepted, nothing kept.</li>
 *   <li>PutMetricAlarm, PutCompositeAlarm: create an alarm in INSUFFICIENT_DATA, or replace an alarm's settings and
 *       leave its state as it was (as the real service does on an update).</li>
 *   <li>SetAlarmState: sets an alarm's state and reason ({@code ResourceNotFound} for an unknown alarm); tests use it,
 *       through the SDK, to make an alarm fire.</li>
 *   <li>DescribeAlarms: by {@code AlarmNames} or {@code AlarmNamePrefix} (not both: {@code InvalidParameterCombination}),
 *       {@code AlarmTypes} (metric alarms only when absent, as documented), {@code StateValue}; sorted by name, in
 *       pages of {@code MaxRecords} (1 to 100, default 50) with an opaque {@code NextToken} ({@code InvalidNextToken}
 *       for one it did not hand out); timestamps as CBOR tag 1, epoch seconds.</li>
 * </ul>
 * It answers success with a CBOR map, and can be told to fail the next requests with a protocol error: a CBOR map
 * with {@code __type} and {@code message}, and (CloudWatch being query-compatible) the {@code x-amzn-query-error}
 * header that carries the query protocol's error code, which the SDK prefers.
 *
 * <p>Not checked: the SigV4 signature (the SDK computes it; S3Proxy covers signing elsewhere), the
 * operations' own validation (limits are asserted by the tests on what was recorded).
 */
public final class CloudWatchServer implements AutoCloseable {
    public static final String PATH_PREFIX = "/service/GraniteServiceVersion20100801/operation/";
    private static final Set<String> OPERATIONS = Set.of("PutMetricData", "PutMetricAlarm", "PutCompositeAlarm", "SetAlarmState",
            "DescribeAlarms");
    private static final String ACCOUNT_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:";
    private static final CBORMapper CBOR = new CBORMapper();

    /** One request as it arrived: the operation, the decoded body, its size on the wire and its content encoding. */
    public record Request(String operation, JsonNode body, int wireBytes, String contentEncoding) {}

    /** A failure to answer with: HTTP status, the query error code (e.g. "Throttling") and a message. */
    public record Failure(int status, String code, String message) {}

    /** An alarm as the server keeps it: its settings as they were put, and its state. */
    public record Alarm(String name, boolean composite, ObjectNode settings, String state, String reason, Instant updated) {}

    private final Map<String, Alarm> alarms = new TreeMap<>();
    private final Map<String, Integer> tokens = new HashMap<>();
    private final Clock clock;

    private final HttpServer server;
    private final List<Request> requests = new ArrayList<>();
    private final Deque<Failure> failures = new ArrayDeque<>();

    private CloudWatchServer(Clock clock) {
        this.clock = requireNonNull(clock, "clock");
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
        return new CloudWatchServer(Clock.systemUTC());
    }

    /** A server whose alarm state times come from {@code clock}. */
    public static CloudWatchServer start(Clock clock) {
        return new CloudWatchServer(clock);
    }

    /** The alarms it holds, by name. */
    public synchronized Map<String, Alarm> alarms() {
        return Map.copyOf(alarms);
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
        alarms.clear();
        tokens.clear();
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
            ObjectNode answer;
            try {
                answer = answer(operation, decoded);
            } catch (Refusal refusal) {
                synchronized (this) {
                    accepted.remove(request);
                }
                respondError(exchange, refusal.failure);
                return;
            }
            respond(exchange, 200, CBOR.writeValueAsBytes(answer));
        }
    }

    /** A request the operation itself refuses, answered as the service's error. */
    private static final class Refusal extends Exception {
        private final Failure failure;

        Refusal(int status, String code, String message) {
            super(message, null, false, false);
            this.failure = new Failure(status, code, message);
        }
    }

    private synchronized ObjectNode answer(String operation, JsonNode request) throws Refusal {
        ObjectNode answer = CBOR.createObjectNode();
        switch (operation) {
            case "PutMetricAlarm", "PutCompositeAlarm" -> {
                String name = request.path("AlarmName").asText("");
                if (name.isEmpty() || name.length() > 255) {
                    throw new Refusal(400, "InvalidParameterValue", "AlarmName must be 1 to 255 characters.");
                }
                Alarm existing = alarms.get(name);
                alarms.put(name, existing == null
                        ? new Alarm(name, operation.equals("PutCompositeAlarm"), (ObjectNode) request, "INSUFFICIENT_DATA",
                                "Unchecked: Initial alarm creation", clock.instant())
                        : new Alarm(name, existing.composite(), (ObjectNode) request, existing.state(), existing.reason(), existing.updated()));
            }
            case "SetAlarmState" -> {
                String name = request.path("AlarmName").asText("");
                String state = request.path("StateValue").asText("");
                Alarm existing = alarms.get(name);
                if (existing == null) {
                    throw new Refusal(404, "ResourceNotFound", "Alarm " + name + " does not exist.");
                }
                if (!Set.of("OK", "ALARM", "INSUFFICIENT_DATA").contains(state)) {
                    throw new Refusal(400, "InvalidParameterValue", "StateValue must be OK, ALARM or INSUFFICIENT_DATA.");
                }
                alarms.put(name, new Alarm(name, existing.composite(), existing.settings(), state, request.path("StateReason").asText(""),
                        clock.instant()));
            }
            case "DescribeAlarms" -> describe(request, answer);
            default -> { }
        }
        return answer;
    }

    private void describe(JsonNode request, ObjectNode answer) throws Refusal {
        if (request.has("AlarmNames") && request.has("AlarmNamePrefix")) {
            throw new Refusal(400, "InvalidParameterCombination", "AlarmNames and AlarmNamePrefix cannot be specified together.");
        }
        int maxRecords = request.path("MaxRecords").asInt(50);
        if (maxRecords < 1 || maxRecords > 100) {
            throw new Refusal(400, "InvalidParameterValue", "The value " + maxRecords + " for parameter MaxRecords is not in the range 1 to 100.");
        }
        Set<String> names = new HashSet<>();
        request.path("AlarmNames").forEach(name -> names.add(name.asText()));
        String prefix = request.path("AlarmNamePrefix").asText("");
        Set<String> types = new HashSet<>();
        request.path("AlarmTypes").forEach(type -> types.add(type.asText()));
        if (types.isEmpty()) {
            types.add("MetricAlarm");
        }
        String state = request.path("StateValue").asText("");
        List<Alarm> matching = alarms.values().stream()
                .filter(alarm -> names.isEmpty() || names.contains(alarm.name()))
                .filter(alarm -> alarm.name().startsWith(prefix))
                .filter(alarm -> types.contains(alarm.composite() ? "CompositeAlarm" : "MetricAlarm"))
                .filter(alarm -> state.isEmpty() || alarm.state().equals(state))
                .toList();
        int start = 0;
        if (request.hasNonNull("NextToken")) {
            Integer offset = tokens.get(request.get("NextToken").asText());
            if (offset == null) {
                throw new Refusal(400, "InvalidNextToken", "The service couldn't process the next token.");
            }
            start = offset;
        }
        ArrayNode metric = answer.putArray("MetricAlarms");
        ArrayNode composite = answer.putArray("CompositeAlarms");
        int end = Math.min(matching.size(), start + maxRecords);
        for (Alarm alarm : matching.subList(Math.min(start, matching.size()), end)) {
            ObjectNode node = alarm.composite() ? composite.addObject() : metric.addObject();
            alarm.settings().properties().forEach(field -> {
                if (!field.getKey().endsWith("Actions") && !field.getKey().equals("Tags")) {
                    node.set(field.getKey(), field.getValue());
                }
            });
            node.put("AlarmArn", ACCOUNT_ARN + alarm.name());
            node.put("StateValue", alarm.state());
            node.put("StateReason", alarm.reason());
            node.putPOJO("StateUpdatedTimestamp", new CborTimestamp(alarm.updated()));
        }
        if (end < matching.size()) {
            String token = UUID.randomUUID().toString();
            tokens.put(token, end);
            answer.put("NextToken", token);
        }
    }

    /** A Smithy RPC v2 CBOR timestamp: tag 1 (epoch-based date/time, RFC 8949 §3.4.2) on the seconds as a double. */
    private record CborTimestamp(Instant instant) implements JsonSerializable {
        @Override
        public void serialize(JsonGenerator generator, SerializerProvider provider) throws IOException {
            ((CBORGenerator) generator).writeTag(1);
            generator.writeNumber(instant.toEpochMilli() / 1000.0);
        }

        @Override
        public void serializeWithType(JsonGenerator generator, SerializerProvider provider, TypeSerializer typeSerializer) throws IOException {
            serialize(generator, provider);
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
        exchange.getResponseHeaders().add("x-amzn-RequestId", UUID.randomUUID().toString());
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
