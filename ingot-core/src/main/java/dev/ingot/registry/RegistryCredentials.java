package dev.ingot.registry;

import static java.util.Objects.requireNonNull;

import dev.ingot.site.Secret;
import java.time.Instant;

/**
 * What {@code docker login REGISTRY} needs: a user name and a password, good until {@code expiresAt}.
 *
 * @param registry the registry host as docker names it (no scheme), like {@code 123456789012.dkr.ecr.us-east-1.amazonaws.com}
 */
public record RegistryCredentials(String registry, String username, Secret password, Instant expiresAt) {
    public RegistryCredentials {
        requireNonNull(registry, "registry");
        requireNonNull(username, "username");
        requireNonNull(password, "password");
        requireNonNull(expiresAt, "expiresAt");
    }
}
