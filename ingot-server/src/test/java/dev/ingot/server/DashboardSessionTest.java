package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard's session cookie as a thief finds it (a stolen laptop's browser profile, a shared wall screen): it
 * opens the dashboard for its twelve hours and nothing else.
 */
class DashboardSessionTest {
    @TempDir
    Path folder;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T10:00:00Z"));
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void aDashboardSessionIsNoApiTokenAndEndsAfterTwelveHoursOrWithItsToken() throws Exception {
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock)) {
            String operator = server.token("alice", "operator");
            HttpResponse<String> login = signIn(server, operator);
            String cookie = sessionCookie(login).orElseThrow();
            String session = cookie.substring(cookie.indexOf('=') + 1, cookie.indexOf(';'));
            assertThat(session).as("the cookie holds no token").doesNotContain(operator).doesNotStartWith("ingot_op_");
            assertThat(page(server, session).statusCode()).isEqualTo(200);

            assertThat(server.get("/api/v1/devices", session).status()).as("the session is no bearer token").isEqualTo(401);
            assertThat(server.post("/api/v1/sites", session, java.util.Map.of("id", "SITE-6")).status()).isEqualTo(401);

            String tampered = session.substring(0, session.length() - 2) + (session.endsWith("AA") ? "BB" : "AA");
            assertThat(page(server, tampered).statusCode()).as("a changed cookie opens nothing").isEqualTo(302);
            String[] parts = session.split("\\.");
            String longer = parts[0] + "." + (Long.parseLong(parts[1]) + 86_400) + "." + parts[2];
            assertThat(page(server, longer).statusCode()).as("nor one with a later end").isEqualTo(302);

            clock.advance(Duration.ofHours(12).plusMinutes(1));
            assertThat(page(server, session).statusCode()).as("twelve hours later the server ends it, whatever the browser keeps").isEqualTo(302);

            String fresh = sessionCookie(signIn(server, operator)).map(value -> value.substring(value.indexOf('=') + 1, value.indexOf(';')))
                    .orElseThrow();
            assertThat(page(server, fresh).statusCode()).isEqualTo(200);
            TestServer.require(server.delete("/api/v1/tokens/alice", TestServer.ADMIN_TOKEN), 200);
            assertThat(page(server, fresh).statusCode()).as("revoking the token ends its sessions").isEqualTo(302);
            assertThat(signIn(server, operator).statusCode()).isEqualTo(401);
        }
    }

    @Test
    void behindATlsProxyTheSessionCookieIsSecure() throws Exception {
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock,
                config -> config.withTls(Optional.empty(), true))) {
            String cookie = sessionCookie(signIn(server, TestServer.ADMIN_TOKEN)).orElseThrow();
            assertThat(cookie).contains("HttpOnly").contains("SameSite=Strict").contains("Secure");
        }
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock)) {
            String cookie = sessionCookie(signIn(server, TestServer.ADMIN_TOKEN)).orElseThrow();
            assertThat(cookie).as("plain HTTP on loopback: a laptop's browser would drop a Secure cookie").doesNotContain("Secure");
        }
    }

    private HttpResponse<String> signIn(TestServer server, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(server.url() + "/ui/login")).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("token=" + URLEncoder.encode(token, StandardCharsets.UTF_8))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> page(TestServer server, String session) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(server.url() + "/ui/")).header("Cookie", "ingot_session=" + session).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static Optional<String> sessionCookie(HttpResponse<String> response) {
        return response.headers().allValues("Set-Cookie").stream().filter(value -> value.startsWith("ingot_session=")).findFirst();
    }
}
