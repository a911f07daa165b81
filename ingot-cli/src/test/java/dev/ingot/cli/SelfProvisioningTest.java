package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.imagetest.Ext4Partition;
import dev.ingot.image.GptTable;
import dev.ingot.testing.GoldenImages;
import dev.ingot.testing.SiteTrees;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A re-imaged device comes back by itself, end to end on a real GPT disk image (sfdisk, mkfs.ext4, debugfs): a golden
 * image is published and promoted; {@code ingot rollback --site} flashes it onto a disk, writes the site's identity into
 * the data partition and reports the provisioning step with a measured time; the test reads the identity back out of the
 * disk with debugfs; then a simulated first boot runs the image's own deploy/ingot-first-boot.sh against the flashed root
 * (its root-a, dumped), which runs the real {@code ingot provision} in a child JVM, and the site's files appear.
 */
class SelfProvisioningTest {
    private static final Map<String, String> TOOLS = Map.of("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin");

    @TempDir
    Path folder;

    private CommandRunner ingot;

    @BeforeEach
    void aPublishedKnownGoodGoldenImageAndTheSitesParameters() throws IOException {
        String reason = GoldenImages.unavailableBecause();
        assumeTrue(reason == null, reason);
        ingot = new CommandRunner(folder);
        TestKeys.RELEASE.secretKey(folder.resolve("keys"));
        TestKeys.RELEASE.publicKey(folder.resolve("keys"));
        GoldenImages.diskImage(GoldenImages.writeTree(folder.resolve("tree"), GoldenImages.goodFiles()), folder.resolve("v1.3.img"));
        succeed(ingot.run("image", "publish", "v1.3.img", "--version", "v1.3", "--key", "keys/release.asc"));
        succeed(ingot.run("image", "promote", "v1.3", "--known-good", "--key", "keys/release.asc", "--keyring", "keys/release.pub.asc"));
        SiteTrees.write(folder.resolve("params"), "SITE-2847", SiteTrees.typical(), SiteTrees.typicalSecure());
    }

    private static CommandRunner.Run succeed(CommandRunner.Run run) {
        assertThat(run.exitCode()).as(run.toString()).isZero();
        return run;
    }

    /** The command with the system clock, so that the report's times are measured (CommandRunner's clock stands still). */
    private CommandRunner.Run measured(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CliContext context = new CliContext(new PrintWriter(out, true), new PrintWriter(err, true), Map.of(), Clock.systemUTC(), folder, false);
        int exitCode = Ingot.newCommandLine(context).execute(args);
        return new CommandRunner.Run(exitCode, out.toString(), err.toString());
    }

    /** What the test itself reads out of a disk's data partition with debugfs: the identity file, as bytes on the disk. */
    private String identityOn(Path disk) {
        GptTable.Partition data = GptTable.read(disk).partition("data").orElseThrow();
        Tools.Outcome cat = Tools.run(folder, TOOLS, List.of("debugfs", "-R", "cat /ingot/provision.env", disk + "?offset=" + data.offset()));
        assertThat(cat.exitCode()).as(cat.output()).isZero();
        return cat.output();
    }

