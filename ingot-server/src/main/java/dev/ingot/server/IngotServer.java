package dev.ingot.server;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.ImageName;
import dev.ingot.image.ReleaseFiles;
import dev.ingot.server.audit.AuditLog;
import dev.ingot.server.auth.Access;
import dev.ingot.server.auth.OperatorTokens;
import dev.ingot.server.dashboard.Dashboard;
import dev.ingot.server.dashboard.RolloutPages;
import dev.ingot.server.db.Database;
import dev.ingot.server.device.DeviceApi;
import dev.ingot.server.device.ReportCheck;
import dev.ingot.server.fleet.Actions;
import dev.ingot.server.fleet.DesiredStates;
import dev.ingot.server.fleet.DeviceCredentials;
import dev.ingot.server.fleet.DeviceLifecycle;
import dev.ingot.server.fleet.Devices;
import dev.ingot.server.fleet.Enrollment;
import dev.ingot.server.fleet.ReleaseCatalog;
import dev.ingot.server.fleet.ReportWriter;
import dev.ingot.server.fleet.Sites;
import dev.ingot.server.http.ApiErrors;
import dev.ingot.server.http.Pem;
import dev.ingot.server.http.RequestGuards;
import dev.ingot.server.metrics.ServerMetrics;
import dev.ingot.server.operator.OperatorApi;
import dev.ingot.server.rollout.RolloutApi;
import dev.ingot.server.rollout.RolloutSettings;
import dev.ingot.server.rollout.Rollouts;
import dev.ingot.server.http.OpenApi;
import io.javalin.Javalin;
import io.javalin.http.HttpResponseException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.KeyStore;
import java.time.Clock;
import java.util.Optional;
import java.util.random.RandomGenerator;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane: one process serving the device API, the operator API, the dashboard, /healthz and
 * /metrics over one database and one store. It keeps nothing of its own between requests, so any number of
 * replicas may serve one PostgreSQL.
 */
