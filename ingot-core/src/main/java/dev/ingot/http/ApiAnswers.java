package dev.ingot.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.IOException;
import java.util.Arrays;
import java.util.Optional;

/**
 * The control plane's error document, {@code {"error": {"code", "message", "hint"}}} (docs/api.md, "Errors"), read
 * back into the exception the server threw: its code and its "Tried to … but failed because …" message pass through
 * unchanged, so that a refusal reads the same on the operator's terminal as in the server's log.
 */
public final class ApiAnswers {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ApiAnswers() {}

    /**
     * The error an answer with a status of 400 or more carries. The document's code wins when it is one Ingot knows;
     * without a document (a proxy's error page), the status decides: 401, 403, 404, 409 and 503 as the API maps them,
     * any other 5xx {@code UNAVAILABLE} (a proxy in front of a server that is down), any other 4xx {@code BAD_INPUT}.
     *
     * @param attempt what the caller tried, for a message when the answer has none ("POST /api/v1/device/poll on https://…")
     */
    public static IngotException error(int status, byte[] body, String attempt) {
        JsonNode error = document(body).path("error");
        ErrorCode code = Arrays.stream(ErrorCode.values()).filter(value -> value.name().equals(error.path("code").asText())).findFirst()
                .orElseGet(() -> byStatus(status));
        String message = error.path("message").isTextual() ? error.path("message").asText()
                : "Tried to " + attempt + " but failed because the server answered HTTP " + status;
        return IngotException.relayed(code, message, error.path("hint").isTextual() ? error.path("hint").asText() : null);
    }

    /** The code the API gives an HTTP status (docs/api.md's table, read backwards). */
    public static ErrorCode byStatus(int status) {
        return switch (status) {
            case 401 -> ErrorCode.UNAUTHENTICATED;
            case 403 -> ErrorCode.FORBIDDEN;
            case 404 -> ErrorCode.NOT_FOUND;
            case 409 -> ErrorCode.CONFLICT;
            case 500 -> ErrorCode.INTERNAL;
            default -> status >= 500 ? ErrorCode.UNAVAILABLE : ErrorCode.BAD_INPUT;
        };
    }

    /**
     * A request that got no answer: nothing listening, no answer in time, a TLS handshake that failed, a connection
     * reset. Always {@code UNAVAILABLE}: the same request may work later.
     *
     * @param refusedHint what to check when nothing listens
     * @param tlsHint what to check when TLS fails (a private CA to trust)
     */
    public static IngotException unreachable(IOException e, String base, String refusedHint, String tlsHint) {
        return switch (e) {
            case java.net.ConnectException refused -> IngotException.tried(ErrorCode.UNAVAILABLE, "reach the control plane at " + base,
                    "nothing answers there (" + (refused.getMessage() == null ? "connection refused" : refused.getMessage()) + ")")
                    .withHint(refusedHint);
            case java.net.http.HttpTimeoutException timeout -> IngotException.tried(ErrorCode.UNAVAILABLE, "reach the control plane at " + base,
                    "it did not answer in time");
            case javax.net.ssl.SSLException tls -> IngotException.tried(ErrorCode.UNAVAILABLE, "talk TLS to " + base,
                    String.valueOf(tls.getMessage())).withHint(tlsHint);
            default -> IngotException.tried(ErrorCode.UNAVAILABLE, "reach the control plane at " + base, String.valueOf(e.getMessage()));
        };
    }

    /** A JSON body, or a missing node when the body is empty or not JSON. */
    public static JsonNode document(byte[] body) {
        if (body == null || body.length == 0) {
            return JSON.missingNode();
        }
        try {
            return Optional.ofNullable(JSON.readTree(body)).orElse(JSON.missingNode());
        } catch (IOException e) {
            return JSON.missingNode();
        }
    }
}
