package dev.ingot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "token", mixinStandardHelpOptions = true,
        description = "Operator tokens (admin role): viewer reads, operator also changes the fleet, admin also manages tokens.",
        subcommands = {TokenCommand.Create.class, TokenCommand.ListTokens.class, TokenCommand.Revoke.class})
final class TokenCommand {

    @Command(name = "create", description = "Make a token; it is shown once and stored only as a hash.",
            footer = {"", "Examples:", "  ingot token create --name alice --role operator", "  ingot token create --name wall-screen --role viewer --json"})
    static final class Create extends BaseCommand {
        @Option(names = "--name", required = true, paramLabel = "NAME", description = "Who holds it: alice, ci-deploy.")
        String name;

        @Option(names = "--role", required = true, paramLabel = "ROLE", description = "viewer, operator or admin.")
        String role;

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        Create(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            JsonNode created = server.connect(context).post("/api/v1/tokens", Map.of("name", name, "role", role));
            emit(created.path("token").asText() + "\n(" + created.path("role").asText() + " token '" + created.path("name").asText()
                    + "'; shown once: keep it in a secret store, hand it over as INGOT_TOKEN)", created);
            return 0;
        }
    }

    @Command(name = "list", description = "List the tokens (names and roles; never the secrets).", footer = {"", "Example:", "  ingot token list"})
    static final class ListTokens extends BaseCommand {
        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        ListTokens(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            JsonNode tokens = server.connect(context).get("/api/v1/tokens", Map.of());
            TextTable table = new TextTable("NAME", "ROLE", "CREATED", "BY", "REVOKED");
            tokens.forEach(token -> table.row(token.path("name").asText(), token.path("role").asText(), token.path("created_at").asText(),
                    token.path("created_by").asText(), token.path("revoked_at").asText("")));
            emit(table.toString(), tokens);
            return 0;
        }
    }

    @Command(name = "revoke", description = "Revoke a token at once (the last admin token cannot be revoked).",
            footer = {"", "Example:", "  ingot token revoke old-laptop"})
    static final class Revoke extends BaseCommand {
        @Parameters(paramLabel = "NAME", description = "The token's name.")
        String name;

        @Mixin
        ServerClient.Options server = new ServerClient.Options();

        Revoke(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            JsonNode revoked = server.connect(context).delete("/api/v1/tokens/" + ServerClient.segment(name));
            emit("Revoked token '" + revoked.path("name").asText() + "' (" + revoked.path("role").asText() + ").", revoked);
            return 0;
        }
    }
}
