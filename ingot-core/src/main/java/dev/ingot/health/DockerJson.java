package dev.ingot.health;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ingot.health.HealthReport.ContainerInfo;
import dev.ingot.health.HealthReport.DockerInfo;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the docker CLI prints as JSON: {@code docker info --format '{{json .}}'} (the daemon's /info
 * object, Docker Engine API "SystemInfo") and {@code docker inspect --type container NAME} (a JSON array
 * of the API's "ContainerInspectResponse").
 */
public final class DockerJson {
    public static final List<String> INFO_ARGUMENTS = List.of("info", "--format", "{{json .}}");
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** What the API writes for "never": a container created but not started. */
    private static final Instant ZERO_TIME = Instant.parse("0001-01-01T00:00:00Z");

    private DockerJson() {}

    public static List<String> inspectArguments(String container) {
        return List.of("inspect", "--type", "container", container);
    }

    /**
     * The daemon's state. Without a daemon the client still prints the object, with empty server fields and
     * (since Docker 23) {@code ServerErrors}; both mean the daemon did not answer.
     */
    public static Probed<DockerInfo> parseInfo(String output) {
        JsonNode root;
        try {
            root = MAPPER.readTree(output);
        } catch (IOException e) {
            return Probed.failed("docker info printed something that is not JSON: '" + Excerpt.of(output) + "'");
        }
        if (root == null || !root.isObject()) {
            return Probed.failed("docker info printed something that is not a JSON object: '" + Excerpt.of(output) + "'");
        }
        List<String> serverErrors = strings(root.path("ServerErrors"));
        if (!serverErrors.isEmpty()) {
            return Probed.failed("the Docker daemon did not answer: " + serverErrors.getFirst());
        }
        String version = root.path("ServerVersion").asText("");
        if (version.isEmpty()) {
            return Probed.failed("the Docker daemon did not answer (docker info has no server version)");
        }
        List<String> runtimes = new ArrayList<>();
        root.path("Runtimes").fieldNames().forEachRemaining(runtimes::add);
        runtimes.sort(null);
        return Probed.found(new DockerInfo(version, root.path("DockerRootDir").asText(""), root.path("Driver").asText(""),
                root.path("DefaultRuntime").asText(""), runtimes, root.path("ContainersRunning").asLong(0),
                root.path("Images").asLong(0), strings(root.path("Warnings"))));
    }

    /** The container {@code docker inspect} describes; an empty array means there is no such container. */
    public static Probed<ContainerInfo> parseInspect(String output, String container) {
        JsonNode root;
        try {
            root = MAPPER.readTree(output);
        } catch (IOException e) {
            return Probed.failed("docker inspect printed something that is not JSON: '" + Excerpt.of(output) + "'");
        }
        if (root == null || !root.isArray()) {
            return Probed.failed("docker inspect printed something that is not a JSON array: '" + Excerpt.of(output) + "'");
        }
        if (root.isEmpty()) {
            return Probed.failed("there is no container named " + container);
        }
        JsonNode first = root.get(0);
        String image = first.path("Config").path("Image").asText("");
        if (image.isEmpty()) {
            return Probed.failed("docker inspect " + container + " names no image (Config.Image)");
        }
        ImageReference reference = ImageReference.parse(image);
        JsonNode state = first.path("State");
        Optional<Instant> startedAt;
        try {
            String text = state.path("StartedAt").asText("");
            startedAt = text.isEmpty() ? Optional.empty() : Optional.of(Instant.parse(text)).filter(time -> !time.equals(ZERO_TIME));
        } catch (DateTimeParseException e) {
            return Probed.failed("docker inspect " + container + " has a StartedAt that is not a time: " + state.path("StartedAt"));
        }
        return Probed.found(new ContainerInfo(first.path("Name").asText(container).replaceFirst("^/", ""), image, reference.repository(),
                reference.tag(), reference.digest(), first.path("Image").asText(""), state.path("Status").asText(""),
                state.path("Running").asBoolean(false), first.path("RestartCount").asLong(0), startedAt));
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        if (array.isArray()) {
            array.forEach(node -> values.add(node.asText()));
        }
        return values;
    }

    /**
     * An image reference as the container was created with: {@code [REGISTRY[:PORT]/]REPOSITORY[:TAG][@DIGEST]}
     * (the distribution project's reference grammar). Lenient on purpose: it describes what runs, whatever it is.
     */
    public record ImageReference(String repository, Optional<String> tag, Optional<String> digest) {
        public static ImageReference parse(String text) {
            String rest = text;
            Optional<String> digest = Optional.empty();
            int at = rest.indexOf('@');
            if (at >= 0) {
                digest = Optional.of(rest.substring(at + 1));
                rest = rest.substring(0, at);
            }
            int colon = rest.lastIndexOf(':');
            // A colon before the last '/' is a registry's port, not a tag.
            if (colon > rest.lastIndexOf('/')) {
                return new ImageReference(rest.substring(0, colon), Optional.of(rest.substring(colon + 1)), digest);
            }
            return new ImageReference(rest, Optional.empty(), digest);
        }
    }
}
