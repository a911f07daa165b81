package dev.ingot.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/** Checks JSON documents against a JSON Schema (draft 2020-12), e.g. a health report against its published schema. */
public final class JsonSchemas {
    private JsonSchemas() {}

    /** The problems of {@code document} against the schema in {@code schema} (a stream the caller opens); empty when it is valid. */
    public static List<String> problems(InputStream schema, JsonNode document) {
        try (schema) {
            Schema loaded = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(schema);
            return loaded.validate(document).stream().map(Error::toString).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
