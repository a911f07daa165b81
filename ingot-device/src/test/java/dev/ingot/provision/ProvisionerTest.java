package dev.ingot.provision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.site.FolderParameterSource;
import dev.ingot.site.SiteId;
import dev.ingot.testing.SiteTrees;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProvisionerTest {
    static final SiteId SITE = new SiteId("SITE-2847");
    static final List<String> FILES = List.of("/etc/chrony/chrony.conf", "/etc/iptables/rules.v4", "/etc/iptables/rules.v6", "/etc/edge/video-ingest.env",
            "/etc/systemd/system/video-ingest.service", "/etc/apt/apt.conf.d/52ingot-unattended-upgrades", "/etc/ingot/agent.json",
            "/etc/ingot/enrollment-token", "/etc/edge/site-id");

    @TempDir
    Path folder;

    private Path params;
    private Path root;
    private final RecordingHostCommands host = new RecordingHostCommands();
    private final List<Path> mounted = new ArrayList<>();

    @BeforeEach
    void typicalSite() throws IOException {
        params = folder.resolve("params");
        root = Files.createDirectories(folder.resolve("root"));
        writeParams(SiteTrees.typical());
    }

    @AfterEach
    void unmount() {
        for (Path mount : mounted) {
            Tools.run(folder, "umount", mount.toString());
        }
    }

    private void writeParams(Map<String, String> values) throws IOException {
        if (Files.exists(params)) {
            try (Stream<Path> walk = Files.walk(params)) {
                for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
        SiteTrees.write(params, SITE.value(), values, SiteTrees.typicalSecure());
    }

    private Map<String, String> typicalWith(String name, String value) {
        Map<String, String> values = new TreeMap<>(SiteTrees.typical());
        if (value == null) {
            values.remove(name);
        } else {
            values.put(name, value);
        }
        return values;
    }

    private Provisioner.Result provision(boolean dryRun, boolean apply) {
        return new Provisioner(new FolderParameterSource(params), host).provision(new Provisioner.Request(SITE, root, dryRun, apply));
    }

    private Path file(String path) {
        return root.resolve(path.substring(1));
    }

    /** Every file under the root with its content and mode, to tell whether anything at all changed. */
    private Map<String, String> snapshot() throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path path : walk.filter(Files::isRegularFile).toList()) {
                files.put(root.relativize(path).toString(), PosixFilePermissions.toString(Files.getPosixFilePermissions(path)) + " "
                        + Files.readString(path) + " inode " + Files.getAttribute(path, "unix:ino"));
            }
        }
        return files;
    }

    @Test
    void aFirstRunWritesEveryFileWithItsModeAndAsksTheHostToPickThemUp() throws IOException {
        Provisioner.Result result = provision(false, true);

        // The site names no control_plane_ca: its file is checked, found absent, and left absent.
        List<Provisioner.FileOutcome> written = result.files().stream().filter(file -> file.change() != Provisioner.Change.ABSENT).toList();
        assertThat(written).extracting(Provisioner.FileOutcome::path).containsExactlyElementsOf(FILES);
        assertThat(written).allSatisfy(file -> assertThat(file.change()).isEqualTo(Provisioner.Change.CREATED));
        assertThat(result.files()).filteredOn(file -> file.change() == Provisioner.Change.ABSENT)
                .extracting(Provisioner.FileOutcome::path).containsExactly("/etc/ingot/control-plane-ca.pem");
        assertThat(file("/etc/ingot/control-plane-ca.pem")).doesNotExist();
        for (String path : FILES) {
            boolean secret = path.endsWith(".env") || path.endsWith("enrollment-token");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file(path)))).as(path)
                    .isEqualTo(secret ? "rw-------" : "rw-r--r--");
        }
        assertThat(file("/etc/edge/site-id")).hasContent("SITE-2847");
        assertThat(Files.readString(file("/etc/edge/video-ingest.env"))).contains("API_KEY=" + SiteTrees.API_KEY);
        assertThat(host.calls).containsExactly("systemctl daemon-reload", "systemctl restart chrony.service",
                "iptables-restore --noflush " + file("/etc/iptables/rules.v4"), "ip6tables-restore --noflush " + file("/etc/iptables/rules.v6"),
                "systemctl enable video-ingest.service",
                "systemctl restart --no-block video-ingest.service");
        assertThat(result.applied()).isTrue();
    }

    @Test
    void whereTheDataPartitionIsMountedTheSiteIdentityIsKeptOnItBeforeTheSiteIdIsWritten() throws IOException {
        Files.createDirectories(root.resolve("data"));

        Provisioner.Result result = provision(false, false);
        Provisioner.Result again = provision(false, false);

        List<String> paths = result.files().stream().map(Provisioner.FileOutcome::path).toList();
        assertThat(paths).containsSubsequence(SiteIdentity.ON_DEVICE, "/etc/edge/site-id").last().isEqualTo("/etc/edge/site-id");
        String identity = Files.readString(file(SiteIdentity.ON_DEVICE));
        assertThat(identity).contains("\nSITE_ID=SITE-2847\n", "\nINGOT_PARAMS=dir:" + params + "\n", "\nAWS_REGION=us-east-1\n");
        assertThat(SiteIdentity.parse(identity)).contains(SITE);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file(SiteIdentity.ON_DEVICE)))).isEqualTo("rw-r--r--");
        assertThat(again.changed()).isEmpty();
    }

    @Test
    void withoutADataPartitionNoIdentityIsWritten() {
        Provisioner.Result result = provision(false, false);

        assertThat(result.files()).extracting(Provisioner.FileOutcome::path).doesNotContain(SiteIdentity.ON_DEVICE);
        assertThat(root.resolve("data")).doesNotExist();
    }

    @Test
    void aSecondRunChangesNothingRewritesNothingAndOnlyMakesSureVideoIngestRuns() throws IOException {
        provision(false, true);
        Map<String, String> before = snapshot();
        host.calls.clear();

        Provisioner.Result again = provision(false, true);

        assertThat(again.changed()).isEmpty();
        assertThat(again.diff()).isEmpty();
        assertThat(snapshot()).isEqualTo(before);
        assertThat(host.calls).containsExactly("systemctl enable --now video-ingest.service");
    }

    @Test
    void aChangedParameterRewritesOnlyTheFilesItFeedsAndRestartsOnlyWhatReadsThem() throws IOException {
        provision(false, true);
        host.calls.clear();
        writeParams(typicalWith("ntp_server", "10.20.0.1"));

        Provisioner.Result result = provision(false, true);

        assertThat(result.changed()).extracting(Provisioner.FileOutcome::path).containsExactly("/etc/chrony/chrony.conf");
        assertThat(host.calls).containsExactly("systemctl restart chrony.service", "systemctl enable --now video-ingest.service");
    }

    @Test
    void aNewImageTagRestartsVideoIngestAfterSystemdRereadsTheUnit() throws IOException {
        provision(false, true);
        host.calls.clear();
        writeParams(typicalWith("video_ingest_image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest:2.4.0"));

        provision(false, true);

        assertThat(host.calls).containsExactly("systemctl daemon-reload", "systemctl enable video-ingest.service",
                "systemctl restart --no-block video-ingest.service");
    }

    @Test
    void aRunThatMayNotApplyWritesTheFilesAndCallsNothing() {
        Provisioner.Result result = provision(false, false);

        assertThat(result.changed()).hasSize(FILES.size());
        assertThat(result.applied()).isFalse();
        assertThat(host.calls).isEmpty();
    }

    @Test
    void aDryRunWritesNothingAndShowsAUnifiedDiffWithSecretsMasked() throws IOException {
        Provisioner.Result result = provision(true, true);

        assertThat(snapshot()).isEmpty();
        assertThat(host.calls).isEmpty();
        assertThat(result.changed()).hasSize(FILES.size());
        assertThat(result.diff()).contains("--- /dev/null\n+++ b/etc/chrony/chrony.conf\n@@ -0,0 +1,16 @@\n",
                "+server ntp.site-2847.example.net iburst prefer\n", "+API_KEY=********\n", "+LOG_LEVEL=info\n");
        assertThat(result.diff()).doesNotContain(SiteTrees.API_KEY, SiteTrees.ENROLLMENT_TOKEN);
    }

    @Test
    void aChangedSecretShowsAsAChangedLineMaskedOnBothSides() throws IOException {
        provision(false, false);
        writeParams(typicalWith("video_ingest_env/API_KEY", "sk-live-rotated-also-secret"));

        String diff = provision(true, false).diff();

        assertThat(diff).contains("-API_KEY=********\n+API_KEY=********\n");
        assertThat(diff).doesNotContain(SiteTrees.API_KEY, "sk-live-rotated-also-secret");
    }

    @Test
    void theDryRunDiffTurnsTheOldFilesIntoTheNewOnesWithPatch() throws IOException {
        // Without secrets in what changes: a masked line is, on purpose, not something patch can apply.
        assumeTrue(Tools.available("patch"), "patch is not installed");
        writeParams(typicalWith("video_ingest_env/API_KEY", null));
        provision(false, false);
        Map<String, String> values = typicalWith("video_ingest_env/API_KEY", null);
        values.put("camera_ips", "10.28.47.21,10.28.47.23,10.28.47.24");
        values.put("mgmt_cidr", "10.30.0.0/16");
        values.put("mgmt_cidr_v6", "fd30::/48");
        values.put("video_ingest_env/SEGMENT_SECONDS", "15");
        writeParams(values);
        Files.writeString(folder.resolve("change.diff"), provision(true, false).diff());

        Tools.succeed(root, "patch", "-p1", "--quiet", "--input", folder.resolve("change.diff").toString());

        assertThat(provision(true, false).changed()).isEmpty();
    }

    @Test
    void invalidParametersWriteNothingAtAll() throws IOException {
        provision(false, false);
        Map<String, String> before = snapshot();
        writeParams(typicalWith("mgmt_cidr", "10.20.0.0/33"));

        assertThatThrownBy(() -> provision(false, true)).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT);
            assertThat(e.getMessage()).contains("mgmt_cidr '10.20.0.0/33'");
        });
        assertThat(snapshot()).isEqualTo(before);
        assertThat(host.calls).isEmpty();
    }

    @Test
    void aSiteWithoutParametersIsNotFound() {
        assertThatThrownBy(() -> new Provisioner(new FolderParameterSource(params), host)
                .provision(new Provisioner.Request(new SiteId("SITE-0000"), root, false, true)))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
                    assertThat(e.getMessage()).contains("there are none under /edge/SITE-0000/");
                });
    }

    @Test
    void aTokenRemovedFromTheStoreRemovesItsFile() throws IOException {
        provision(false, false);
        writeParams(typicalWith("enrollment_token", null));

        Provisioner.Result result = provision(false, false);

        assertThat(file("/etc/ingot/enrollment-token")).doesNotExist();
        assertThat(result.changed()).extracting(Provisioner.FileOutcome::path, Provisioner.FileOutcome::change).containsExactly(
                tuple("/etc/ingot/agent.json", Provisioner.Change.UPDATED),
                tuple("/etc/ingot/enrollment-token", Provisioner.Change.REMOVED));
        assertThat(provision(false, false).files()).filteredOn(file -> file.path().endsWith("enrollment-token"))
                .extracting(Provisioner.FileOutcome::change).containsExactly(Provisioner.Change.ABSENT);
    }

    @Test
    void aFileWithTheRightTextButAnotherModeIsPutBackTo0600() throws IOException {
        provision(false, false);
        Files.setPosixFilePermissions(file("/etc/edge/video-ingest.env"), PosixFilePermissions.fromString("rw-r--r--"));

        Provisioner.Result result = provision(false, false);

        assertThat(result.changed()).extracting(Provisioner.FileOutcome::path).containsExactly("/etc/edge/video-ingest.env");
        assertThat(result.changed().getFirst().diff()).contains("old mode 100644\nnew mode 100600\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file("/etc/edge/video-ingest.env")))).isEqualTo("rw-------");
    }

    @Test
    void temporaryFilesAKilledRunLeftBehindAreRemoved() throws IOException {
        Path leftover = Files.createDirectories(file("/etc/chrony")).resolve(".chrony.conf.ingot-new~");
        Files.writeString(leftover, "half");

        provision(false, false);

        assertThat(leftover).doesNotExist();
    }

    @Test
    void aWriteThatFailsBeforeAnyRenameLeavesEveryFileAsItWas() throws IOException {
        provision(false, false);
        Files.delete(file("/etc/ingot/agent.json"));
        Files.delete(file("/etc/ingot/enrollment-token"));
        Files.delete(file("/etc/ingot"));
        Files.writeString(file("/etc/ingot"), "a file where a folder belongs");
        writeParams(typicalWith("ntp_server", "10.20.0.1"));
        Map<String, String> before = snapshot();

        assertThatThrownBy(() -> provision(false, true)).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
            // The first file under /etc/ingot in provisioning's order fails (the CA file, absent or not), and none is changed.
            assertThat(e.getMessage()).contains("/etc/ingot/", "Not a directory", "nothing was changed");
        });
        assertThat(snapshot()).isEqualTo(before);
        assertThat(host.calls).isEmpty();
    }

    @Test
    void aReadOnlyRootIsAClearErrorAndChangesNothing() throws IOException {
        assumeTrue(Tools.available("mount"), "mount is not installed");
        Tools.Outcome mount = Tools.run(folder, "mount", "-t", "tmpfs", "-o", "size=4m", "ingot-test", root.toString());
        assumeTrue(mount.exitCode() == 0, "this machine does not let tests mount a file system: " + mount.output().strip());
        mounted.add(root);
        provision(false, false);
        Tools.succeed(folder, "mount", "-o", "remount,ro", root.toString());
        writeParams(typicalWith("camera_ips", "10.28.47.21"));
        Map<String, String> before = snapshot();

        assertThatThrownBy(() -> provision(false, true)).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
            assertThat(e.getMessage()).contains("Read-only file system", "nothing was changed");
            assertThat(e.hint()).hasValueSatisfying(hint -> assertThat(hint).contains("remount"));
        });
        assertThat(snapshot()).isEqualTo(before);
        assertThat(host.calls).isEmpty();
    }

    @Test
    void hostCallsArePlannedFromWhatChanged() {
        Path rootFolder = Path.of("/");
        List<Provisioner.FileOutcome> nothing = FILES.stream().map(path -> new Provisioner.FileOutcome(path, Path.of(path),
                Provisioner.Change.UNCHANGED, 0644, "")).toList();
        List<Provisioner.FileOutcome> environmentOnly = nothing.stream().map(outcome -> outcome.path().endsWith(".env")
                ? new Provisioner.FileOutcome(outcome.path(), outcome.location(), Provisioner.Change.UPDATED, 0600, "diff") : outcome).toList();

        assertThat(Provisioner.plan(nothing, rootFolder)).extracting(HostAction::command)
                .containsExactly("systemctl enable --now --no-block video-ingest.service");
        assertThat(Provisioner.plan(environmentOnly, rootFolder)).extracting(HostAction::command)
                .containsExactly("systemctl enable video-ingest.service", "systemctl restart --no-block video-ingest.service");
    }

    @Test
    void modesConvertBothWays() {
        for (int mode : new int[] {0600, 0644, 0755, 0, 0777}) {
            assertThat(Provisioner.modeOf(Provisioner.permissions(mode))).isEqualTo(mode);
        }
        assertThat(Provisioner.permissions(0640)).isEqualTo(Set.copyOf(PosixFilePermissions.fromString("rw-r-----")));
    }
}
