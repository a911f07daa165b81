package dev.ingot.aws;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.site.ParameterSource;
import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.SsmClientBuilder;
import software.amazon.awssdk.services.ssm.model.GetParametersByPathResponse;
import software.amazon.awssdk.services.ssm.model.ParameterType;

/**
 * Site parameters from AWS Systems Manager Parameter Store: {@code GetParametersByPath}, recursive, SecureStrings
 * decrypted, page after page until no {@code NextToken} comes back (a page may be empty and still carry one).
 * Throttling and transient failures are retried by the SDK with exponential backoff and full jitter.
 */
public final class SsmParameterSource implements ParameterSource {
    /** The most GetParametersByPath returns in one page. */
    static final int PAGE_SIZE = 10;
    /** A server that never stops handing out tokens must not keep a device busy forever: 100,000 parameters. */
    static final int MAXIMUM_PAGES = 10_000;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(30);
    private static final Set<String> THROTTLING_ERRORS = Set.of("ThrottlingException", "TooManyUpdates", "Throttling",
            "RequestLimitExceeded");
    private static final Set<String> ACCESS_ERRORS = Set.of("AccessDeniedException", "UnrecognizedClientException",
            "InvalidSignatureException", "ExpiredTokenException", "IncompleteSignature", "MissingAuthenticationToken",
            "MissingAuthenticationTokenException");
    private static final Set<String> KMS_ERRORS = Set.of("InvalidKeyId", "KMSAccessDeniedException", "KMSDisabledException",
            "KMSNotFoundException", "KMSInvalidStateException");

    /**
     * How often and how patiently to retry: {@code maximumAttempts} in all, delays growing from {@code baseDelay}
     * (twice that for throttling) up to {@code maximumDelay}, each drawn at random below its ceiling (full jitter,
     * so a fleet of devices that booted together does not retry in step).
     */
    public record Retry(int maximumAttempts, Duration baseDelay, Duration maximumDelay) {
        /** Six attempts over a few seconds (a refused connection fails in about 3 s, throttling waits up to about 6 s): a burst
         * of devices asking at once spreads out, and the first-boot unit tries again a minute later if that was not enough. */
        public static final Retry DEFAULT = new Retry(6, Duration.ofMillis(100), Duration.ofSeconds(10));

        public Retry {
            if (maximumAttempts < 1) {
                throw new IllegalArgumentException("at least one attempt: " + maximumAttempts);
            }
            requireNonNull(baseDelay, "baseDelay");
            requireNonNull(maximumDelay, "maximumDelay");
        }
    }

    private final SsmClient client;
    private final Optional<URI> endpoint;
    private final Region region;

    /** A source with explicit credentials, region and retries (tests, callers that manage their own). */
    public SsmParameterSource(Optional<URI> endpoint, AwsCredentialsProvider credentials, Region region, Retry retry) {
        this(endpoint, region, builder(endpoint, region, retry).credentialsProvider(requireNonNull(credentials, "credentials")).build());
    }

    private SsmParameterSource(Optional<URI> endpoint, Region region, SsmClient client) {
        this.endpoint = requireNonNull(endpoint, "endpoint");
        this.region = requireNonNull(region, "region");
        this.client = requireNonNull(client, "client");
    }

    /**
     * SSM with credentials and region from the AWS SDK's default chains (environment, profiles, SSO, container and
     * instance roles); {@code endpoint} points at an SSM-compatible server instead of AWS (a missing region then
     * means us-east-1).
     */
    public static SsmParameterSource at(Optional<URI> endpoint) {
        Region region = defaultRegion(endpoint);
        return new SsmParameterSource(endpoint, region, builder(endpoint, region, Retry.DEFAULT).build());
    }

