package dev.ingot.site;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The device agent's configuration, {@code /etc/ingot/agent.json}, and its enrollment token,
 * {@code /etc/ingot/enrollment-token} (mode 0600). The token stays out of the JSON so that the JSON may be
 * read by anyone and shown in diffs. JSON with sorted keys, two-space indent and a final newline. Provisioning
 * renders it ({@link #render}); the agent reads it ({@link #parse}).
 */
public final class AgentConfig {
    public static final String PATH = "/etc/ingot/agent.json";
    public static final String TOKEN_PATH = "/etc/ingot/enrollment-token";
    /** Where provisioning writes the site parameter {@code control_plane_ca}, when the site has one. */
    public static final String CA_PATH = "/etc/ingot/control-plane-ca.pem";

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .setDefaultPrettyPrinter(new DefaultPrettyPrinter()
                    .withObjectIndenter(new DefaultIndenter("  ", "\n"))
                    .withArrayIndenter(new DefaultIndenter("  ", "\n")));

    private AgentConfig() {}

    /**
     * What the agent reads from agent.json.
     *
     * @param videoIngestImage the site parameter {@code video_ingest_image}: the repository the container track pulls
     *     rolled-out tags from, and the tag that runs while the control plane has rolled none out
     * @param controlPlaneCaFile a PEM file of the certificates the agent trusts for the control plane instead of the
     *     runtime's authorities (a private CA), from the site parameter {@code control_plane_ca}
     */
    public record Document(SiteId site, Optional<String> siteName, String awsRegion, Optional<URI> controlPlaneUrl,
            Optional<String> enrollmentTokenFile, Optional<ContainerImage> videoIngestImage, Optional<String> controlPlaneCaFile) {
        public Document {
            requireNonNull(site, "site");
            requireNonNull(siteName, "siteName");
            requireNonNull(awsRegion, "awsRegion");
            requireNonNull(controlPlaneUrl, "controlPlaneUrl");
            requireNonNull(enrollmentTokenFile, "enrollmentTokenFile");
            requireNonNull(videoIngestImage, "videoIngestImage");
            requireNonNull(controlPlaneCaFile, "controlPlaneCaFile");
        }
    }

    public static String render(SiteConfig config) {
        Map<String, Object> document = new TreeMap<>();
        document.put("site", config.site().value());
        config.siteName().ifPresent(name -> document.put("site_name", name));
        document.put("aws_region", config.awsRegion());
        config.controlPlaneUrl().ifPresent(url -> document.put("control_plane_url", url.toString()));
        if (config.enrollmentToken().isPresent()) {
            document.put("enrollment_token_file", TOKEN_PATH);
        }
        document.put("video_ingest_image", config.videoIngestImage().toString());
        if (config.controlPlaneCa().isPresent()) {
            document.put("control_plane_ca_file", CA_PATH);
        }
        try {
            return MAPPER.writeValueAsString(document) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of strings is always JSON", e);
        }
    }

    /** Reads agent.json; {@code source} names it in errors. Unknown keys are ignored (a newer provisioning may add some). */
    public static Document parse(String json, String source) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw invalid(source, "it is not JSON (" + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw invalid(source, "it is not a JSON object");
        }
        String site = text(root, "site", source).orElseThrow(() -> invalid(source, "it has no \"site\""));
        String region = text(root, "aws_region", source).orElseThrow(() -> invalid(source, "it has no \"aws_region\""));
        Optional<URI> url = text(root, "control_plane_url", source).map(value -> {
            try {
                URI uri = new URI(value);
                if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme())) {
                    throw invalid(source, "control_plane_url is not an http(s) URL: " + value);
                }
                return uri;
            } catch (URISyntaxException e) {
                throw invalid(source, "control_plane_url is not a URL: " + value);
            }
        });
        Optional<ContainerImage> image = text(root, "video_ingest_image", source).map(value -> {
            Optional<String> problem = ContainerImage.problemWith(value);
            if (problem.isPresent()) {
                throw invalid(source, "video_ingest_image '" + value + "': " + problem.get());
            }
            return ContainerImage.parse(value);
        });
        SiteId siteId;
        try {
            siteId = new SiteId(site);
        } catch (IngotException e) {
            throw invalid(source, "its site '" + site + "' is not a site id");
        }
        return new Document(siteId, text(root, "site_name", source), region, url, text(root, "enrollment_token_file", source), image,
                text(root, "control_plane_ca_file", source));
    }

    private static Optional<String> text(JsonNode root, String field, String source) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return Optional.empty();
        }
        if (!node.isTextual()) {
            throw invalid(source, "\"" + field + "\" is not a string");
        }
        return Optional.of(node.asText());
    }

    private static IngotException invalid(String source, String reason) {
        return IngotException.tried(ErrorCode.BAD_INPUT, "read the agent configuration " + source, reason)
                .withHint("provisioning writes it: run ingot provision --site SITE again");
    }

    /** The token file's text: the token and a line break. */
    public static String renderToken(Secret token) {
        return token.reveal() + "\n";
    }
}
