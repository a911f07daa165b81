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
        return test(change, esp -> { }, GoldenImages.PARTITIONS);
    }

    /** A disk image of the good tree changed by {@code change}, with the good ESP changed by {@code espChange} and these partitions. */
    private ImageTestReport test(Consumer<Map<String, String>> change, Consumer<Map<String, byte[]>> espChange, List<String> partitions) {
        Map<String, String> files = new HashMap<>(GoldenImages.goodFiles());
        change.accept(files);
        Path tree = GoldenImages.writeTree(folder.resolve("tree"), files);
        Map<String, byte[]> esp = new java.util.LinkedHashMap<>(GoldenImages.goodEsp(folder));
        espChange.accept(esp);
        Path image = GoldenImages.diskImage(tree, folder.resolve("edge-golden.img"), esp, partitions);
        DirectoryTree root = Ext4Partition.dump(image, "root-a", folder.resolve("dump"), ENVIRONMENT);
        return new ImageTestReport(root.describe(), ImageChecks.run(root, BootDisk.read(image, ENVIRONMENT), expected));
    }

    private static List<String> findings(ImageTestReport report, String check) {
        return report.results().stream().filter(result -> result.name().equals(check)).findFirst().orElseThrow().findings();
    }

    @Test
    void aGoodImagePassesEveryCheck() {
        ImageTestReport report = test(files -> { });

        assertThat(report.results()).allSatisfy(result -> assertThat(result.findings()).as(result.name()).isEmpty());
        assertThat(report.results()).extracting(CheckResult::name).containsExactly("ssh-hardening", "accounts", "packages",
                "docker-runtime", "image-version", "unattended-upgrades", "no-site-config", "units", "launcher", "fstab", "boot-loader-held",
                "ab-boot", "no-secrets");
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
    void anAgentUnitThatIsNotEnabledFails() {
        ImageTestReport report = test(files -> files.remove("/etc/systemd/system/multi-user.target.wants/ingot-agent.service"));

        assertThat(findings(report, "units")).containsExactly("ingot-agent.service is not enabled: /etc/systemd/system/multi-user.target.wants/"
                + "ingot-agent.service is missing (systemctl enable ingot-agent.service)");
    }

    @Test
    void anFstabThatMountsRootOrNamesAFileSystemByUuidFails() {
        ImageTestReport report = test(files -> files.put("/etc/fstab", """
                # curtin's fstab, as the installer leaves it
                UUID=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 / ext4 defaults 0 1
                UUID=AB12-CD34 /boot/efi vfat umask=0077 0 1
                LABEL=data /data ext4 defaults 0 2
                """));

        assertThat(findings(report, "fstab")).containsExactly(
                "/etc/fstab mounts / (line 2: UUID=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0); each slot's root comes from its GRUB entry, "
                        + "and a line here would mount the same partition in both slots",
                "/etc/fstab mounts /boot/efi by UUID=AB12-CD34 (line 3); a slot payload carries root-a's file-system UUIDs and labels "
                        + "into root-b: name partitions by PARTLABEL=",
                "/etc/fstab mounts /data by LABEL=data (line 4); a slot payload carries root-a's file-system UUIDs and labels into "
                        + "root-b: name partitions by PARTLABEL=",
                "/etc/fstab mounts /data from LABEL=data, not PARTLABEL=data",
                "/etc/fstab mounts /boot/efi from UUID=AB12-CD34, not PARTLABEL=esp");
    }

    @Test
    void aBootLoaderPackageThatIsNotHeldFails() {
        ImageTestReport report = test(files -> files.put("/var/lib/dpkg/status", files.get("/var/lib/dpkg/status")
                .replace("Package: shim-signed\nStatus: hold ok installed", "Package: shim-signed\nStatus: install ok installed")));

        assertThat(findings(report, "boot-loader-held")).containsExactly("shim-signed is not held (Status: install ok installed); an upgrade "
                + "would rerun grub-install over the A/B menu: apt-mark hold shim-signed");
    }

    @Test
    void anEspWithUbuntusStubMenuAndSlotBCommittedFails() {
        ImageTestReport report = test(files -> { }, esp -> {
            esp.put(GoldenImages.ESP_CONFIG, "search.fs_uuid 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 root\nset prefix=($root)'/boot/grub'\n"
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            esp.put(GoldenImages.ESP_ENV, GoldenImages.grubEnv(folder, "saved_entry=ingot-b", "next_entry=ingot-b"));
        }, GoldenImages.PARTITIONS);

        assertThat(findings(report, "ab-boot")).containsExactly(
                "/EFI/ubuntu/grub.cfg on the ESP is not Ingot's A/B menu: line 1 is 'search.fs_uuid 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 "
                        + "root', expected '# Ingot A/B boot menu: the golden image's only grub.cfg, on the ESP as /EFI/u...'",
                "/EFI/ubuntu/grubenv has saved_entry=ingot-b; a new image commits slot a (saved_entry=ingot-a)",
                "/EFI/ubuntu/grubenv has a one-shot boot next_entry=ingot-b; a new image has none");
    }

    @Test
    void anEspWithoutItsMenuOrEnvironmentAndARootWithoutItsKernelFail() {
        ImageTestReport report = test(files -> files.remove("/boot/vmlinuz"), java.util.Map::clear, GoldenImages.PARTITIONS);

        assertThat(findings(report, "ab-boot")).containsExactly(
                "/EFI/ubuntu/grub.cfg is missing on the ESP (packer/scripts/45-ab-boot.sh installs it)",
                "/EFI/ubuntu/grubenv is missing on the ESP; GRUB's save_env cannot clear a one-shot boot without it (grub-editenv grubenv "
                        + "create; set saved_entry=ingot-a)",
                "root-a has no /boot/vmlinuz; the A/B menu loads each slot's kernel and initrd from there");
    }

    @Test
    void aDiskWhoseSlotsAreSwappedFailsTheMenuFindsKernelsByPartitionNumber() {
        ImageTestReport report = test(files -> { }, esp -> { }, List.of("esp", "root-b", "root-a", "data"));

        assertThat(findings(report, "ab-boot")).containsExactly("the GPT's partitions are 1 esp, 2 root-b, 3 root-a, 4 data; the A/B menu "
                + "needs 1 esp, 2 root-a, 3 root-b, 4 data");
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

        assertThat(report.junitXml()).contains("<testsuite name=\"ingot image test\" tests=\"13\" failures=\"1\"")
                .contains("<testcase classname=\"ingot.image.test\" name=\"ssh-hardening\"/>")
                .contains("<failure type=\"finding\" message=\"/etc/iptables/rules.v4 is present; provisioning writes it at first boot\">");
    }
}