    @Test
    void rollbackLeavesADiskThatProvisionsItselfAtFirstBoot() throws IOException {
        CommandRunner.Run rolledBack = succeed(measured("rollback", "--site", "SITE-2847", "--target", "disk.img", "--store", "store",
                "--keyring", "keys/release.pub.asc", "--current", "v1.4", "--params", "dir:params", "--work-dir", "work", "--json"));

        // The report: the identity step and the provisioning step, each with a measured time, inside the total.
        JsonNode report = rolledBack.json();
        assertThat(report.get("version").asText()).isEqualTo("v1.3");
        assertThat(report.get("phases")).extracting(phase -> phase.get("name").asText())
                .containsSubsequence("write", "read back", "site identity", "provision");
        long phases = 0;
        for (JsonNode phase : report.get("phases")) {
            assertThat(phase.get("ms").asLong()).as(phase.get("name").asText()).isNotNegative();
            phases += phase.get("ms").asLong();
        }
        // Each phase's milliseconds are rounded down; the total is of the exact durations.
        assertThat(report.get("total_ms").asLong()).isBetween(phases, phases + report.get("phases").size());
        assertThat(report.at("/provision/measured").asBoolean()).isTrue();
        assertThat(report.at("/provision/files").asInt()).isEqualTo(10);
        assertThat(report.at("/provision/source").asText()).startsWith("dir:");
        assertThat(report.at("/site_identity/written").asBoolean()).isTrue();
        assertThat(report.at("/site_identity/on_device").asText()).isEqualTo("/data/ingot/provision.env");

        // The identity, read back out of the flashed disk by the test.
        assertThat(identityOn(folder.resolve("disk.img"))).contains("\nSITE_ID=SITE-2847\n");

        // First boot, simulated: the flashed root (root-a) and data partition as the device mounts them, the image's own
        // first-boot script, and the real ingot provision in a child JVM.
        Path root = Ext4Partition.dump(folder.resolve("disk.img"), "root-a", folder.resolve("device/root"), TOOLS).root();
        Path data = Ext4Partition.dump(folder.resolve("disk.img"), "data", folder.resolve("device/data"), TOOLS).root();
        assertThat(root.resolve("etc/edge/site-id")).doesNotExist();
        Map<String, String> device = new HashMap<>(TOOLS);
        device.putAll(Map.of("INGOT_IDENTITY_FILES", root.resolve("etc/edge/provision.env") + ":" + data.resolve("ingot/provision.env"),
                "INGOT_PROVISION_SCRIPT", root.resolve("opt/edge/provision_site.sh").toString(), "INGOT", ingotLauncher().toString(),
                "INGOT_PARAMS", "dir:" + folder.resolve("params")));
        device.putAll(Map.of("INGOT_MACHINE_ID", root.resolve("etc/machine-id").toString(), "INGOT_KEPT_MACHINE_ID",
                data.resolve("ingot/machine-id").toString()));

        Tools.Outcome firstBoot = Tools.run(folder, device, List.of("bash", root.resolve("opt/edge/ingot-first-boot.sh").toString(),
                "--root", root.toString()));

        assertThat(firstBoot.exitCode()).as(firstBoot.output()).isZero();
        assertThat(firstBoot.output()).contains("identity from " + data.resolve("ingot/provision.env"), "Provisioned site SITE-2847 at attempt 1");
        assertThat(root.resolve("etc/edge/site-id")).hasContent("SITE-2847");
        assertThat(Files.readString(root.resolve("etc/edge/video-ingest.env"))).contains("SITE_ID=SITE-2847", "CAMERA_IPS=10.28.47.21,10.28.47.22");
        assertThat(root.resolve("etc/iptables/rules.v4")).exists();
        assertThat(root.resolve("etc/iptables/rules.v6")).exists();
        assertThat(root.resolve("etc/systemd/system/video-ingest.service")).exists();
    }

