package dev.ingot.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.agent.AgentState.Action;
import dev.ingot.agent.AgentState.Container;
import dev.ingot.agent.AgentState.ContainerStep;
import dev.ingot.agent.AgentState.Enrolled;
import dev.ingot.agent.AgentState.Outcome;
import dev.ingot.agent.AgentState.Reboot;
import dev.ingot.agent.AgentState.RebootStep;
import dev.ingot.agent.AgentState.Reimage;
import dev.ingot.agent.AgentState.ReimageStep;
import dev.ingot.agent.ControlPlane.ActionReport;
import dev.ingot.boot.Slot;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.Track;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.Secret;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The agent's state file: JSON with sorted keys (docs/agent.md, "Where state lives"). Domain records in
 * {@link AgentState}, their wire form here. A file this version cannot read is refused, never half-read: the
 * agent stops rather than guess where an update stood.
 */
public final class AgentStateJson {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    private AgentStateJson() {}

    public static byte[] write(AgentState state) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("schema_version", AgentState.SCHEMA_VERSION);
        state.enrollment().ifPresent(enrolled -> {
            ObjectNode node = root.putObject("enrollment");
            node.put("device_id", enrolled.deviceId());
            node.put("credential", enrolled.credential().reveal());
            node.put("at", enrolled.at().toString());
        });
        state.action().ifPresent(action -> root.set("action", action(action)));
        ObjectNode outcomes = root.putObject("outcomes");
        state.outcomes().forEach((track, outcome) -> {
            ObjectNode node = outcomes.putObject(track.json());
            node.put("generation", outcome.generation());
            node.put("target", outcome.target());
            node.put("state", outcome.state().json());
            outcome.reason().ifPresent(reason -> node.put("reason", reason));
            node.put("at", outcome.at().toString());
        });
        ObjectNode blocked = root.putObject("blocked");
        state.blocked().forEach((track, target) -> blocked.put(track.json(), target));
        ArrayNode requests = root.putArray("reboot_requests");
        state.rebootRequests().forEach(requests::add);
        ArrayNode outbox = root.putArray("outbox");
        for (ActionReport report : state.outbox()) {
            ObjectNode node = outbox.addObject();
            node.put("track", report.track().json());
            node.put("generation", report.generation());
            node.put("target", report.target());
            node.put("state", report.state().json());
            report.reason().ifPresent(reason -> node.put("reason", reason));
            node.put("at", report.at().toString());
        }
        try {
            return (MAPPER.writeValueAsString(sorted(root)) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of strings and numbers is always JSON", e);
        }
    }

