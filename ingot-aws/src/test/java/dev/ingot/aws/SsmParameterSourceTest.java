package dev.ingot.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.site.ParameterSource.Parameter;
import dev.ingot.testing.SsmServer;
import java.net.URI;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.AcquireInitialTokenRequest;
import software.amazon.awssdk.retries.api.RefreshRetryTokenRequest;
import software.amazon.awssdk.retries.api.RefreshRetryTokenResponse;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.retries.api.RetryToken;
import software.amazon.awssdk.services.ssm.model.SsmException;

/** The real AWS SDK SSM client against an SSM endpoint on loopback that speaks the AWS JSON 1.1 protocol. */
class SsmParameterSourceTest {
    private static final String SITE = "/edge/SITE-2847/";
    /** Short delays: the retries are real, the test should not wait for production's patience. */
    private static final SsmParameterSource.Retry QUICK = new SsmParameterSource.Retry(4, Duration.ofMillis(5), Duration.ofMillis(50));

    private SsmServer server;

    @BeforeEach
    void startServer() {
        server = SsmServer.start();
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    private SsmParameterSource source(URI endpoint, SsmParameterSource.Retry retry) {
        return new SsmParameterSource(Optional.of(endpoint), StaticCredentialsProvider.create(
                AwsBasicCredentials.create(SsmServer.ACCESS_KEY, SsmServer.SECRET_KEY)), Region.US_EAST_1, retry);
    }

    private SortedMap<String, Parameter> readSite() {
        try (SsmParameterSource source = source(server.endpoint(), QUICK)) {
            return source.readAll(SITE);
        }
    }

    @Test
    void everyParameterUnderThePathIsReadPageByPageTenAtATime() {
        for (int i = 0; i < 23; i++) {
            server.putString(SITE + "video_ingest_env/VARIABLE_" + (char) ('A' + i), "value " + i);
        }
        server.putString(SITE + "ntp_server", "ntp.site.example");
        server.putString(SITE + "camera_ips/deeper/still", "x");
        server.putString("/edge/SITE-28470/ntp_server", "another site");
        server.putString("/edge/SITE-284/ntp_server", "and another");

        SortedMap<String, Parameter> parameters = readSite();

        assertThat(parameters).hasSize(25).containsKeys("ntp_server", "video_ingest_env/VARIABLE_A", "camera_ips/deeper/still");
        assertThat(parameters.get("ntp_server")).isEqualTo(new Parameter("ntp_server", "ntp.site.example", false));
        List<SsmServer.Call> calls = server.calls();
        assertThat(calls).hasSize(3).allSatisfy(call -> {
            assertThat(call.operation()).isEqualTo("GetParametersByPath");
            assertThat(call.path()).isEqualTo(SITE);
            assertThat(call.recursive()).isTrue();
            assertThat(call.withDecryption()).isTrue();
            assertThat(call.maxResults()).hasValue(10);
            assertThat(call.signed()).isTrue();
        });
        assertThat(calls.get(0).nextToken()).isEmpty();
        assertThat(calls.get(1).nextToken()).isPresent();
        assertThat(calls.get(2).nextToken()).isPresent().isNotEqualTo(calls.get(1).nextToken());
    }

    @Test
    void emptyPagesThatStillCarryATokenDoNotEndTheReading() {
        for (int i = 0; i < 12; i++) {
            server.putString(SITE + "p" + i, "v" + i);
        }
        server.emptyPagesBeforeEachPage(2);

        SortedMap<String, Parameter> parameters = readSite();

        assertThat(parameters).hasSize(12);
        // Two empty pages before each of the two full ones: six calls, the last without a token in its answer.
        assertThat(server.calls()).hasSize(6);
    }

    @Test
    void aSecureStringComesBackDecryptedAndMarkedSecure() {
        server.putSecureString(SITE + "enrollment_token", "tok-3f9a-secret");
        server.putStringList(SITE + "camera_ips", "10.1.2.10,10.1.2.11");

        SortedMap<String, Parameter> parameters = readSite();

        assertThat(parameters.get("enrollment_token").value()).isEqualTo("tok-3f9a-secret");
        assertThat(parameters.get("enrollment_token").secure()).isTrue();
        assertThat(parameters.get("enrollment_token").toString()).doesNotContain("tok-3f9a-secret");
        assertThat(parameters.get("camera_ips")).isEqualTo(new Parameter("camera_ips", "10.1.2.10,10.1.2.11", false));
    }

    @Test
    void aThrottledReadIsRetriedUntilItSucceeds() {
        server.putString(SITE + "ntp_server", "ntp.site.example");
        server.throttleFirstCalls(3);

        SortedMap<String, Parameter> parameters = readSite();

        assertThat(parameters).containsOnlyKeys("ntp_server");
        assertThat(server.calls()).extracting(SsmServer.Call::status).containsExactly(400, 400, 400, 200);
    }

    @Test
    void throttlingThatOutlastsEveryAttemptIsUnavailableAndSaysSo() {
        server.putString(SITE + "ntp_server", "ntp.site.example");
        server.throttleFirstCalls(100);

        assertThatThrownBy(this::readSite).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
            assertThat(e.getMessage()).contains("ThrottlingException").contains("Rate exceeded");
            assertThat(e.hint()).hasValueSatisfying(hint -> assertThat(hint).contains("4 attempts"));
        });
        assertThat(server.calls()).hasSize(4);
    }

    @Test
    void throttlingIsRetriedWithJitteredExponentialBackoff() {
        RetryStrategy strategy = SsmParameterSource.retryStrategy(new SsmParameterSource.Retry(8, Duration.ofMillis(100),
                Duration.ofSeconds(20)));
        SsmException throttled = (SsmException) SsmException.builder().statusCode(400)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode("ThrottlingException").errorMessage("Rate exceeded").build()).build();

        Set<Duration> delays = new HashSet<>();
        for (int run = 0; run < 20; run++) {
            RetryToken token = strategy.acquireInitialToken(AcquireInitialTokenRequest.create("ssm")).token();
            RefreshRetryTokenResponse refreshed = strategy.refreshRetryToken(RefreshRetryTokenRequest.builder().token(token)
                    .failure(throttled).build());
            delays.add(refreshed.delay());
            assertThat(refreshed.delay()).isBetween(Duration.ZERO, Duration.ofMillis(200));
        }

        // Full jitter: twenty first retries do not all wait the same.
        assertThat(delays).hasSizeGreaterThan(1);
        assertThat(SsmParameterSource.isThrottling(throttled)).isTrue();
        assertThat(strategy.maxAttempts()).isEqualTo(8);
    }

    @Test
    void anUnreachableEndpointIsUnavailable() {
        try (SsmParameterSource source = source(URI.create("http://127.0.0.1:1"), QUICK)) {
            assertThatThrownBy(() -> source.readAll(SITE)).isInstanceOfSatisfying(IngotException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                assertThat(e.getMessage()).contains("nothing accepted a connection at http://127.0.0.1:1");
                assertThat(e.hint()).hasValueSatisfying(hint -> assertThat(hint).contains("--endpoint-url"));
            });
        }
    }

    @Test
    void aPathWithNothingUnderItReadsAsEmpty() {
        server.putString("/edge/OTHER/ntp_server", "ntp.example");

        assertThat(readSite()).isEmpty();
    }
}
