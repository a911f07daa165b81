package dev.ingot.imagebuild;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.imagetest.CheckResult;
import dev.ingot.imagetest.DirectoryTree;
import dev.ingot.imagetest.Expectations;
import dev.ingot.imagetest.Ext4Partition;
import dev.ingot.imagetest.ImageChecks;
import dev.ingot.testing.GoldenImages;
import dev.ingot.testing.TestKeys;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * packer/scripts/40-ingot-agent.sh run for real into a scratch root (ROOT=): the units of deploy/ installed and enabled by
 * the real {@code systemctl --root}, the agent bundle unpacked, the launcher written; what it leaves passes the image
 * test's unit and launcher checks; a build without the bundle fails and writes no launcher.
 */
class AgentScriptTest {
    private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();
    private static final String JRE = "25.0.1+8";
    private static final Map<String, String> ENVIRONMENT = Map.of("PATH",
            System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin");

    @TempDir
    Path folder;

    private Path uploads;
    private Path root;

    @BeforeEach
    void uploadsAsPackersFileProvisionerLeavesThem() throws IOException {
        assumeTrue(Tools.available("systemctl"), "systemctl is not installed (systemd)");
        uploads = Files.createDirectories(folder.resolve("uploads"));
        root = Files.createDirectories(folder.resolve("root"));
        for (String file : List.of("deploy/provision_site.sh", "deploy/ingot-first-boot.sh", "deploy/ingot-provision-first-boot.service",
                "deploy/ingot-health.service", "deploy/ingot-health.timer", "deploy/ingot-agent.service",
                "packer/files/ingot-ssh-host-keys.service")) {
            Files.copy(REPOSITORY.resolve(file), uploads.resolve(Path.of(file).getFileName()));
        }
        Files.move(TestKeys.RELEASE.publicKey(folder.resolve("keys")), uploads.resolve("ingot-release-keyring.asc"));
    }

    /** An agent bundle as make-agent-bundle.sh lays it out: a runtime with bin/java, ingot.jar and JRE_VERSION. */
    private void bundle(String jreVersion) throws IOException {
        Path content = Files.createDirectories(folder.resolve("bundle/runtime/bin")).getParent().getParent();
        Files.writeString(content.resolve("runtime/bin/java"), "#!/bin/sh\necho 'java stand-in'\n");
        Files.setPosixFilePermissions(content.resolve("runtime/bin/java"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(content.resolve("ingot.jar"), "PK stand-in\n");
        Files.writeString(content.resolve("JRE_VERSION"), jreVersion + "\n");
        Tools.succeed(folder, "tar", "-czf", uploads.resolve("ingot-agent.tar.gz").toString(), "-C", content.toString(), ".");
    }

    private Tools.Outcome runScript() {
        Map<String, String> environment = new HashMap<>(ENVIRONMENT);
        environment.putAll(Map.of("ROOT", root.toString(), "UPLOADS", uploads.toString(), "JRE_VERSION", JRE));
        return Tools.run(folder, environment, List.of("bash", REPOSITORY.resolve("packer/scripts/40-ingot-agent.sh").toString()));
    }

    /** The good tree of the image tests without what the script installs (the programs the units run: bash, ssh-keygen). */
    private void baseTree() {
        Map<String, String> files = new HashMap<>(GoldenImages.goodFiles());
        files.keySet().removeIf(path -> path.startsWith("/opt/edge/") || path.startsWith("/etc/systemd/system/"));
        GoldenImages.writeTree(root, files);
    }

    @Test
    void theAgentItsLauncherAndTheUnitsAreInstalledAndEnabledAndPassTheImageTest() throws IOException {
        bundle(JRE);
        baseTree();

        Tools.Outcome outcome = runScript();

        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
        assertThat(root.resolve("opt/edge/bin/ingot")).hasContent(GoldenImages.LAUNCHER.strip());
        assertThat(Files.readSymbolicLink(root.resolve("etc/systemd/system/timers.target.wants/ingot-health.timer")))
                .isEqualTo(Path.of("/etc/systemd/system/ingot-health.timer"));
        assertThat(Files.readSymbolicLink(root.resolve("etc/systemd/system/multi-user.target.wants/ingot-agent.service")))
                .isEqualTo(Path.of("/etc/systemd/system/ingot-agent.service"));
        // The agent's only trust anchor, as DeviceAgentHost reads it.
        assertThat(root.resolve("etc/ingot/keyring")).hasSameTextualContentAs(uploads.resolve("ingot-release-keyring.asc"));
        assertThat(dev.ingot.sign.Keyring.load(root.resolve("etc/ingot/keyring")).keys()).hasSize(1);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("etc/ingot/keyring")))).isEqualTo("rw-r--r--");
        DirectoryTree tree = new DirectoryTree(root, "the script's root");
        assertThat(List.of(ImageChecks.units(tree), ImageChecks.launcher(tree)))
                .allSatisfy(result -> assertThat(result.findings()).as(result.name()).isEmpty());
    }

