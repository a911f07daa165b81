package dev.ingot.aws;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClientBuilder;
import software.amazon.awssdk.services.cloudwatch.model.CloudWatchException;

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

    /** "Tried to ATTEMPT but failed because …", with what to do about it. */
    static IngotException unavailable(String attempt, SdkException failure, Optional<URI> endpoint) {
        String where = endpoint.map(uri -> " at " + uri).orElse("");
        String endpointHint = endpoint.isPresent() ? "check --endpoint-url (" + endpoint.get() + ") and that the server is running"
                : "check the network connection to CloudWatch (monitoring.REGION.amazonaws.com)";
        if (failure instanceof CloudWatchException e) {
            String code = e.awsErrorDetails() == null ? "" : String.valueOf(e.awsErrorDetails().errorCode());
            String message = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorMessage();
            String answer = "HTTP " + e.statusCode() + (code.isEmpty() ? "" : " " + code) + (message == null || message.isBlank() ? "" : ": " + message);
            String hint = e.statusCode() == 403 || code.contains("AccessDenied") || code.contains("Signature") || code.contains("Token")
                    ? "check the AWS credentials and that they allow cloudwatch:PutMetricData, cloudwatch:PutMetricAlarm and cloudwatch:DescribeAlarms"
                    : e.isThrottlingException() || e.statusCode() >= 500 ? "it is retried on the next report" : null;
            return IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "CloudWatch" + where + " answered " + answer).withHint(hint)
                    .withCause(failure);
        }
        if (failure instanceof ApiCallTimeoutException) {
            return IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "CloudWatch" + where + " did not answer within "
                    + API_CALL_TIMEOUT.toSeconds() + " s").withHint(endpointHint).withCause(failure);
        }
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            String reason = switch (cause) {
                case UnknownHostException e -> "the host " + e.getMessage() + " is unknown";
                case ConnectException e -> "nothing accepted a connection" + where + " (" + e.getMessage() + ")";
                case InterruptedIOException e -> "CloudWatch" + where + " did not answer in time (" + e.getMessage() + ")";
                default -> null;
            };
            if (reason != null) {
                return IngotException.tried(ErrorCode.UNAVAILABLE, attempt, reason).withHint(endpointHint).withCause(failure);
            }
        }
        String message = String.valueOf(failure.getMessage());
        if (message.contains("Unable to load credentials")) {
            return IngotException.tried(ErrorCode.UNAVAILABLE, attempt, "no AWS credentials were found")
                    .withHint("on a device: the agent credentials provisioning writes; elsewhere AWS_PROFILE or AWS_ACCESS_KEY_ID")
                    .withCause(failure);
        }
        return IngotException.tried(ErrorCode.UNAVAILABLE, attempt, message).withHint(endpointHint).withCause(failure);
    }
}
