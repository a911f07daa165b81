package dev.ingot.cli;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.http.ApiAnswers;
import dev.ingot.http.PemTrust;
import dev.ingot.site.SiteParameters;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import picocli.CommandLine.Option;

/**
 * The operator commands' way to the control plane: {@code --server} (or INGOT_SERVER) and the operator token from
 * INGOT_TOKEN or {@code --token-file} — never a token on the command line, where ps and shell history show it.
 * The server's error documents become the same one-line errors and exit codes as everywhere else.
 */
final class ServerClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The options every operator command mixes in. */
    static final class Options {
        @Option(names = "--server", paramLabel = "URL",
                description = "The control plane, e.g. https://ingot.example.com (plain http:// to loopback only). Default: INGOT_SERVER, else http://127.0.0.1:8080.")
        String server;

        @Option(names = "--token-file", paramLabel = "FILE", description = "A file holding the operator token. Default: the INGOT_TOKEN variable.")
        Path tokenFile;

        @Option(names = "--cacert", paramLabel = "FILE", description = "A PEM certificate to trust for the server (a self-signed or private CA).")
        Path caCertificate;

        ServerClient connect(CliContext context) {
            String url = server != null ? server : context.environment().getOrDefault("INGOT_SERVER", "http://127.0.0.1:8080");
            URI base;
            try {
                base = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
            } catch (IllegalArgumentException e) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "use the server URL '" + url + "'", "it is not a URL");
            }
            if (!"https".equals(base.getScheme()) && !"http".equals(base.getScheme()) || base.getHost() == null) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "use the server URL '" + url + "'", "it is not an http:// or https:// URL")
                        .withHint("write it like https://ingot.example.com");
            }
            // The operator token goes with every request: in the clear only where it never leaves the machine (the agent's rule too).
            if ("http".equals(base.getScheme()) && !SiteParameters.isLoopback(base.getHost())) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "use the server URL '" + url + "'",
                        "it is plain http:// to another machine, which would carry the operator token in the clear")
                        .withHint("use https:// (the server's --tls-cert, or its TLS proxy), or an SSH tunnel to http://127.0.0.1");
            }
            Optional<String> token;
            if (tokenFile != null) {
                try {
                    token = Optional.of(Files.readString(context.resolve(tokenFile)).strip());
                } catch (IOException e) {
                    throw IngotException.tried(ErrorCode.BAD_INPUT, "read the token file " + tokenFile, String.valueOf(e.getMessage()));
                }
            } else {
                token = Optional.ofNullable(context.environment().get("INGOT_TOKEN")).map(String::strip).filter(text -> !text.isEmpty());
            }
            HttpClient.Builder http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
            if (caCertificate != null) {
                http.sslContext(PemTrust.context(context.resolve(caCertificate), "--cacert"));
            }
            return new ServerClient(base, token, http.build());
        }
    }

    private final URI base;
    private final Optional<String> token;
    private final HttpClient http;

    ServerClient(URI base, Optional<String> token, HttpClient http) {
        this.base = requireNonNull(base, "base");
        this.token = requireNonNull(token, "token");
        this.http = requireNonNull(http, "http");
    }

    JsonNode get(String path, Map<String, String> query) {
        String queryString = query.entrySet().stream().filter(entry -> entry.getValue() != null)
                .map(entry -> entry.getKey() + "=" + URLEncoder.encode(entry.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return send(HttpRequest.newBuilder(uri(path + (queryString.isEmpty() ? "" : "?" + queryString))).GET(), "GET " + path);
    }

    JsonNode post(String path, Object body) {
        try {
            return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))), "POST " + path);
        } catch (IOException e) {
            throw new IllegalStateException("a request body always serializes", e);
        }
    }

    JsonNode delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE(), "DELETE " + path);
    }

    String describe() {
        return base.toString();
    }

    /** A path segment as the URL needs it. */
    static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private URI uri(String path) {
        return URI.create(base + path);
    }

    private JsonNode send(HttpRequest.Builder request, String what) {
        String token = this.token.orElseThrow(() -> IngotException.tried(ErrorCode.BAD_INPUT, what + " on " + base, "no operator token is set")
                .withHint("export INGOT_TOKEN=<token> (ingot server prints the first admin token once), or pass --token-file"));
        request.header("Authorization", "Bearer " + token).header("Accept", "application/json").timeout(Duration.ofSeconds(60));
        HttpResponse<byte[]> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw ApiAnswers.unreachable(e, base.toString(), "start it with 'ingot server', or check --server / INGOT_SERVER",
                    "for a self-signed certificate pass --cacert FILE");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what, "it was interrupted");
        }
        JsonNode body;
        try {
            body = response.body().length == 0 ? JSON.nullNode() : JSON.readTree(response.body());
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what + " on " + base, "the answer (HTTP " + response.statusCode() + ") is not JSON")
                    .withHint("is --server an Ingot control plane?");
        }
        if (response.statusCode() >= 400) {
            throw ApiAnswers.error(response.statusCode(), response.body(), what + " on " + base);
        }
        return body;
    }
}
