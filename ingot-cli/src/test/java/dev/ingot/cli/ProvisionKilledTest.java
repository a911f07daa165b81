package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jdi.Bootstrap;
import com.sun.jdi.Location;
import com.sun.jdi.ReferenceType;
import com.sun.jdi.VMDisconnectedException;
import com.sun.jdi.VirtualMachine;
import com.sun.jdi.connect.AttachingConnector;
import com.sun.jdi.connect.Connector;
import com.sun.jdi.event.BreakpointEvent;
import com.sun.jdi.event.ClassPrepareEvent;
import com.sun.jdi.event.Event;
import com.sun.jdi.event.EventSet;
import com.sun.jdi.request.BreakpointRequest;
import com.sun.jdi.request.ClassPrepareRequest;
import com.sun.jdi.request.EventRequest;
import dev.ingot.testing.SiteTrees;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
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
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("-agentlib:jdwp=transport=dt_socket,server=y,suspend=y,address=127.0.0.1:0");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.addAll(List.of("provision", "--site", "SITE-2847", "--params", "dir:params", "--root", "root"));
        Process child = new ProcessBuilder(command).directory(folder.toFile()).redirectErrorStream(true).start();
        try {
            BufferedReader output = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            // The debug agent says where it listens; the JVM may say other things first (Picked up JAVA_TOOL_OPTIONS…).
            String listening = output.readLine();
            while (listening != null && !listening.startsWith("Listening for transport dt_socket at address: ")) {
                listening = output.readLine();
            }
            assertThat(listening).as("the debug agent's address").isNotNull();
            Thread.ofVirtual().start(() -> output.lines().forEach(line -> { }));
            VirtualMachine vm = attach(Integer.parseInt(listening.substring(listening.lastIndexOf(' ') + 1).strip()));
            ClassPrepareRequest prepare = vm.eventRequestManager().createClassPrepareRequest();
            prepare.addClassFilter("dev.ingot.provision.AtomicFiles");
            prepare.enable();
            vm.resume();
            int hits = 0;
            try {
                while (true) {
                    EventSet events = vm.eventQueue().remove(60_000);
                    assertThat(events).as("the child reached no step within a minute").isNotNull();
                    for (Event event : events) {
                        if (event instanceof ClassPrepareEvent prepared) {
                            breakAt(vm, prepared.referenceType(), step);
                        } else if (event instanceof BreakpointEvent && ++hits == hit) {
                            child.destroyForcibly();
                            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
                            return;
                        }
                    }
                    events.resume();
                }
            } catch (VMDisconnectedException e) {
                throw new AssertionError("the child finished before " + step + " #" + hit + " (it reached it " + hits + " times)", e);
            }
        } finally {
            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static VirtualMachine attach(int port) throws Exception {
        AttachingConnector socket = Bootstrap.virtualMachineManager().attachingConnectors().stream()
                .filter(connector -> connector.name().equals("com.sun.jdi.SocketAttach")).findFirst().orElseThrow();
        Map<String, Connector.Argument> arguments = socket.defaultArguments();
        arguments.get("hostname").setValue("127.0.0.1");
        arguments.get("port").setValue(Integer.toString(port));
        return socket.attach(arguments);
    }

    private static void breakAt(VirtualMachine vm, ReferenceType type, String method) {
        Location location = type.methodsByName(method).getFirst().location();
        BreakpointRequest request = vm.eventRequestManager().createBreakpointRequest(location);
        request.setSuspendPolicy(EventRequest.SUSPEND_ALL);
        request.enable();
    }
}
