package dev.ingot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.server.http.Durations;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "device", mixinStandardHelpOptions = true,
        description = {"Devices on the control plane: list and filter, show one with its report and actions, change what they should run;",
            "revoke a device's credential, remove it from the fleet, or let a known device enroll again."},
        subcommands = {DeviceCommand.ListDevices.class, DeviceCommand.Show.class, DeviceCommand.Set.class, DeviceCommand.Revoke.class,
            DeviceCommand.Remove.class, DeviceCommand.Reenroll.class})
final class DeviceCommand {

    /** The filters shared by list and set; the server's query parameters of the same names. */
    static final class Filter {
        @Option(names = "--site", paramLabel = "SITE", description = "Devices of this site.")
        String site;

        @Option(names = "--version", paramLabel = "VERSION", description = "Devices that report this image version.")
        String version;

        @Option(names = "--status", paramLabel = "STATUS", description = "healthy, degraded, unhealthy, or unknown (never reported).")
        String status;

        @Option(names = "--tag", paramLabel = "TAG", description = "Devices of sites with this tag.")
        String tag;

        @Option(names = "--seen-within", paramLabel = "DURATION", description = "Heard from within this long (15m, 2h).")
        String seenWithin;

        @Option(names = "--not-seen-within", paramLabel = "DURATION", description = "Not heard from within this long (offline).")
        String notSeenWithin;

        Map<String, String> query() {
            Map<String, String> query = new LinkedHashMap<>();
            query.put("site", site);
            query.put("version", version);
            query.put("status", status);
            query.put("tag", tag);
            query.put("seen_within", seenWithin == null ? null : Durations.format(Durations.parse(seenWithin, "--seen-within")));
            query.put("not_seen_within", notSeenWithin == null ? null : Durations.format(Durations.parse(notSeenWithin, "--not-seen-within")));
            return query;
        }

        boolean empty() {
            return query().values().stream().allMatch(value -> value == null);
        }
    }

    @Command(name = "list", description = "List devices, filtered.",
            footer = {"", "Examples:", "  ingot device list --status unhealthy", "  ingot device list --version v1.4 --tag pilot --json",
                "  ingot device list --not-seen-within 1h"})
    static final class ListDevices extends BaseCommand {
        @Mixin
        Filter filter = new Filter();

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        ListDevices(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            JsonNode devices = server.connect(context).get("/api/v1/devices", filter.query());
            emit(devices.isEmpty() ? "No device matches." : table(devices, context.clock()), devices);
            return 0;
        }
    }

    @Command(name = "show", description = "One device: what it reports, what it should run, its actions and latest report.",
            footer = {"", "Examples:", "  ingot device show 3d1219c7c4c5404aaa1f6d2a48adfda4", "  ingot device show 3d1219c7c4c5404aaa1f6d2a48adfda4 --json"})
    static final class Show extends BaseCommand {
        @Parameters(paramLabel = "DEVICE", description = "The device id (its machine id).")
        String device;

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        Show(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            JsonNode detail = server.connect(context).get("/api/v1/devices/" + ServerClient.segment(device), Map.of());
            JsonNode summary = detail.path("device");
            JsonNode reported = summary.path("reported");
            JsonNode desired = summary.path("desired");
            StringBuilder text = new StringBuilder();
            text.append("device      ").append(summary.path("id").asText()).append(" at ").append(summary.path("site_id").asText()).append('\n');
            text.append("status      ").append(reported.path("status").asText("unknown")).append(", last seen ")
                    .append(ago(summary.path("last_seen_at"), context.clock())).append('\n');
            text.append("image       ").append(reported.path("image_version").asText("-")).append(wanted(desired.path("image"), reported.path("image_version")))
                    .append('\n');
            text.append("container   ").append(reported.path("container_tag").asText("-"))
                    .append(wanted(desired.path("container_tag"), reported.path("container_tag"))).append('\n');
            text.append("reboot      ").append(reported.path("reboot_required").asBoolean() ? "required" : "not required")
                    .append(desired.hasNonNull("reboot_request") ? ", requested: " + desired.path("reboot_request").asText() : "").append('\n');
            if (summary.hasNonNull("removed_at")) {
                text.append("removed     ").append(summary.path("removed_at").asText()).append(" (not in the fleet; ingot device reenroll brings it back)\n");
            } else if (summary.hasNonNull("revoked_at")) {
                text.append("credential  revoked ").append(summary.path("revoked_at").asText()).append(" (ingot device reenroll lets it back)\n");
            }
            text.append("desired     generation ").append(desired.path("generation").asLong()).append(" by ").append(desired.path("updated_by").asText())
                    .append(", known-good ").append(desired.path("known_good").isEmpty() ? "-" : SiteCommand.join(desired.path("known_good"))).append('\n');
            if (!detail.path("actions").isEmpty()) {
                TextTable actions = new TextTable("TRACK", "TARGET", "STATE", "GENERATION", "UPDATED", "REASON");
                detail.path("actions").forEach(action -> actions.row(action.path("track").asText(), action.path("target").asText(),
                        action.path("state").asText(), action.path("generation").asText(), action.path("updated_at").asText(),
                        action.path("reason").asText("")));
                text.append('\n').append(actions);
            }
            JsonNode checks = detail.path("latest_report").path("checks");
            if (!checks.isMissingNode() && !checks.isEmpty()) {
                text.append("\nlatest report, checked ").append(detail.path("latest_report").path("checked_at").asText()).append(":\n");
                checks.forEach(check -> {
                    if (!check.path("status").asText().equals("ok")) {
                        text.append("  ").append(check.path("status").asText()).append("  ").append(check.path("name").asText()).append(": ")
                                .append(check.path("reason").asText()).append('\n');
                    }
                });
            }
            emit(text.toString(), detail);
            return 0;
        }
    }

