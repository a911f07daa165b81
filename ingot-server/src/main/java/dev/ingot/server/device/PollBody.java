package dev.ingot.server.device;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.server.http.ApiJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A poll's body, {@code {"generation": N, "report": {…}}}, read in one pass: the report as a tree (for its
 * schema check) and as the exact text the device sent (to store), cut out of the body by the parser's byte
 * offsets rather than written out again. Duplicate keys are refused by the parser, so the text stored is the
 * tree checked. The same strictness as {@link ApiJson#read}: unknown fields, wrong types and trailing data
 * are bad input.
 */
record PollBody(Long generation, JsonNode report, String reportText) {
    /** Reads one value in the middle of the body: the body's own end is checked below. */
    private static final ObjectReader VALUE = ApiJson.MAPPER.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    static PollBody read(byte[] body, String attempt) {
        Long generation = null;
        JsonNode report = null;
        String reportText = null;
        try (JsonParser parser = ApiJson.MAPPER.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw bad(attempt, "the body is not a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (field) {
                    case "generation" -> {
                        if (value == JsonToken.VALUE_NULL) {
                            generation = null;
                        } else if (value == JsonToken.VALUE_NUMBER_INT && parser.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                            generation = parser.getLongValue();
                        } else {
                            throw bad(attempt, "the value at 'generation' has the wrong type (expected integer)");
                        }
                    }
                    case "report" -> {
                        long start = parser.currentTokenLocation().getByteOffset();
                        report = VALUE.readTree(parser);
                        if (report != null && report.isObject()) {
                            long end = parser.currentLocation().getByteOffset();
                            reportText = new String(body, (int) start, (int) (end - start), StandardCharsets.UTF_8);
                        }
                    }
                    default -> throw bad(attempt, "the field '" + field + "' is not one this endpoint takes");
                }
            }
            if (parser.currentToken() != JsonToken.END_OBJECT || parser.nextToken() != null) {
                throw bad(attempt, "the body has data after its JSON object");
            }
        } catch (IOException e) {
            throw ApiJson.badJson(attempt, e);
        }
        return new PollBody(generation, report, reportText);
    }

    private static IngotException bad(String attempt, String why) {
        return IngotException.tried(ErrorCode.BAD_INPUT, attempt, why).withHint("docs/api.md describes every request");
    }
}
