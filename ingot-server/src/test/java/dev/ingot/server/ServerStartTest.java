package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.store.FolderStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An operator's worst day at start: TLS files that do not match, and what the server leaves on disk. */
class ServerStartTest {
    @TempDir
    Path folder;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T10:00:00Z"));

    @Test
    void aTlsKeyThatIsNotTheCertificatesIsRefusedAtStartRatherThanAtEveryHandshake() throws Exception {
        Path cert = folder.resolve("cert.pem");
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", folder.resolve("key.pem").toString(),
                "-out", cert.toString(), "-days", "2", "-subj", "/CN=localhost");
        Path otherEc = folder.resolve("other-ec.pem");
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", otherEc.toString());
        Path rsa = folder.resolve("rsa.pem");
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsa.toString());
        Path store = Files.createDirectories(folder.resolve("store"));
        for (Path wrongKey : List.of(otherEc, rsa)) {
            ServerConfig config = ServerConfig.defaults("127.0.0.1", 0, "sqlite:" + folder.resolve("a.db"), new FolderStore(store), folder)
                    .withTls(Optional.of(new ServerConfig.Tls(cert, wrongKey)), false);
            assertThatThrownBy(() -> IngotServer.start(config, clock, new Random()).close())
                    .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT))
                    .hasMessageContaining("does not belong to the certificate");
        }
        assertThat(Files.exists(folder.resolve("a.db"))).isFalse();
        ServerConfig matching = ServerConfig.defaults("127.0.0.1", 0, "sqlite:" + folder.resolve("a.db"), new FolderStore(store), folder)
                .withTls(Optional.of(new ServerConfig.Tls(cert, folder.resolve("key.pem"))), false);
        IngotServer.start(matching, clock, new Random()).close();
    }

    @Test
    void aNewSqliteDatabaseAndItsLogAreTheServersUsersOnly() throws Exception {
        String database = "sqlite:" + folder.resolve("fleet.db");
        try (TestServer server = TestServer.start(database, folder, clock)) {
            server.enroll("SITE-1");
            for (String name : List.of("fleet.db", "fleet.db-wal", "fleet.db-shm")) {
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(folder.resolve(name)))).as(name).isEqualTo("rw-------");
            }
        }
    }

    @Test
    void onPostgresqlAWriteIsAcknowledgedOnlyAfterItsCommitIsFlushedWhateverTheDatabaseDefaultsTo() throws Exception {
        String url = TestDatabases.fresh(TestDatabases.Kind.POSTGRESQL, folder);
        String name = url.substring(url.lastIndexOf('/') + 1, url.contains("?") ? url.indexOf('?') : url.length());
        try (java.sql.Connection connection = TestDatabases.postgres().getPostgresDatabase().getConnection();
                java.sql.Statement statement = connection.createStatement()) {
            // A DBA's choice for speed (or a managed database's default): commits answered before the WAL is flushed.
            statement.execute("ALTER DATABASE " + name + " SET synchronous_commit = off");
        }
        try (TestServer server = TestServer.start(url, folder, clock)) {
            for (int i = 0; i < 3; i++) {
                String setting = server.server().database().jdbi().withHandle(handle -> handle.createQuery("SHOW synchronous_commit")
                        .mapTo(String.class).one());
                assertThat(setting).as("the server's own sessions wait for the flush they acknowledge").isEqualTo("on");
            }
        }
    }

    @Test
    void onPostgresqlAPollsTwoRowsAreStoredToBeRewrittenCheaplyAndALargeReportStillFits() {
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.POSTGRESQL, folder), folder, clock)) {
            java.util.Map<String, String> options = new java.util.TreeMap<>();
            server.server().database().jdbi().useHandle(handle -> handle.createQuery(
                            "SELECT relname, array_to_string(reloptions, ',') AS options FROM pg_class WHERE relname IN ('devices', 'latest_reports')")
                    .map((rs, ctx) -> java.util.Map.entry(rs.getString("relname"), rs.getString("options")))
                    .forEach(entry -> options.put(entry.getKey(), entry.getValue())));
            assertThat(options).containsEntry("devices", "fillfactor=70").containsEntry("latest_reports", "toast_tuple_target=8160,fillfactor=50");

            // A report larger than a page (the poll body may be 64 KiB) is still stored: out of line, as PostgreSQL does by default.
            TestServer.EnrolledDevice device = server.enroll("SITE-1");
            com.fasterxml.jackson.databind.node.ObjectNode report = dev.ingot.testing.HealthReports.healthy("SITE-1", device.id(), "v1.4", "2.8.1");
            String reason = "a reason as long as a device may write it ".repeat(500);
            ((com.fasterxml.jackson.databind.node.ObjectNode) report.get("checks").get(0)).put("reason", reason);
            assertThat(report.toString().length()).isGreaterThan(20_000);
            TestServer.require(server.poll(device, null, report), 200);
            assertThat(server.get("/api/v1/devices/" + device.id(), TestServer.ADMIN_TOKEN).json().path("latest_report").path("checks").get(0)
                    .path("reason").asText()).isEqualTo(reason);
        }
    }

    @Test
    void aPostgresqlThatDoesNotFlushItsCommitsIsNamedAtStart() {
        assertThat(dev.ingot.server.db.Database.durabilityProblems(java.util.Map.of("fsync", "off", "synchronous_commit", "on")))
                .singleElement().asString().contains("fsync=off");
        assertThat(dev.ingot.server.db.Database.durabilityProblems(java.util.Map.of("fsync", "on", "synchronous_commit", "on"))).isEmpty();
        assertThat(dev.ingot.server.db.Database.durabilityProblems(java.util.Map.of("fsync", "on", "synchronous_commit", "remote_apply"))).isEmpty();
    }

    private static void openssl(String... arguments) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor()).as(output).isZero();
    }
}
