package dev.ingot.aws;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.registry.EcrRegistry;
import dev.ingot.registry.RegistryCredentials;
import dev.ingot.registry.RegistryLogin;
import dev.ingot.site.ContainerImage;
import dev.ingot.site.Secret;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ecr.EcrClient;
import software.amazon.awssdk.services.ecr.EcrClientBuilder;
import software.amazon.awssdk.services.ecr.model.AuthorizationData;
import software.amazon.awssdk.services.ecr.model.GetAuthorizationTokenResponse;

/**
 * Docker credentials for an Amazon ECR registry: {@code GetAuthorizationToken} for the registry's account, in the
 * registry's own region (read from its host name), decoded from the base64 {@code AWS:PASSWORD} token the API
 * returns (ECR user guide, "Registry authentication"). Credentials come from the SDK's default chain on a device
 * (provisioned instance credentials); the device agent calls this before each pull, so a 12-hour token never
 * expires under it. Images from other registries get no login from here.
 */
public final class EcrRegistryLogin implements RegistryLogin, AutoCloseable {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(30);

    private final Optional<URI> endpoint;
    private final AwsCredentialsProvider credentials;
    private final Map<String, EcrClient> clients = new ConcurrentHashMap<>();

    /** ECR in AWS, with the SDK's default credentials. */
    public static EcrRegistryLogin aws() {
        return new EcrRegistryLogin(Optional.empty(), DefaultCredentialsProvider.builder().build());
    }

    /** {@code endpoint} replaces ECR's own (an ECR-compatible test server). */
    public EcrRegistryLogin(Optional<URI> endpoint, AwsCredentialsProvider credentials) {
        this.endpoint = requireNonNull(endpoint, "endpoint");
        this.credentials = requireNonNull(credentials, "credentials");
    }

    @Override
    public Optional<RegistryCredentials> credentialsFor(ContainerImage image) {
        Optional<EcrRegistry> registry = EcrRegistry.of(image.repository());
        if (registry.isEmpty()) {
            return Optional.empty();
        }
        EcrRegistry ecr = registry.get();
        String attempt = "log in to the ECR registry " + ecr.host();
        GetAuthorizationTokenResponse response;
        try {
            response = client(ecr.region()).getAuthorizationToken(request -> request.registryIds(ecr.accountId()));
        } catch (SdkException e) {
            AwsFailures.Explanation explanation = AwsFailures.explain("ECR", e, Optional.empty(),
                    "check the network connection to ECR in " + ecr.region() + " and the AWS credentials", (service, code, answer) ->
                            service.statusCode() == 403 || code.contains("AccessDenied")
                                    ? Optional.of(new AwsFailures.Explanation("ECR answered " + answer, "the device's credentials need "
                                            + "ecr:GetAuthorizationToken (and ecr:BatchGetImage, ecr:GetDownloadUrlForLayer on the repository)"))
                                    : Optional.empty());
            throw AwsFailures.unavailable(attempt, explanation, e);
        }
        AuthorizationData data = response.authorizationData().stream().findFirst().orElseThrow(() -> IngotException.tried(
                ErrorCode.UNAVAILABLE, attempt, "ECR answered without authorization data"));
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(data.authorizationToken()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "its token is not base64");
        }
        int colon = decoded.indexOf(':');
        if (colon <= 0 || data.expiresAt() == null) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "its token is not USER:PASSWORD with an expiry");
        }
        return Optional.of(new RegistryCredentials(ecr.host(), decoded.substring(0, colon), Secret.of(decoded.substring(colon + 1)),
                data.expiresAt()));
    }

    private EcrClient client(String region) {
        return clients.computeIfAbsent(region, name -> {
            EcrClientBuilder builder = EcrClient.builder()
                    .region(Region.of(name))
                    .credentialsProvider(credentials)
                    .httpClientBuilder(ApacheHttpClient.builder().connectionTimeout(CONNECT_TIMEOUT).socketTimeout(SOCKET_TIMEOUT));
            endpoint.ifPresent(builder::endpointOverride);
            return builder.build();
        });
    }

    @Override
    public void close() {
        clients.values().forEach(EcrClient::close);
    }
}
