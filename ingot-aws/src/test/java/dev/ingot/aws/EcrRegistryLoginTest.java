package dev.ingot.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.registry.RegistryCredentials;
import dev.ingot.site.ContainerImage;
import dev.ingot.testing.EcrServer;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/** ECR login through the real SDK against an in-process endpoint speaking ECR's AWS JSON 1.1 protocol. */
class EcrRegistryLoginTest {
    private final EcrServer server = EcrServer.start();
    private final EcrRegistryLogin login = new EcrRegistryLogin(Optional.of(server.endpoint()),
            StaticCredentialsProvider.create(AwsBasicCredentials.create("ingot-test-access-key", "ingot-test-secret-key")));

    @AfterEach
    void stop() {
        login.close();
        server.close();
    }

    @Test
    void anEcrImageGetsTheDecodedTokenOfItsAccountAskedInItsOwnRegion() {
        server.token("s3cr3t-token", Instant.parse("2026-11-27T13:00:00Z"));

        RegistryCredentials credentials = login.credentialsFor(
                ContainerImage.parse("210987654321.dkr.ecr.eu-west-1.amazonaws.com/video-ingest:2026.11.3")).orElseThrow();

        assertThat(credentials.registry()).isEqualTo("210987654321.dkr.ecr.eu-west-1.amazonaws.com");
        assertThat(credentials.username()).isEqualTo("AWS");
        assertThat(credentials.password().reveal()).isEqualTo("s3cr3t-token");
        assertThat(credentials.expiresAt()).isEqualTo(Instant.parse("2026-11-27T13:00:00Z"));
        assertThat(server.calls()).singleElement().satisfies(call -> {
            assertThat(call.operation()).isEqualTo("GetAuthorizationToken");
            assertThat(call.registryIds()).isEqualTo(List.of("210987654321"));
            assertThat(call.signedRegion()).contains("eu-west-1");
            assertThat(call.status()).isEqualTo(200);
        });
    }

    @Test
    void anImageFromAnotherRegistryNeedsNoLoginAndAsksNothing() {
        assertThat(login.credentialsFor(ContainerImage.parse("ghcr.io/example/video-ingest:2.3.1"))).isEmpty();
        assertThat(login.credentialsFor(ContainerImage.parse("video-ingest:2.3.1"))).isEmpty();
        assertThat(server.calls()).isEmpty();
    }

    @Test
    void aRefusalIsAnUnavailableErrorThatNamesThePermission() {
        server.failWith(400, "AccessDeniedException", "User is not authorized to perform: ecr:GetAuthorizationToken");

        assertThatThrownBy(() -> login.credentialsFor(ContainerImage.parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest:2.3.1")))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                    assertThat(e.oneLine()).contains("Tried to log in to the ECR registry 123456789012.dkr.ecr.us-east-1.amazonaws.com",
                            "AccessDeniedException", "ecr:GetAuthorizationToken");
                });
    }
}
