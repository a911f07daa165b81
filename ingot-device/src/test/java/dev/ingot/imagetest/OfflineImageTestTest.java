package dev.ingot.imagetest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.imagebuild.VersionsFile;
import dev.ingot.testing.GoldenImages;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real disk images built with sfdisk and mkfs.ext4 -d, read back through the real debugfs. */
class OfflineImageTestTest {
    private static final Map<String, String> ENVIRONMENT = Map.of("PATH",
            System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin");

    @TempDir
    Path folder;

    private final Expectations expected = new Expectations(ImageName.DEFAULT, Optional.of(ImageVersion.parse(GoldenImages.VERSION)),
            Optional.of(Instant.parse(GoldenImages.BUILD_DATE)),
            VersionsFile.parse(GoldenImages.VERSIONS_FILE, "versions.pkrvars.hcl").packages(), "versions.pkrvars.hcl");

    @BeforeEach
    void needsTheTools() {
        String reason = GoldenImages.unavailableBecause();
        assumeTrue(reason == null, reason);
    }

    private ImageTestReport test(Consumer<Map<String, String>> change) {
        Map<String, String> files = new HashMap<>(GoldenImages.goodFiles());
        change.accept(files);
        Path tree = GoldenImages.writeTree(folder.resolve("tree"), files);
        Path image = GoldenImages.diskImage(tree, folder.resolve("edge-golden.img"));
        DirectoryTree root = Ext4Partition.dump(image, "root-a", folder.resolve("dump"), ENVIRONMENT);
        return new ImageTestReport(root.describe(), ImageChecks.run(root, expected));
    }

    private static List<String> findings(ImageTestReport report, String check) {
        return report.results().stream().filter(result -> result.name().equals(check)).findFirst().orElseThrow().findings();
    }

    @Test
    void aGoodImagePassesEveryCheck() {
        ImageTestReport report = test(files -> { });

        assertThat(report.results()).allSatisfy(result -> assertThat(result.findings()).as(result.name()).isEmpty());
        assertThat(report.results()).extracting(CheckResult::name).containsExactly("ssh-hardening", "accounts", "packages",
                "docker-runtime", "image-version", "unattended-upgrades", "no-site-config", "units", "launcher", "no-secrets");
        assertThat(report.subject()).isEqualTo("edge-golden.img (root-a)");
    }

    @Test
    void passwordAuthenticationSwitchedOnByAnEarlierDropInFails() {
        ImageTestReport report = test(files -> files.put("/etc/ssh/sshd_config.d/00-aaa-cloud-init.conf", "PasswordAuthentication yes\n"));

        assertThat(findings(report, "ssh-hardening")).containsExactly(
                "PasswordAuthentication is yes (/etc/ssh/sshd_config.d/00-aaa-cloud-init.conf line 1); it must be no");
        assertThat(report.ok()).isFalse();
    }

    @Test
    void aSecondLoginUserFails() {
        ImageTestReport report = test(files -> files.merge("/etc/passwd", "deploy:x:1001:1001::/home/deploy:/bin/bash\n", String::concat));

        assertThat(findings(report, "accounts")).containsExactly("deploy has the login shell /bin/bash; only edgeuser may log in");
    }

    @Test
    void anUnlockedRootFails() {
        ImageTestReport report = test(files -> files.put("/etc/shadow", files.get("/etc/shadow").replace("root:!:", "root:$6$salt$hash:")));

        assertThat(findings(report, "accounts")).containsExactly(
                "root is not locked in /etc/shadow (its password field must start with ! or *)");
    }

    @Test
    void aBakedInEnvironmentFileWithAnAwsKeyFailsTwice() {
        ImageTestReport report = test(files -> files.put("/etc/edge/video-ingest.env",
                "SITE_ID=SITE-2847\nAWS_ACCESS_KEY_ID=AKIAZ7Q3EXAMPLQ2W4KE\n"));

        assertThat(findings(report, "no-site-config")).containsExactly(
                "/etc/edge/video-ingest.env is present; provisioning writes it at first boot");
        assertThat(findings(report, "no-secrets")).containsExactly("/etc/edge/video-ingest.env line 2: an AWS access key id (AKIA…)");
    }

    @Test
    void aPrivateKeyAnywhereFails() {
        ImageTestReport report = test(files -> files.put("/home/edgeuser/.ssh/id_ed25519",
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"));

        assertThat(findings(report, "no-secrets")).containsExactly(
                "/home/edgeuser/.ssh/id_ed25519 line 1: a private key (-----BEGIN OPENSSH PRIVATE KEY-----)");
    }

    @Test
    void keyHeaderStringsInsideProgramsAreNotKeys() {
        // ssh, sshd and TLS libraries carry the PEM header strings to recognise keys (found by the debootstrap end-to-end run).
        ImageTestReport report = test(files -> files.put("/usr/sbin/sshd",
                "\u007fELF\u0000-----BEGIN OPENSSH PRIVATE KEY-----\u0000-----END OPENSSH PRIVATE KEY-----\u0000\n"
                        + "-----BEGIN RSA PRIVATE KEY-----\n\u0000\u0001binary\n"));

        assertThat(findings(report, "no-secrets")).isEmpty();
    }

    @Test
    void awsCredentialsAndTokenFilesFail() {
        ImageTestReport report = test(files -> {
            files.put("/root/.aws/credentials", "[default]\naws_secret_access_key = c2VjcmV0\n");
            files.put("/etc/ingot/enrollment-token", "tok-123\n");
        });

        assertThat(findings(report, "no-secrets")).containsExactly("/etc/ingot/enrollment-token: a token file",
                "/root/.aws/credentials: an AWS credentials file", "/root/.aws/credentials line 2: an AWS secret access key");
    }

    @Test
    void aWrongImageVersionFails() {
        ImageTestReport report = test(files -> files.put("/etc/edge/image-version",
                "IMAGE_NAME=edge-golden\nIMAGE_VERSION=v1.4\nBUILD_DATE=" + GoldenImages.BUILD_DATE + "\n"));

        assertThat(findings(report, "image-version")).containsExactly("IMAGE_VERSION is v1.4, expected v1.5");
    }

    @Test
    void aFirewallRulesFileFails() {
        ImageTestReport report = test(files -> files.put("/etc/iptables/rules.v4", "*filter\n:INPUT DROP [0:0]\nCOMMIT\n"));

        assertThat(findings(report, "no-site-config")).containsExactly("/etc/iptables/rules.v4 is present; provisioning writes it at first boot");
    }

    @Test
    void aVideoIngestUnitFails() {
        ImageTestReport report = test(files -> files.put("/etc/systemd/system/video-ingest.service", "[Service]\nExecStart=/bin/true\n"));

        assertThat(findings(report, "no-site-config")).containsExactly(
                "/etc/systemd/system/video-ingest.service is present; the video-ingest unit is site configuration");
    }

    @Test
    void aDockerPackageOffItsPinAndRuncAsDefaultRuntimeFail() {
        ImageTestReport report = test(files -> {
            files.put("/var/lib/dpkg/status", files.get("/var/lib/dpkg/status").replace("Version: 1.7.22-1", "Version: 1.7.19-1"));
            files.put("/etc/docker/daemon.json", "{\"default-runtime\": \"runc\"}\n");
        });

        assertThat(findings(report, "packages")).containsExactly("containerd.io is 1.7.19-1 but versions.pkrvars.hcl pins 1.7.22-1");
        assertThat(findings(report, "docker-runtime")).containsExactly("Docker's default runtime is runc; it must be nvidia",
                "/etc/docker/daemon.json defines no nvidia runtime (runtimes.nvidia.path)");
    }

    @Test
    void automaticRebootsAndNonSecurityOriginsFail() {
        ImageTestReport report = test(files -> files.put("/etc/apt/apt.conf.d/99local", """
                Unattended-Upgrade::Origins-Pattern { "origin=Ubuntu,archive=${distro_codename}-updates"; };
                Unattended-Upgrade::Automatic-Reboot "true";
                """));

        assertThat(findings(report, "unattended-upgrades")).containsExactly(
                "Unattended-Upgrade::Automatic-Reboot is \"true\" (/etc/apt/apt.conf.d/99local); it must be \"false\"",
                "the origin \"origin=Ubuntu,archive=${distro_codename}-updates\" (/etc/apt/apt.conf.d/99local) is not a security pocket");
    }

    @Test
    void aHealthTimerThatIsNotInstalledFails() {
        ImageTestReport report = test(files -> {
            files.remove("/etc/systemd/system/ingot-health.timer");
            files.remove("/etc/systemd/system/timers.target.wants/ingot-health.timer");
        });

        assertThat(findings(report, "units")).containsExactly(
                "/etc/systemd/system/ingot-health.timer is missing (packer/scripts/40-ingot-agent.sh installs it)");
    }

    @Test
    void aUnitInstalledButNotEnabledFails() {
        ImageTestReport report = test(files -> {
            files.remove("/etc/systemd/system/timers.target.wants/ingot-health.timer");
            files.put("/etc/systemd/system/multi-user.target.wants/ingot-provision-first-boot.service",
                    GoldenImages.link("/etc/systemd/system/gone.service"));
        });

        assertThat(findings(report, "units")).containsExactly(
                "ingot-provision-first-boot.service is enabled through /etc/systemd/system/multi-user.target.wants/"
                        + "ingot-provision-first-boot.service, which does not lead to /etc/systemd/system/ingot-provision-first-boot.service",
                "ingot-health.timer is not enabled: /etc/systemd/system/timers.target.wants/ingot-health.timer is missing "
                        + "(systemctl enable ingot-health.timer)");
    }

    @Test
    void aUnitThatRunsAProgramTheImageLacksFails() {
        // The health unit as it was before it was fixed: the image installs ingot under /opt/edge/bin.
        ImageTestReport report = test(files -> files.put("/etc/systemd/system/ingot-health.service",
                files.get("/etc/systemd/system/ingot-health.service").replace("/opt/edge/bin/ingot", "/usr/local/bin/ingot")));

        assertThat(findings(report, "units")).containsExactly("ingot-health.service runs /usr/local/bin/ingot, which is not in the image");
    }

    @Test
    void aLauncherPointingAtAMissingRuntimeOrWithoutNativeAccessFails() {
        ImageTestReport report = test(files -> {
            files.remove("/opt/edge/agent/runtime/bin/java");
            files.put("/opt/edge/bin/ingot", GoldenImages.LAUNCHER.replace("--enable-native-access=ALL-UNNAMED ", ""));
        });

        assertThat(findings(report, "launcher")).containsExactly(
                "/opt/edge/bin/ingot runs /opt/edge/agent/runtime/bin/java, which is not in the image (the agent bundle is missing)",
                "/opt/edge/bin/ingot starts Java without --enable-native-access=ALL-UNNAMED (the JDK warns when the jar first calls "
                        + "Linux through FFM, and later JDKs refuse the call)");
        assertThat(findings(report, "units")).isEmpty();
    }

    @Test
    void aDiskWithoutTheRootAPartitionIsRefusedNamingThePartitionsItHas() {
        Path tree = GoldenImages.writeTree(folder.resolve("tree"), GoldenImages.goodFiles());
        Path image = GoldenImages.diskImage(tree, folder.resolve("edge-golden.img"));

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Ext4Partition.dump(image, "root-c", folder.resolve("dump"), ENVIRONMENT))
                .hasMessageContaining("the GPT names only ['esp', 'root-a', 'root-b', 'data']");
    }

    @Test
    void theJunitReportHasOneTestcasePerCheckWithTheFindingAsFailureMessage() {
        ImageTestReport report = test(files -> files.put("/etc/iptables/rules.v4", "*filter\nCOMMIT\n"));

        assertThat(report.junitXml()).contains("<testsuite name=\"ingot image test\" tests=\"10\" failures=\"1\"")
                .contains("<testcase classname=\"ingot.image.test\" name=\"ssh-hardening\"/>")
                .contains("<failure type=\"finding\" message=\"/etc/iptables/rules.v4 is present; provisioning writes it at first boot\">");
    }
}
