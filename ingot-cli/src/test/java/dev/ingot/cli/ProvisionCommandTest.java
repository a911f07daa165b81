package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.testing.SiteTrees;
import dev.ingot.testing.SsmServer;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code ingot provision} end to end, in-process, into a scratch root (never /: tests do not configure this machine). */
class ProvisionCommandTest {
    private static final String SITE = "SITE-2847";

    @TempDir
    Path folder;

    private CommandRunner ingot;
    private final List<Path> mounted = new ArrayList<>();

    @BeforeEach
    void typicalSiteAndEmptyRoot() throws IOException {
        ingot = new CommandRunner(folder);
        SiteTrees.write(folder.resolve("params"), SITE, SiteTrees.typical(), SiteTrees.typicalSecure());
        Files.createDirectories(folder.resolve("root"));
    }

    @AfterEach
    void unmount() {
        mounted.forEach(mount -> Tools.run(folder, "umount", mount.toString()));
    }

    private CommandRunner.Run provision(String... extra) {
        List<String> args = new ArrayList<>(List.of("provision", "--site", SITE, "--params", "dir:params", "--root", "root"));
        args.addAll(List.of(extra));
        return ingot.run(args.toArray(String[]::new));
    }

    /** Runs with AWS credentials in the system properties the SDK's default chain reads (AWS_ACCESS_KEY_ID etc. in production). */
    private static CommandRunner.Run withAwsCredentials(Supplier<CommandRunner.Run> command) {
        System.setProperty("aws.accessKeyId", SsmServer.ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", SsmServer.SECRET_KEY);
        System.setProperty("aws.region", "us-east-1");
        try {
            return command.get();
        } finally {
            System.clearProperty("aws.accessKeyId");
            System.clearProperty("aws.secretAccessKey");
            System.clearProperty("aws.region");
        }
    }

    private static void assertNoSecretIn(CommandRunner.Run run) {
        assertThat(run.out() + run.err()).doesNotContain(SiteTrees.API_KEY, SiteTrees.ENROLLMENT_TOKEN);
    }

    private Map<String, String> snapshot() throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(folder.resolve("root"))) {
            for (Path path : walk.filter(Files::isRegularFile).toList()) {
                files.put(path.toString(), PosixFilePermissions.toString(Files.getPosixFilePermissions(path)) + Files.readString(path));
            }
        }
        return files;
    }

    private void rewriteParameter(String name, String value) throws IOException {
        Path file = folder.resolve("params/edge/" + SITE + "/" + name);
        if (value == null) {
            Files.delete(file);
        } else {
            Files.writeString(file, value + "\n");
        }
    }

    @Test
    void aSiteIsProvisionedIntoARootAndASecondRunReportsNoChanges() throws IOException {
        CommandRunner.Run first = provision("--json");

        assertThat(first.exitCode()).as(first.toString()).isZero();
        JsonNode json = first.json();
        assertThat(json.get("changed")).hasSize(9);
        assertThat(json.get("changed").get(0).asText()).isEqualTo("/etc/chrony/chrony.conf");
        assertThat(json.get("unchanged")).isEmpty();
        assertThat(json.get("applied").asBoolean()).isFalse();
        assertThat(json.get("not_applied_because").asText()).isEqualTo("--root is not /");
        assertThat(folder.resolve("root/etc/edge/site-id")).hasContent(SITE);
        assertNoSecretIn(first);

        CommandRunner.Run second = provision();

        assertThat(second.exitCode()).as(second.toString()).isZero();
        assertThat(second.out()).startsWith("No changes: site SITE-2847 is up to date under " + folder.resolve("root"));
        assertThat(provision("--json").json().get("changed")).isEmpty();
    }

    @Test
    void aDryRunPrintsAMaskedUnifiedDiffAndWritesNothing() throws IOException {
        provision();
        rewriteParameter("video_ingest_env/API_KEY", "sk-live-the-next-one-also-secret");
        rewriteParameter("camera_ips", "10.28.47.21,10.28.47.29");
        Map<String, String> before = snapshot();

        CommandRunner.Run dryRun = provision("--dry-run");

        assertThat(dryRun.exitCode()).as(dryRun.toString()).isZero();
        assertThat(dryRun.out()).contains("--- a/etc/edge/video-ingest.env\n+++ b/etc/edge/video-ingest.env\n",
                "-CAMERA_IPS=10.28.47.21,10.28.47.22\n+CAMERA_IPS=10.28.47.21,10.28.47.29\n",
                "-API_KEY=********\n+API_KEY=********\n", "+-A INPUT -s 10.28.47.29/32 -p udp -j ACCEPT\n",
                "Would change 2 files");
        assertThat(dryRun.out()).doesNotContain("sk-live-the-next-one-also-secret");
        assertNoSecretIn(dryRun);
        assertThat(snapshot()).isEqualTo(before);

        CommandRunner.Run json = provision("--dry-run", "--json");
        assertThat(json.json().get("changed")).extracting(JsonNode::asText)
                .containsExactly("/etc/iptables/rules.v4", "/etc/edge/video-ingest.env");
        assertThat(json.json().get("diff").asText()).contains("+API_KEY=********");
        assertThat(json.out()).doesNotContain("sk-live-the-next-one-also-secret");
        assertNoSecretIn(json);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ntp_server", "camera_ips", "s3_bucket", "sqs_url", "aws_region", "video_ingest_image", "mgmt_cidr"})
    void eachMissingRequiredParameterIsBadInputAndChangesNoFile(String name) throws IOException {
        provision();
        rewriteParameter("ntp_server", "10.20.0.1");
        rewriteParameter(name, null);
        Map<String, String> before = snapshot();

        CommandRunner.Run run = provision("--json");

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(2);
        assertThat(run.err()).contains("error: Tried to read the parameters of site SITE-2847", "  - " + name + ": missing (required: ");
        assertThat(run.json().get("error").get("message").asText()).contains(name + ": missing");
        assertThat(snapshot()).isEqualTo(before);
        assertNoSecretIn(run);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "ntp_server|ntp server", "camera_ips|10.28.47.21;10.28.47.22", "s3_bucket|Edge_Video", "sqs_url|sqs.us-east-1.amazonaws.com/q",
        "aws_region|virginia", "video_ingest_image|video-ingest:latest", "mgmt_cidr|10.20.0.0"})
    void eachMalformedRequiredParameterIsBadInputAndChangesNoFile(String name, String value) throws IOException {
        provision();
        rewriteParameter(name, value);
        Map<String, String> before = snapshot();

        CommandRunner.Run run = provision();

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(2);
        assertThat(run.err()).contains("  - " + name + " '" + value + "': ");
        assertThat(snapshot()).isEqualTo(before);
        assertNoSecretIn(run);
    }

    @Test
    void everyProblemIsReportedInOneRun() throws IOException {
        rewriteParameter("ntp_server", "bad host");
        rewriteParameter("mgmt_cidr", null);

        CommandRunner.Run run = provision();

        assertThat(run.err()).contains("2 parameters are missing or malformed", "  - ntp_server 'bad host': ", "  - mgmt_cidr: missing");
        assertThat(folder.resolve("root/etc")).doesNotExist();
    }

    @Test
    void anUnreachableParameterStoreExitsThreeAndChangesNothing() throws IOException {
        provision();
        Map<String, String> before = snapshot();

        CommandRunner.Run ssm = withAwsCredentials(() -> ingot.run("provision", "--site", SITE, "--params", "ssm:", "--endpoint-url",
                "http://127.0.0.1:1", "--root", "root"));
        CommandRunner.Run folderMissing = ingot.run("provision", "--site", SITE, "--params", "dir:nowhere", "--root", "root");

        assertThat(ssm.exitCode()).as(ssm.toString()).isEqualTo(3);
        assertThat(ssm.err()).contains("nothing accepted a connection at http://127.0.0.1:1", "Hint: check --endpoint-url");
        assertThat(folderMissing.exitCode()).as(folderMissing.toString()).isEqualTo(3);
        assertThat(folderMissing.err()).contains("does not exist");
        assertThat(snapshot()).isEqualTo(before);
    }

    @Test
    void aReadOnlyRootExitsThreeAndChangesNothing() throws IOException {
        Path root = folder.resolve("root");
        Tools.Outcome mount = Tools.run(folder, "mount", "-t", "tmpfs", "-o", "size=4m", "ingot-test", root.toString());
        assumeTrue(mount.exitCode() == 0, "this machine does not let tests mount a file system: " + mount.output().strip());
        mounted.add(root);
        provision();
        Tools.succeed(folder, "mount", "-o", "remount,ro", root.toString());
        rewriteParameter("ntp_server", "10.20.0.1");
        Map<String, String> before = snapshot();

        CommandRunner.Run run = provision();

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(3);
        assertThat(run.err()).contains("Read-only file system", "nothing was changed", "Hint: the root is mounted read-only");
        assertThat(snapshot()).isEqualTo(before);
    }

    @Test
    void theSiteIsReadFromSsmThroughTheSdkPagedThrottledAndDecrypted() {
        try (SsmServer server = SsmServer.start()) {
            Map<String, String> values = new TreeMap<>(SiteTrees.typical());
            for (int i = 0; i < 9; i++) {
                values.put("video_ingest_env/EXTRA_" + i, "extra " + i);
            }
            SiteTrees.put(server, SITE, values, SiteTrees.typicalSecure());
            server.throttleFirstCalls(2).emptyPagesBeforeEachPage(1);
            CommandRunner.Run run = withAwsCredentials(() -> ingot.run("provision", "--site", SITE, "--params", "ssm:", "--endpoint-url",
                    server.endpoint().toString(), "--root", "root", "--json"));

            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(run.json().get("changed")).hasSize(9);
            assertThat(run.json().get("source").asText()).isEqualTo("ssm: at " + server.endpoint());
            assertNoSecretIn(run);
            // 22 parameters: 2 throttled calls, then an empty page before each of the 3 pages.
            assertThat(server.calls()).extracting(SsmServer.Call::status).containsExactly(400, 400, 200, 200, 200, 200, 200, 200);
            assertThat(server.calls()).allSatisfy(call -> assertThat(call.withDecryption()).isTrue());
            assertThat(folder.resolve("root/etc/ingot/enrollment-token")).hasContent(SiteTrees.ENROLLMENT_TOKEN);
        }
    }

    @Test
    void anEndpointIsOnlyForSsmAndOtherSourcesAreRefused() {
        CommandRunner.Run endpoint = ingot.run("provision", "--site", SITE, "--params", "dir:params", "--endpoint-url", "http://x", "--root", "root");
        CommandRunner.Run unknown = ingot.run("provision", "--site", SITE, "--params", "consul://x", "--root", "root");
        CommandRunner.Run badSite = ingot.run("provision", "--site", "../etc", "--params", "dir:params", "--root", "root");
        CommandRunner.Run noRoot = ingot.run("provision", "--site", SITE, "--params", "dir:params", "--root", "not-there");

        assertThat(List.of(endpoint, unknown, badSite, noRoot)).allSatisfy(run -> assertThat(run.exitCode()).as(run.toString()).isEqualTo(2));
        assertThat(unknown.err()).contains("Hint: use --params ssm:");
        assertThat(noRoot.err()).contains("it does not exist");
    }

    @Test
    void ignoredParametersAreNamedSoATypoIsNoticed() throws IOException {
        Files.writeString(folder.resolve("params/edge/" + SITE + "/camera_rtsp_prot"), "8554\n");

        CommandRunner.Run run = provision();

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).contains("Ignored (not site parameters Ingot knows): camera_rtsp_prot");
    }

    @Test
    void theHelpNamesEveryOptionOfTheIssue() {
        CommandRunner.Run help = ingot.run("provision", "--help");

        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("--site", "--params", "--root", "--no-apply", "--dry-run", "--json", "--endpoint-url",
                "provision_site.sh");
    }
}
