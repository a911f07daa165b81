package dev.ingot.registry;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EcrRegistryTest {
    @Test
    void anEcrHostNamesItsAccountAndRegion() {
        assertThat(EcrRegistry.of("123456789012.dkr.ecr.eu-west-1.amazonaws.com/video-ingest"))
                .contains(new EcrRegistry("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012", "eu-west-1"));
        assertThat(EcrRegistry.of("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/team/video-ingest").map(EcrRegistry::region))
                .contains("us-gov-west-1");
        assertThat(EcrRegistry.of("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/vi").map(EcrRegistry::accountId)).contains("123456789012");
    }

    @Test
    void otherRegistriesAndLookAlikesAreNotEcr() {
        assertThat(EcrRegistry.of("ghcr.io/example/video-ingest")).isEmpty();
        assertThat(EcrRegistry.of("video-ingest")).isEmpty();
        assertThat(EcrRegistry.of("12345.dkr.ecr.us-east-1.amazonaws.com/vi")).isEmpty();
        assertThat(EcrRegistry.of("123456789012.dkr.ecr.us-east-1.amazonaws.com.example.net/vi")).isEmpty();
        assertThat(EcrRegistry.of("public.ecr.aws/example/vi")).isEmpty();
    }
}
