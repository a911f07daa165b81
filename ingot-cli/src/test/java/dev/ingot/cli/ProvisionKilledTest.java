package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.testing.SiteTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ingot provision} killed with SIGKILL at chosen points of its write phase: every file must then hold its old
 * or its new content, never a mix, and a second run must finish the job. The child runs under the JDK's debugger
 * interface (JDI) so that it is stopped exactly at the step to kill it on (before the Nth temporary file is written,
 * before the Nth rename), rather than at whatever moment a sleep happens to hit.
 */
class ProvisionKilledTest {
    private static final String WRITE_STEP = "writeSynced";
    private static final String RENAME_STEP = "renameOver";
    private static final List<String> FILES = List.of("etc/chrony/chrony.conf", "etc/iptables/rules.v4", "etc/iptables/rules.v6", "etc/edge/video-ingest.env",
            "etc/systemd/system/video-ingest.service", "etc/apt/apt.conf.d/52ingot-unattended-upgrades", "etc/ingot/agent.json",
            "etc/ingot/enrollment-token", "etc/edge/site-id");

    @TempDir
    Path folder;

    private CommandRunner ingot;
    private Map<String, String> oldFiles;
    private Map<String, String> newFiles;

    /** Old: the root provisioned for SITE-1000. New: what SITE-2847 gives, with every file different. */
    @BeforeEach
    void oldAndNewContents() throws IOException {
        ingot = new CommandRunner(folder);
        Map<String, String> old = new TreeMap<>(SiteTrees.typical());
        old.putAll(Map.of("ntp_server", "10.0.0.1", "camera_ips", "10.10.0.1", "mgmt_cidr", "10.11.0.0/16", "mgmt_cidr_v6", "fd11::/48",
                "site_name", "Old site", "video_ingest_image", "video-ingest:1.0", "enrollment_token", "old-token", "video_ingest_env/API_KEY", "old-key"));
        SiteTrees.write(folder.resolve("params"), "SITE-1000", old, SiteTrees.typicalSecure());
        SiteTrees.write(folder.resolve("params"), "SITE-2847", SiteTrees.typical(), SiteTrees.typicalSecure());

        Files.createDirectories(folder.resolve("new"));
        succeed("--site", "SITE-2847", "--root", "new");
        newFiles = contents(folder.resolve("new"));
        Files.createDirectories(folder.resolve("root"));
        succeed("--site", "SITE-1000", "--root", "root");
        oldFiles = contents(folder.resolve("root"));
        for (String file : FILES) {
            assertThat(newFiles.get(file)).as(file).isNotEqualTo(oldFiles.get(file));
        }
    }

    private void succeed(String... args) {
        List<String> command = new ArrayList<>(List.of("provision", "--params", "dir:params"));
        command.addAll(List.of(args));
        CommandRunner.Run run = ingot.run(command.toArray(String[]::new));
        assertThat(run.exitCode()).as(run.toString()).isZero();
    }

    private static Map<String, String> contents(Path root) throws IOException {
        Map<String, String> files = new LinkedHashMap<>();
        for (String file : FILES) {
            files.put(file, Files.readString(root.resolve(file)));
        }
        return files;
    }

    @Test
    void aProvisioningKilledAtAnyStepLeavesEveryFileOldOrNewAndARerunFinishes() throws Exception {
        record KillPoint(String step, int hit) {}
        List<KillPoint> points = new ArrayList<>();
        for (int hit = 1; hit <= FILES.size(); hit++) {
            points.add(new KillPoint(WRITE_STEP, hit));
            points.add(new KillPoint(RENAME_STEP, hit));
        }
        for (KillPoint point : points) {
            killAt(point.step(), point.hit());

            Map<String, String> now = contents(folder.resolve("root"));
            int renamed = point.step().equals(RENAME_STEP) ? point.hit() - 1 : 0;
            for (int i = 0; i < FILES.size(); i++) {
                String file = FILES.get(i);
                // Renames go in order, so exactly the files before the one it stopped at are new.
                assertThat(now.get(file)).as("%s after a kill before %s #%d", file, point.step(), point.hit())
                        .isEqualTo(i < renamed ? newFiles.get(file) : oldFiles.get(file));
            }
            assertThat(folder.resolve("root/etc/edge/site-id")).as("site-id is the last file written")
                    .hasContent(renamed == FILES.size() ? "SITE-2847" : "SITE-1000");

            succeed("--site", "SITE-2847", "--root", "root");
            assertThat(contents(folder.resolve("root"))).isEqualTo(newFiles);
            assertThat(leftovers()).as("temporary files after a complete run").isEmpty();

            succeed("--site", "SITE-1000", "--root", "root");
        }
    }

    private List<Path> leftovers() throws IOException {
        try (Stream<Path> walk = Files.walk(folder.resolve("root"))) {
            return walk.filter(path -> path.getFileName().toString().endsWith(".ingot-new~")).toList();
        }
    }

    /** Runs {@code ingot provision} for SITE-2847 in a child JVM and kills it (SIGKILL) on the {@code hit}-th call of {@code step}. */
    private void killAt(String step, int hit) throws Exception {
        KilledChild.killAt(folder, "dev.ingot.provision.AtomicFiles", step, hit,
                List.of("provision", "--site", "SITE-2847", "--params", "dir:params", "--root", "root"));
    }
}
