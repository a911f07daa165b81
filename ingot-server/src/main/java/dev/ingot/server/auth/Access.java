package dev.ingot.server.auth;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.server.http.Bearer;
import io.javalin.http.Context;
import java.util.Optional;

/** Who an operator request comes from, and whether that role may do what it asks. */
public final class Access {
    /** The dashboard's session cookie (not the token: {@link OperatorTokens#openSession}), HttpOnly and SameSite=Strict, read by dashboard pages only. */
    public static final String SESSION_COOKIE = "ingot_session";

    private final OperatorTokens tokens;

    public Access(OperatorTokens tokens) {
        this.tokens = requireNonNull(tokens, "tokens");
    }

    /** The operator behind the request's bearer token, who must hold at least {@code needed}. */
    public Caller.Operator require(Context ctx, Role needed) {
        String token = Bearer.token(ctx).orElseThrow(() -> IngotException.tried(ErrorCode.UNAUTHENTICATED, ctx.method() + " " + ctx.path(),
                "the request carries no operator token").withHint("set INGOT_TOKEN, or send Authorization: Bearer <token>"));
        return check(ctx, tokens.authenticate(token), needed);
    }

    /** The operator behind the dashboard's session cookie, if any. */
    public Optional<Caller.Operator> session(Context ctx) {
        String session = ctx.cookie(SESSION_COOKIE);
        return session == null || session.length() > 200 ? Optional.empty() : tokens.session(session);
    }

    /** A dashboard session for the token a user signed in with, if it is a valid operator token. */
    public Optional<String> openSession(String token) {
        return tokens.openSession(token);
    }

    private static Caller.Operator check(Context ctx, Optional<Caller.Operator> operator, Role needed) {
        Caller.Operator found = operator.orElseThrow(() -> IngotException.tried(ErrorCode.UNAUTHENTICATED, ctx.method() + " " + ctx.path(),
                "the token is not a valid operator token (unknown or revoked)").withHint("ask an admin for a token: ingot token create"));
        if (!found.role().allows(needed)) {
            throw IngotException.tried(ErrorCode.FORBIDDEN, ctx.method() + " " + ctx.path(),
                    "the token '" + found.tokenName() + "' is a " + found.role().json() + " and this needs " + needed.json())
                    .withHint("ask an admin for a token with the " + needed.json() + " role");
        }
        return found;
    }
}
