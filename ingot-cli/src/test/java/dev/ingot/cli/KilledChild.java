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
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code ingot} in a child JVM under the JDK's debugger interface (JDI) and kills it with SIGKILL exactly on the
 * {@code hit}-th call of a method, rather than at whatever moment a sleep happens to hit. Used by the kill tests of
 * provisioning and flashing.
 */
final class KilledChild {
    private KilledChild() {}

    /** Starts {@code ingot args} in {@code folder}, stops it on the {@code hit}-th entry into {@code type.method} and kills it. */
    static void killAt(Path folder, String type, String method, int hit, List<String> args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("-agentlib:jdwp=transport=dt_socket,server=y,suspend=y,address=127.0.0.1:0");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.addAll(args);
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
            prepare.addClassFilter(type);
            prepare.enable();
            vm.resume();
            int hits = 0;
            try {
                while (true) {
                    EventSet events = vm.eventQueue().remove(60_000);
                    assertThat(events).as("the child reached no step within a minute").isNotNull();
                    for (Event event : events) {
                        if (event instanceof ClassPrepareEvent prepared) {
                            breakAt(vm, prepared.referenceType(), method);
                        } else if (event instanceof BreakpointEvent && ++hits == hit) {
                            child.destroyForcibly();
                            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
                            return;
                        }
                    }
                    events.resume();
                }
            } catch (VMDisconnectedException e) {
                throw new AssertionError("the child finished before " + method + " #" + hit + " (it reached it " + hits + " times)", e);
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
