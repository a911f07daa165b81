package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the operator commands send the operator token. */
class ServerClientTest {
    private static final String TOKEN = "ingot_op_cli-test-admin-0123456789abcdefghijklmnopq";

    @TempDir
    Path folder;

    @Test
    void anOperatorTokenNeverTravelsInPlainHttpToAnotherMachine() throws Exception {
        // A listener on every address, reached by this machine's own non-loopback address (as another host would be).
        Optional<InetAddress> outward = NetworkInterface.networkInterfaces().filter(network -> {
                    try {
                        return network.isUp() && !network.isLoopback();
                    } catch (java.net.SocketException e) {
                        return false;
                    }
                })
                .flatMap(NetworkInterface::inetAddresses).filter(address -> address instanceof Inet4Address && !address.isLoopbackAddress()).findFirst();
        try (ServerSocket listener = new ServerSocket()) {
            listener.bind(new InetSocketAddress(0));
            String host = outward.map(InetAddress::getHostAddress).orElse("192.0.2.1");
            CommandRunner runner = new CommandRunner(folder, Map.of("INGOT_SERVER", "http://" + host + ":" + listener.getLocalPort(), "INGOT_TOKEN", TOKEN));
            CommandRunner.Run run = runner.run("site", "list");
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(2);
            assertThat(run.err()).contains("plain http://").contains("in the clear");
            listener.setSoTimeout(200);
            try (var ignored = listener.accept()) {
                throw new AssertionError("the command connected to " + host + " over plain HTTP");
            } catch (SocketTimeoutException expected) {
                // nothing connected: the token stayed here
            }
            CommandRunner onLoopback = new CommandRunner(folder, Map.of("INGOT_SERVER", "http://127.0.0.1:1", "INGOT_TOKEN", TOKEN));
            assertThat(onLoopback.run("site", "list").exitCode()).as("loopback over plain HTTP is allowed (nothing listens there)").isEqualTo(3);
        }
    }
}
