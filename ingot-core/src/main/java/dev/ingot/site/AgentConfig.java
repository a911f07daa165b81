package dev.ingot.site;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.Map;
import java.util.TreeMap;

/**
 * The device agent's configuration, {@code /etc/ingot/agent.json}, and its enrollment token,
 * {@code /etc/ingot/enrollment-token} (mode 0600). The token stays out of the JSON so that the JSON may be
 * read by anyone and shown in diffs. JSON with sorted keys, two-space indent and a final newline.
 */
public final class AgentConfig {
    public static final String PATH = "/etc/ingot/agent.json";
    public static final String TOKEN_PATH = "/etc/ingot/enrollment-token";

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .setDefaultPrettyPrinter(new DefaultPrettyPrinter()
                    .withObjectIndenter(new DefaultIndenter("  ", "\n"))
                    .withArrayIndenter(new DefaultIndenter("  ", "\n")));

    private AgentConfig() {}

    public static String render(SiteConfig config) {
        Map<String, Object> document = new TreeMap<>();
        document.put("site", config.site().value());
        config.siteName().ifPresent(name -> document.put("site_name", name));
        document.put("aws_region", config.awsRegion());
        config.controlPlaneUrl().ifPresent(url -> document.put("control_plane_url", url.toString()));
        if (config.enrollmentToken().isPresent()) {
            document.put("enrollment_token_file", TOKEN_PATH);
        }
        try {
            return MAPPER.writeValueAsString(document) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of strings is always JSON", e);
        }
    }

    /** The token file's text: the token and a line break. */
    public static String renderToken(Secret token) {
        return token.reveal() + "\n";
    }
}