    private static Region defaultRegion(Optional<URI> endpoint) {
        try {
            return new DefaultAwsRegionProviderChain().getRegion();
        } catch (SdkClientException e) {
            if (endpoint.isPresent()) {
                return Region.US_EAST_1;
            }
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "open the parameter store (ssm:)", "no AWS region is configured")
                    .withHint("set AWS_REGION (or region in ~/.aws/config) to the region that holds /edge/")
                    .withCause(e);
        }
    }

    private static SsmClientBuilder builder(Optional<URI> endpoint, Region region, Retry retry) {
        requireNonNull(endpoint, "endpoint");
        requireNonNull(retry, "retry");
        SsmClientBuilder builder = SsmClient.builder()
                .region(requireNonNull(region, "region"))
                .httpClientBuilder(ApacheHttpClient.builder()
                        .connectionTimeout(CONNECT_TIMEOUT)
                        .socketTimeout(SOCKET_TIMEOUT))
                .overrideConfiguration(configuration -> configuration.retryStrategy(retryStrategy(retry)));
        endpoint.ifPresent(builder::endpointOverride);
        return builder;
    }

    /**
     * The SDK's standard strategy (it already retries AWS's throttling codes), made explicit: our attempts, full-jitter
     * exponential backoff for both kinds of failure, and SSM's {@code ThrottlingException} named as retryable
     * throttling whatever the SDK's defaults become.
     */
    static RetryStrategy retryStrategy(Retry retry) {
        return AwsRetryStrategy.standardRetryStrategy().toBuilder()
                .maxAttempts(retry.maximumAttempts())
                .backoffStrategy(BackoffStrategy.exponentialDelay(retry.baseDelay(), retry.maximumDelay()))
                .throttlingBackoffStrategy(BackoffStrategy.exponentialDelay(retry.baseDelay().multipliedBy(2), retry.maximumDelay()))
                .retryOnException(SsmParameterSource::isThrottling)
                .treatAsThrottling(SsmParameterSource::isThrottling)
                .build();
    }

    static boolean isThrottling(Throwable failure) {
        return failure instanceof AwsServiceException service && service.awsErrorDetails() != null
                && THROTTLING_ERRORS.contains(service.awsErrorDetails().errorCode());
    }

    @Override
    public String describe() {
        return endpoint.map(uri -> "ssm: at " + uri).orElse("ssm: in " + region);
    }

    @Override
    public SortedMap<String, Parameter> readAll(String path) {
        requireNonNull(path, "path");
        if (!path.startsWith("/") || !path.endsWith("/")) {
            throw new IllegalArgumentException("a parameter path starts and ends with '/': " + path);
        }
        SortedMap<String, Parameter> parameters = new TreeMap<>();
        String nextToken = null;
        int pages = 0;
        do {
            if (++pages > MAXIMUM_PAGES) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "read the parameters under " + path + " from " + describe(),
                        "it was still handing out pages after " + MAXIMUM_PAGES);
            }
            String token = nextToken;
            GetParametersByPathResponse page;
            try {
                page = client.getParametersByPath(request -> request.path(path).recursive(true).withDecryption(true)
                        .maxResults(PAGE_SIZE).nextToken(token));
            } catch (SdkException e) {
                throw unavailable(path, e);
            }
            for (software.amazon.awssdk.services.ssm.model.Parameter parameter : page.parameters()) {
                // SSM only returns names under the path; anything else is not this site's and is left out.
                if (parameter.name().startsWith(path) && parameter.name().length() > path.length()) {
                    String name = parameter.name().substring(path.length());
                    parameters.put(name, new Parameter(name, parameter.value(),
                            parameter.type() == ParameterType.SECURE_STRING));
                }
            }
            nextToken = page.nextToken();
        } while (nextToken != null && !nextToken.isEmpty());
        return Collections.unmodifiableSortedMap(parameters);
    }

    @Override
    public void close() {
        client.close();
    }

    private IngotException unavailable(String path, SdkException failure) {
        String attempt = "read the parameters under " + path + " from " + describe();
        String networkHint = endpoint.isPresent() ? "check --endpoint-url (" + endpoint.get() + ") and that the server is running"
                : "check the network connection to SSM in " + region;
        AwsFailures.Explanation explanation = AwsFailures.explain("SSM", failure, endpoint, networkHint, (service, code, answer) -> {
            String reason = "SSM answered " + answer;
            if (isThrottling(service)) {
                return Optional.of(new AwsFailures.Explanation(reason,
                        "SSM kept throttling after " + service.numAttempts() + " attempts; try again in a minute"));
            }
            if (service.statusCode() == 403 || ACCESS_ERRORS.contains(code)) {
                return Optional.of(new AwsFailures.Explanation(reason,
                        "check the AWS credentials and that they may call ssm:GetParametersByPath on /edge/*"));
            }
            if (KMS_ERRORS.contains(code)) {
                return Optional.of(new AwsFailures.Explanation(reason,
                        "the credentials need kms:Decrypt on the key that encrypts the SecureStrings"));
            }
            return Optional.of(new AwsFailures.Explanation(reason, service.statusCode() >= 500 ? "try again later" : networkHint));
        });
        return AwsFailures.unavailable(attempt, explanation, failure);
    }
}
