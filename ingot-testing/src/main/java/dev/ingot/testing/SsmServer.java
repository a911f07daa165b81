package dev.ingot.testing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.testing.AwsJsonEndpoint.Reply;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An AWS Systems Manager Parameter Store endpoint inside the test's own process, on 127.0.0.1, for the real
 * AWS SDK client. It speaks the wire protocol SSM speaks: AWS JSON 1.1 ({@code POST /} with
 * {@code X-Amz-Target: AmazonSSM.GetParametersByPath}, {@code Content-Type: application/x-amz-json-1.1}),
 * errors as {@code {"__type": ..., "message": ...}}. Only GetParametersByPath is implemented, as SSM documents it:
 *
 * <ul>
 *   <li>{@code Path} selects names under it; {@code Recursive} false keeps only its direct children;</li>
 *   <li>pages hold at most {@code MaxResults} (1 to 10, default 10) parameters, and an opaque
 *       {@code NextToken} continues; {@link #emptyPagesBeforeEachPage} adds empty pages that still carry a token
 *       (SSM does that when it filters after paging);</li>
 *   <li>a SecureString comes back decrypted only with {@code WithDecryption} true, otherwise as ciphertext;</li>
 *   <li>{@link #throttleFirstCalls} answers the next calls with HTTP 400 {@code ThrottlingException}.</li>
 * </ul>
 *
 * Requests must carry an AWS Signature Version 4 {@code Authorization} header (it is not verified). Every request
 * is recorded, so tests can check paging and decryption happened as they should.
 */
public final class SsmServer implements AutoCloseable {
    public static final String ACCESS_KEY = "ingot-test-access-key";
    public static final String SECRET_KEY = "ingot-test-secret-key";
    public static final String CONTENT_TYPE = AwsJsonEndpoint.CONTENT_TYPE;
    private static final String TARGET_PREFIX = "AmazonSSM.";
    private static final int PAGE_LIMIT = 10;
    private static final ObjectMapper JSON = AwsJsonEndpoint.JSON;

    /** A stored parameter. {@code type} is String, StringList or SecureString. */
    public record StoredParameter(String name, String type, String value, long version) {}

    /** One request as it arrived: the operation, the decoded body's fields, and whether it was signed. */
    public record Call(String operation, String path, boolean recursive, boolean withDecryption, Optional<Integer> maxResults,
            Optional<String> nextToken, boolean signed, int status) {}

    private final AwsJsonEndpoint endpoint;
    private final Map<String, StoredParameter> parameters = new TreeMap<>();
    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private final AtomicInteger throttled = new AtomicInteger();
    private volatile int emptyPages;

    private SsmServer() throws IOException {
        endpoint = new AwsJsonEndpoint("ssm-server", TARGET_PREFIX, this::handle);
    }

    /** Starts a server holding no parameters. */
    public static SsmServer start() {
        try {
            return new SsmServer();
        } catch (IOException e) {
            throw new IllegalStateException("the SSM test server did not start: " + e.getMessage(), e);
        }
    }

    /** Where clients connect: {@code http://127.0.0.1:PORT}. */
    public URI endpoint() {
        return endpoint.endpoint();
    }

    public SsmServer putString(String name, String value) {
        return put(name, "String", value);
    }

    public SsmServer putStringList(String name, String value) {
        return put(name, "StringList", value);
    }

    public SsmServer putSecureString(String name, String value) {
        return put(name, "SecureString", value);
    }

    public synchronized SsmServer put(String name, String type, String value) {
        requireNonNull(name, "name");
        if (!name.startsWith("/") || !List.of("String", "StringList", "SecureString").contains(type)) {
            throw new IllegalArgumentException("a parameter name starts with '/' and its type is String, StringList or SecureString");
        }
        StoredParameter previous = parameters.get(name);
        parameters.put(name, new StoredParameter(name, type, requireNonNull(value, "value"),
                previous == null ? 1 : previous.version() + 1));
        return this;
    }

    public synchronized void delete(String name) {
        parameters.remove(name);
    }

    /** The next {@code count} requests get HTTP 400 ThrottlingException "Rate exceeded", as SSM answers a burst. */
    public SsmServer throttleFirstCalls(int count) {
        throttled.set(count);
        return this;
    }

    /** Before each page that holds parameters (and before the final empty answer), {@code count} empty pages with a NextToken. */
    public SsmServer emptyPagesBeforeEachPage(int count) {
        emptyPages = count;
        return this;
    }

    /** Every request so far, in order. */
    public List<Call> calls() {
        return List.copyOf(calls);
    }

    @Override
    public void close() {
        endpoint.close();
    }

    private Reply handle(AwsJsonEndpoint.Request request) {
        JsonNode body = request.body();
        Reply reply;
        if (request.problem().isPresent()) {
            reply = request.problem().get();
        } else if (throttled.getAndUpdate(left -> Math.max(0, left - 1)) > 0) {
            reply = error(400, "ThrottlingException", "Rate exceeded");
        } else if (!"GetParametersByPath".equals(request.operation())) {
            reply = error(400, "UnknownOperationException", null);
        } else {
            reply = getParametersByPath(body);
        }
        calls.add(new Call(request.operation(), text(body, "Path"), bool(body, "Recursive"), bool(body, "WithDecryption"),
                body.has("MaxResults") ? Optional.of(body.get("MaxResults").asInt()) : Optional.empty(),
                Optional.ofNullable(text(body, "NextToken")), request.signed(), reply.status()));
        return reply;
    }

    private synchronized Reply getParametersByPath(JsonNode request) {
        String path = text(request, "Path");
        if (path == null || !path.startsWith("/")) {
            return error(400, "ValidationException", "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\".");
        }
        int maxResults = request.has("MaxResults") ? request.get("MaxResults").asInt() : PAGE_LIMIT;
        if (maxResults < 1 || maxResults > PAGE_LIMIT) {
            return error(400, "ValidationException", "1 validation error detected: Value '" + maxResults
                    + "' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10");
        }
        int offset = 0;
        int emptiesServed = 0;
        String token = text(request, "NextToken");
        if (token != null) {
            try {
                String[] parts = new String(Base64.getUrlDecoder().decode(token), UTF_8).split(":");
                offset = Integer.parseInt(parts[1]);
                emptiesServed = Integer.parseInt(parts[2]);
            } catch (RuntimeException e) {
                return error(400, "InvalidNextToken", "The specified token is not valid.");
            }
        }
        String prefix = path.endsWith("/") ? path : path + "/";
        boolean recursive = bool(request, "Recursive");
        List<StoredParameter> matching = new ArrayList<>();
        for (StoredParameter parameter : parameters.values()) {
            String name = parameter.name();
            if (name.startsWith(prefix) && (recursive || name.indexOf('/', prefix.length()) < 0)) {
                matching.add(parameter);
            }
        }
        ObjectNode body = JSON.createObjectNode();
        ArrayNode page = body.putArray("Parameters");
        if (emptiesServed < emptyPages) {
            body.put("NextToken", token(offset, emptiesServed + 1));
            return new Reply(200, body);
        }
        int end = Math.min(matching.size(), offset + maxResults);
        for (StoredParameter parameter : matching.subList(Math.min(offset, matching.size()), end)) {
            ObjectNode node = page.addObject();
            node.put("Name", parameter.name());
            node.put("Type", parameter.type());
            boolean decrypt = bool(request, "WithDecryption");
            node.put("Value", parameter.type().equals("SecureString") && !decrypt ? ciphertext(parameter.value()) : parameter.value());
            node.put("Version", parameter.version());
            node.put("LastModifiedDate", 1.7872416E9);
            node.put("ARN", "arn:aws:ssm:us-east-1:123456789012:parameter" + parameter.name());
            node.put("DataType", "text");
        }
        if (end < matching.size()) {
            body.put("NextToken", token(end, 0));
        }
        return new Reply(200, body);
    }

    private static String token(int offset, int emptiesServed) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(("page:" + offset + ":" + emptiesServed).getBytes(UTF_8));
    }

    /** What SSM returns for a SecureString read without decryption: the KMS ciphertext, base64 (here a stand-in). */
    private static String ciphertext(String value) {
        return "AQICAHh" + Base64.getEncoder().encodeToString(("kms:" + UUID.nameUUIDFromBytes(value.getBytes(UTF_8))).getBytes(UTF_8));
    }

    private static Reply error(int status, String type, String message) {
        return AwsJsonEndpoint.error(status, type, message);
    }

    private static String text(JsonNode request, String field) {
        return request != null && request.hasNonNull(field) ? request.get(field).asText() : null;
    }

    private static boolean bool(JsonNode request, String field) {
        return request != null && request.hasNonNull(field) && request.get(field).asBoolean();
    }
}
