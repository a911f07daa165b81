package dev.ingot.testing;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An Amazon ECR endpoint inside the test's own process, on 127.0.0.1, for the real AWS SDK client. It speaks ECR's
 * wire protocol: AWS JSON 1.1 ({@code POST /}, {@code X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.OPERATION},
 * {@code Content-Type: application/x-amz-json-1.1}), errors as {@code {"__type": ..., "message": ...}}, timestamps as
 * epoch seconds. Only GetAuthorizationToken is implemented, as the ECR API reference documents it: one
 * {@code authorizationData} entry per requested registry id (the caller's account when none is given), each a
 * base64 {@code AWS:PASSWORD} token, its {@code expiresAt} (12 hours on) and the registry's {@code proxyEndpoint}.
 * Requests must be signed (AWS Signature Version 4; the signature itself is not checked). Every request is recorded.
 */
public final class EcrServer implements AutoCloseable {
    public static final String ACCOUNT = "123456789012";
    public static final String CONTENT_TYPE = "application/x-amz-json-1.1";
    private static final String TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921.";
    private static final Pattern REGION = Pattern.compile("Credential=[^/]+/[0-9]{8}/([a-z0-9-]+)/ecr/aws4_request");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One request as it arrived: the operation, the registry ids asked for, the region it was signed for, and the answer's status. */
    public record Call(String operation, List<String> registryIds, Optional<String> signedRegion, int status) {}

    private final HttpServer server;
    private final ExecutorService executor;
    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private final AtomicReference<String> password = new AtomicReference<>("ecr-password-1");
    private final AtomicReference<Instant> expiresAt = new AtomicReference<>(Instant.parse("2026-11-27T01:00:00Z"));
    private final AtomicReference<String[]> failure = new AtomicReference<>();

    private EcrServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        executor = Executors.newFixedThreadPool(2, Thread.ofPlatform().daemon().name("ecr-server-", 1).factory());
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    public static EcrServer start() {
        try {
            return new EcrServer();
        } catch (IOException e) {
            throw new IllegalStateException("the ECR test server did not start: " + e.getMessage(), e);
        }
    }

    /** Where clients connect: {@code http://127.0.0.1:PORT}. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** The password the next tokens carry, and when they expire. */
    public EcrServer token(String newPassword, Instant expiry) {
        password.set(newPassword);
        expiresAt.set(expiry);
        return this;
    }

    /** Every request from now on gets HTTP {@code status} with this error type (AccessDeniedException, ServerException, …). */
    public EcrServer failWith(int status, String type, String message) {
        failure.set(new String[] {String.valueOf(status), type, message});
        return this;
    }

    public List<Call> calls() {
        return List.copyOf(calls);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            String target = Optional.ofNullable(exchange.getRequestHeaders().getFirst("X-Amz-Target")).orElse("");
            String authorization = Optional.ofNullable(exchange.getRequestHeaders().getFirst("Authorization")).orElse("");
            String contentType = Optional.ofNullable(exchange.getRequestHeaders().getFirst("Content-Type")).orElse("");
            Matcher region = REGION.matcher(authorization);
            boolean signed = authorization.startsWith("AWS4-HMAC-SHA256 ") && region.find();
            JsonNode request;
            try {
                request = body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
            } catch (IOException e) {
                request = null;
            }
            String operation = target.startsWith(TARGET_PREFIX) ? target.substring(TARGET_PREFIX.length()) : target;
            List<String> registryIds = new ArrayList<>();
            if (request != null && request.path("registryIds").isArray()) {
                request.path("registryIds").forEach(id -> registryIds.add(id.asText()));
            }
            String[] failing = failure.get();
            Reply reply;
            if (!"POST".equals(exchange.getRequestMethod()) || !contentType.startsWith(CONTENT_TYPE) || request == null
                    || !request.isObject()) {
                reply = error(400, "SerializationException", "the body is not an AWS JSON 1.1 request");
            } else if (!signed) {
                reply = error(400, "MissingAuthenticationTokenException", "Request is missing Authentication Token");
            } else if (failing != null) {
                reply = error(Integer.parseInt(failing[0]), failing[1], failing[2]);
            } else if (!"GetAuthorizationToken".equals(operation)) {
                reply = error(400, "UnknownOperationException", null);
            } else {
                reply = authorizationToken(registryIds, region.group(1));
            }
            calls.add(new Call(operation, List.copyOf(registryIds), signed ? Optional.of(region.group(1)) : Optional.empty(),
                    reply.status()));
            byte[] bytes = JSON.writeValueAsBytes(reply.body());
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            exchange.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
            exchange.sendResponseHeaders(reply.status(), bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    private record Reply(int status, ObjectNode body) {}

    private Reply authorizationToken(List<String> registryIds, String region) {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode data = body.putArray("authorizationData");
        for (String account : registryIds.isEmpty() ? List.of(ACCOUNT) : registryIds) {
            if (!account.matches("[0-9]{12}")) {
                return error(400, "InvalidParameterException", "Invalid parameter at 'registryIds' failed to satisfy constraint: "
                        + "'Member must satisfy regular expression pattern: [0-9]{12}'");
            }
            ObjectNode entry = data.addObject();
            entry.put("authorizationToken", Base64.getEncoder().encodeToString(("AWS:" + password.get()).getBytes(UTF_8)));
            entry.put("expiresAt", expiresAt.get().getEpochSecond());
            entry.put("proxyEndpoint", "https://" + account + ".dkr.ecr." + region + ".amazonaws.com");
        }
        return new Reply(200, body);
    }

    private static Reply error(int status, String type, String message) {
        ObjectNode body = JSON.createObjectNode();
        body.put("__type", type);
        if (message != null) {
            body.put("message", message);
        }
        return new Reply(status, body);
    }
}
