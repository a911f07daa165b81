package dev.ingot.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.aws.CloudWatchAlarmGate;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.server.IngotServer;
import dev.ingot.server.ServerConfig;
import dev.ingot.server.device.DeviceApi.PollPolicy;
import dev.ingot.server.http.Durations;
import dev.ingot.server.rollout.RolloutSettings;
import dev.ingot.sign.Keyring;
import dev.ingot.store.ArtifactStore;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "server",
        header = "Run the control plane: device API, operator API, dashboard, metrics (SQLite or PostgreSQL).",
        description = {"Run the control plane: the device API that agents poll, the operator API the CLI talks to, the dashboard",
            "(/ui/), /healthz and /metrics. With no flags: a SQLite file ./ingot.db and the store ./store, on 127.0.0.1:8080.",
            "Plain HTTP is served on loopback only, unless --plain-http says a TLS proxy in front terminates TLS.",
            "The first start without INGOT_ADMIN_TOKEN makes an admin token, prints it once and stores only its hash."},
        footer = {"", "Examples:", "  ingot server",
            "  ingot server --bind 0.0.0.0 --port 8443 --tls-cert /etc/ingot/tls/cert.pem --tls-key /etc/ingot/tls/key.pem \\",
            "      --db jdbc:postgresql://db.internal:5432/ingot --db-user ingot --store s3://artifacts/prod --keyring /etc/ingot/trusted/",
            "  INGOT_ADMIN_TOKEN=ingot_op_... ingot server --bind 0.0.0.0 --plain-http   # behind a TLS-terminating proxy",
            "  ingot server --store s3://artifacts/prod --presigned-downloads 30m   # devices fetch images from S3 directly",
            "", "Rollouts gated by --gate cloudwatch:PREFIX ask CloudWatch with the AWS SDK's default credentials and region",
            "(cloudwatch:DescribeAlarms).",
            "", "Environment: INGOT_ADMIN_TOKEN (the bootstrap admin token), INGOT_DB_PASSWORD (PostgreSQL password),",
            "INGOT_LOG_FORMAT=json (JSON log lines instead of key=value text)."})
