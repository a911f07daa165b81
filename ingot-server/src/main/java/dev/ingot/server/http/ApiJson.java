package dev.ingot.server.http;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import io.javalin.http.Context;
import java.io.IOException;
import java.util.stream.Collectors;

/**
 * The API's JSON: snake_case fields, strict reading (an unknown field, a wrong type, a duplicate key, trailing
 * data or a missing required field is bad input with a message naming the field), and bodies bounded in size
 * before they are parsed.
 */
public final class ApiJson {
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .build();

    static {
        // Deeply nested documents are refused early rather than parsed (a report is four levels deep).
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(32).build());
    }

    /** The largest body read to its end before a 413 is answered. */
    private static final long DRAIN_LIMIT = 1024 * 1024;

    private ApiJson() {}

    /** The body read as {@code type}, strictly; a body over {@code maxBytes} is refused before it is parsed. */
    public static <T> T read(Context ctx, Class<T> type, int maxBytes, String attempt) {
        byte[] body = body(ctx, maxBytes, attempt);
        try {
            T value = MAPPER.readValue(body, type);
            if (value == null) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, attempt, "the body is null, not a JSON object").withHint("docs/api.md describes every request");
            }
            return value;
        } catch (IOException e) {
            throw badJson(attempt, e);
        }
    }

    /** The body's bytes, at most {@code maxBytes}. */
    public static byte[] body(Context ctx, int maxBytes, String attempt) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > maxBytes) {
            throw tooLarge(ctx, attempt, maxBytes);
        }
        byte[] body;
        try (var in = ctx.bodyInputStream()) {
            if (declared >= 0) {
                // The declared length is read into one array of that size (readNBytes(limit) would gather the body in 8 KiB
                // pieces and copy them again: twice the garbage, on every poll); a body longer than it said is refused.
                body = new byte[(int) declared];
                int read = in.readNBytes(body, 0, body.length);
                if (read < body.length) {
                    throw IngotException.tried(ErrorCode.BAD_INPUT, attempt, "the request body ended after " + read + " of the "
                            + declared + " bytes its Content-Length declares");
                }
                if (in.read() != -1) {
                    throw IngotException.tried(ErrorCode.BAD_INPUT, attempt, "the request body is longer than its Content-Length");
                }
            } else {
                body = in.readNBytes(maxBytes + 1);
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, attempt, "the request body could not be read: " + e.getMessage());
        }
        if (body.length > maxBytes) {
            throw tooLarge(ctx, attempt, maxBytes);
        }
        if (body.length == 0) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, attempt, "the request has no body").withHint("send a JSON document");
        }
        return body;
    }

    /** A body over the limit: BAD_INPUT for the CLI, 413 on the wire ({@link ApiErrors} reads the mark). */
    static IngotException tooLarge(Context ctx, String attempt, int maxBytes) {
        ctx.attribute(ApiErrors.TOO_LARGE, Boolean.TRUE);
        // Read (and drop) the rest of a body of reasonable size, so that the client, still sending, reads the 413
        // instead of a reset connection; a larger one is cut off with the connection.
        boolean drained = false;
        if (ctx.req().getContentLengthLong() <= DRAIN_LIMIT) {
            try (var in = ctx.bodyInputStream()) {
                byte[] buffer = new byte[16 * 1024];
                long read = 0;
                int step;
                while (read <= DRAIN_LIMIT && (step = in.read(buffer)) >= 0) {
                    read += step;
                }
                drained = read <= DRAIN_LIMIT;
            } catch (IOException e) {
                // the client went away; nothing to answer
            }
        }
        if (!drained) {
            ctx.header("Connection", "close");
        }
        return IngotException.tried(ErrorCode.BAD_INPUT, attempt, "the request body is larger than " + maxBytes + " bytes")
                .withHint("a request body is at most " + maxBytes / 1024 + " KiB");
    }

    public static IngotException badJson(String attempt, IOException e) {
        if (e instanceof ValueInstantiationException instantiation && instantiation.getCause() instanceof IngotException ingot) {
            return ingot;
        }
        String where = e instanceof JsonMappingException mapping && !mapping.getPath().isEmpty()
                ? " at '" + mapping.getPath().stream()
                        .map(reference -> reference.getFieldName() != null ? reference.getFieldName() : "[" + reference.getIndex() + "]")
                        .collect(Collectors.joining(".")).replace(".[", "[") + "'"
                : "";
        String why;
        if (e instanceof UnrecognizedPropertyException unknown) {
            why = "the field '" + unknown.getPropertyName() + "' is not one this endpoint takes";
        } else if (e instanceof InvalidFormatException format) {
            why = "the value" + where + " is not a valid " + simpleType(format.getTargetType());
        } else if (e instanceof MismatchedInputException mismatch) {
            why = "the value" + where + " has the wrong type (expected " + simpleType(mismatch.getTargetType()) + ")";
        } else if (e instanceof JsonParseException parse) {
            why = "the body is not valid JSON: " + parse.getOriginalMessage();
        } else if (e instanceof JsonProcessingException processing) {
            why = "the body does not fit" + where + ": " + processing.getOriginalMessage();
        } else {
            why = "the body could not be read: " + e.getMessage();
        }
        return IngotException.tried(ErrorCode.BAD_INPUT, attempt, why).withHint("docs/api.md describes every request");
    }

    private static String simpleType(Class<?> type) {
        if (type == null) {
            return "value";
        }
        if (type == String.class) {
            return "string";
        }
        if (type == Long.class || type == long.class || type == Integer.class || type == int.class) {
            return "integer";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "boolean";
        }
        if (java.util.List.class.isAssignableFrom(type)) {
            return "array";
        }
        if (JsonNode.class.isAssignableFrom(type)) {
            return "JSON value";
        }
        return "object";
    }

    /** A field a request must have. */
    public static <T> T required(T value, String field, String attempt) {
        if (value == null) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, attempt, "the field '" + field + "' is missing").withHint("docs/api.md describes every request");
        }
        return value;
    }

    /**
     * A small answer written straight to the response, bypassing Javalin's result stream, which copies every answer through a
     * fresh 8 KiB buffer: for the poll, the one endpoint answered thousands of times a second.
     */
    public static void writeDirect(Context ctx, int status, Object body) {
        byte[] bytes;
        try {
            bytes = MAPPER.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a response always serializes", e);
        }
        ctx.status(status);
        ctx.res().setContentType("application/json");
        ctx.res().setContentLength(bytes.length);
        try {
            ctx.res().getOutputStream().write(bytes);
        } catch (IOException e) {
            // The device went away before its answer; its report is stored, and its next poll is answered in full.
        }
    }

    public static void write(Context ctx, int status, Object body) {
        try {
            ctx.status(status).contentType("application/json").result(MAPPER.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a response always serializes", e);
        }
    }
}
