package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.Track;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthStatus;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.SiteId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The rollout's stored and shown form: JSON with sorted keys, two-space indent and a final newline, so the same
 * rollout always gives the same bytes. {@link #write}/{@link #read} are the server's one column (schema_version
 * {@value #SCHEMA_VERSION}); {@link #plan} is what {@code --dry-run} prints and {@link #view} what
 * {@code ingot rollout status --json} prints. Reading checks every field and names the first that is wrong.
 */
public final class RolloutJson {
    public static final int SCHEMA_VERSION = 1;
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .setDefaultPrettyPrinter(new DefaultPrettyPrinter()
                    .withObjectIndenter(new DefaultIndenter("  ", "\n"))
                    .withArrayIndenter(new DefaultIndenter("  ", "\n")));

    private RolloutJson() {}

    public static byte[] write(Rollout rollout) {
        return serialize(tree(rollout));
    }

    public static ObjectNode tree(Rollout rollout) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("schema_version", SCHEMA_VERSION);
        root.set("definition", definition(rollout.definition()));
        root.set("plan", plan(rollout.plan()));
        root.set("status", status(rollout.status()));
        ObjectNode runs = root.putObject("runs");
        rollout.runs().forEach((device, run) -> runs.set(device.value(), run(run)));
        ArrayNode stages = root.putArray("stages");
        for (StageRun stage : rollout.stages()) {
            ObjectNode node = stages.addObject();
            node.put("number", stage.number());
            optional(node, "started_at", stage.startedAt());
            optional(node, "soak_started_at", stage.soakStartedAt());
            optional(node, "ended_at", stage.endedAt());
            node.put("passed", stage.passed());
            node.set("gates", gates(stage.gates()));
        }
        root.set("timeline", timeline(rollout.timeline()));
        root.put("revision", rollout.revision());
        return root;
    }

    /** What {@code --dry-run} prints: the definition and the plan, nothing stored. */
    public static byte[] plan(RolloutDefinition definition, Plan plan) {
        ObjectNode root = MAPPER.createObjectNode();
        root.set("definition", definition(definition));
        root.set("plan", plan(plan));
        return serialize(root);
    }

    public static byte[] view(RolloutView view) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("id", view.id().value());
        root.put("track", view.track());
        root.put("target", view.target());
        root.put("state", view.state());
        root.put("summary", view.summary());
        root.set("current_stage", view.currentStage().<JsonNode>map(root::numberNode).orElse(root.nullNode()));
        ArrayNode stages = root.putArray("stages");
        for (RolloutView.StageView stage : view.stages()) {
            ObjectNode node = stages.addObject();
            node.put("number", stage.number());
            node.put("size", stage.size());
            ArrayNode sites = node.putArray("sites");
            stage.sites().forEach(sites::add);
            node.put("devices", stage.devices());
            node.put("state", stage.state());
            ObjectNode counts = node.putObject("counts");
            counts.put("not_started", stage.counts().notStarted());
            counts.put("in_progress", stage.counts().inProgress());
            counts.put("succeeded", stage.counts().succeeded());
            counts.put("failed", stage.counts().failed());
            counts.put("accepted", stage.counts().accepted());
            counts.put("reverted", stage.counts().reverted());
            counts.put("not_reverted", stage.counts().notReverted());
            node.set("started_at", instantOrNull(stage.startedAt()));
            node.set("soak_ends_at", instantOrNull(stage.soakEndsAt()));
            node.set("ended_at", instantOrNull(stage.endedAt()));
            node.set("gates", gates(stage.gates()));
            ArrayNode failures = node.putArray("failures");
            stage.failures().forEach(failures::add);
        }
        ObjectNode excluded = root.putObject("excluded");
        view.excluded().forEach(excluded::put);
        root.set("timeline", timeline(view.timeline()));
        root.put("revision", view.revision());
        return serialize(root);
    }

    public static Rollout read(byte[] content, String source) {
        requireNonNull(content, "content");
        Reader reader = new Reader(source);
        JsonNode root;
        try {
            root = MAPPER.readTree(content);
        } catch (IOException e) {
            throw reader.invalid("it is not JSON (" + e.getMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw reader.invalid("it is not a JSON object");
        }
        int schema = reader.integer(root, "schema_version");
        if (schema != SCHEMA_VERSION) {
            throw reader.invalid("its schema_version is " + schema + "; this Ingot reads " + SCHEMA_VERSION)
                    .withHint("upgrade Ingot if the rollout was stored by a newer one");
        }
        try {
            RolloutDefinition definition = reader.definition(reader.object(root, "definition"));
            Plan plan = reader.plan(reader.object(root, "plan"), definition.track());
            Status status = reader.status(reader.object(root, "status"));
            TreeMap<DeviceId, DeviceRun> runs = new TreeMap<>(Rollout.BY_ID);
            for (Map.Entry<String, JsonNode> field : reader.object(root, "runs").properties()) {
                runs.put(new DeviceId(field.getKey()), reader.run(field.getValue()));
            }
            List<StageRun> stages = reader.list(root, "stages", node -> new StageRun(reader.integer(node, "number"),
                    reader.optionalInstant(node, "started_at"), reader.optionalInstant(node, "soak_started_at"),
                    reader.optionalInstant(node, "ended_at"), reader.bool(node, "passed"), reader.list(node, "gates", reader::gate)));
            List<TimelineEntry> timeline = reader.list(root, "timeline", node -> new TimelineEntry(reader.instant(node, "at"),
                    reader.text(node, "actor"), reader.text(node, "event"), reader.text(node, "before"), reader.text(node, "after"),
                    reader.text(node, "detail")));
            return new Rollout(definition, plan, status, runs, stages, timeline, reader.integer(root, "revision"));
        } catch (IngotException e) {
            if (e.getMessage().startsWith("Tried to read the rollout")) {
                throw e;
            }
            throw reader.invalid(e.getMessage());
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw reader.invalid(e.getMessage());
        }
    }

    private static byte[] serialize(JsonNode node) {
        try {
            // Through plain maps, so ORDER_MAP_ENTRIES_BY_KEYS sorts every level.
            Object plain = MAPPER.treeToValue(node, Object.class);
            return (MAPPER.writeValueAsString(plain) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }

    private static ObjectNode definition(RolloutDefinition definition) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("id", definition.id().value());
        node.put("track", definition.track().json());
        ObjectNode target = node.putObject("target");
        switch (definition.target()) {
            case Target.Image image -> target.put("version", image.version().toString());
            case Target.ContainerTag tag -> target.put("tag", tag.tag());
            case Target.Reboot reboot -> {
                ArrayNode devices = target.putArray("devices");
                reboot.devices().forEach(device -> devices.add(device.value()));
                target.put("only_if_reboot_required", reboot.onlyIfRebootRequired());
            }
        }
        node.put("stages", definition.stages().text());
        node.put("soak", DurationText.format(definition.soak()));
        ArrayNode gates = node.putArray("gates");
        definition.gates().forEach(gate -> gates.add(gate.text()));
        node.put("failure_policy", definition.failurePolicy().json());
        node.put("max_failures", definition.maxFailures().limit().text());
        node.put("minimum_sample", definition.maxFailures().minimumSample());
        node.put("sites", definition.sites().text());
        node.put("device_deadline", DurationText.format(definition.deviceDeadline()));
        node.put("offline_after", DurationText.format(definition.offlineAfter()));
        node.put("gate_timeout", DurationText.format(definition.gateTimeout()));
        node.put("created_by", definition.createdBy());
        node.put("created_at", definition.createdAt().toString());
        return node;
    }

    private static ObjectNode plan(Plan plan) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("planned_at", plan.plannedAt().toString());
        ArrayNode stages = node.putArray("stages");
        for (Plan.Stage stage : plan.stages()) {
            ObjectNode stageNode = stages.addObject();
            stageNode.put("number", stage.number());
            stageNode.put("size", stage.size().text());
            ArrayNode sites = stageNode.putArray("sites");
            stage.sites().forEach(site -> sites.add(site.value()));
            ArrayNode devices = stageNode.putArray("devices");
            for (Plan.Device device : stage.devices()) {
                ObjectNode deviceNode = devices.addObject();
                deviceNode.put("id", device.id().value());
                deviceNode.put("site", device.site().value());
                deviceNode.put("previous", device.previous().map(RolloutJson::targetValue).orElse(null));
                deviceNode.put("baseline", device.baseline().json());
            }
        }
        ArrayNode excluded = node.putArray("excluded");
        for (Plan.Exclusion exclusion : plan.excluded()) {
            ObjectNode exclusionNode = excluded.addObject();
            exclusionNode.put("device", exclusion.device().value());
            exclusionNode.put("site", exclusion.site().value());
            exclusionNode.put("reason", exclusion.reason().json());
            exclusionNode.put("detail", exclusion.detail());
        }
        return node;
    }

    private static String targetValue(Target target) {
        return switch (target) {
            case Target.Image image -> image.version().toString();
            case Target.ContainerTag tag -> tag.tag();
            case Target.Reboot reboot -> throw new IllegalArgumentException("a reboot is never a previous state");
        };
    }

    private static ObjectNode status(Status status) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("state", status.name());
        switch (status) {
            case Status.Planned planned -> { }
            case Status.Running running -> {
                node.put("stage", running.stage());
                node.put("phase", running.phase().json());
                node.put("since", running.since().toString());
            }
            case Status.Paused paused -> {
                node.set("resume_to", status(paused.resumeTo()));
                node.put("since", paused.since().toString());
                node.put("actor", paused.actor());
            }
            case Status.Halted halted -> {
                node.put("stage", halted.stage());
                node.put("phase", halted.phase().json());
                node.put("reason", halted.reason());
                node.put("since", halted.since().toString());
            }
            case Status.RollingBack rollingBack -> {
                node.put("reason", rollingBack.reason());
                node.put("since", rollingBack.since().toString());
            }
            case Status.RolledBack rolledBack -> node.put("at", rolledBack.at().toString());
            case Status.Aborted aborted -> {
                node.put("at", aborted.at().toString());
                node.put("actor", aborted.actor());
            }
            case Status.Completed completed -> node.put("at", completed.at().toString());
        }
        return node;
    }

    private static ObjectNode run(DeviceRun run) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("stage", run.stage());
        node.put("written_at", run.writtenAt().toString());
        node.put("outcome", run.outcome().json());
        run.reason().ifPresent(reason -> node.put("reason", reason));
        optional(node, "decided_at", run.decidedAt());
        node.put("accepted", run.accepted());
        node.put("revert", run.revert().json());
        optional(node, "revert_written_at", run.revertWrittenAt());
        run.revertReason().ifPresent(reason -> node.put("revert_reason", reason));
        return node;
    }

    private static ArrayNode gates(List<GateResult> results) {
        ArrayNode array = MAPPER.createArrayNode();
        for (GateResult result : results) {
            ObjectNode node = array.addObject();
            node.put("gate", result.gate());
            node.put("verdict", result.verdict().json());
            node.put("reason", result.reason());
            node.put("at", result.at().toString());
        }
        return array;
    }

    private static ArrayNode timeline(List<TimelineEntry> entries) {
        ArrayNode array = MAPPER.createArrayNode();
        for (TimelineEntry entry : entries) {
            ObjectNode node = array.addObject();
            node.put("at", entry.at().toString());
            node.put("actor", entry.actor());
            node.put("event", entry.event());
            node.put("before", entry.before());
            node.put("after", entry.after());
            node.put("detail", entry.detail());
        }
        return array;
    }

    private static void optional(ObjectNode node, String field, Optional<Instant> value) {
        value.ifPresent(instant -> node.put(field, instant.toString()));
    }

    private static JsonNode instantOrNull(Optional<Instant> value) {
        return value.<JsonNode>map(instant -> MAPPER.getNodeFactory().textNode(instant.toString())).orElse(MAPPER.nullNode());
    }

    /** Field readers that name the field and the rollout in their errors. */
    private record Reader(String source) {
        IngotException invalid(String reason) {
            return IngotException.tried(ErrorCode.BAD_INPUT, "read the rollout " + source, reason);
        }

        JsonNode required(JsonNode node, String field) {
            JsonNode value = node.get(field);
            if (value == null || value.isNull()) {
                throw invalid("it has no '" + field + "'");
            }
            return value;
        }

        JsonNode object(JsonNode node, String field) {
            JsonNode value = required(node, field);
            if (!value.isObject()) {
                throw invalid("'" + field + "' is not an object");
            }
            return value;
        }

        String text(JsonNode node, String field) {
            JsonNode value = required(node, field);
            if (!value.isTextual()) {
                throw invalid("'" + field + "' is not a string");
            }
            return value.asText();
        }

        Optional<String> optionalText(JsonNode node, String field) {
            return node.hasNonNull(field) ? Optional.of(text(node, field)) : Optional.empty();
        }

        int integer(JsonNode node, String field) {
            JsonNode value = required(node, field);
            if (!value.isIntegralNumber() || !value.canConvertToInt() || value.asInt() < 0) {
                throw invalid("'" + field + "' is not a non-negative whole number");
            }
            return value.asInt();
        }

        boolean bool(JsonNode node, String field) {
            JsonNode value = required(node, field);
            if (!value.isBoolean()) {
                throw invalid("'" + field + "' is not true or false");
            }
            return value.asBoolean();
        }

        Instant instant(JsonNode node, String field) {
            String text = text(node, field);
            try {
                return Instant.parse(text);
            } catch (DateTimeParseException e) {
                throw invalid("'" + field + "' is not an ISO-8601 instant: '" + text + "'");
            }
        }

        Optional<Instant> optionalInstant(JsonNode node, String field) {
            return node.hasNonNull(field) ? Optional.of(instant(node, field)) : Optional.empty();
        }

        <T> List<T> list(JsonNode node, String field, Function<JsonNode, T> element) {
            JsonNode value = required(node, field);
            if (!value.isArray()) {
                throw invalid("'" + field + "' is not an array");
            }
            List<T> items = new ArrayList<>();
            value.forEach(item -> items.add(element.apply(item)));
            return items;
        }

        RolloutDefinition definition(JsonNode node) {
            RolloutId id = new RolloutId(text(node, "id"));
            Track track = Track.parse(text(node, "track"));
            JsonNode targetNode = object(node, "target");
            Target target = switch (track) {
                case REIMAGE -> new Target.Image(ImageVersion.parse(text(targetNode, "version")));
                case CONTAINER -> new Target.ContainerTag(text(targetNode, "tag"));
                case REBOOT -> new Target.Reboot(list(targetNode, "devices", device -> new DeviceId(device.asText())),
                        bool(targetNode, "only_if_reboot_required"));
            };
            return new RolloutDefinition(id, target, Stages.parse(text(node, "stages")), DurationText.parse(text(node, "soak"), "the soak"),
                    list(node, "gates", gate -> GateSpec.parse(gate.asText())), FailurePolicy.parse(text(node, "failure_policy")),
                    MaxFailures.parse(text(node, "max_failures"), integer(node, "minimum_sample")), SiteFilter.parse(text(node, "sites")),
                    DurationText.parse(text(node, "device_deadline"), "the device deadline"),
                    DurationText.parse(text(node, "offline_after"), "the offline threshold"),
                    DurationText.parse(text(node, "gate_timeout"), "the gate timeout"), text(node, "created_by"), instant(node, "created_at"));
        }

        Plan plan(JsonNode node, Track track) {
            List<Plan.Stage> stages = list(node, "stages", stage -> {
                String size = text(stage, "size");
                Stages.Size parsed = size.endsWith("%") ? new Stages.Percent(Integer.parseInt(size.substring(0, size.length() - 1)))
                        : new Stages.Sites(Integer.parseInt(size));
                return new Plan.Stage(integer(stage, "number"), parsed, list(stage, "sites", site -> new SiteId(site.asText())),
                        list(stage, "devices", device -> new Plan.Device(new DeviceId(text(device, "id")), new SiteId(text(device, "site")),
                                optionalText(device, "previous").map(previous -> switch (track) {
                                    case REIMAGE -> new Target.Image(ImageVersion.parse(previous));
                                    case CONTAINER -> new Target.ContainerTag(previous);
                                    case REBOOT -> throw invalid("a reboot rollout's device has a previous value");
                                }), health(text(device, "baseline")))));
            });
            List<Plan.Exclusion> excluded = list(node, "excluded", exclusion -> new Plan.Exclusion(new DeviceId(text(exclusion, "device")),
                    new SiteId(text(exclusion, "site")), Plan.Reason.parse(text(exclusion, "reason")), text(exclusion, "detail")));
            return new Plan(stages, excluded, instant(node, "planned_at"));
        }

        Status status(JsonNode node) {
            String state = text(node, "state");
            return switch (state) {
                case "planned" -> new Status.Planned();
                case "running" -> new Status.Running(integer(node, "stage"), Status.Phase.parse(text(node, "phase")), instant(node, "since"));
                case "paused" -> new Status.Paused(status(object(node, "resume_to")), instant(node, "since"), text(node, "actor"));
                case "halted" -> new Status.Halted(integer(node, "stage"), Status.Phase.parse(text(node, "phase")), text(node, "reason"),
                        instant(node, "since"));
                case "rolling_back" -> new Status.RollingBack(text(node, "reason"), instant(node, "since"));
                case "rolled_back" -> new Status.RolledBack(instant(node, "at"));
                case "aborted" -> new Status.Aborted(instant(node, "at"), text(node, "actor"));
                case "completed" -> new Status.Completed(instant(node, "at"));
                default -> throw invalid("'" + state + "' is not a rollout state");
            };
        }

        DeviceRun run(JsonNode node) {
            return new DeviceRun(integer(node, "stage"), instant(node, "written_at"), DeviceRun.Outcome.parse(text(node, "outcome")),
                    optionalText(node, "reason"), optionalInstant(node, "decided_at"), bool(node, "accepted"),
                    DeviceRun.Revert.parse(text(node, "revert")), optionalInstant(node, "revert_written_at"), optionalText(node, "revert_reason"));
        }

        GateResult gate(JsonNode node) {
            return new GateResult(text(node, "gate"), GateResult.Verdict.parse(text(node, "verdict")), text(node, "reason"), instant(node, "at"));
        }

        HealthStatus health(String text) {
            return HealthStatus.valueOf(text.toUpperCase(Locale.ROOT));
        }
    }
}
