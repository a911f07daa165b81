package dev.ingot.testing;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The wire side of an AWS JSON 1.1 service inside the test's own process, on 127.0.0.1, shared by the fake services
 * that speak it (SSM, ECR): {@code POST /} with {@code X-Amz-Target: PREFIX.OPERATION} and
 * {@code Content-Type: application/x-amz-json-1.1}, an AWS Signature Version 4 {@code Authorization} header (read for
 * its credential scope, the signature itself not verified), answers as JSON and errors as
 * {@code {"__type": ..., "message": ...}}. The service decides every answer, the protocol's own refusals included, so
 * that it can record them.
 */
final class AwsJsonEndpoint implements AutoCloseable {
    static final String CONTENT_TYPE = "application/x-amz-json-1.1";
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SCOPE = Pattern.compile("^AWS4-HMAC-SHA256 Credential=[^/]+/[0-9]{8}/([a-z0-9-]+)/[a-z0-9-]+/aws4_request");

    /**
     * A request as it arrived.
     *
     * @param body the JSON object sent; an empty object when there was none or it was not one
     * @param signedRegion the region of the signature's credential scope; empty for an unsigned request
     * @param problem the refusal the protocol itself calls for (not a JSON 1.1 request, not signed), if any
     */
    record Request(String operation, JsonNode body, Optional<String> signedRegion, Optional<Reply> problem) {
        boolean signed() {
            return signedRegion.isPresent();
        }
    }

    record Reply(int status, ObjectNode body) {}

    private final HttpServer server;
    private final ExecutorService executor;
    private final String targetPrefix;
    private final Function<Request, Reply> service;

    AwsJsonEndpoint(String name, String targetPrefix, Function<Request, Reply> service) throws IOException {
        this.targetPrefix = requireNonNull(targetPrefix, "targetPrefix");
        this.service = requireNonNull(service, "service");
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        executor = Executors.newFixedThreadPool(2, Thread.ofPlatform().daemon().name(name + "-", 1).factory());
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /** Where clients connect: {@code http://127.0.0.1:PORT}. */
    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    static Reply error(int status, String type, String message) {
        ObjectNode body = JSON.createObjectNode();
        body.put("__type", type);
        if (message != null) {
            body.put("message", message);
        }
        return new Reply(status, body);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] bytes;
            try (InputStream in = exchange.getRequestBody()) {
                bytes = in.readAllBytes();
            }
            String target = Optional.ofNullable(exchange.getRequestHeaders().getFirst("X-Amz-Target")).orElse("");
            String authorization = Optional.ofNullable(exchange.getRequestHeaders().getFirst("Authorization")).orElse("");
            String contentType = Optional.ofNullable(exchange.getRequestHeaders().getFirst("Content-Type")).orElse("");
            JsonNode body;
            try {
                body = bytes.length == 0 ? JSON.createObjectNode() : JSON.readTree(bytes);
            } catch (IOException e) {
                body = null;
            }
            Matcher scope = SCOPE.matcher(authorization);
            Optional<String> region = scope.find() ? Optional.of(scope.group(1)) : Optional.empty();
            Optional<Reply> problem = Optional.empty();
            if (!"POST".equals(exchange.getRequestMethod()) || !contentType.startsWith(CONTENT_TYPE) || body == null || !body.isObject()) {
                problem = Optional.of(error(400, "SerializationException", "the body is not an AWS JSON 1.1 request"));
            } else if (region.isEmpty()) {
                problem = Optional.of(error(400, "MissingAuthenticationTokenException", "Request is missing Authentication Token"));
            }
            String operation = target.startsWith(targetPrefix) ? target.substring(targetPrefix.length()) : target;
            Reply reply = service.apply(new Request(operation, body != null && body.isObject() ? body : JSON.createObjectNode(), region,
                    problem));
            byte[] answer = JSON.writeValueAsBytes(reply.body());
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            exchange.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
            exchange.sendResponseHeaders(reply.status(), answer.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer);
            }
        }
    }
}
