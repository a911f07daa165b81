package dev.ingot.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.error.ErrorCode;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.SdkClientException;

class AwsFailuresTest {
    private static final Optional<URI> ENDPOINT = Optional.of(URI.create("http://127.0.0.1:9000"));

    @Test
    void aRefusedConnectionNamesTheEndpointAndTheHintSaysWhatToCheck() {
        SdkClientException failure = SdkClientException.create("Unable to execute HTTP request", new ConnectException("Connection refused"));

        AwsFailures.Explanation explanation = AwsFailures.explain("S3", failure, ENDPOINT, "check --endpoint-url", AwsFailures.ServiceAnswers.none());

        assertThat(explanation.reason()).isEqualTo("nothing accepted a connection at http://127.0.0.1:9000 (Connection refused)");
        assertThat(explanation.hint()).isEqualTo("check --endpoint-url");
    }

    @Test
    void anUnknownHostIsNamed() {
        SdkClientException failure = SdkClientException.create("x", new UnknownHostException("ssm.nowhere.example"));

        assertThat(AwsFailures.explain("SSM", failure, Optional.empty(), "hint", AwsFailures.ServiceAnswers.none()).reason())
                .isEqualTo("the host ssm.nowhere.example is unknown");
    }

    @Test
    void missingCredentialsSayHowToProvideThem() {
        SdkClientException failure = SdkClientException.create("Unable to load credentials from any of the providers in the chain");

        AwsFailures.Explanation explanation = AwsFailures.explain("ECR", failure, Optional.empty(), "hint", AwsFailures.ServiceAnswers.none());

        assertThat(explanation.reason()).isEqualTo("no AWS credentials were found");
        assertThat(explanation.hint()).contains("AWS_PROFILE");
    }

    @Test
    void aServiceAnswerIsQuotedWithItsStatusAndCodeUnlessTheAdapterKnowsBetter() {
        AwsServiceException failure = AwsServiceException.builder().statusCode(500)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode("InternalError").errorMessage("We encountered an internal error").build())
                .build();

        assertThat(AwsFailures.explain("S3", failure, ENDPOINT, "hint", AwsFailures.ServiceAnswers.none()))
                .isEqualTo(new AwsFailures.Explanation("S3 at http://127.0.0.1:9000 answered HTTP 500 InternalError: We encountered an internal error",
                        "try again later"));
        assertThat(AwsFailures.explain("S3", failure, ENDPOINT, "hint",
                (service, code, answer) -> Optional.of(new AwsFailures.Explanation(code, answer))))
                .isEqualTo(new AwsFailures.Explanation("InternalError", "HTTP 500 InternalError: We encountered an internal error"));
    }

    @Test
    void anInterruptedCallIsUnavailableWithoutAHint() {
        AbortedException failure = AbortedException.create("interrupted");

        assertThat(AwsFailures.unavailable("read x", AwsFailures.explain("S3", failure, ENDPOINT, "hint",
                AwsFailures.ServiceAnswers.none()), failure))
                .satisfies(error -> {
                    assertThat(error.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                    assertThat(error.getMessage()).isEqualTo("Tried to read x but failed because the request was interrupted");
                });
    }
}