public final class IngotServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IngotServer.class);

    private final ServerConfig config;
    private final Database database;
    private final ServerMetrics metrics;
    private final ReportWriter writer;
    private final Javalin app;
    private final Optional<String> generatedAdminToken;
    private final Devices devices;
    private final Rollouts rollouts;

    private IngotServer(ServerConfig config, Clock clock, RandomGenerator random, RolloutSettings rolloutSettings) {
        this.config = config;
        checkTransport(config);
        Optional<KeyStore> keyStore = config.tls().map(tls -> Pem.keyStore(tls.certificate(), tls.key()));
        this.database = Database.open(config.database(), config.workingDirectory(), config.databaseUser(), config.databasePassword(),
                config.databasePool());
        try {
            this.metrics = new ServerMetrics();
            AuditLog audit = new AuditLog(database.jdbi(), clock);
            OperatorTokens tokens = new OperatorTokens(database, audit, clock);
            this.generatedAdminToken = tokens.bootstrap(config.adminToken());
            Access access = new Access(tokens);
            Sites sites = new Sites(database, audit, clock);
            this.devices = new Devices(database.jdbi(), clock);
            Actions actions = new Actions(database, clock);
            ReleaseCatalog catalog = version -> config.store().stat(ReleaseFiles.STORE_FOLDER + new ReleaseFiles(ImageName.DEFAULT, version).manifest()).isPresent();
            DesiredStates desired = new DesiredStates(database, audit, catalog, clock);
            this.writer = new ReportWriter(database.dataSource(), database.writeLock(), config.historyLimit(), 20_000, metrics::batch);
            DeviceApi deviceApi = new DeviceApi(new Enrollment(database, audit, clock), new DeviceCredentials(database), actions, writer,
                    new ReportCheck(), config.store(), metrics, config.pollPolicy(), config.presignedDownloads(), clock, random);
            OperatorApi operatorApi = new OperatorApi(access, sites, devices, new DeviceLifecycle(database, audit, clock), desired, actions, tokens,
                    audit, config.store(), config.keyring());
            this.rollouts = Rollouts.create(database, audit, desired, catalog, rolloutSettings, clock);
            RolloutApi rolloutApi = new RolloutApi(access, rollouts);
            Dashboard dashboard = new Dashboard(access, sites, devices, actions, audit, config.store(), config.keyring(), config.offlineAfter(),
                    // Behind a TLS proxy (--plain-http) the browser speaks HTTPS too: a cookie without Secure would also travel on an http:// request.
                    config.tls().isPresent() || config.plainHttp(), clock);
            byte[] openApi = OpenApi.merge(resource("openapi.json"), resource("openapi-rollouts.json"));
            this.app = Javalin.create(cfg -> {
                cfg.concurrency.useVirtualThreads = true;
                cfg.http.maxRequestSize = 1024 * 1024;
                cfg.http.defaultContentType = "application/json";
                cfg.startup.showJavalinBanner = false;
                cfg.staticFiles.enableWebjars();
                cfg.staticFiles.add(files -> {
                    files.hostedPath = "/static";
                    files.directory = "/dev/ingot/server/dashboard/static";
                    files.location = io.javalin.http.staticfiles.Location.CLASSPATH;
                });
                cfg.jetty.host = config.host();
                cfg.jetty.port = config.port();
                keyStore.ifPresent(store -> cfg.jetty.addConnector((server, httpConfig) -> tlsConnector(server, httpConfig, store, config)));
                cfg.requestLogger.http((ctx, millis) -> {
                    var event = ctx.path().equals("/api/v1/device/poll") || ctx.path().startsWith("/webjars") || ctx.path().startsWith("/static")
                            ? LOG.atDebug() : LOG.atInfo();
                    event.addKeyValue("method", ctx.method().name()).addKeyValue("path", ctx.path()).addKeyValue("status", ctx.status().getCode())
                            .addKeyValue("ms", Math.round(millis)).log("request");
                });
                cfg.routes.exception(IngotException.class, ApiErrors::ingot);
                cfg.routes.exception(HttpResponseException.class, ApiErrors::http);
                cfg.routes.exception(Exception.class, ApiErrors::unexpected);
                cfg.routes.before(ctx -> {
                    RequestGuards.check(ctx);
                    ctx.header("X-Content-Type-Options", "nosniff");
                    ctx.header("Referrer-Policy", "no-referrer");
                    if (config.tls().isPresent()) {
                        ctx.header("Strict-Transport-Security", "max-age=31536000");
                    }
                });
                cfg.routes.get("/healthz", ctx -> {
                    database.jdbi().useHandle(handle -> handle.createQuery("SELECT 1").mapTo(Integer.class).one());
                    ctx.contentType("application/json").result("{\"status\":\"ok\"}");
                });
                cfg.routes.get("/metrics", ctx -> {
                    refreshFleetMetrics();
                    ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape());
                });
                cfg.routes.get("/api/v1/openapi.json", ctx -> ctx.contentType("application/json").result(openApi));
                deviceApi.routes(cfg.routes);
                operatorApi.routes(cfg.routes);
                rolloutApi.routes(cfg.routes);
                dashboard.routes(cfg.routes);
                new RolloutPages(dashboard, access, rollouts, devices, clock).routes(cfg.routes);
                cfg.routes.error(404, ctx -> {
                    if (ctx.result() == null || ctx.result().isEmpty() || !ctx.result().startsWith("{\"error\"")) {
                        ApiErrors.write(ctx, 404, ErrorCode.NOT_FOUND, "Tried to answer " + ctx.method() + " " + ctx.path()
                                + " but failed because there is no such endpoint", "docs/api.md lists the endpoints");
                    }
                });
            });
        } catch (RuntimeException e) {
            database.close();
            throw e;
        }
    }

    /** Opens the database, migrates it, and starts serving, with the rollout engine on its defaults (every 10 s, no CloudWatch gate). */
    public static IngotServer start(ServerConfig config, Clock clock, RandomGenerator random) {
        return start(config, clock, random, RolloutSettings.defaults());
    }

    /** Opens the database, migrates it, starts serving, then starts the rollout engine. */
    public static IngotServer start(ServerConfig config, Clock clock, RandomGenerator random, RolloutSettings rolloutSettings) {
        requireNonNull(config, "config");
        requireNonNull(rolloutSettings, "rolloutSettings");
        IngotServer server = new IngotServer(config, clock, random, rolloutSettings);
        try {
            server.app.start();
            server.rollouts.startEngine();
        } catch (RuntimeException e) {
            server.close();
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "listen on " + config.host() + ":" + config.port(), String.valueOf(e.getMessage()))
                    .withHint("is another server on that port? choose one with --port").withCause(e);
        }
        LOG.atInfo().addKeyValue("url", server.url()).addKeyValue("database", server.database.describe())
                .addKeyValue("store", config.store().describe()).log("ingot server started");
        return server;
    }

    /** The admin token made at this start (first start without INGOT_ADMIN_TOKEN), to be shown once. */
    public Optional<String> generatedAdminToken() {
        return generatedAdminToken;
    }

    public int port() {
        return ((ServerConnector) app.jettyServer().server().getConnectors()[0]).getLocalPort();
    }

    public String url() {
        String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return (config.tls().isPresent() ? "https://" : "http://") + (host.equals("0.0.0.0") ? "127.0.0.1" : host) + ":" + port();
    }

    /** Every HTTP route the server answers, as "METHOD /path" (the OpenAPI document must describe each). */
    public java.util.List<String> routes() {
        return app.unsafe.internalRouter.allHttpHandlers().stream()
                .map(parsed -> parsed.endpoint.method.name() + " " + parsed.endpoint.path).sorted().toList();
    }

    public Database database() {
        return database;
    }

    public ServerMetrics metrics() {
        return metrics;
    }

    /** The rollouts and their engine. */
    public Rollouts rollouts() {
        return rollouts;
    }

    /** Counts the fleet by version and status at each scrape, so that every replica reports the database's truth. */
    private void refreshFleetMetrics() {
        try {
            metrics.fleet(database.jdbi().withHandle(handle -> handle.createQuery("SELECT COALESCE(image_version, 'none') AS version, "
                            + "COALESCE(status, 'unknown') AS status, COUNT(*) AS devices FROM devices d WHERE " + Devices.IN_FLEET + " "
                            + "GROUP BY COALESCE(image_version, 'none'), COALESCE(status, 'unknown')")
                    .map((rs, ctx) -> new ServerMetrics.FleetCount(rs.getString("version"), rs.getString("status"), rs.getLong("devices")))
                    .list()));
        } catch (RuntimeException e) {
            LOG.atWarn().setCause(e).log("could not count the fleet for /metrics");
        }
    }

    private static ServerConnector tlsConnector(org.eclipse.jetty.server.Server server, HttpConfiguration httpConfig, KeyStore store,
            ServerConfig config) {
        HttpConfiguration https = new HttpConfiguration(httpConfig);
        https.addCustomizer(new SecureRequestCustomizer());
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStore(store);
        ssl.setKeyStorePassword("");
        ssl.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        ServerConnector connector = new ServerConnector(server, ssl, new HttpConnectionFactory(https));
        connector.setHost(config.host());
        connector.setPort(config.port());
        return connector;
    }

    /** Plain HTTP is served on loopback (a laptop, a proxy on the same host) or when the operator asks for it. */
    private static void checkTransport(ServerConfig config) {
        if (config.tls().isPresent() || config.plainHttp()) {
            return;
        }
        boolean loopback;
        try {
            loopback = InetAddress.getByName(config.host()).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "listen on " + config.host(), "the name does not resolve");
        }
        if (!loopback) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "serve plain HTTP on " + config.host(),
                    "devices' credentials would cross the network unencrypted")
                    .withHint("give --tls-cert and --tls-key, or --plain-http when a TLS proxy in front terminates TLS");
        }
    }

    private static byte[] resource(String name) {
        try (InputStream in = IngotServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " ships in the server's jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            rollouts.close();
            app.stop();
        } finally {
            writer.close();
            metrics.close();
            database.close();
            LOG.info("ingot server stopped");
        }
    }
}
