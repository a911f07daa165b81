package dev.ingot.site;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.testing.SiteTrees;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The rendered files, byte for byte, against golden copies that the real tools were run on (ProvisionedFilesToolsTest
 * runs them on every build). After a deliberate change: {@code ./mvnw test -pl ingot-core -Dtest=SiteFilesTest
 * -Dingot.golden.update=true}, then read the diff of src/test/resources before committing it.
 */
class SiteFilesTest {
    private static final Path GOLDEN = Path.of("src/test/resources/dev/ingot/site/golden");

    private static String golden(String name, String rendered) throws IOException {
        if (Boolean.getBoolean("ingot.golden.update")) {
            Files.createDirectories(GOLDEN);
            Files.writeString(GOLDEN.resolve(name), rendered, StandardCharsets.UTF_8);
        }
        try (InputStream in = SiteFilesTest.class.getResourceAsStream("golden/" + name)) {
            assertThat(in).as("golden file " + name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String fileName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    @ParameterizedTest
    @ValueSource(strings = {ChronyConfig.PATH, FirewallRules.PATH, FirewallRules.PATH_V6, VideoIngestEnvironment.PATH, VideoIngestUnit.PATH,
        UnattendedUpgrades.PATH, AgentConfig.PATH, AgentConfig.TOKEN_PATH, SiteFiles.SITE_ID_PATH})
    void eachFileIsRenderedExactlyAsItsGoldenCopy(String path) throws IOException {
        SiteFile file = SiteFiles.find(SiteFiles.render(Sites.typical()), path).orElseThrow();

        assertThat(file.content()).hasValue(golden(fileName(path), file.content().orElseThrow()));
    }

    @Test
    void theSameConfigurationAlwaysGivesTheSameBytes() {
        List<SiteFile> first = SiteFiles.render(Sites.typical());
        List<SiteFile> second = SiteFiles.render(SiteParameters.read(Sites.SITE, Sites.typicalParameters(), "another source").config());

        assertThat(second).extracting(SiteFile::content).isEqualTo(first.stream().map(SiteFile::content).toList());
    }

    @Test
    void theFilesComeInWriteOrderWithTheSiteIdLastAndSecretsPrivate() {
        List<SiteFile> files = SiteFiles.render(Sites.typical());

        assertThat(files.getLast().path()).isEqualTo("/etc/edge/site-id");
        assertThat(files).filteredOn(file -> file.mode() == SiteFile.PRIVATE).extracting(SiteFile::path)
                .containsExactly(VideoIngestEnvironment.PATH, AgentConfig.TOKEN_PATH);
    }

    @Test
    void secretsAreWrittenButNeverShown() {
        SiteFile environment = SiteFiles.find(SiteFiles.render(Sites.typical()), VideoIngestEnvironment.PATH).orElseThrow();
        SiteFile token = SiteFiles.find(SiteFiles.render(Sites.typical()), AgentConfig.TOKEN_PATH).orElseThrow();

        assertThat(environment.content().orElseThrow()).contains("API_KEY=" + SiteTrees.API_KEY, "LOG_LEVEL=info");
        assertThat(environment.showNew().apply("API_KEY=" + SiteTrees.API_KEY)).isEqualTo("API_KEY=" + Secret.MASK);
        assertThat(environment.showNew().apply("LOG_LEVEL=info")).isEqualTo("LOG_LEVEL=info");
        assertThat(token.content()).hasValue(SiteTrees.ENROLLMENT_TOKEN + "\n");
        assertThat(token.showNew().apply(SiteTrees.ENROLLMENT_TOKEN)).isEqualTo(Secret.MASK);
        assertThat(token.showOld().apply("an-older-token")).isEqualTo(Secret.MASK);
    }

    @Test
    void anOldValueIsShownOnlyWhereItCannotBeASecret() {
        SiteFile environment = SiteFiles.find(SiteFiles.render(Sites.typical()), VideoIngestEnvironment.PATH).orElseThrow();

        // Names the site sets itself are never secret; an extra variable's old value may have been, under any name.
        assertThat(environment.showOld().apply("S3_BUCKET=old-bucket")).isEqualTo("S3_BUCKET=old-bucket");
        assertThat(environment.showOld().apply("LOG_LEVEL=debug")).isEqualTo("LOG_LEVEL=" + Secret.MASK);
        assertThat(environment.showOld().apply("LOG_LEVEL=info")).isEqualTo("LOG_LEVEL=info");
        assertThat(environment.showOld().apply("OLD_PASSWORD=hunter2")).isEqualTo("OLD_PASSWORD=" + Secret.MASK);
        assertThat(environment.showOld().apply("# a comment")).isEqualTo("# a comment");
    }

    @Test
    void aSiteWithoutEnrollmentTokenHasNoTokenFileAndTheAgentIsNotPointedAtOne() {
        SiteConfig config = SiteParameters.read(Sites.SITE, Sites.typicalWith(new HashMap<>(Collections.singletonMap("enrollment_token", null))), "test").config();
        List<SiteFile> files = SiteFiles.render(config);

        assertThat(SiteFiles.find(files, AgentConfig.TOKEN_PATH).orElseThrow().content()).isEmpty();
        assertThat(SiteFiles.find(files, AgentConfig.PATH).orElseThrow().content().orElseThrow()).doesNotContain("enrollment_token");
    }

    @Test
    void theFirewallAcceptsSshFromTheManagementNetworkOnlyAndMediaFromEachCamera() {
        String rules = FirewallRules.render(Sites.typical());

        assertThat(rules.lines().filter(line -> line.contains("--dport 22")))
                .containsExactly("-A INPUT -s 10.20.0.0/16 -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT");
        assertThat(rules.lines().filter(line -> line.contains("-p udp")))
                .containsExactly("-A INPUT -s 10.28.47.21/32 -p udp -j ACCEPT", "-A INPUT -s 10.28.47.22/32 -p udp -j ACCEPT");
        assertThat(rules).contains(":INPUT DROP [0:0]");
    }

    @Test
    void theIpv6FirewallHasTheSamePolicyWithSshFromTheManagementNetworksIpv6FormAndNeighbourDiscovery() {
        String rules = FirewallRules.renderV6(Sites.typical());

        assertThat(rules).contains(":INPUT DROP [0:0]\n", ":FORWARD DROP [0:0]\n", "-A INPUT -i lo -j ACCEPT\n",
                "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n",
                "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type neighbour-solicitation -m hl --hl-eq 255 -j ACCEPT\n",
                "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type neighbour-advertisement -m hl --hl-eq 255 -j ACCEPT\n",
                "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type router-advertisement -m hl --hl-eq 255 -j ACCEPT\n",
                "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type packet-too-big -j ACCEPT\n");
        assertThat(rules.lines().filter(line -> line.contains("--dport 22")))
                .containsExactly("-A INPUT -s fd20:2847::/48 -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT");
        // Neighbour discovery is accepted before conntrack's INVALID verdict can drop it.
        assertThat(rules.indexOf("neighbour-solicitation")).isLessThan(rules.indexOf("--ctstate INVALID -j DROP"));
    }

    @Test
    void withoutAnIpv6ManagementNetworkNothingReachesSshOverIpv6() {
        SiteConfig config = SiteParameters.read(Sites.SITE, Sites.typicalWith(new HashMap<>(Collections.singletonMap("mgmt_cidr_v6", null))),
                "test").config();

        String rules = FirewallRules.renderV6(config);

        assertThat(rules).doesNotContain("--dport 22", "echo-request").contains(":INPUT DROP [0:0]", "neighbour-solicitation",
                "# No mgmt_cidr_v6: SSH and ping are accepted over IPv4 only (rules.v4).");
    }

    @Test
    void theUnitRunsTheConfiguredImageOnTheGpuWithTheEnvironmentFile() {
        String unit = VideoIngestUnit.render(Sites.typical());
        String image = "${VIDEO_INGEST_REPOSITORY}:${VIDEO_INGEST_TAG}";

        assertThat(unit).contains("Environment=VIDEO_INGEST_REPOSITORY=123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest\n",
                "Environment=VIDEO_INGEST_TAG=2.3.1\n",
                "ExecStartPre=-/usr/bin/docker pull " + image + "\n",
                "ExecStart=/usr/bin/docker run --rm --name video-ingest --runtime=nvidia --gpus all --network host "
                        + "--env-file /etc/edge/video-ingest.env " + image + "\n",
                "Restart=always\n");
        assertThat(unit.indexOf("docker pull")).isLessThan(unit.indexOf("ExecStart="));
    }

    @Test
    void theAgentsTagOverrideOnTheDataPartitionComesAfterTheParametersTagSoThatItWins() {
        String unit = VideoIngestUnit.render(Sites.typical());

        // systemd.exec(5): variables from EnvironmentFile= override those of Environment=.
        assertThat(unit).contains("EnvironmentFile=-/data/ingot/agent/video-ingest-tag.env\n", "RequiresMountsFor=/data\n");
        assertThat(unit.indexOf("Environment=VIDEO_INGEST_TAG=")).isLessThan(unit.indexOf("EnvironmentFile=-/data/"));
    }

    @Test
    void aDigestPinnedImageKeepsItsDigestWithTheParametersTag() {
        SiteConfig typical = Sites.typical();
        SiteConfig pinned = new SiteConfig(typical.site(), typical.ntpServer(), typical.cameraIps(), typical.cameraRtspPort(),
                typical.s3Bucket(), typical.sqsUrl(), typical.awsRegion(), ContainerImage.parse("registry.example.net/vi:2.3.1@sha256:"
                + "a".repeat(64)), typical.mgmtCidr(), typical.mgmtCidrV6(), typical.controlPlaneUrl(), typical.enrollmentToken(), typical.siteName(),
                typical.videoIngestEnvironment(), typical.controlPlaneCa());

        assertThat(VideoIngestUnit.render(pinned)).contains("Environment=VIDEO_INGEST_REPOSITORY=registry.example.net/vi\n",
                "Environment=VIDEO_INGEST_TAG=2.3.1@sha256:" + "a".repeat(64) + "\n");
    }

    @Test
    void theAgentReadsBackWhatProvisioningWroteIntoAgentJson() {
        AgentConfig.Document document = AgentConfig.parse(AgentConfig.render(Sites.typical()), AgentConfig.PATH);

        assertThat(document.site()).isEqualTo(Sites.SITE);
        assertThat(document.controlPlaneUrl()).contains(URI.create("https://ingot.example.net"));
        assertThat(document.enrollmentTokenFile()).contains(AgentConfig.TOKEN_PATH);
        assertThat(document.videoIngestImage()).contains(ContainerImage.parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest:2.3.1"));
    }

    @Test
    void aBrokenAgentJsonIsBadInputThatSaysWhatIsWrong() {
        assertThatThrownBy(() -> AgentConfig.parse("{\"aws_region\": \"us-east-1\"}", "/etc/ingot/agent.json"))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT);
                    assertThat(e.oneLine()).contains("/etc/ingot/agent.json", "no \"site\"", "ingot provision");
                });
        assertThatThrownBy(() -> AgentConfig.parse("{\"site\": \"SITE-1\", \"aws_region\": \"x\", \"video_ingest_image\": \"vi:latest\"}", "a.json"))
                .hasMessageContaining("'latest' moves");
        assertThatThrownBy(() -> AgentConfig.parse("[1]", "a.json")).hasMessageContaining("not a JSON object");
    }

    @Test
    void noRenderedFileMentionsAnUnsetOptionalParameter() {
        SiteConfig bare = new SiteConfig(Sites.SITE, "10.0.0.1", List.of(Ipv4Address.parse("10.0.0.2")), 554, "bucket-a",
                URI.create("https://sqs.us-east-1.amazonaws.com/123456789012/q"), "us-east-1", ContainerImage.parse("vi:1"),
                Cidr.parse("10.0.0.0/8"), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), new TreeMap<>(Map.of()),
                Optional.empty());

        String everything = String.join("", SiteFiles.render(bare).stream().map(file -> file.content().orElse("")).toList());

        assertThat(everything).doesNotContain("SITE_NAME", "site_name\"", "control_plane_url\"", "From video_ingest_env");
    }
}