    @Command(name = "set", description = {"Change what devices should run (operator role): one device by id, or every device a filter matches.",
        "Each changed device's generation grows by one and an action opens per track that changed; the device picks it up at",
        "its next poll. Every change is in the audit log. For the whole fleet, use a staged rollout instead."},
            footer = {"", "Examples:", "  ingot device set 3d1219c7c4c5404aaa1f6d2a48adfda4 --image v1.5",
                "  ingot device set --site SITE-2847 --container-tag 2026.11.3",
                "  ingot device set --tag pilot --status healthy --reboot --dry-run",
                "  ingot device set --site SITE-2847 --known-good v1.5,v1.4"})
    static final class Set extends BaseCommand {
        @Parameters(paramLabel = "DEVICE", arity = "0..1", description = "One device id; or leave it out and filter.")
        String device;

        @Mixin
        Filter filter = new Filter();

        @Option(names = "--image", paramLabel = "VERSION", description = "The golden image version to run (published in the store).")
        String image;

        @Option(names = "--container-tag", paramLabel = "TAG", description = "The video-ingest tag to run (never 'latest').")
        String containerTag;

        @Option(names = "--reboot", arity = "0..1", fallbackValue = "", paramLabel = "ID",
                description = "Ask for a reboot, once per request id (default: a new id).")
        String reboot;

        @Option(names = "--known-good", paramLabel = "V1,V2", split = ",", description = "The versions the site's USB cache keeps, newest first.")
        List<String> knownGood;

