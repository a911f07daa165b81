package dev.ingot.aws;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Optional;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Why an AWS SDK call failed, in a person's words, with what to do about it: the one reading of {@link SdkException}
 * that every AWS adapter shares (S3, SSM, CloudWatch, ECR). Each adapter adds only what its own service's error answers
 * mean ({@link ServiceAnswers}); the network, timeout, interruption and missing-credential cases read the same
 * everywhere.
 */
final class AwsFailures {
    private AwsFailures() {}

    /** A reason (the "because" of "Tried to X but failed because Y") and a hint, which may be absent. */
    record Explanation(String reason, String hint) {}

    /** What an adapter makes of its service's own error answer; empty for the general reading. */
    @FunctionalInterface
    interface ServiceAnswers {
        Optional<Explanation> explain(AwsServiceException failure, String code, String answer);

        static ServiceAnswers none() {
            return (failure, code, answer) -> Optional.empty();
        }
    }

    /**
     * @param service the service's name as a person knows it ("S3", "SSM", "CloudWatch", "ECR")
     * @param endpoint the endpoint override, when the command was given one
     * @param networkHint what to check when nothing answered (the endpoint, or the network path to AWS)
     */
    static Explanation explain(String service, SdkException failure, Optional<URI> endpoint, String networkHint,
            ServiceAnswers answers) {
        String where = endpoint.map(uri -> " at " + uri).orElse("");
        if (failure instanceof AwsServiceException serviceFailure) {
            // A HEAD error has no body, so it may have no code.
            String code = serviceFailure.awsErrorDetails() == null ? ""
                    : Optional.ofNullable(serviceFailure.awsErrorDetails().errorCode()).orElse("");
            String message = serviceFailure.awsErrorDetails() == null ? null : serviceFailure.awsErrorDetails().errorMessage();
            String answer = "HTTP " + serviceFailure.statusCode() + (code.isEmpty() ? "" : " " + code)
                    + (message == null || message.isBlank() ? "" : ": " + message);
            Optional<Explanation> specific = answers.explain(serviceFailure, code, answer);
            if (specific.isPresent()) {
                return specific.get();
            }
            String hint = serviceFailure.isThrottlingException() || serviceFailure.statusCode() >= 500 ? "try again later"
                    : endpoint.map(uri -> "check that the server at " + uri + " speaks " + service).orElse(null);
            return new Explanation(service + where + " answered " + answer, hint);
        }
        if (failure instanceof ApiCallTimeoutException) {
            return new Explanation(service + where + " did not answer within the call's time limit", networkHint);
        }
        if (failure instanceof AbortedException) {
            return new Explanation("the request was interrupted", null);
        }
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            String reason = switch (cause) {
                case UnknownHostException e -> "the host " + e.getMessage() + " is unknown";
                case ConnectException e -> "nothing accepted a connection" + where + " (" + e.getMessage() + ")";
                case InterruptedIOException e -> service + where + " did not answer in time (" + e.getMessage() + ")";
                default -> null;
            };
            if (reason != null) {
                return new Explanation(reason, networkHint);
            }
        }
        String message = String.valueOf(failure.getMessage());
        if (message.contains("Unable to load credentials")) {
            return new Explanation("no AWS credentials were found", "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                    + "or run aws sso login (on a device: the credentials provisioning writes)");
        }
        return new Explanation(message, networkHint);
    }

    /** The explanation as the error every command shows: UNAVAILABLE (exit 3, HTTP 503). */
    static IngotException unavailable(String attempt, Explanation explanation, SdkException failure) {
        return IngotException.tried(ErrorCode.UNAVAILABLE, attempt, explanation.reason()).withHint(explanation.hint()).withCause(failure);
    }
}