    private static ObjectNode action(Action action) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("track", action.track().json());
        node.put("generation", action.generation());
        node.put("started_at", action.startedAt().toString());
        ObjectNode step = node.putObject("step");
        switch (action) {
            case Reimage reimage -> {
                node.put("version", reimage.version().toString());
                node.put("from", reimage.from().letter());
                node.put("to", reimage.to().letter());
                switch (reimage.step()) {
                    case ReimageStep.Fetch fetch -> {
                        step.put("name", "fetch");
                        step.put("attempts", fetch.attempts());
                        fetch.notBefore().ifPresent(at -> step.put("not_before", at.toString()));
                    }
                    case ReimageStep.Write write -> {
                        step.put("name", "write");
                        step.put("position", write.position());
                    }
                    case ReimageStep.Written written -> step.put("name", "written");
                    case ReimageStep.Restart restart -> {
                        step.put("name", "restart");
                        step.put("boot_id", restart.bootId());
                        step.put("one_shot_set", restart.oneShotSet());
                        step.put("reboots", restart.reboots());
                    }
                    case ReimageStep.Trial trial -> {
                        step.put("name", "trial");
                        step.put("boot_id", trial.bootId());
                        step.put("deadline", trial.deadline().toString());
                    }
                    case ReimageStep.Commit commit -> {
                        step.put("name", "commit");
                        step.put("boot_id", commit.bootId());
                    }
                    case ReimageStep.FallBack fallBack -> {
                        step.put("name", "fall_back");
                        step.put("boot_id", fallBack.bootId());
                        step.put("reason", fallBack.reason());
                    }
                }
            }
            case Container container -> {
                node.put("tag", container.tag());
                container.previous().ifPresent(previous -> node.put("previous", previous));
                switch (container.step()) {
                    case ContainerStep.Pull pull -> {
                        step.put("name", "pull");
                        step.put("attempts", pull.attempts());
                        pull.notBefore().ifPresent(at -> step.put("not_before", at.toString()));
                    }
                    case ContainerStep.Switch change -> step.put("name", "switch");
                    case ContainerStep.Verify verify -> {
                        step.put("name", "verify");
                        step.put("deadline", verify.deadline().toString());
                    }
                    case ContainerStep.Revert revert -> {
                        step.put("name", "revert");
                        step.put("reason", revert.reason());
                    }
                }
            }
            case Reboot reboot -> {
                node.put("request_id", reboot.requestId());
                switch (reboot.step()) {
                    case RebootStep.Restart restart -> {
                        step.put("name", "restart");
                        step.put("boot_id", restart.bootId());
                    }
                    case RebootStep.Confirm confirm -> {
                        step.put("name", "confirm");
                        step.put("deadline", confirm.deadline().toString());
                    }
                }
            }
        }
        return node;
    }

    public static AgentState parse(byte[] json, String source) {
        Reader reader = new Reader(source);
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (java.io.IOException e) {
            throw reader.invalid("it is not JSON (" + e.getMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw reader.invalid("it is not a JSON object");
        }
        int schema = root.path("schema_version").asInt(-1);
        if (schema != AgentState.SCHEMA_VERSION) {
            throw reader.invalid("its schema_version is " + root.path("schema_version") + ", this agent reads " + AgentState.SCHEMA_VERSION);
        }
        Optional<Enrolled> enrollment = Optional.empty();
        if (root.hasNonNull("enrollment")) {
            JsonNode node = root.get("enrollment");
            enrollment = Optional.of(new Enrolled(reader.text(node, "device_id"), Secret.of(reader.text(node, "credential")),
                    reader.instant(node, "at")));
        }
        Optional<Action> action = root.hasNonNull("action") ? Optional.of(reader.action(root.get("action"))) : Optional.empty();
        Map<Track, Outcome> outcomes = new EnumMap<>(Track.class);
        for (var entry : reader.object(root, "outcomes").properties()) {
            Track track = reader.track(entry.getKey());
            JsonNode node = entry.getValue();
            outcomes.put(track, new Outcome(track, reader.number(node, "generation"), reader.text(node, "target"),
                    reader.state(reader.text(node, "state")), reader.optionalText(node, "reason"), reader.instant(node, "at")));
        }
        Map<Track, String> blocked = new EnumMap<>(Track.class);
        for (var entry : reader.object(root, "blocked").properties()) {
            blocked.put(reader.track(entry.getKey()), entry.getValue().asText());
        }
        List<String> requests = new ArrayList<>();
        reader.array(root, "reboot_requests").forEach(node -> requests.add(node.asText()));
        List<ActionReport> outbox = new ArrayList<>();
        for (JsonNode node : reader.array(root, "outbox")) {
            outbox.add(new ActionReport(reader.track(reader.text(node, "track")), reader.number(node, "generation"), reader.text(node, "target"),
                    reader.state(reader.text(node, "state")), reader.optionalText(node, "reason"), reader.instant(node, "at")));
        }
        return new AgentState(enrollment, action, outcomes, blocked, requests, outbox);
    }

    /** Reads fields, turning every problem into one error that names the file. */
    private record Reader(String source) {
        IngotException invalid(String reason) {
            return IngotException.tried(ErrorCode.CHECK_FAILED, "read the agent state " + source, reason)
                    .withHint("the agent stops rather than guess where an update stood: keep the file for diagnosis and see docs/agent.md, "
                            + "\"When the state file is damaged\"");
        }

        String text(JsonNode node, String field) {
            JsonNode value = node.get(field);
            if (value == null || !value.isTextual()) {
                throw invalid("\"" + field + "\" is missing or not a string");
            }
            return value.asText();
        }

        Optional<String> optionalText(JsonNode node, String field) {
            return node.hasNonNull(field) ? Optional.of(text(node, field)) : Optional.empty();
        }

        long number(JsonNode node, String field) {
            JsonNode value = node.get(field);
            if (value == null || !value.canConvertToLong()) {
                throw invalid("\"" + field + "\" is missing or not a number");
            }
            return value.asLong();
        }

        Instant instant(JsonNode node, String field) {
            try {
                return Instant.parse(text(node, field));
            } catch (DateTimeParseException e) {
                throw invalid("\"" + field + "\" is not an ISO-8601 instant");
            }
        }

        Optional<Instant> optionalInstant(JsonNode node, String field) {
            return node.hasNonNull(field) ? Optional.of(instant(node, field)) : Optional.empty();
        }

        JsonNode object(JsonNode node, String field) {
            JsonNode value = node.path(field);
            return value.isObject() ? value : MAPPER.createObjectNode();
        }

        JsonNode array(JsonNode node, String field) {
            JsonNode value = node.path(field);
            return value.isArray() ? value : MAPPER.createArrayNode();
        }

        Track track(String text) {
            try {
                return Track.parse(text);
            } catch (IngotException e) {
                throw invalid("'" + text + "' is not a track");
            }
        }

        ActionState state(String text) {
            try {
                return ActionState.parse(text);
            } catch (IngotException e) {
                throw invalid("'" + text + "' is not an action state");
            }
        }

        Slot slot(String text) {
            try {
                return Slot.parse(text);
            } catch (IngotException e) {
                throw invalid("'" + text + "' is not a slot");
            }
        }

        Action action(JsonNode node) {
            Track track = track(text(node, "track"));
            long generation = number(node, "generation");
            Instant started = instant(node, "started_at");
            JsonNode step = node.path("step");
            String name = text(step, "name");
            try {
                return switch (track) {
                    case REIMAGE -> new Reimage(generation, ImageVersion.parse(text(node, "version")), slot(text(node, "from")),
                            slot(text(node, "to")), started, switch (name) {
                                case "fetch" -> new ReimageStep.Fetch((int) number(step, "attempts"), optionalInstant(step, "not_before"));
                                case "write" -> new ReimageStep.Write(number(step, "position"));
                                case "written" -> new ReimageStep.Written();
                                case "restart" -> new ReimageStep.Restart(text(step, "boot_id"), step.path("one_shot_set").asBoolean(),
                                        (int) number(step, "reboots"));
                                case "trial" -> new ReimageStep.Trial(text(step, "boot_id"), instant(step, "deadline"));
                                case "commit" -> new ReimageStep.Commit(text(step, "boot_id"));
                                case "fall_back" -> new ReimageStep.FallBack(text(step, "boot_id"), text(step, "reason"));
                                default -> throw invalid("'" + name + "' is not a step of a reimage");
                            });
                    case CONTAINER -> new Container(generation, text(node, "tag"), optionalText(node, "previous"), started, switch (name) {
                        case "pull" -> new ContainerStep.Pull((int) number(step, "attempts"), optionalInstant(step, "not_before"));
                        case "switch" -> new ContainerStep.Switch();
                        case "verify" -> new ContainerStep.Verify(instant(step, "deadline"));
                        case "revert" -> new ContainerStep.Revert(text(step, "reason"));
                        default -> throw invalid("'" + name + "' is not a step of a container update");
                    });
                    case REBOOT -> new Reboot(generation, text(node, "request_id"), started, switch (name) {
                        case "restart" -> new RebootStep.Restart(text(step, "boot_id"));
                        case "confirm" -> new RebootStep.Confirm(instant(step, "deadline"));
                        default -> throw invalid("'" + name + "' is not a step of a reboot");
                    });
                };
            } catch (IngotException e) {
                throw e.code() == ErrorCode.CHECK_FAILED ? e : invalid(e.getMessage());
            } catch (IllegalArgumentException e) {
                throw invalid(e.getMessage());
            }
        }
    }

    /** Jackson sorts map entries, not the fields of a tree: rebuild it with sorted fields. */
    private static JsonNode sorted(JsonNode node) {
        if (node.isObject()) {
            ObjectNode copy = MAPPER.createObjectNode();
            List<String> names = new ArrayList<>();
            node.fieldNames().forEachRemaining(names::add);
            names.sort(null);
            for (String name : names) {
                copy.set(name, sorted(node.get(name)));
            }
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = MAPPER.createArrayNode();
            node.forEach(element -> copy.add(sorted(element)));
            return copy;
        }
        return node;
    }
}
