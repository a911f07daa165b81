package dev.ingot.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The server's OpenAPI 3.1 document, kept as one file per part of the API (the fleet in {@code openapi.json}, the
 * rollouts in {@code openapi-rollouts.json}) and served as one: the parts' {@code paths} and
 * {@code components.schemas} are put together. A name in two parts is a mistake, refused at start.
 */
public final class OpenApi {
    private OpenApi() {}

    public static byte[] merge(byte[] main, byte[]... parts) {
        try {
            ObjectNode document = (ObjectNode) ApiJson.MAPPER.readTree(main);
            for (byte[] part : parts) {
                JsonNode tree = ApiJson.MAPPER.readTree(part);
                add((ObjectNode) document.path("paths"), tree.path("paths"), "path");
                add((ObjectNode) document.path("components").path("schemas"), tree.path("components").path("schemas"), "schema");
            }
            return ApiJson.MAPPER.writeValueAsBytes(document);
        } catch (IOException e) {
            throw new UncheckedIOException("the OpenAPI documents ship in the server's jar", e);
        }
    }

    private static void add(ObjectNode into, JsonNode from, String what) {
        for (Map.Entry<String, JsonNode> entry : from.properties()) {
            if (into.has(entry.getKey())) {
                throw new IllegalStateException("the OpenAPI " + what + " " + entry.getKey() + " is described twice");
            }
            into.set(entry.getKey(), entry.getValue());
        }
    }
}