        @Option(names = "--dry-run", description = "Show which devices match, change nothing.")
        boolean dryRun;

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        Set(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            if (device == null && filter.empty()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "change the desired state", "neither a device id nor a filter is given")
                        .withHint("name a device, or filter with --site, --version, --status, --tag, --seen-within");
            }
            if (device != null && !filter.empty()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "change the desired state", "a device id and a filter are both given")
                        .withHint("use one or the other");
            }
            Map<String, Object> change = new LinkedHashMap<>();
            if (image != null) {
                change.put("image", image);
            }
            if (containerTag != null) {
                change.put("container_tag", containerTag);
            }
            if (reboot != null) {
                change.put("reboot_request", reboot.isEmpty() ? "reboot-" + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC)
                        .format(context.clock().instant()) : reboot);
            }
            if (knownGood != null) {
                change.put("known_good", knownGood);
            }
            if (change.isEmpty()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "change the desired state", "nothing to change is given")
                        .withHint("give --image, --container-tag, --reboot or --known-good");
            }
            ServerClient client = server.connect(context);
            if (dryRun) {
                Map<String, String> query = device != null ? Map.of("device", device) : filter.query();
                JsonNode matched = client.get("/api/v1/devices", query);
                ObjectNode document = Ingot.JSON.createObjectNode();
                document.put("dry_run", true);
                document.set("change", Ingot.JSON.valueToTree(change));
                document.set("devices", matched);
                emit("Would change " + matched.size() + " device(s) (nothing changed):\n" + table(matched, context.clock()), document);
                return 0;
            }
            JsonNode result;
            if (device != null) {
                result = client.post("/api/v1/devices/" + ServerClient.segment(device) + "/desired", change);
            } else {
                Map<String, Object> body = new LinkedHashMap<>();
                Map<String, String> query = filter.query();
                query.values().removeIf(value -> value == null);
                body.put("filter", query);
                body.put("change", change);
                result = client.post("/api/v1/desired", body);
            }
            StringBuilder text = new StringBuilder("Changed " + result.path("changed").asInt() + " of " + result.path("matched").asInt()
                    + " matching device(s).\n");
            result.path("devices").forEach(outcome -> text.append("  ").append(outcome.path("device_id").asText()).append("  ")
                    .append(outcome.path("changed").asBoolean() ? "generation " + outcome.path("after").path("generation").asLong() : "already so")
                    .append('\n'));
            emit(text.toString(), result);
            return 0;
        }
    }

    @Command(name = "revoke", description = {"Revoke a device's credential (operator role): its next request gets 401 and nothing it sends",
        "is stored; it stays in the fleet's lists. Also voids the unused tokens made for it. Audited. Undo: ingot device reenroll."},
            footer = {"", "Examples:", "  ingot device revoke 3d1219c7c4c5404aaa1f6d2a48adfda4", "  ingot device revoke 3d1219c7c4c5404aaa1f6d2a48adfda4 --json"})
    static final class Revoke extends BaseCommand {
        @Parameters(paramLabel = "DEVICE", description = "The device id (its machine id).")
        String device;

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        Revoke(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            JsonNode result = server.connect(context).post("/api/v1/devices/" + ServerClient.segment(device) + "/revoke", Map.of());
            emit(result.path("changed").asBoolean()
                    ? "Revoked the credential of " + device + ": its next request is refused. To let it back: ingot device reenroll " + device
                    : device + " was revoked already (" + result.path("device").path("revoked_at").asText() + ").", result);
            return 0;
        }
    }

    @Command(name = "remove", description = {"Remove a device from the fleet (operator role): its credential is revoked and it no longer",
        "counts in lists, the dashboard, /metrics or new rollouts; its history and audit entries stay. Refused while an active",
        "rollout holds it (revoke it meanwhile). Audited. Undo: ingot device reenroll."},
            footer = {"", "Examples:", "  ingot device remove 3d1219c7c4c5404aaa1f6d2a48adfda4", "  ingot device remove 3d1219c7c4c5404aaa1f6d2a48adfda4 --json"})
    static final class Remove extends BaseCommand {
        @Parameters(paramLabel = "DEVICE", description = "The device id (its machine id).")
        String device;

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        Remove(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            JsonNode result = server.connect(context).delete("/api/v1/devices/" + ServerClient.segment(device));
            emit(result.path("changed").asBoolean()
                    ? "Removed " + device + " from the fleet (credential revoked). To bring it back: ingot device reenroll " + device
                    : device + " was removed already (" + result.path("device").path("removed_at").asText() + ").", result);
            return 0;
        }
    }

    @Command(name = "reenroll", description = {"Make a one-time enrollment token for one known device (operator role): only that machine id",
        "may use it, and it is the only way a device the control plane knows enrolls again (a site's token enrolls new",
        "devices only). Put it on the device as /etc/ingot/enrollment-token; at enrollment the device gets a new",
        "credential, every older one stops working, revocation and removal end, and its desired state and history stay."},
            footer = {"", "Examples:", "  ingot device reenroll 3d1219c7c4c5404aaa1f6d2a48adfda4",
                "  ingot device reenroll 3d1219c7c4c5404aaa1f6d2a48adfda4 --expires 2h --out device.token"})
    static final class Reenroll extends BaseCommand {
        @Parameters(paramLabel = "DEVICE", description = "The device id (its machine id).")
        String device;

        @Mixin
        SiteCommand.TokenOptions token = new SiteCommand.TokenOptions();

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        Reenroll(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            Duration lifetime = token.lifetime();
            Path target = token.target(context);
            JsonNode document = server.connect(context).post("/api/v1/devices/" + ServerClient.segment(device) + "/enrollment-tokens",
                    Map.of("expires_in_seconds", lifetime.toSeconds()));
            return SiteCommand.emitToken(this, document, target, "the re-enrollment token for " + device);
        }
    }

    static String table(JsonNode devices) {
        return table(devices, Clock.systemUTC());
    }

    static String table(JsonNode devices, Clock clock) {
        TextTable table = new TextTable("DEVICE", "SITE", "STATUS", "IMAGE", "CONTAINER", "DESIRED", "LAST SEEN");
        devices.forEach(device -> {
            JsonNode reported = device.path("reported");
            JsonNode desired = device.path("desired");
            String wanted = (desired.path("image").asText("") + " " + desired.path("container_tag").asText("")).strip();
            table.row(device.path("id").asText(), device.path("site_id").asText(), reported.path("status").asText("unknown"),
                    reported.path("image_version").asText("-"), reported.path("container_tag").asText("-"), wanted.isEmpty() ? "-" : wanted,
                    ago(device.path("last_seen_at"), clock));
        });
        return table.toString();
    }

    private static String wanted(JsonNode desired, JsonNode reported) {
        if (desired.isNull() || desired.isMissingNode()) {
            return "";
        }
        return desired.asText().equals(reported.asText()) ? " (as desired)" : " → " + desired.asText() + " desired";
    }

    static String ago(JsonNode time, Clock clock) {
        if (time.isNull() || time.isMissingNode()) {
            return "never";
        }
        Duration age = Duration.between(Instant.parse(time.asText()), clock.instant());
        if (age.isNegative() || age.toSeconds() < 60) {
            return Math.max(0, age.toSeconds()) + "s ago";
        }
        return age.toMinutes() < 120 ? age.toMinutes() + "m ago" : age.toHours() < 48 ? age.toHours() + "h ago" : age.toDays() + "d ago";
    }
}
