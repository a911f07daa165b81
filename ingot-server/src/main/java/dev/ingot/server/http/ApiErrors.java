package dev.ingot.server.http;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every error leaves the server as one JSON document, {@code {"error": {"code", "message", "hint"}}}, with the
 * HTTP status of its {@link ErrorCode}; anything unexpected is logged with its stack and answered 500 without
 * details.
 */
public final class ApiErrors {
    private static final Logger LOG = LoggerFactory.getLogger(ApiErrors.class);
    static final String TOO_LARGE = "ingot.too-large";

    private ApiErrors() {}

    public static void ingot(IngotException e, Context ctx) {
        int status = Boolean.TRUE.equals(ctx.attribute(TOO_LARGE)) ? 413 : e.code().httpStatus();
        if (e.code() == ErrorCode.INTERNAL) {
            LOG.atError().addKeyValue("path", ctx.path()).setCause(e).log("internal error");
        }
        if (status == 401) {
            ctx.header("WWW-Authenticate", "Bearer realm=\"ingot\"");
        }
        write(ctx, status, e.code(), e.getMessage(), e.hint().orElse(null));
    }

    public static void http(HttpResponseException e, Context ctx) {
        ErrorCode code = switch (e.getStatus()) {
            case 401 -> ErrorCode.UNAUTHENTICATED;
            case 403 -> ErrorCode.FORBIDDEN;
            case 404 -> ErrorCode.NOT_FOUND;
            case 409 -> ErrorCode.CONFLICT;
            case 503 -> ErrorCode.UNAVAILABLE;
            default -> e.getStatus() >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_INPUT;
        };
        write(ctx, e.getStatus(), code, "Tried to answer " + ctx.method() + " " + ctx.path() + " but failed because " + e.getMessage(), null);
    }

    public static void unexpected(Exception e, Context ctx) {
        if (uniqueViolation(e)) {
            // Two writers created the same key at once (PostgreSQL: the second waits on the first's key, then violates it).
            // The check before the insert saw none; the loser's request is a conflict like any other "it exists".
            LOG.atInfo().addKeyValue("method", ctx.method().name()).addKeyValue("path", ctx.path()).log("lost a race to create the same key");
            write(ctx, 409, ErrorCode.CONFLICT, "Tried to answer " + ctx.method() + " " + ctx.path()
                    + " but failed because another request made the same thing at the same time", "read the state again, then retry");
            return;
        }
        LOG.atError().addKeyValue("method", ctx.method().name()).addKeyValue("path", ctx.path()).setCause(e).log("unexpected error");
        write(ctx, 500, ErrorCode.INTERNAL, "Tried to answer " + ctx.method() + " " + ctx.path() + " but failed because of an internal error",
                "the server's log has the details");
    }

    /** SQLSTATE 23505, unique_violation (PostgreSQL; SQLite's writers are serialized and never race to it). */
    private static boolean uniqueViolation(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof java.sql.SQLException sql && "23505".equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    public static void write(Context ctx, int status, ErrorCode code, String message, String hint) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", code.name());
        error.put("message", message);
        if (hint != null) {
            error.put("hint", hint);
        }
        ApiJson.write(ctx, status, Map.of("error", error));
    }
}
