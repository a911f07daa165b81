package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.server.http.ApiJson;
import dev.ingot.store.FolderStore;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server as a whole: health, metrics, its OpenAPI description, TLS, and when it refuses to start. */
class ServerTest {
    @TempDir
    Path folder;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T10:00:00Z"));

    @Test
    void healthzAndMetricsTellHowTheServerAndTheFleetAreDoing() {
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock)) {
            TestServer.EnrolledDevice device = server.enroll("SITE-1");
            TestServer.require(server.poll(device, null, "v1.4"), 200);
            server.poll(device, null, (com.fasterxml.jackson.databind.node.ObjectNode) ApiJson.MAPPER.createObjectNode().put("status", "fine"));

            assertThat(server.get("/healthz", null).json().path("status").asText()).isEqualTo("ok");
            String metrics = server.get("/metrics", null).body();
            assertThat(metrics).contains("ingot_device_polls_total{outcome=\"ok\"} 1.0")
                    .contains("ingot_device_polls_total{outcome=\"refused\"} 1.0")
                    .contains("ingot_device_poll_latency_seconds_bucket")
                    .contains("ingot_reports_batch_size_count")
                    .contains("ingot_devices{image_version=\"v1.4\",status=\"healthy\"} 1.0")
                    .contains("jvm_memory_used_bytes");
        }
    }

    @Test
    void theOpenApiDocumentDescribesEveryRouteTheServerAnswers() {
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock)) {
            JsonNode document = TestServer.require(server.get("/api/v1/openapi.json", null), 200).json();
            assertThat(document.path("openapi").asText()).isEqualTo("3.1.0");
            List<String> described = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> paths = document.path("paths").fields(); paths.hasNext(); ) {
                Map.Entry<String, JsonNode> path = paths.next();
                path.getValue().fieldNames().forEachRemaining(method -> described.add(method.toUpperCase(java.util.Locale.ROOT) + " " + path.getKey()));
            }
            List<String> answered = server.server().routes().stream()
                    .filter(route -> route.contains(" /api/") || route.endsWith(" /healthz") || route.endsWith(" /metrics")).toList();
            assertThat(described).containsExactlyInAnyOrderElementsOf(answered);
        }
    }

    @Test
    void withACertificateItServesHttpsOnly() throws Exception {
        Path cert = folder.resolve("cert.pem");
        Path key = folder.resolve("key.pem");
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost").redirectErrorStream(true).start();
        assertThat(openssl.waitFor()).as(new String(openssl.getInputStream().readAllBytes())).isZero();
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock,
                config -> config.withTls(Optional.of(new ServerConfig.Tls(cert, key)), false))) {
            assertThat(server.url()).startsWith("https://127.0.0.1:");
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            try (InputStream in = Files.newInputStream(cert)) {
                trust.setCertificateEntry("server", CertificateFactory.getInstance("X.509").generateCertificate(in));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, factory.getTrustManagers(), null);
            HttpClient https = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> answer = https.send(HttpRequest.newBuilder(URI.create(server.url() + "/api/v1/sites"))
                    .header("Authorization", "Bearer " + TestServer.ADMIN_TOKEN).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).isEqualTo(200);
            assertThat(answer.headers().firstValue("Strict-Transport-Security")).isPresent();
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            String plainUrl = server.url().replace("https://", "http://") + "/healthz";
            assertThatThrownBy(() -> {
                HttpResponse<String> response = plain.send(HttpRequest.newBuilder(URI.create(plainUrl)).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() < 400) {
                    throw new AssertionError("plain HTTP answered " + response.statusCode());
                }
                throw new java.io.IOException("refused with " + response.statusCode());
            }).isInstanceOf(java.io.IOException.class);
        }
    }

    @Test
    void itRefusesPlainHttpOffLoopbackABadKeyAndAnUnknownDatabase() throws Exception {
        Path store = Files.createDirectories(folder.resolve("store"));
        ServerConfig base = ServerConfig.defaults("0.0.0.0", 0, "sqlite:" + folder.resolve("a.db"), new FolderStore(store), folder);
        assertThatThrownBy(() -> IngotServer.start(base, clock, new Random()))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT))
                .hasMessageContaining("serve plain HTTP on 0.0.0.0");
        Path notAKey = Files.writeString(folder.resolve("key.pem"), "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        assertThatThrownBy(() -> IngotServer.start(base.withTls(Optional.of(new ServerConfig.Tls(notAKey, notAKey)), false), clock, new Random()))
                .isInstanceOf(IngotException.class);
        assertThatThrownBy(() -> IngotServer.start(ServerConfig.defaults("127.0.0.1", 0, "mysql://db", new FolderStore(store), folder), clock, new Random()))
                .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT));
        assertThatThrownBy(() -> IngotServer.start(ServerConfig.defaults("127.0.0.1", 0, "jdbc:postgresql://127.0.0.1:1/none", new FolderStore(store), folder),
                clock, new Random())).isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
        assertThat(Files.exists(folder.resolve("a.db"))).as("a refused start leaves no database behind").isFalse();
    }
}