final class ServerCommand extends BaseCommand {
    @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = "127.0.0.1", description = "The address to listen on. Default: ${DEFAULT-VALUE}.")
    String bind;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080", description = "The port. Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--db", paramLabel = "URL", defaultValue = "sqlite:./ingot.db",
            description = "sqlite:PATH or jdbc:postgresql://HOST:PORT/DB. Default: ${DEFAULT-VALUE}.")
    String database;

    @Option(names = "--db-user", paramLabel = "USER", description = "The PostgreSQL user (the password comes from INGOT_DB_PASSWORD).")
    String databaseUser;

    @Option(names = "--db-pool", paramLabel = "N", defaultValue = "16", description = "Database connections. Default: ${DEFAULT-VALUE}.")
    int databasePool;

    @Mixin
    StoreOptions store = new StoreOptions();

    @Option(names = "--keyring", paramLabel = "FILE|DIR", description = "Trusted public keys: the image catalog shows each release's signature status.")
    Path keyring;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM certificate chain: serve HTTPS.")
    Path tlsCertificate;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM private key (unencrypted PKCS#8) of --tls-cert.")
    Path tlsKey;

    @Option(names = "--plain-http", description = "Serve plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).")
    boolean plainHttp;

    @Option(names = "--admin-token-file", paramLabel = "FILE", description = "A file holding the bootstrap admin token (instead of INGOT_ADMIN_TOKEN).")
    Path adminTokenFile;

    @Option(names = "--poll-interval", paramLabel = "DURATION", defaultValue = "60s",
            description = "How often devices poll, spread by ±20%% jitter. Default: ${DEFAULT-VALUE}.")
    String pollInterval;

    @Option(names = "--history", paramLabel = "N", defaultValue = "96", description = "Reports kept per device (a change, or one per 15 minutes). Default: ${DEFAULT-VALUE}.")
    int history;

    @Option(names = "--offline-after", paramLabel = "DURATION", defaultValue = "5m",
            description = "A device not heard from this long is offline on the dashboard. Default: ${DEFAULT-VALUE}.")
    String offlineAfter;

    @Option(names = "--rollout-interval", paramLabel = "DURATION", defaultValue = "10s",
            description = "How often the rollout engine steps every active rollout and asks its gates. Default: ${DEFAULT-VALUE}.")
    String rolloutInterval;

    @Option(names = "--presigned-downloads", paramLabel = "DURATION",
            description = "On an S3 store: hand devices presigned S3 URLs valid this long (1m to 7d) instead of streaming releases itself.")
    String presignedDownloads;

    @Option(names = "--cloudwatch-endpoint-url", paramLabel = "URL",
            description = "For --gate cloudwatch:PREFIX rollouts: a CloudWatch endpoint instead of AWS's (region and credentials: the SDK's default chain).")
    URI cloudWatchEndpoint;

    ServerCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() throws InterruptedException {
        if ((tlsCertificate == null) != (tlsKey == null)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "serve HTTPS", "--tls-cert and --tls-key go together").withHint("give both, or neither");
        }
        if (history < 1 || history > 10_000) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "keep " + history + " reports per device", "--history is from 1 to 10000");
        }
        Optional<String> adminToken = adminToken();
        Duration interval = Durations.parse(pollInterval, "--poll-interval");
        ArtifactStore artifactStore = store.open(context, false);
        Optional<Keyring> ring = Optional.ofNullable(keyring).map(path -> Keyring.load(context.resolve(path)));
        ServerConfig config = new ServerConfig(bind, port,
                Optional.ofNullable(tlsCertificate).map(cert -> new ServerConfig.Tls(context.resolve(cert), context.resolve(tlsKey))), plainHttp,
                database, Optional.ofNullable(databaseUser), Optional.ofNullable(context.environment().get("INGOT_DB_PASSWORD")), databasePool,
                artifactStore, ring, adminToken, new PollPolicy(interval, 0.2, Duration.ofMinutes(15)), history,
                Durations.parse(offlineAfter, "--offline-after"), context.workingDirectory(),
                Optional.ofNullable(presignedDownloads).map(text -> Durations.parse(text, "--presigned-downloads")));
        Optional<URI> gateEndpoint = Optional.ofNullable(cloudWatchEndpoint);
        Duration step = Durations.parse(rolloutInterval, "--rollout-interval");
        if (step.isZero() || step.compareTo(Duration.ofHours(1)) > 0) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "step the rollouts every " + rolloutInterval, "--rollout-interval is from 1s to 1h");
        }
        RolloutSettings rollouts = RolloutSettings.every(step)
                .withCloudWatch(spec -> CloudWatchAlarmGate.fromDefaultChain(spec, gateEndpoint));
        IngotServer server = IngotServer.start(config, context.clock(), new SecureRandom(), rollouts);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "ingot-server-shutdown"));
        ObjectNode json = Ingot.JSON.createObjectNode();
        json.put("url", server.url());
        json.put("dashboard", server.url() + "/ui/");
        json.put("database", server.database().describe());
        json.put("store", artifactStore.describe());
        server.generatedAdminToken().ifPresent(token -> json.put("admin_token", token));
        StringBuilder text = new StringBuilder();
        text.append("Ingot control plane on ").append(server.url()).append(" (").append(server.database().describe()).append(", store ")
                .append(artifactStore.describe()).append(")\n");
        text.append("Dashboard: ").append(server.url()).append("/ui/   Metrics: ").append(server.url()).append("/metrics\n");
        server.generatedAdminToken().ifPresent(token -> text.append("Admin token (shown once, stored only as a hash): ").append(token)
                .append("\n  export INGOT_TOKEN=").append(token).append('\n'));
        text.append("Stop with Ctrl-C.");
        emit(text.toString(), json);
        stopped.await();
        return 0;
    }

    private Optional<String> adminToken() {
        if (adminTokenFile != null) {
            try {
                return Optional.of(Files.readString(context.resolve(adminTokenFile)).strip());
            } catch (IOException e) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "read the admin token file " + adminTokenFile, String.valueOf(e.getMessage()));
            }
        }
        return Optional.ofNullable(context.environment().get("INGOT_ADMIN_TOKEN")).map(String::strip).filter(token -> !token.isEmpty());
    }
}
