package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.site.AgentConfig;
import dev.ingot.site.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What provisioning told the agent: {@code /etc/ingot/agent.json} ({@link AgentConfig}) and the enrollment token.
 * The token is read when it is needed, not kept: re-provisioning may replace a used one.
 *
 * @param token reads the token; empty when there is none
 * @param tokenSource where the token comes from, for messages
 */
public record AgentSettings(AgentConfig.Document config, Supplier<Optional<Secret>> token, String tokenSource) {
    public static final String CONFIG_PATH = AgentConfig.PATH;

    public AgentSettings {
        requireNonNull(config, "config");
        requireNonNull(token, "token");
        requireNonNull(tokenSource, "tokenSource");
    }

    /** Reads agent.json under a device root ({@code /} on the device); the token comes from the file it names. */
    public static AgentSettings load(Path root) {
        Path file = root.resolve(CONFIG_PATH.substring(1));
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw IngotException.tried(ErrorCode.NOT_FOUND, "read the agent configuration " + file, "it does not exist")
                    .withHint("provision the device first: ingot provision --site SITE (it writes agent.json and the enrollment token)");
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read the agent configuration " + file, String.valueOf(e.getMessage()))
                    .withCause(e);
        }
        AgentConfig.Document config = AgentConfig.parse(text, file.toString());
        String name = config.enrollmentTokenFile().orElse(AgentConfig.TOKEN_PATH);
        Path tokenFile = root.resolve(name.startsWith("/") ? name.substring(1) : name);
        return new AgentSettings(config, () -> readToken(tokenFile), tokenFile.toString());
    }

    /**
     * The PEM file agent.json names for the control plane's certificates ({@code control_plane_ca_file}, written by
     * provisioning from the site parameter {@code control_plane_ca}), under the same device root as agent.json.
     */
    public Optional<Path> controlPlaneCaFile(Path root) {
        return config.controlPlaneCaFile().map(file -> root.resolve(file.startsWith("/") ? file.substring(1) : file));
    }

    private static Optional<Secret> readToken(Path file) {
        try {
            String value = Files.readString(file, StandardCharsets.UTF_8).strip();
            return value.isEmpty() ? Optional.empty() : Optional.of(Secret.of(value));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read the enrollment token " + file, String.valueOf(e.getMessage()))
                    .withHint("the agent runs as root; the file is mode 0600").withCause(e);
        }
    }
}
