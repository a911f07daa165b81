package dev.ingot.server;

import dev.ingot.server.rollout.RolloutSettings;
import dev.ingot.store.FolderStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * A server in a JVM of its own, for tests that kill it: {@code ServerProcess DATABASE FOLDER PORT_FILE [ROLLOUT_STEP_MS]}, the
 * rollout engine stepping every ROLLOUT_STEP_MS (default: its 10 s) on the real clock.
 */
public final class ServerProcess {
    private ServerProcess() {}

    /** A server started in a child JVM, and the URL it answers on. */
    record Child(Process process, String url) {}

    /**
     * Starts a server in a child JVM over {@code database}, with {@code folder} as its working folder (its log in
     * {@code folder/NAME.log}), and waits until it listens. {@code extra}: the arguments after the port file.
     */
    static Child spawn(Path folder, String database, String name, String... extra) throws IOException, InterruptedException {
        Path portFile = folder.resolve(name + ".port");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp",
                System.getProperty("java.class.path"), ServerProcess.class.getName(), database, folder.toString(), portFile.toString()));
        command.addAll(List.of(extra));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(folder.resolve(name + ".log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(portFile)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new AssertionError("the server did not start:\n" + Files.readString(folder.resolve(name + ".log")));
            }
            Thread.sleep(50);
        }
        return new Child(process, "http://127.0.0.1:" + Files.readString(portFile).strip());
    }

    public static void main(String[] args) throws Exception {
        Path folder = Path.of(args[1]);
        Path store = Files.createDirectories(folder.resolve("store"));
        ServerConfig config = ServerConfig.defaults("127.0.0.1", 0, args[0], new FolderStore(store), folder)
                .withAdminToken(Optional.of(TestServer.ADMIN_TOKEN));
        RolloutSettings rollouts = args.length > 3 ? RolloutSettings.every(Duration.ofMillis(Long.parseLong(args[3]))) : RolloutSettings.defaults();
        IngotServer server = IngotServer.start(config, Clock.systemUTC(), new Random(), rollouts);
        Path portFile = Path.of(args[2]);
        Files.writeString(portFile.resolveSibling(portFile.getFileName() + ".tmp"), String.valueOf(server.port()));
        Files.move(portFile.resolveSibling(portFile.getFileName() + ".tmp"), portFile);
        Thread.currentThread().join();
    }
}
