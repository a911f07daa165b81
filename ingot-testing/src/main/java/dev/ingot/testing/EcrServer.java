package dev.ingot.testing;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.testing.AwsJsonEndpoint.Reply;
import java.io.IOException;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

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
    public static final String CONTENT_TYPE = AwsJsonEndpoint.CONTENT_TYPE;
    private static final String TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921.";
    private static final ObjectMapper JSON = AwsJsonEndpoint.JSON;

    /** One request as it arrived: the operation, the registry ids asked for, the region it was signed for, and the answer's status. */
    public record Call(String operation, List<String> registryIds, Optional<String> signedRegion, int status) {}

    private final AwsJsonEndpoint endpoint;
    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private final AtomicReference<String> password = new AtomicReference<>("ecr-password-1");
    private final AtomicReference<Instant> expiresAt = new AtomicReference<>(Instant.parse("2026-11-27T01:00:00Z"));
    private final AtomicReference<Reply> failure = new AtomicReference<>();

    private EcrServer() throws IOException {
        endpoint = new AwsJsonEndpoint("ecr-server", TARGET_PREFIX, this::handle);
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
        return endpoint.endpoint();
    }

    /** The password the next tokens carry, and when they expire. */
    public EcrServer token(String newPassword, Instant expiry) {
        password.set(newPassword);
        expiresAt.set(expiry);
        return this;
    }

    /** Every request from now on gets HTTP {@code status} with this error type (AccessDeniedException, ServerException, …). */
    public EcrServer failWith(int status, String type, String message) {
        failure.set(AwsJsonEndpoint.error(status, type, message));
        return this;
    }

    public List<Call> calls() {
        return List.copyOf(calls);
    }

    @Override
    public void close() {
        endpoint.close();
    }

    private Reply handle(AwsJsonEndpoint.Request request) {
        List<String> registryIds = new ArrayList<>();
        request.body().path("registryIds").forEach(id -> registryIds.add(id.asText()));
        Reply failing = failure.get();
        Reply reply;
        if (request.problem().isPresent()) {
            reply = request.problem().get();
        } else if (failing != null) {
            reply = failing;
        } else if (!"GetAuthorizationToken".equals(request.operation())) {
            reply = AwsJsonEndpoint.error(400, "UnknownOperationException", null);
        } else {
            reply = authorizationToken(registryIds, request.signedRegion().orElseThrow());
        }
        calls.add(new Call(request.operation(), List.copyOf(registryIds), request.signedRegion(), reply.status()));
        return reply;
    }

    private Reply authorizationToken(List<String> registryIds, String region) {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode data = body.putArray("authorizationData");
        for (String account : registryIds.isEmpty() ? List.of(ACCOUNT) : registryIds) {
            if (!account.matches("[0-9]{12}")) {
                return AwsJsonEndpoint.error(400, "InvalidParameterException", "Invalid parameter at 'registryIds' failed to satisfy constraint: "
                        + "'Member must satisfy regular expression pattern: [0-9]{12}'");
            }
            ObjectNode entry = data.addObject();
            entry.put("authorizationToken", Base64.getEncoder().encodeToString(("AWS:" + password.get()).getBytes(UTF_8)));
            entry.put("expiresAt", expiresAt.get().getEpochSecond());
            entry.put("proxyEndpoint", "https://" + account + ".dkr.ecr." + region + ".amazonaws.com");
        }
        return new Reply(200, body);
    }
}
