package dev.ingot.server.http;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import io.javalin.http.Context;
import java.util.List;
import java.util.Map;

/**
 * Checks every request passes before it is routed: what no endpoint takes is refused here once, rather than
 * handled (or not) by each.
 */
public final class RequestGuards {
    /** The header Javalin's {@code Context.method()} obeys: a GET that a proxy, a WAF or a log sees would be routed as a DELETE. */
    static final String METHOD_OVERRIDE = "X-HTTP-Method-Override";

    private RequestGuards() {}

    public static void check(Context ctx) {
        if (ctx.header(METHOD_OVERRIDE) != null) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "answer " + ctx.req().getMethod() + " " + ctx.path(),
                    "the request carries " + METHOD_OVERRIDE + " and the server takes a request's method only from its request line")
                    .withHint("send the method itself (DELETE, POST)");
        }
        // Query values reach SQL as bound parameters, but PostgreSQL refuses a NUL in text (a 500) and a newline
        // forges lines in the logs; no filter, limit or subject holds a control character.
        for (Map.Entry<String, List<String>> parameter : ctx.queryParamMap().entrySet()) {
            for (String value : parameter.getValue()) {
                if (value.chars().anyMatch(Character::isISOControl)) {
                    throw IngotException.tried(ErrorCode.BAD_INPUT, "read the query parameter '" + parameter.getKey() + "'",
                            "it holds a control character");
                }
            }
        }
    }
}
