package dev.ingot.site;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.site.ParameterSource.Parameter;
import dev.ingot.testing.SiteTrees;
import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SiteParametersTest {

    private static Map<String, String> changes(String... namesAndValues) {
        Map<String, String> changes = new HashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            changes.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return changes;
    }

    /** The problem lines of a refused read, without the message's first line and the hint. */
    private static List<String> problems(SortedMap<String, Parameter> parameters) {
        try {
            SiteParameters.read(Sites.SITE, parameters, "dir:/params");
        } catch (IngotException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT);
            return e.getMessage().lines().filter(line -> line.startsWith("  - ")).map(line -> line.substring(4)).toList();
        }
        throw new AssertionError("the parameters were accepted");
    }

    @Test
    void aCompleteSiteBecomesATypedConfiguration() {
        SiteParameters.Reading reading = SiteParameters.read(Sites.SITE, Sites.typicalParameters(), "dir:/params");
        SiteConfig config = reading.config();

        assertThat(config.site()).isEqualTo(Sites.SITE);
        assertThat(config.ntpServer()).isEqualTo("ntp.site-2847.example.net");
        assertThat(config.cameraIps()).containsExactly(Ipv4Address.parse("10.28.47.21"), Ipv4Address.parse("10.28.47.22"));
        assertThat(config.cameraRtspPort()).isEqualTo(8554);
        assertThat(config.sqsUrl()).isEqualTo(URI.create("https://sqs.us-east-1.amazonaws.com/123456789012/edge-video-events"));
        assertThat(config.videoIngestImage().tag()).isEqualTo("2.3.1");
        assertThat(config.mgmtCidr()).isEqualTo(Cidr.parse("10.20.0.0/16"));
        assertThat(config.enrollmentToken().map(Secret::reveal)).hasValue(SiteTrees.ENROLLMENT_TOKEN);
        assertThat(config.videoIngestEnvironment()).containsOnlyKeys("API_KEY", "LOG_LEVEL");
        assertThat(config.videoIngestEnvironment().get("API_KEY")).isInstanceOf(SiteConfig.EnvironmentValue.Hidden.class);
        assertThat(config.toString()).doesNotContain(SiteTrees.API_KEY, SiteTrees.ENROLLMENT_TOKEN);
        assertThat(reading.ignored()).isEmpty();
    }

    @Test
    void onlyTheRequiredParametersAreNeededAndTheRtspPortDefaultsTo554() {
        SiteConfig config = SiteParameters.read(Sites.SITE, Sites.typicalWith(changes("camera_rtsp_port", null, "control_plane_url", null,
                "enrollment_token", null, "site_name", null, "video_ingest_env/LOG_LEVEL", null, "video_ingest_env/API_KEY", null)),
                "test").config();

        assertThat(config.cameraRtspPort()).isEqualTo(554);
        assertThat(config.controlPlaneUrl()).isEmpty();
        assertThat(config.enrollmentToken()).isEmpty();
        assertThat(config.siteName()).isEmpty();
        assertThat(config.videoIngestEnvironment()).isEmpty();
    }

    @Test
    void everyMissingRequiredParameterIsNamedAtOnce() {
        List<String> problems = problems(Sites.parameters(Map.of("site_name", "Only a name"), Set.of()));

        assertThat(problems).hasSize(7).allSatisfy(line -> assertThat(line).contains(": missing (required: "));
        assertThat(String.join("\n", problems)).contains("ntp_server", "camera_ips", "s3_bucket", "sqs_url", "aws_region",
                "video_ingest_image", "mgmt_cidr");
    }

    @Test
    void theErrorSaysWhatWasTriedWhyAndWhatToDo() {
        assertThatThrownBy(() -> SiteParameters.read(Sites.SITE, Sites.typicalWith(changes("ntp_server", null)), "dir:/params"))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.getMessage()).startsWith("Tried to read the parameters of site SITE-2847 under /edge/SITE-2847/ from "
                            + "dir:/params but failed because 1 parameter is missing or malformed (nothing was written):\n  - ntp_server: missing");
                    assertThat(e.hint()).hasValueSatisfying(hint -> assertThat(hint).contains("docs/site-parameters.md"));
                });
    }

    @Test
    void aControlPlaneCaThatIsNotPemCertificatesIsNamedOnOneLineAndNothingIsRead() {
        List<String> notPem = problems(Sites.typicalWith(changes("control_plane_ca", "trust me")));
        List<String> broken = problems(Sites.typicalWith(changes("control_plane_ca",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")));

        assertThat(notPem).singleElement().asString().startsWith("control_plane_ca ").contains("is not PEM certificates");
        assertThat(broken).singleElement().asString().startsWith("control_plane_ca ").doesNotContain("\n");
    }

    @Test
    void everyMalformedParameterIsNamedAtOnceOneLineEach() {
        List<String> problems = problems(Sites.typicalWith(changes(
                "ntp_server", "ntp server.example",
                "camera_ips", "10.28.47.21, 10.28.47.300,cam-3",
                "camera_rtsp_port", "70000",
                "s3_bucket", "s3://Edge_Video",
                "sqs_url", "https://sqs.us-east-1.amazonaws.com/edge-video-events",
                "aws_region", "US East",
                "video_ingest_image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest",
                "mgmt_cidr", "10.20.0.5/16",
                "control_plane_url", "ftp://ingot.example.net",
                "site_name", "two\nlines",
                "video_ingest_env/9LIVES", "x")));

        assertThat(problems).hasSize(11);
        assertThat(problems).anySatisfy(line -> assertThat(line).startsWith("ntp_server 'ntp server.example': is not a host name"))
                .anySatisfy(line -> assertThat(line).startsWith("camera_ips '10.28.47.21, 10.28.47.300,cam-3': '10.28.47.300', 'cam-3' are not IPv4"))
                .anySatisfy(line -> assertThat(line).startsWith("camera_rtsp_port '70000': is not a TCP port"))
                .anySatisfy(line -> assertThat(line).startsWith("s3_bucket 's3://Edge_Video': give the bucket's name only"))
                .anySatisfy(line -> assertThat(line).startsWith("sqs_url ").contains("/ACCOUNT-ID/QUEUE-NAME"))
                .anySatisfy(line -> assertThat(line).startsWith("aws_region 'US East': is not an AWS region"))
                .anySatisfy(line -> assertThat(line).startsWith("video_ingest_image ").contains("has no tag"))
                .anySatisfy(line -> assertThat(line).startsWith("mgmt_cidr '10.20.0.5/16': ").contains("the network is 10.20.0.0/16"))
                .anySatisfy(line -> assertThat(line).startsWith("control_plane_url 'ftp://ingot.example.net': "))
                .anySatisfy(line -> assertThat(line).isEqualTo("site_name 'two\\nlines': has a line break or control character"))
                .anySatisfy(line -> assertThat(line).startsWith("video_ingest_env/9LIVES: '9LIVES' is not an environment variable name"));
    }

    @Test
    void aSecureStringNeverAppearsInAProblem() {
        SortedMap<String, Parameter> parameters = Sites.typicalWith(Map.of());
        parameters.put("enrollment_token", new Parameter("enrollment_token", "has spaces secret-4242", true));
        parameters.put("video_ingest_env/API_KEY", new Parameter("video_ingest_env/API_KEY", "line1-secret-4242\nline2", true));
        parameters.put("s3_bucket", new Parameter("s3_bucket", "bucket-secret-4242", true));

        assertThatThrownBy(() -> SiteParameters.read(Sites.SITE, parameters, "ssm:")).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.oneLine()).doesNotContain("secret-4242");
            assertThat(e.getMessage()).contains("enrollment_token (a SecureString, value not shown): is not one word",
                    "video_ingest_env/API_KEY (a SecureString, value not shown): has a line break",
                    "s3_bucket: is a SecureString, but its value goes into files any user of the device may read");
        });
    }

    @Test
    void anEnrollmentTokenStoredAsAPlainStringIsStillKeptSecret() {
        SiteConfig config = SiteParameters.read(Sites.SITE, Sites.typicalWith(Map.of()).entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, entry -> new Parameter(entry.getKey(), entry.getValue().value(), false),
                        (a, b) -> a, TreeMap::new)), "test").config();

        assertThat(config.enrollmentToken().map(Object::toString)).hasValue(Secret.MASK);
    }

    @Test
    void namesOutsideTheSchemaAreIgnoredAndListedAndAMisspellingIsPointedOut() {
        SortedMap<String, Parameter> parameters = Sites.typicalWith(changes("ntp_server", null, "ntp_sever", "ntp.example", "notes", "x"));

        assertThat(problems(parameters)).containsExactly(
                "ntp_server: missing (required: the site's NTP server, a host name or IP address) (is 'ntp_sever' a misspelling of it?)");
        assertThat(SiteParameters.read(Sites.SITE, Sites.typicalWith(changes("notes", "kept for people")), "test").ignored())
                .containsExactly("notes");
    }

    @Test
    void theContainerCannotGetAVariableTheSiteAlreadySets() {
        assertThat(problems(Sites.typicalWith(changes("video_ingest_env/AWS_REGION", "eu-west-1")))).containsExactly(
                "video_ingest_env/AWS_REGION: AWS_REGION is set from the site's own parameters; choose another name");
    }

    @Test
    void aQueueInAnotherRegionThanTheSiteIsRefused() {
        assertThat(problems(Sites.typicalWith(changes("sqs_url", "https://sqs.eu-west-1.amazonaws.com/123456789012/edge-video-events"))))
                .containsExactly("sqs_url 'https://sqs.eu-west-1.amazonaws.com/123456789012/edge-video-events': "
                        + "the queue is in eu-west-1 but aws_region is us-east-1");
    }

    @Test
    void emptyValuesAndRepeatedCamerasAreRefused() {
        assertThat(problems(Sites.typicalWith(changes("ntp_server", "", "camera_ips", "10.0.0.1,10.0.0.2,10.0.0.1"))))
                .containsExactly("ntp_server: is empty", "camera_ips '10.0.0.1,10.0.0.2,10.0.0.1': lists 10.0.0.1 more than once");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "ntp.example.net|true", "10.1.2.3|true", "2001:db8::123|true", "ntp|true", "a-b.c-d.example|true",
        "10.1.2.300|false", "-ntp.example|false", "ntp..example|false", "ntp_1.example|false", "2001:db8::zz|false", "ntp.example.|false"})
    void ntpServersAreHostNamesOrIpAddresses(String text, boolean valid) {
        assertThat(SiteParameters.hostProblem(text).isEmpty()).as(text).isEqualTo(valid);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "https://ingot.example.net|true", "https://10.20.0.5:8443|true", "http://localhost:7070|true", "http://127.0.0.1:7070|true",
        "http://127.3.4.5|true", "http://[::1]:7070|true",
        "http://ingot.example.net|false", "http://10.20.0.5:7070|false", "http://[2001:db8::1]|false", "http://localhost.example.net|false",
        "ftp://ingot.example.net|false", "https://user@ingot.example.net|false"})
    void theControlPlaneIsHttpsAndPlainHttpOnlyOnLoopback(String text, boolean valid) {
        assertThat(SiteParameters.controlPlaneProblem(text).isEmpty()).as(text).isEqualTo(valid);
    }

    @Test
    void aPlainHttpControlPlaneIsRefusedBecauseTheTokenWouldTravelInTheClear() {
        List<String> problems = problems(Sites.typicalWith(changes("control_plane_url", "http://ingot.example.net")));

        assertThat(problems).containsExactly("control_plane_url 'http://ingot.example.net': is plain http://, which would carry the "
                + "enrollment token in the clear: use https:// (http:// is accepted for loopback only: localhost, 127.0.0.0/8, [::1])");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "edge-video-us-east-1|true", "a.b.c|true", "abc|true",
        "ab|false", "Edge|false", "edge_video|false", "-edge|false", "edge..video|false", "192.168.1.1|false", "xn--edge|false"})
    void bucketNamesFollowS3sRules(String text, boolean valid) {
        assertThat(SiteParameters.bucketProblem(text).isEmpty()).as(text).isEqualTo(valid);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "10.1.2.3|true", "0.0.0.0|true", "255.255.255.255|true",
        "10.1.2|false", "10.1.2.3.4|false", "010.1.2.3|false", "10.1.2.256|false", "10.1.2.-1|false", "a.b.c.d|false", "' 10.1.2.3'|false"})
    void ipv4AddressesAreFourDecimalNumbers(String text, boolean valid) {
        assertThat(Ipv4Address.problemWith(text).isEmpty()).as(text).isEqualTo(valid);
        if (valid) {
            assertThat(Ipv4Address.parse(text).toString()).isEqualTo(text);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "10.20.0.0/16|true", "0.0.0.0/0|true", "10.20.0.5/32|true",
        "10.20.0.0|false", "10.20.0.0/33|false", "10.20.0.0/016|false", "10.20.0.5/16|false", "10.20.0.0/|false"})
    void networksAreCidrWithoutHostBits(String text, boolean valid) {
        assertThat(Cidr.problemWith(text).isEmpty()).as(text).isEqualTo(valid);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "fd20:2847::/48|fd20:2847::/48", "FD20:2847:0000::/48|fd20:2847::/48", "2001:db8:0:0:1:0:0:0/80|2001:db8:0:0:1::/80", "2001:db8:0:0:1:0:0:1/128|2001:db8::1:0:0:1/128",
        "2001:db8::/32|2001:db8::/32", "::/0|::/0", "fd20::5/128|fd20::5/128", "2001:0:0:1::/64|2001:0:0:1::/64",
        "fd20:2847::/48x|", "fd20:2847::1/48|", "10.20.0.0/16|", "::ffff:10.20.0.0/112|", "fd20::/129|", "fd20::/048|",
        "fd20::|", "fe80::1%eth0/128|", "[fd20::]/48|", "fd20:::/48|"})
    void ipv6NetworksAreCidrWithoutHostBitsAndShowInTheirShortestForm(String text, String shown) {
        assertThat(Ipv6Cidr.problemWith(text).isEmpty()).as(text).isEqualTo(shown != null);
        if (shown != null) {
            assertThat(Ipv6Cidr.parse(text).toString()).isEqualTo(shown);
        }
    }

    @Test
    void anIpv6ManagementNetworkWithHostBitsNamesTheNetworkItMeant() {
        assertThat(problems(Sites.typicalWith(changes("mgmt_cidr_v6", "fd20:2847::1/48")))).containsExactly("mgmt_cidr_v6 'fd20:2847::1/48': "
                + "the address has host bits set for a /48 network (the network is fd20:2847::/48)");
        assertThat(Sites.typical().mgmtCidrV6().map(Ipv6Cidr::toString)).hasValue("fd20:2847::/48");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest:2.3.1|true",
        "registry.example:5000/edge/video-ingest:v2|true", "video-ingest:2.3.1|true",
        "video-ingest:2.3.1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef|true",
        "video-ingest|false", "video-ingest:latest|false", "Video-Ingest:1|false", "video-ingest:|false", "video ingest:1|false"})
    void containerImagesNeedAFixedTag(String text, boolean valid) {
        assertThat(ContainerImage.problemWith(text).isEmpty()).as(text).isEqualTo(valid);
        if (valid) {
            assertThat(ContainerImage.parse(text).toString()).isEqualTo(text);
        }
    }

    @Test
    void aSecretShowsAsAMaskAndComparesByValue() {
        Secret secret = Secret.of("hunter2");

        assertThat(secret).hasToString(Secret.MASK);
        assertThat(secret).isEqualTo(Secret.of("hunter2")).isNotEqualTo(Secret.of("hunter3"));
        assertThat(Optional.of(secret).toString()).doesNotContain("hunter2");
    }
}