    @Test
    void aSlotThatAnABUpdateWroteProvisionsItselfAtItsFirstBootFromTheIdentityTheLastProvisioningKeptOnTheDataPartition()
            throws IOException {
        // Both root slots mount the one data partition at /data.
        Path data = Files.createDirectories(folder.resolve("device/data"));
        Path slotA = GoldenImages.writeTree(folder.resolve("device/a"), GoldenImages.goodFiles());
        Files.createSymbolicLink(slotA.resolve("data"), data);
        succeed(ingot.run("provision", "--site", "SITE-2847", "--params", "dir:params", "--root", slotA.toString()));
        String identity = Files.readString(data.resolve("ingot/provision.env"));
        assertThat(identity).contains("\nSITE_ID=SITE-2847\n", "\nINGOT_PARAMS=dir:" + folder.resolve("params") + "\n", "\nAWS_REGION=us-east-1\n");

        // The A/B update wrote slot b from the golden image: no site file, and nobody wrote /etc/edge/provision.env there.
        Path slotB = GoldenImages.writeTree(folder.resolve("device/b"), GoldenImages.goodFiles());
        Files.createSymbolicLink(slotB.resolve("data"), data);
        // Slot a's first boot kept the device's machine id; slot b made its own at its first boot.
        Files.writeString(data.resolve("ingot/machine-id"), "3d1219c7c4c5404aaa1f6d2a48adfda4\n");
        Files.writeString(slotB.resolve("etc/machine-id"), "77ab00000000000000000000000000ff\n");
        assertThat(slotB.resolve("etc/edge/site-id")).doesNotExist();
        Map<String, String> device = new HashMap<>(TOOLS);
        device.putAll(Map.of("INGOT_IDENTITY_FILES", slotB.resolve("etc/edge/provision.env") + ":" + data.resolve("ingot/provision.env"),
                "INGOT_PROVISION_SCRIPT", repository("deploy/provision_site.sh").toString(), "INGOT", ingotLauncher().toString(),
                "INGOT_MACHINE_ID", slotB.resolve("etc/machine-id").toString(), "INGOT_KEPT_MACHINE_ID", data.resolve("ingot/machine-id").toString()));

        Tools.Outcome firstBoot = Tools.run(folder, device, List.of("bash", repository("deploy/ingot-first-boot.sh").toString(),
                "--root", slotB.toString()));

        assertThat(firstBoot.exitCode()).as(firstBoot.output()).isZero();
        assertThat(firstBoot.output()).contains("identity from " + data.resolve("ingot/provision.env"), "Provisioned site SITE-2847 at attempt 1");
        assertThat(slotB.resolve("etc/edge/site-id")).hasContent("SITE-2847");
        assertThat(slotB.resolve("etc/machine-id")).as("the device the control plane knows").hasContent("3d1219c7c4c5404aaa1f6d2a48adfda4");
        assertThat(Files.readString(slotB.resolve("etc/edge/video-ingest.env"))).contains("SITE_ID=SITE-2847");
        assertThat(slotB.resolve("etc/systemd/system/video-ingest.service")).exists();
        assertThat(slotB.resolve("etc/ingot/agent.json")).exists();
        assertThat(data.resolve("ingot/provision.env")).as("written again by slot b's provisioning, the same").hasContent(identity.strip());
    }

    @Test
    void theHumanReportListsTheProvisioningStepWithItsTimeAndHowItWasMeasured() {
        CommandRunner.Run rolledBack = succeed(measured("rollback", "--site", "SITE-2847", "--target", "disk.img", "--store", "store",
                "--keyring", "keys/release.pub.asc", "--to", "v1.3", "--params", "dir:params", "--work-dir", "work"));

        assertThat(rolledBack.out()).containsPattern("  site identity +[0-9]+\\.[0-9] s  SITE_ID=SITE-2847 in the data partition "
                + "\\(/data/ingot/provision.env on the device\\)")
                .containsPattern("  provision +[0-9]+\\.[0-9] s  measured before the flash: ingot provision --dry-run from dir:")
                .contains("Next: reboot the device. Its first boot provisions SITE-2847 by itself");
    }

    @Test
    void parametersThatWouldNotProvisionStopTheRollbackBeforeTheDiskIsTouched() throws IOException {
        Files.delete(folder.resolve("params/edge/SITE-2847/mgmt_cidr"));

        CommandRunner.Run run = ingot.run("rollback", "--site", "SITE-2847", "--target", "disk.img", "--store", "store",
                "--keyring", "keys/release.pub.asc", "--to", "v1.3", "--params", "dir:params", "--work-dir", "work");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("mgmt_cidr: missing");
        assertThat(folder.resolve("disk.img")).doesNotExist();
    }

    @Test
    void aParameterStoreThatCannotBeReachedLeavesTheStepUnmeasuredAndTheRollbackGoesOn() {
        // A parameter folder that is not there (exit 3, as an unreachable SSM): a site rolled back without network.
        CommandRunner.Run run = succeed(ingot.run("rollback", "--site", "SITE-2847", "--target", "disk.img", "--store", "store",
                "--keyring", "keys/release.pub.asc", "--to", "v1.3", "--params", "dir:nowhere", "--work-dir", "work", "--json"));

        assertThat(run.json().at("/provision/measured").asBoolean()).isFalse();
        assertThat(run.json().at("/provision/not_measured_because").asText()).contains("does not exist");
        assertThat(run.json().get("phases")).extracting(phase -> phase.get("name").asText()).doesNotContain("provision");
        assertThat(identityOn(folder.resolve("disk.img"))).contains("SITE_ID=SITE-2847");
    }

