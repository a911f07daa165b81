package dev.ingot.server.http;

import io.javalin.http.Context;
import java.util.Optional;

/**
 * The bearer token of a request (RFC 6750 section 2.1), from the Authorization header only: a token in a query
 * string ends up in proxy logs and browser history, so the server never looks there.
 */
public final class Bearer {
    private Bearer() {}

    public static Optional<String> token(Context ctx) {
        String header = ctx.header("Authorization");
        if (header == null || header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.empty();
        }
        String token = header.substring(7).strip();
        return token.isEmpty() || token.length() > 200 ? Optional.empty() : Optional.of(token);
    }
}
