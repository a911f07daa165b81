package dev.ingot.server;

import dev.ingot.server.rollout.RolloutSettings;
import dev.ingot.store.FolderStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.Random;

/**
 * A server in a JVM of its own, for tests that kill it: {@code ServerProcess DATABASE FOLDER PORT_FILE [ROLLOUT_STEP_MS]}, the
 * rollout engine stepping every ROLLOUT_STEP_MS (default: its 10 s) on the real clock.
 */
public final class ServerProcess {
    private ServerProcess() {}

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
