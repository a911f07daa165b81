package dev.ingot.provision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.site.FolderParameterSource;
import dev.ingot.site.SiteId;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What deploy/ ships for provisioning: the runbook's wrapper script, the first-boot unit, the example parameters. */
class DeployFilesTest {
    private static final Path DEPLOY = Path.of("..", "deploy").toAbsolutePath().normalize();

    @TempDir
    Path folder;

    @Test
    void shellcheckFindsNothingInTheScripts() {
        assumeTrue(Tools.available("shellcheck"), "shellcheck is not installed (apt-get install shellcheck)");

        Tools.Outcome outcome = Tools.run(folder, "shellcheck", DEPLOY.resolve("provision_site.sh").toString(),
                DEPLOY.resolve("ingot-first-boot.sh").toString());

        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
    }

    @Test
    void theWrapperRunsIngotProvisionForTheSiteFromSsmAndPassesArgumentsOn() throws IOException {
        Path fakeIngot = Files.writeString(folder.resolve("ingot"), "#!/bin/sh\necho \"$@\"\n");
        Files.setPosixFilePermissions(fakeIngot, PosixFilePermissions.fromString("rwxr-xr-x"));

        Tools.Outcome outcome = Tools.run(folder, Map.of("SITE_ID", "SITE-2847", "INGOT", fakeIngot.toString()),
                List.of("bash", DEPLOY.resolve("provision_site.sh").toString(), "--dry-run"));
        Tools.Outcome fromFolder = Tools.run(folder, Map.of("SITE_ID", "SITE-2847", "INGOT", fakeIngot.toString(),
                "INGOT_PARAMS", "dir:/etc/ingot/params"), List.of("bash", DEPLOY.resolve("provision_site.sh").toString()));

        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
        assertThat(outcome.output()).isEqualTo("provision --site SITE-2847 --params ssm: --dry-run\n");
        assertThat(fromFolder.output()).isEqualTo("provision --site SITE-2847 --params dir:/etc/ingot/params\n");
    }

    @Test
    void theWrapperWithoutASiteIdIsBadInputAndSaysWhatToDo() {
        Tools.Outcome outcome = Tools.run(folder, Map.of("SITE_ID", ""), List.of("bash", DEPLOY.resolve("provision_site.sh").toString()));

        assertThat(outcome.exitCode()).isEqualTo(2);
        assertThat(outcome.output()).contains("SITE_ID is not set", "SITE_ID=SITE-2847 bash");
    }

    @Test
    void systemdAnalyzeVerifiesTheFirstBootUnit() throws IOException {
        Path tree = ProvisionedFilesToolsTest.SystemdTree.create(folder.resolve("systemd-tree"));
        Files.copy(DEPLOY.resolve("ingot-provision-first-boot.service"), tree.resolve("etc/systemd/system/ingot-provision-first-boot.service"));

        ProvisionedFilesToolsTest.SystemdTree.verify(tree, "ingot-provision-first-boot.service");
    }

    @Test
    void theFirstBootUnitRunsOnlyWhileTheSiteIdIsAbsentWaitsForTheDataPartitionAndDoesNotRetryBadInput() throws IOException {
        List<String> unit = Files.readAllLines(DEPLOY.resolve("ingot-provision-first-boot.service"));

        assertThat(unit).contains("ConditionPathExists=!/etc/edge/site-id", "RequiresMountsFor=/data", "Type=exec",
                "ExecStart=/bin/bash /opt/edge/ingot-first-boot.sh", "Restart=on-failure", "RestartPreventExitStatus=2");
    }

    @Test
    void theExampleParametersProvisionWithNothingIgnored() throws IOException {
        Path root = Files.createDirectories(folder.resolve("root"));

        Provisioner.Result result = new Provisioner(new FolderParameterSource(DEPLOY.resolve("examples/params")), new RecordingHostCommands())
                .provision(new Provisioner.Request(new SiteId("SITE-2847"), root, false, false));

        assertThat(result.changed()).hasSize(9);
        assertThat(result.ignoredParameters()).isEmpty();
    }
}
