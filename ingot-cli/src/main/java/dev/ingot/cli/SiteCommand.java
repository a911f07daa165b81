package dev.ingot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.server.http.Durations;
import dev.ingot.site.SiteId;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "site", mixinStandardHelpOptions = true, description = "Sites on the control plane: add, list, show, and enrollment tokens for their devices.",
        subcommands = {SiteCommand.Add.class, SiteCommand.ListSites.class, SiteCommand.Show.class, SiteCommand.Enroll.class})
final class SiteCommand {

    @Command(name = "add", description = "Add a site (operator role).",
            footer = {"", "Examples:", "  ingot site add SITE-2847 --name 'Harbour gate 3' --tag region:eu-west",
                "  ingot site add SITE-0001 --canary --server https://ingot.example.com"})
    static final class Add extends BaseCommand {
        @Parameters(paramLabel = "SITE", description = "The site id, as the parameter store names it (/edge/SITE/).")
        String site;

        @Option(names = "--name", paramLabel = "TEXT", description = "A name people know it by. Default: the id.")
        String name;

        @Option(names = "--canary", description = "Rollouts start here.")
        boolean canary;

        @Option(names = "--tag", paramLabel = "TAG", description = "A tag (repeatable), for filters: region:eu-west, pilot.")
        List<String> tags = new ArrayList<>();

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        Add(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            SiteId id = new SiteId(site);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("id", id.value());
            body.put("name", name);
            body.put("canary", canary);
            body.put("tags", tags);
            JsonNode created = server.connect(context).post("/api/v1/sites", body);
            emit("Added site " + created.path("id").asText() + (canary ? " (canary)" : "") + ". Next: ingot site enroll " + id, created);
            return 0;
        }
    }

    @Command(name = "list", description = "List the sites.",
            footer = {"", "Examples:", "  ingot site list", "  ingot site list --tag pilot --json"})
    static final class ListSites extends BaseCommand {
        @Option(names = "--tag", paramLabel = "TAG", description = "Only sites with this tag.")
        String tag;

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        ListSites(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            Map<String, String> query = new LinkedHashMap<>();
            query.put("tag", tag);
            JsonNode sites = server.connect(context).get("/api/v1/sites", query);
            TextTable table = new TextTable("SITE", "NAME", "CANARY", "TAGS");
            sites.forEach(site -> table.row(site.path("id").asText(), site.path("name").asText(), site.path("canary").asBoolean() ? "yes" : "",
                    join(site.path("tags"))));
            emit(sites.isEmpty() ? "No sites yet: ingot site add SITE-2847" : table.toString(), sites);
            return 0;
        }
    }

    @Command(name = "show", description = "One site and its devices.", footer = {"", "Example:", "  ingot site show SITE-2847"})
    static final class Show extends BaseCommand {
        @Parameters(paramLabel = "SITE", description = "The site id.")
        String site;

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        Show(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            JsonNode document = server.connect(context).get("/api/v1/sites/" + ServerClient.segment(new SiteId(site).value()), Map.of());
            StringBuilder text = new StringBuilder();
            text.append(document.path("id").asText()).append(" — ").append(document.path("name").asText())
                    .append(document.path("canary").asBoolean() ? " (canary)" : "").append('\n');
            text.append("tags: ").append(document.path("tags").isEmpty() ? "none" : join(document.path("tags"))).append('\n');
            if (document.path("devices").isEmpty()) {
                text.append("no device enrolled yet: ingot site enroll ").append(site);
            } else {
                text.append('\n').append(DeviceCommand.table(document.path("devices")));
            }
            emit(text.toString(), document);
            return 0;
        }
    }

    @Command(name = "enroll", description = {"Make a one-time enrollment token for a device of the site (operator role). Provisioning puts it",
        "on the device (site parameter enrollment_token → /etc/ingot/enrollment-token); the device trades it for its own",
        "credential at its first poll. It works once, and not after it expires."},
            footer = {"", "Examples:", "  ingot site enroll SITE-2847", "  ingot site enroll SITE-2847 --expires 7d --out site-2847.token"})
    static final class Enroll extends BaseCommand {
        @Parameters(paramLabel = "SITE", description = "The site id.")
        String site;

        @Mixin
        TokenOptions token = new TokenOptions();

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        Enroll(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            Duration lifetime = token.lifetime();
            Path target = token.target(context);
            JsonNode document = server.connect(context).post("/api/v1/sites/" + ServerClient.segment(new SiteId(site).value()) + "/enrollment-tokens",
                    Map.of("expires_in_seconds", lifetime.toSeconds()));
            return emitToken(this, document, target, "the enrollment token for " + site);
        }
    }

    /** How long an enrollment token lives and where it goes: {@code site enroll} and {@code device reenroll}. */
    static final class TokenOptions {
        @Option(names = "--expires", paramLabel = "DURATION", defaultValue = "24h", description = "How long it is valid (90s, 15m, 24h, 7d; at most 30d). Default: ${DEFAULT-VALUE}.")
        String expires;

        @Option(names = "--out", paramLabel = "FILE", description = "Write the token to a new file (mode 0600) instead of printing it.")
        Path out;

        Duration lifetime() {
            return Durations.parse(expires, "--expires");
        }

        /** The file to write, refused before the server makes the token when it exists (never written over); null: print it. */
        Path target(CliContext context) {
            Path target = out == null ? null : context.resolve(out);
            if (target != null && Files.exists(target)) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "write the token to " + target, "the file exists").withHint("name a new file");
            }
            return target;
        }
    }

    /** Shows a token the server made once: printed, or written to a new file (0600) and left out of the JSON. */
    static int emitToken(BaseCommand command, JsonNode document, Path target, String what) {
        String token = document.path("token").asText();
        if (target != null) {
            try {
                Files.writeString(Files.createFile(target, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
                        token + "\n");
            } catch (FileAlreadyExistsException e) {
                throw IngotException.tried(ErrorCode.CONFLICT, "write the token to " + target, "the file appeared meanwhile");
            } catch (IOException e) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "write the token to " + target, String.valueOf(e.getMessage()));
            }
            ((com.fasterxml.jackson.databind.node.ObjectNode) document).remove("token");
            ((com.fasterxml.jackson.databind.node.ObjectNode) document).put("written_to", target.toString());
            command.emit("Wrote " + what + " to " + target + " (valid until " + document.path("expires_at").asText() + ", once).", document);
        } else {
            command.emit(token + "\n(" + (document.hasNonNull("device_id") ? "device " + document.path("device_id").asText() : "one device")
                    + ", once, until " + document.path("expires_at").asText() + ")", document);
        }
        return 0;
    }

    static String join(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(value -> values.add(value.asText()));
        return values.stream().collect(Collectors.joining(","));
    }
}
