package dev.ingot.registry;

import dev.ingot.site.ContainerImage;
import java.util.Optional;

/**
 * Credentials for the registry an image is pulled from, when that registry needs a login the device cannot keep
 * by itself: Amazon ECR hands out tokens valid for 12 hours ({@code EcrRegistryLogin} in ingot-aws). Empty for a
 * registry this login does not serve (docker's own configuration, or none, applies there).
 */
public interface RegistryLogin {
    /** No login anywhere: public registries, or credentials docker already holds. */
    RegistryLogin NONE = image -> Optional.empty();

    Optional<RegistryCredentials> credentialsFor(ContainerImage image);
}
