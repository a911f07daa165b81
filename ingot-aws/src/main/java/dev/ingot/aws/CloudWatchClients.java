package dev.ingot.aws;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClientBuilder;

/**
 * How Ingot builds its CloudWatch client (Smithy RPC v2 CBOR on the wire, as the SDK speaks it), and
 * how it explains the client's failures. Short timeouts: publishing a health report every minute must
 * never pile up behind an unreachable endpoint.
 */
final class CloudWatchClients {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(5);
    /** One call, retries included: within a minute's report even when throttled. */
    private static final Duration API_CALL_TIMEOUT = Duration.ofSeconds(20);
    private static final int MAXIMUM_ATTEMPTS = 3;

    private CloudWatchClients() {}

    /** A client with credentials and region from the SDK's default chains; with an endpoint override, a missing region means us-east-1. */
    static CloudWatchClient fromDefaultChain(Optional<URI> endpoint) {
        return builder(endpoint, region(endpoint)).build();
    }

    static CloudWatchClient with(Optional<URI> endpoint, AwsCredentialsProvider credentials, Region region) {
        return builder(endpoint, region).credentialsProvider(requireNonNull(credentials, "credentials")).build();
    }

    private static Region region(Optional<URI> endpoint) {
        try {
            return new DefaultAwsRegionProviderChain().getRegion();
        } catch (SdkClientException e) {
            if (endpoint.isPresent()) {
                return Region.US_EAST_1;
            }
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "reach CloudWatch", "no AWS region is configured")
                    .withHint("set AWS_REGION (or region in ~/.aws/config)").withCause(e);
        }
    }

    private static CloudWatchClientBuilder builder(Optional<URI> endpoint, Region region) {
        CloudWatchClientBuilder builder = CloudWatchClient.builder()
                .region(requireNonNull(region, "region"))
                .httpClientBuilder(ApacheHttpClient.builder().connectionTimeout(CONNECT_TIMEOUT).socketTimeout(SOCKET_TIMEOUT))
                .overrideConfiguration(configuration -> configuration
                        .apiCallTimeout(API_CALL_TIMEOUT)
                        .retryStrategy(retry -> retry.maxAttempts(MAXIMUM_ATTEMPTS)));
        requireNonNull(endpoint, "endpoint").ifPresent(builder::endpointOverride);
        return builder;
    }

    /** "Tried to ATTEMPT but failed because …", with what to do about it ({@link AwsFailures}, CloudWatch's answers added). */
    static IngotException unavailable(String attempt, SdkException failure, Optional<URI> endpoint) {
        String networkHint = endpoint.isPresent() ? "check --endpoint-url (" + endpoint.get() + ") and that the server is running"
                : "check the network connection to CloudWatch (monitoring.REGION.amazonaws.com)";
        String where = endpoint.map(uri -> " at " + uri).orElse("");
        AwsFailures.Explanation explanation = AwsFailures.explain("CloudWatch", failure, endpoint, networkHint, (service, code, answer) -> {
            if (service.statusCode() == 403 || code.contains("AccessDenied") || code.contains("Signature") || code.contains("Token")) {
                return Optional.of(new AwsFailures.Explanation("CloudWatch" + where + " answered " + answer, "check the AWS credentials and "
                        + "that they allow cloudwatch:PutMetricData, cloudwatch:PutMetricAlarm and cloudwatch:DescribeAlarms"));
            }
            if (service.isThrottlingException() || service.statusCode() >= 500) {
                return Optional.of(new AwsFailures.Explanation("CloudWatch" + where + " answered " + answer, "it is retried on the next report"));
            }
            return Optional.empty();
        });
        return AwsFailures.unavailable(attempt, explanation, failure);
    }
}