    @Test
    void aDiskImageOfTheGoodTreeWithWhatTheScriptInstalledPassesEveryCheck() throws IOException {
        String reason = GoldenImages.unavailableBecause();
        assumeTrue(reason == null, reason);
        bundle(JRE);
        baseTree();
        assertThat(runScript().exitCode()).isZero();

        Path image = GoldenImages.diskImage(root, folder.resolve("edge-golden.img"));
        DirectoryTree dumped = Ext4Partition.dump(image, "root-a", folder.resolve("dump"), ENVIRONMENT);
        List<CheckResult> results = ImageChecks.run(dumped, new Expectations(ImageName.DEFAULT, Optional.of(ImageVersion.parse(GoldenImages.VERSION)),
                Optional.of(Instant.parse(GoldenImages.BUILD_DATE)), VersionsFile.parse(GoldenImages.VERSIONS_FILE, "versions.pkrvars.hcl").packages(),
                "versions.pkrvars.hcl"));

        assertThat(results).allSatisfy(result -> assertThat(result.findings()).as(result.name()).isEmpty());
    }

    @Test
    void aSecondRunChangesNothing() throws IOException {
        bundle(JRE);
        assertThat(runScript().exitCode()).isZero();
        Map<String, String> before = snapshot();

        Tools.Outcome again = runScript();

        assertThat(again.exitCode()).as(again.output()).isZero();
        assertThat(snapshot()).isEqualTo(before);
    }

    @Test
    void aBuildWithoutTheReleaseKeyringFailsBeforeInstallingAnything() throws IOException {
        bundle(JRE);
        Files.delete(uploads.resolve("ingot-release-keyring.asc"));

        Tools.Outcome outcome = runScript();

        assertThat(outcome.exitCode()).isEqualTo(1);
        assertThat(outcome.output()).contains("ingot-release-keyring.asc is missing", "ingot keys export --key", "release_keyring");
        try (Stream<Path> installed = Files.walk(root)) {
            assertThat(installed.filter(Files::isRegularFile)).isEmpty();
        }
    }

    @Test
    void aBuildWithoutTheAgentBundleFailsAndWritesNoLauncher() {
        Tools.Outcome outcome = runScript();

        assertThat(outcome.exitCode()).isEqualTo(1);
        assertThat(outcome.output()).contains("ingot-agent.tar.gz is missing", "make-agent-bundle.sh");
        assertThat(root.resolve("opt/edge/bin/ingot")).doesNotExist();
    }

    @Test
    void aBundleWithAnotherRuntimeThanThePinnedOneFails() throws IOException {
        bundle("21.0.5+11");

        Tools.Outcome outcome = runScript();

        assertThat(outcome.exitCode()).isEqualTo(1);
        assertThat(outcome.output()).contains("the agent bundle's runtime is 21.0.5+11 but versions.pkrvars.hcl pins " + JRE);
        assertThat(root.resolve("opt/edge/bin/ingot")).doesNotExist();
    }

    /** Every path under the root with its mode and content (files) or target (links). */
    private Map<String, String> snapshot() throws IOException {
        Map<String, String> entries = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path path : walk.toList()) {
                String value;
                if (Files.isSymbolicLink(path)) {
                    value = "-> " + Files.readSymbolicLink(path);
                } else if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                    value = PosixFilePermissions.toString(Files.getPosixFilePermissions(path)) + " " + Files.readString(path);
                } else {
                    value = PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS)) + " folder";
                }
                entries.put(root.relativize(path).toString(), value + " " + Files.getLastModifiedTime(path, LinkOption.NOFOLLOW_LINKS));
            }
        }
        return entries;
    }
}