    @Test
    void flashWithASiteWritesTheIdentityAndReplacesAnotherSitesOne() throws IOException {
        succeed(ingot.run("flash", "v1.3", "--target", "disk.img", "--keyring", "keys/release.pub.asc", "--work-dir", "work",
                "--site", "SITE-1000"));

        CommandRunner.Run again = succeed(ingot.run("flash", "v1.3", "--target", "disk.img", "--keyring", "keys/release.pub.asc",
                "--work-dir", "work", "--site", "SITE-2847", "--yes", "--json"));

        assertThat(identityOn(folder.resolve("disk.img"))).contains("\nSITE_ID=SITE-2847\n").doesNotContain("SITE-1000");
        assertThat(again.json().at("/site_identity/written").asBoolean()).isTrue();
        // The flash rewrote the data partition from the image first, so there was nothing to replace.
        assertThat(again.json().at("/site_identity/replaced").isMissingNode()).isTrue();
    }

    @Test
    void aBadSiteIdIsRefusedBeforeAnythingIsFetchedOrWritten() {
        CommandRunner.Run run = ingot.run("flash", "v1.3", "--target", "disk.img", "--keyring", "keys/release.pub.asc",
                "--work-dir", "work", "--site", "../etc");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("site id");
        assertThat(folder.resolve("disk.img")).doesNotExist();
        assertThat(folder.resolve("work")).doesNotExist();
    }

    @Test
    void flashWithASiteOfAnImageWithoutTheGoldenLayoutSaysTheDiskIsFlashedAndHowToProvisionIt() throws IOException {
        SparseImages.create(folder.resolve("plain.img"), 8L << 20, 5, new SparseImages.Region(0, 64 * 1024));
        succeed(ingot.run("image", "publish", "plain.img", "--version", "v2.0", "--key", "keys/release.asc"));

        CommandRunner.Run run = ingot.run("flash", "v2.0", "--target", "disk.img", "--keyring", "keys/release.pub.asc",
                "--work-dir", "work", "--site", "SITE-2847");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("it has no GPT header", "the disk itself is flashed, without SITE-2847's identity",
                "SITE_ID=SITE-2847 bash /opt/edge/provision_site.sh");
        assertThat(Files.mismatch(folder.resolve("disk.img"), folder.resolve("plain.img"))).isEqualTo(-1);
    }

    @Test
    void rollbackToAnImageWithoutTheGoldenLayoutReportsTheIdentityAsNotWrittenAndTheManualStep() throws IOException {
        SparseImages.create(folder.resolve("plain.img"), 8L << 20, 5, new SparseImages.Region(0, 64 * 1024));
        succeed(ingot.run("image", "publish", "plain.img", "--version", "v1.2", "--key", "keys/release.asc"));

        CommandRunner.Run run = succeed(ingot.run("rollback", "--site", "SITE-2847", "--target", "disk.img", "--store", "store",
                "--keyring", "keys/release.pub.asc", "--to", "v1.2", "--work-dir", "work"));

        assertThat(run.out()).contains("site identity", "not written: the image has no GPT partition table",
                "provision by hand after the boot: SITE_ID=SITE-2847 bash /opt/edge/provision_site.sh",
                "provision              -  not measured: pass --params ssm:");
    }

    /** The ingot command as a program on the device: this test's classes in a child JVM, as /opt/edge/bin/ingot runs the jar. */
    private Path ingotLauncher() throws IOException {
        Path launcher = folder.resolve("bin/ingot");
        Files.createDirectories(launcher.getParent());
        Files.writeString(launcher, "#!/bin/sh\nexec '" + ProcessHandle.current().info().command().orElse("java")
                + "' --enable-native-access=ALL-UNNAMED -cp '" + System.getProperty("java.class.path") + "' " + Main.class.getName() + " \"$@\"\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        return launcher;
    }

    /** A file of this checkout (the deploy/ scripts as the image installs them). */
    private static Path repository(String path) {
        Path folder = Path.of("").toAbsolutePath();
        while (folder != null && !Files.isDirectory(folder.resolve("deploy"))) {
            folder = folder.getParent();
        }
        return java.util.Objects.requireNonNull(folder, "the checkout").resolve(path);
    }
}
