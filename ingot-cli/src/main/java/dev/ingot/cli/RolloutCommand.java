package dev.ingot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rollout", mixinStandardHelpOptions = true,
        header = "Staged rollouts: start (or plan), follow, pause, resume, abort and roll back, on three tracks.",
        description = {"Staged rollouts on the control plane: one canary site, then 10%%, 50%% and 100%% of the rest, each",
            "stage soaked and gated by the devices' health and CloudWatch alarms; a failed stage halts (or is rolled",
            "back) before the change goes further. Three tracks: reimage (a new golden image, A/B), container (a",
            "video-ingest tag), reboot (devices an operator selected)."},
        subcommands = {RolloutCommand.Start.class, RolloutCommand.Status.class, RolloutCommand.ListRollouts.class, RolloutCommand.Pause.class,
            RolloutCommand.Resume.class, RolloutCommand.Abort.class, RolloutCommand.Rollback.class})
final class RolloutCommand {
    private static final List<String> FINAL = List.of("completed", "aborted", "rolled_back");

    @Command(name = "start", header = "Plan a rollout and start it, or show its plan with --dry-run (operator role).",
            description = {"Plan a rollout and start it (operator role). --dry-run shows the plan (the stages, their sites and",
        "devices, and every device left out with its reason) and changes nothing. The rollout holds its devices until",
        "it is completed, aborted or rolled back: no other rollout and no direct 'ingot device set' on its track",
        "touches them."},
            footer = {"", "Examples:",
                "  ingot rollout start v1.5 --track reimage --dry-run",
                "  ingot rollout start v1.5 --track reimage --stages 1,10%%,50%%,100%% --soak 30m \\",
                "      --gate health --gate cloudwatch:edge-health-",
                "  ingot rollout start v1.5 --track reimage --sites 'tag:region:eu-*' --max-failures 5%% --on-failure rollback",
                "  ingot rollout start --track container --tag 2026.11.3 --soak 15m",
                "  ingot rollout start --track reboot --devices-file needs-reboot.txt --only-if-reboot-required",
                "", "Durations: 90s, 30m, 2h, 1h30m, 1d.",
                "Gates: health, cloudwatch:PREFIX, cloudwatch:PREFIX?insufficient-data=wait&unreadable=pass",
                "(each of fail, wait, pass).",
                "Exit codes: 0 started (or planned), 2 bad input, 3 no device eligible or the server unreachable."})
    static final class Start extends BaseCommand {
        @Parameters(paramLabel = "VERSION", arity = "0..1", description = "The image version (reimage track).")
        String version;

        @Option(names = "--track", paramLabel = "TRACK", defaultValue = "reimage", description = "reimage, container or reboot. Default: ${DEFAULT-VALUE}.")
        String track;

        @Option(names = "--tag", paramLabel = "TAG", description = "The video-ingest tag (container track; never 'latest').")
        String tag;

        @Option(names = "--devices", paramLabel = "ID,ID", split = ",", description = "The devices to reboot (reboot track); no other is rebooted.")
        List<String> devices;

        @Option(names = "--devices-file", paramLabel = "FILE", description = "The devices to reboot, one id a line (reboot track).")
        Path devicesFile;

        @Option(names = "--only-if-reboot-required", description = "Reboot track: leave out a selected device whose latest report needs no reboot.")
        boolean onlyIfRebootRequired;

        @Option(names = "--stages", paramLabel = "SIZES", description = "Stage sizes: a canary count, then shares of the rest. Default: 1,10%%,50%%,100%%.")
        String stages;

        @Option(names = "--soak", paramLabel = "DURATION", description = "How long each stage is watched once its devices are done. Default: 30m.")
        String soak;

        @Option(names = "--gate", paramLabel = "GATE", description = "health, or cloudwatch:PREFIX; repeat for several. Default: health.")
        List<String> gates;

        @Option(names = "--max-failures", paramLabel = "N|P%", description = "Failed devices a stage tolerates. Default: 0.")
        String maxFailures;

        @Option(names = "--min-sample", paramLabel = "N", description = "A share in --max-failures counts only on stages of at least N devices. Default: 10.")
        Integer minimumSample;

        @Option(names = "--on-failure", paramLabel = "POLICY", description = "halt (wait for an operator) or rollback (the failed stage). Default: halt.")
        String onFailure;

        @Option(names = "--sites", paramLabel = "FILTER", description = "Which sites: SITE-28*, tag:region:eu-*, *,!tag:lab. Default: every site.")
        String sites;

        @Option(names = "--device-deadline", paramLabel = "DURATION", description = "How long a device has to commit and report healthy. Default: 30m.")
        String deviceDeadline;

