package dev.ingot.provision;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/ingot-first-boot.sh, run by bash with the real provision_site.sh: where it finds the site identity, and how it
 * treats each exit code of {@code ingot provision}. {@code ingot} and {@code sleep} are stand-ins on PATH that record how
 * they were called (the stand-in ingot answers with a scripted sequence of exit codes), so the backoff is seen without
 * waiting for it.
 */
class FirstBootScriptTest {
    private static final Path DEPLOY = Path.of("..", "deploy").toAbsolutePath().normalize();

    @TempDir
    Path folder;

    private Path bin;
    private Path etcIdentity;
    private Path dataIdentity;
    private Path machineId;
    private Path keptMachineId;

    @BeforeEach
    void standIns() throws IOException {
        bin = Files.createDirectories(folder.resolve("bin"));
        etcIdentity = folder.resolve("etc/edge/provision.env");
        dataIdentity = folder.resolve("data/ingot/provision.env");
        machineId = folder.resolve("etc/machine-id");
        keptMachineId = folder.resolve("data/ingot/machine-id");
        script("sleep", "#!/bin/sh\necho \"$1\" >> '" + folder.resolve("slept") + "'\n");
        answers(0);
    }

    private void script(String name, String text) throws IOException {
        Path file = Files.writeString(bin.resolve(name), text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** The stand-in ingot: records its arguments and environment, then exits with the next of {@code codes} (the last repeats). */
    private void answers(int... codes) throws IOException {
        StringBuilder list = new StringBuilder();
        for (int code : codes) {
            list.append(code).append(' ');
        }
        script("ingot", """
                #!/bin/sh
                calls='%1$s'
                echo "SITE_ID=$SITE_ID INGOT_PARAMS=${INGOT_PARAMS:-} AWS_REGION=${AWS_REGION:-} ingot $*" >> "$calls"
                n=$(wc -l < "$calls")
                set -- %2$s
                while [ "$n" -gt 1 ] && [ $# -gt 1 ]; do shift; n=$((n - 1)); done
                exit "$1"
                """.formatted(folder.resolve("calls"), list.toString().strip()));
    }

    private Tools.Outcome firstBoot(Map<String, String> extra, String... arguments) {
        Map<String, String> environment = new HashMap<>(Map.of(
                "PATH", bin + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"),
                "INGOT", bin.resolve("ingot").toString(),
                "INGOT_IDENTITY_FILES", etcIdentity + ":" + dataIdentity,
                "INGOT_PROVISION_SCRIPT", DEPLOY.resolve("provision_site.sh").toString(),
                "INGOT_MACHINE_ID", machineId.toString(), "INGOT_KEPT_MACHINE_ID", keptMachineId.toString()));
        environment.putAll(extra);
        List<String> command = new java.util.ArrayList<>(List.of("bash", DEPLOY.resolve("ingot-first-boot.sh").toString()));
        command.addAll(List.of(arguments));
        return Tools.run(folder, environment, command);
    }

    private static void write(Path file, String content) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }

    private List<String> calls() throws IOException {
        Path calls = folder.resolve("calls");
        return Files.exists(calls) ? Files.readAllLines(calls) : List.of();
    }

    private List<String> slept() throws IOException {
        Path slept = folder.resolve("slept");
        return Files.exists(slept) ? Files.readAllLines(slept) : List.of();
    }

    @Test
    void theIdentityOnTheDataPartitionIsProvisionedWithTheArgumentsPassedOn() throws IOException {
        write(dataIdentity, "# Written by ingot rollback\nSITE_ID=SITE-2847\n");

        Tools.Outcome outcome = firstBoot(Map.of(), "--no-apply");

        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
        assertThat(calls()).containsExactly("SITE_ID=SITE-2847 INGOT_PARAMS= AWS_REGION= ingot provision --site SITE-2847 --params ssm: --no-apply");
        assertThat(outcome.output()).contains("Provisioning site SITE-2847 (identity from " + dataIdentity + "), attempt 1",
                "Provisioned site SITE-2847 at attempt 1");
        assertThat(slept()).isEmpty();
    }

    @Test
    void theTechniciansFileWinsOverTheDataPartitionAndTheEnvironmentOverBoth() throws IOException {
        write(dataIdentity, "SITE_ID=SITE-1000\nAWS_REGION=eu-west-1\n");
        write(etcIdentity, "SITE_ID=\"SITE-2847\"\nINGOT_PARAMS=dir:/etc/ingot/params\n");

        firstBoot(Map.of());
        firstBoot(Map.of("SITE_ID", "SITE-3000"));

        assertThat(calls()).containsExactly(
                "SITE_ID=SITE-2847 INGOT_PARAMS=dir:/etc/ingot/params AWS_REGION=eu-west-1 ingot provision --site SITE-2847 --params dir:/etc/ingot/params",
                "SITE_ID=SITE-3000 INGOT_PARAMS=dir:/etc/ingot/params AWS_REGION=eu-west-1 ingot provision --site SITE-3000 --params dir:/etc/ingot/params");
    }

    @Test
    void withoutAnIdentityItIsBadInputNamingWhereItLooked() throws IOException {
        write(etcIdentity, "# no site yet\nINGOT_PARAMS=ssm:\n");

        Tools.Outcome outcome = firstBoot(Map.of());

        assertThat(outcome.exitCode()).isEqualTo(2);
        assertThat(outcome.output()).contains("no site identity was found (looked in: " + etcIdentity + ", " + dataIdentity + ")",
                "ingot flash|rollback --site SITE-2847");
        assertThat(calls()).isEmpty();
    }

    @Test
    void aMalformedSiteIdIsBadInputAndNothingRuns() throws IOException {
        write(dataIdentity, "SITE_ID=../../etc\n");

        Tools.Outcome outcome = firstBoot(Map.of());

        assertThat(outcome.exitCode()).isEqualTo(2);
        assertThat(outcome.output()).contains("the site id '../../etc' from " + dataIdentity + " is not 1 to 63 letters");
        assertThat(calls()).isEmpty();
    }

    @Test
    void anUnreachableStoreIsRetriedWithAGrowingWaitUntilItAnswers() throws IOException {
        write(dataIdentity, "SITE_ID=SITE-2847\n");
        answers(3, 3, 3, 0);

        Tools.Outcome outcome = firstBoot(Map.of());

        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
        assertThat(calls()).hasSize(4);
        assertThat(slept()).containsExactly("10", "20", "40");
        assertThat(outcome.output()).contains("exit 3: network, parameter store or root not ready); trying again in 10 s",
                "Provisioned site SITE-2847 at attempt 4");
    }

    @Test
    void theWaitStopsGrowingAtItsLongest() throws IOException {
        write(dataIdentity, "SITE_ID=SITE-2847\n");
        answers(3, 3, 3, 3, 3, 0);

        Tools.Outcome outcome = firstBoot(Map.of("INGOT_RETRY_FIRST_SECONDS", "100", "INGOT_RETRY_MAX_SECONDS", "300"));

        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
        assertThat(slept()).containsExactly("100", "200", "300", "300", "300");
    }

    @Test
    void badParametersAreNotRetried() throws IOException {
        write(dataIdentity, "SITE_ID=SITE-2847\n");
        answers(2, 0);

        Tools.Outcome outcome = firstBoot(Map.of());

        assertThat(outcome.exitCode()).isEqualTo(2);
        assertThat(calls()).hasSize(1);
        assertThat(slept()).isEmpty();
        assertThat(outcome.output()).contains("failed on bad input (exit 2): not retried");
    }

    @Test
    void anotherFailureIsLeftToTheUnitsRestart() throws IOException {
        write(dataIdentity, "SITE_ID=SITE-2847\n");
        answers(4, 0);

        Tools.Outcome outcome = firstBoot(Map.of());

        assertThat(outcome.exitCode()).isEqualTo(4);
        assertThat(calls()).hasSize(1);
    }

    @Test
    void anAttemptThatHangsIsStoppedAtItsTimeoutAndRetried() throws IOException {
        write(dataIdentity, "SITE_ID=SITE-2847\n");
        Path hungOnce = folder.resolve("hung-once");
        script("ingot", """
                #!/bin/sh
                echo "ingot $*" >> '%s'
                if [ ! -e '%2$s' ]; then : > '%2$s'; exec /bin/sleep 600; fi
                exit 0
                """.formatted(folder.resolve("calls"), hungOnce));

        Tools.Outcome outcome = firstBoot(Map.of("INGOT_ATTEMPT_TIMEOUT", "1"));

        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
        assertThat(calls()).hasSize(2);
        assertThat(outcome.output()).contains("exit 124");
        assertThat(slept()).containsExactly("10");
    }

    @Test
    void theFirstSlotKeepsItsMachineIdOnTheDataPartition() throws IOException {
        write(machineId, "3d1219c7c4c5404aaa1f6d2a48adfda4\n");
        write(dataIdentity, "SITE_ID=SITE-2847\n");

        Tools.Outcome outcome = firstBoot(Map.of());

        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
        assertThat(keptMachineId).hasContent("3d1219c7c4c5404aaa1f6d2a48adfda4");
        assertThat(outcome.output()).contains("Kept the device's machine id 3d1219c7c4c5404aaa1f6d2a48adfda4 in " + keptMachineId);
    }

    @Test
    void aSlotThatAnABUpdateWroteTakesTheDevicesMachineIdBackBeforeItProvisions() throws IOException {
        write(keptMachineId, "3d1219c7c4c5404aaa1f6d2a48adfda4\n");
        write(machineId, "77ab00000000000000000000000000ff\n");
        write(dataIdentity, "SITE_ID=SITE-2847\n");

        Tools.Outcome outcome = firstBoot(Map.of());

        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
        assertThat(machineId).hasContent("3d1219c7c4c5404aaa1f6d2a48adfda4");
        assertThat(keptMachineId).hasContent("3d1219c7c4c5404aaa1f6d2a48adfda4");
        assertThat(outcome.output()).containsSubsequence("Took the device's machine id 3d1219c7c4c5404aaa1f6d2a48adfda4 back from "
                + keptMachineId + " (this root slot had made 77ab00000000000000000000000000ff)", "Provisioned site SITE-2847");
    }

    @Test
    void anEmptyMachineIdIsNotKeptAndAMalformedKeptOneIsNotTakenBack() throws IOException {
        write(machineId, "uninitialized\n");
        write(dataIdentity, "SITE_ID=SITE-2847\n");
        assertThat(firstBoot(Map.of()).exitCode()).isZero();
        assertThat(keptMachineId).doesNotExist();

        write(keptMachineId, "not-an-id\n");
        write(machineId, "3d1219c7c4c5404aaa1f6d2a48adfda4\n");
        assertThat(firstBoot(Map.of()).exitCode()).isZero();
        assertThat(machineId).hasContent("3d1219c7c4c5404aaa1f6d2a48adfda4");
    }
}