        @Option(names = "--offline-after", paramLabel = "DURATION", description = "Devices not heard from this long are left out. Default: 10m.")
        String offlineAfter;

        @Option(names = "--gate-timeout", paramLabel = "DURATION", description = "How long past a soak a gate may keep saying wait. Default: 15m.")
        String gateTimeout;

        @Option(names = "--dry-run", description = "Show the plan; store and change nothing.")
        boolean dryRun;

        @Option(names = "--id", paramLabel = "ID", description = {"Name the rollout (lowercase letters, digits, '-'); default: one the server makes.",
            "The plan follows from it: a --dry-run with the same --id shows the stages the rollout will have."})
        String id;

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        Start(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            Map<String, Object> request = new LinkedHashMap<>();
            put(request, "id", id);
            request.put("track", track);
            switch (track) {
                case "reimage" -> request.put("version", required(version, "a version", "ingot rollout start v1.5 --track reimage"));
                case "container" -> request.put("tag", required(tag, "--tag", "ingot rollout start --track container --tag 2026.11.3"));
                case "reboot" -> {
                    List<String> named = new ArrayList<>(devices == null ? List.of() : devices);
                    if (devicesFile != null) {
                        named.addAll(deviceIds(context.resolve(devicesFile)));
                    }
                    if (named.isEmpty()) {
                        throw IngotException.tried(ErrorCode.BAD_INPUT, "start a reboot rollout", "no device is named")
                                .withHint("name them: --devices ID,ID or --devices-file FILE (ingot device list shows those reporting reboot-required)");
                    }
                    request.put("devices", named);
                    request.put("only_if_reboot_required", onlyIfRebootRequired);
                }
                default -> throw IngotException.tried(ErrorCode.BAD_INPUT, "read the track '" + track + "'", "a track is reimage, container or reboot");
            }
            if (!track.equals("reimage") && version != null || !track.equals("container") && tag != null
                    || !track.equals("reboot") && (devices != null || devicesFile != null || onlyIfRebootRequired)) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "start a " + track + " rollout", "a version belongs to --track reimage, --tag to "
                        + "--track container, --devices and --only-if-reboot-required to --track reboot").withHint("see ingot rollout start --help");
            }
            put(request, "stages", stages);
            put(request, "soak", soak);
            put(request, "gates", gates);
            put(request, "max_failures", maxFailures);
            put(request, "minimum_sample", minimumSample);
            put(request, "on_failure", onFailure);
            put(request, "sites", sites);
            put(request, "device_deadline", deviceDeadline);
            put(request, "offline_after", offlineAfter);
            put(request, "gate_timeout", gateTimeout);
            if (dryRun) {
                request.put("dry_run", true);
            }
            ServerClient client = server.connect(context);
            JsonNode answer = client.post("/api/v1/rollouts", request);
            if (dryRun) {
                emit(plan(answer), answer);
            } else {
                emit("Started rollout " + answer.path("id").asText() + " (" + answer.path("target").asText() + ", " + answer.path("track").asText()
                        + "); follow it with: ingot rollout status " + answer.path("id").asText() + " --wait\n" + statusText(answer), answer);
            }
            return 0;
        }

        private static String required(String value, String what, String example) {
            if (value == null) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "start the rollout", "it needs " + what).withHint("e.g. " + example);
            }
            return value;
        }

        private static void put(Map<String, Object> request, String field, Object value) {
            if (value != null) {
                request.put(field, value);
            }
        }

        private static List<String> deviceIds(Path file) {
            try {
                return Files.readAllLines(file).stream().map(String::strip).filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
            } catch (IOException e) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "read the devices file " + file, String.valueOf(e.getMessage()));
            }
        }
    }

    @Command(name = "status", description = "A rollout: its stages with their counts and gate results, what was left out, and its timeline.",
            footer = {"", "Examples:", "  ingot rollout status r-20261130-0800-7f3a", "  ingot rollout status r-20261130-0800-7f3a --wait",
                "  ingot rollout status r-20261130-0800-7f3a --json", "",
                "With --wait: follows the rollout until it completes (exit 0), or halts, is rolled back or aborted (exit 1)."})
    static final class Status extends BaseCommand {
        @Parameters(paramLabel = "ID", description = "The rollout id.")
        String id;

        @Option(names = "--wait", description = "Follow it, printing each new timeline entry, until it completes, halts or ends.")
        boolean await;

        @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "5s", description = "With --wait: how often to ask. Default: ${DEFAULT-VALUE}.")
        String interval;

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        Status(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() throws InterruptedException {
            ServerClient client = server.connect(context);
            String path = "/api/v1/rollouts/" + ServerClient.segment(id);
            JsonNode rollout = client.get(path, Map.of());
            if (!await) {
                emit(statusText(rollout), rollout);
                return 0;
            }
            Duration every = dev.ingot.rollout.DurationText.parse(interval, "--interval");
            int shown = 0;
            while (true) {
                JsonNode timeline = rollout.path("timeline");
                if (!json()) {
                    for (; shown < timeline.size(); shown++) {
                        JsonNode entry = timeline.get(shown);
                        context.err().println(entry.path("at").asText() + "  " + entry.path("actor").asText() + "  " + entry.path("event").asText()
                                + ": " + entry.path("detail").asText());
                    }
                    context.err().flush();
                }
                String state = rollout.path("state").asText();
                if (FINAL.contains(state) || state.equals("halted")) {
                    emit(statusText(rollout), rollout);
                    return state.equals("completed") ? 0 : ErrorCode.CHECK_FAILED.exitCode();
                }
                Thread.sleep(every.toMillis());
                rollout = client.get(path, Map.of());
            }
        }
    }

    @Command(name = "list", description = "The rollouts, newest first.",
            footer = {"", "Examples:", "  ingot rollout list", "  ingot rollout list --active --json"})
    static final class ListRollouts extends BaseCommand {
        @Option(names = "--active", description = "Only those not yet completed, aborted or rolled back.")
        boolean active;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "At most this many. Default: ${DEFAULT-VALUE}.")
        int limit;

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        ListRollouts(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            JsonNode rollouts = server.connect(context).get("/api/v1/rollouts", Map.of("state", active ? "active" : "all", "limit", String.valueOf(limit)));
            TextTable table = new TextTable("ID", "TRACK", "TARGET", "STATE", "STAGE", "DEVICES", "STARTED", "BY");
            rollouts.forEach(rollout -> table.row(rollout.path("id").asText(), rollout.path("track").asText(), rollout.path("target").asText(),
                    rollout.path("state").asText(), rollout.path("current_stage").isNull() ? "-"
                            : rollout.path("current_stage").asText() + "/" + rollout.path("stages").asText(),
                    rollout.path("devices").asText(), rollout.path("created_at").asText(), rollout.path("created_by").asText()));
            emit(rollouts.isEmpty() ? "No rollout" + (active ? " is active." : " yet.") : table.toString(), rollouts);
            return 0;
        }
    }

    /** What pause, resume, abort and rollback share: the rollout, a note for its timeline, and how the answer is shown. */
    abstract static class Operation extends BaseCommand {
        static final String EXIT_CODES = "Exit codes: 0 taken (or queued for the engine), 2 bad input or no such rollout, 3 refused in the "
                + "rollout's state, or the server unreachable.";

        @Parameters(paramLabel = "ID", description = "The rollout id.")
        String id;

        @Option(names = "--note", paramLabel = "TEXT", description = "Why, for the timeline and the audit log.")
        String note;

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        Operation(CliContext context) {
            super(context);
        }

        abstract String verb();

        abstract String done();

        @Override
        public Integer call() {
            Map<String, Object> body = new LinkedHashMap<>();
            if (note != null) {
                body.put("note", note);
            }
            JsonNode rollout = server.connect(context).post("/api/v1/rollouts/" + ServerClient.segment(id) + "/" + verb(), body);
            String head = rollout.path("queued").asBoolean()
                    ? "Asked to " + verb() + " rollout " + id + "; the engine has not taken it yet (is a server running its engine?)."
                    : done() + " rollout " + id + ": now " + rollout.path("summary").asText() + ".";
            emit(head + "\n" + statusText(rollout), rollout);
            return 0;
        }
    }

    @Command(name = "pause", description = "Pause a rollout: nothing new is written; devices already written carry on and are still watched.",
            footer = {"", "Example:", "  ingot rollout pause r-20261130-0800-7f3a --note 'change freeze'", "", Operation.EXIT_CODES})
    static final class Pause extends Operation {
        Pause(CliContext context) {
            super(context);
        }

        @Override
        String verb() {
            return "pause";
        }

        @Override
        String done() {
            return "Paused";
        }
    }

    @Command(name = "resume", header = "Resume a paused rollout where it was, or a halted one accepting its stage's failures.",
            description = {"Resume a paused rollout where it was, or a halted one: its stage's failures are accepted and it",
        "carries on (a halted soak starts again)."}, footer = {"", "Example:", "  ingot rollout resume r-20261130-0800-7f3a --note 'SITE-0045 is a lab unit'", "", Operation.EXIT_CODES})
    static final class Resume extends Operation {
        Resume(CliContext context) {
            super(context);
        }

        @Override
        String verb() {
            return "resume";
        }

        @Override
        String done() {
            return "Resumed";
        }
    }

    @Command(name = "abort", header = "Abort a rollout: no further device is written.",
            description = {"Abort a rollout: no further device is written; those written keep what they got (a rollback in",
                "progress stops writing back)."},
            footer = {"", "Example:", "  ingot rollout abort r-20261130-0800-7f3a", "", Operation.EXIT_CODES})
    static final class Abort extends Operation {
        Abort(CliContext context) {
            super(context);
        }

        @Override
        String verb() {
            return "abort";
        }

        @Override
        String done() {
            return "Aborted";
        }
    }

    @Command(name = "rollback", header = "Roll a rollout back: every device it wrote gets its previous version or tag back.",
            description = {"Roll a rollout back: every device it wrote gets its previous version or tag back, and is watched",
        "until it reports it. Not on the reboot track (a reboot cannot be undone)."},
            footer = {"", "Example:", "  ingot rollout rollback r-20261130-0800-7f3a --note 'GPU driver regression'", "", Operation.EXIT_CODES})
    static final class Rollback extends Operation {
        Rollback(CliContext context) {
            super(context);
        }

        @Override
        String verb() {
            return "rollback";
        }

        @Override
        String done() {
            return "Rolling back";
        }
    }

    /** The status view's lines as the server made them (dev.ingot.rollout.RolloutView#lines), and the fleet's versions. */
    static String statusText(JsonNode rollout) {
        StringBuilder text = new StringBuilder();
        rollout.path("lines").forEach(line -> text.append(line.asText()).append('\n'));
        JsonNode versions = rollout.path("fleet").path("versions");
        if (versions.isObject() && !versions.isEmpty()) {
            List<String> parts = new ArrayList<>();
            versions.properties().forEach(entry -> parts.add(entry.getKey() + " " + entry.getValue().asLong()));
            text.append("fleet ").append(rollout.path("fleet").path("track").asText().equals("container") ? "tags" : "versions").append(": ")
                    .append(String.join(", ", parts)).append('\n');
        }
        return text.toString();
    }

    /** The plan of a dry run: each stage with its sites, and the devices left out, counted by reason with a few examples. */
    static String plan(JsonNode answer) {
        JsonNode definition = answer.path("definition");
        JsonNode plan = answer.path("plan");
        StringBuilder text = new StringBuilder();
        String target = definition.path("target").has("version") ? definition.path("target").path("version").asText()
                : definition.path("target").has("tag") ? "video-ingest " + definition.path("target").path("tag").asText()
                : "reboot of " + definition.path("target").path("devices").size() + " selected devices";
        text.append("Plan for ").append(target).append(" (").append(definition.path("track").asText()).append("), soak ")
                .append(definition.path("soak").asText()).append(", gates ").append(String.join(", ", texts(definition.path("gates")))).append(", on failure ").append(definition.path("failure_policy").asText())
                .append(" — dry run, nothing changed:\n");
        TextTable table = new TextTable("STAGE", "SIZE", "SITES", "DEVICES", "FIRST SITES");
        int planned = 0;
        for (JsonNode stage : plan.path("stages")) {
            List<String> sites = texts(stage.path("sites"));
            planned += stage.path("devices").size();
            table.row(stage.path("number").asText(), stage.path("size").asText(), String.valueOf(sites.size()), String.valueOf(stage.path("devices").size()),
                    String.join(", ", sites.subList(0, Math.min(5, sites.size()))) + (sites.size() > 5 ? ", …" : ""));
        }
        text.append(plan.path("stages").isEmpty() ? "No device is eligible.\n" : table.toString());
        Map<String, List<JsonNode>> excluded = new TreeMap<>();
        plan.path("excluded").forEach(exclusion -> excluded.computeIfAbsent(exclusion.path("reason").asText(), key -> new ArrayList<>()).add(exclusion));
        text.append(planned).append(" devices planned");
        if (excluded.isEmpty()) {
            return text.append(", none left out.\n").toString();
        }
        text.append("; left out:\n");
        excluded.forEach((reason, list) -> {
            text.append("  ").append(reason.replace('_', ' ')).append(": ").append(list.size()).append('\n');
            list.stream().limit(3).forEach(exclusion -> text.append("    ").append(exclusion.path("device").asText()).append(" at ")
                    .append(exclusion.path("site").asText()).append(": ").append(exclusion.path("detail").asText()).append('\n'));
        });
        return text.toString();
    }

    private static List<String> texts(JsonNode array) {
        List<String> list = new ArrayList<>();
        array.forEach(item -> list.add(item.asText()));
        return list;
    }
}
