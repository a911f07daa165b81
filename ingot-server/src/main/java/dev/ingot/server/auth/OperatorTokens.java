package dev.ingot.server.auth;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.server.audit.AuditLog;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Base64;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jdbi.v3.core.Handle;
import dev.ingot.server.db.Database;
import org.jdbi.v3.core.Jdbi;

/** Operator tokens: made, listed, revoked and checked; stored as hashes only. */
public final class OperatorTokens {
    /** The name of the token the server makes (or takes from INGOT_ADMIN_TOKEN) at its first start. */
    public static final String BOOTSTRAP_NAME = "admin";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,99}");

    public record Info(String id, String name, Role role, Instant createdAt, String createdBy, Optional<Instant> revokedAt) {}

    /** A new token: the secret is shown once and never stored. */
    public record Created(Info info, String token) {}

    private final Database database;
    private final Jdbi jdbi;
    private final AuditLog audit;
    private final Clock clock;

    public OperatorTokens(Database database, AuditLog audit, Clock clock) {
        this.database = requireNonNull(database, "database");
        this.jdbi = database.jdbi();
        this.audit = requireNonNull(audit, "audit");
        this.clock = requireNonNull(clock, "clock");
    }

    /** The operator a token belongs to, or empty for an unknown or revoked token. */
    public Optional<Caller.Operator> authenticate(String token) {
        if (!token.startsWith(Tokens.OPERATOR_PREFIX)) {
            return Optional.empty();
        }
        String hash = Tokens.hash(token);
        return jdbi.withHandle(handle -> handle.createQuery(
                        "SELECT name, role, token_hash FROM operator_tokens WHERE token_hash = :hash AND revoked_at IS NULL")
                .bind("hash", hash)
                .map((rs, ctx) -> Tokens.matches(token, rs.getString("token_hash"))
                        ? Optional.of(new Caller.Operator(rs.getString("name"), Role.parse(rs.getString("role"))))
                        : Optional.<Caller.Operator>empty())
                .findFirst().flatMap(found -> found));
    }

    /** How long a dashboard session lasts; the server checks it, whatever a browser (or a copy of its profile) keeps. */
    public static final Duration SESSION_LIFETIME = Duration.ofHours(12);
    private static final String SESSION_MAC = "HmacSHA256";

    /**
     * A dashboard session for a valid token: {@code TOKEN_ID.EXPIRES.MAC}, the MAC keyed by the token's stored hash.
     * The cookie is not the token, so a stolen one opens no API call and ends after {@link #SESSION_LIFETIME}; revoking
     * (or replacing) the token ends its sessions. Kept in no table: a session forged from a copy of the database opens
     * only the dashboard, which reads nothing that copy does not hold.
     */
    public Optional<String> openSession(String token) {
        if (!token.startsWith(Tokens.OPERATOR_PREFIX)) {
            return Optional.empty();
        }
        String hash = Tokens.hash(token);
        long expires = clock.instant().plus(SESSION_LIFETIME).getEpochSecond();
        return jdbi.withHandle(handle -> handle.createQuery("SELECT id, token_hash FROM operator_tokens WHERE token_hash = :hash AND revoked_at IS NULL")
                .bind("hash", hash)
                .map((rs, ctx) -> Tokens.matches(token, rs.getString("token_hash"))
                        ? Optional.of(rs.getString("id") + "." + expires + "." + sessionMac(rs.getString("token_hash"), rs.getString("id"), expires))
                        : Optional.<String>empty())
                .findFirst().flatMap(found -> found));
    }

    /** The operator behind a dashboard session, or empty for a malformed, changed, expired or revoked one. */
    public Optional<Caller.Operator> session(String session) {
        String[] parts = session.split("\\.", -1);
        if (parts.length != 3 || parts[0].length() > 36 || !parts[1].matches("[0-9]{1,12}")) {
            return Optional.empty();
        }
        long expires = Long.parseLong(parts[1]);
        if (expires <= clock.instant().getEpochSecond()) {
            return Optional.empty();
        }
        return jdbi.withHandle(handle -> handle.createQuery("SELECT name, role, token_hash FROM operator_tokens WHERE id = :id AND revoked_at IS NULL")
                .bind("id", parts[0])
                .map((rs, ctx) -> MessageDigest.isEqual(sessionMac(rs.getString("token_hash"), parts[0], expires).getBytes(StandardCharsets.US_ASCII),
                        parts[2].getBytes(StandardCharsets.US_ASCII))
                        ? Optional.of(new Caller.Operator(rs.getString("name"), Role.parse(rs.getString("role"))))
                        : Optional.<Caller.Operator>empty())
                .findFirst().flatMap(found -> found));
    }

    private static String sessionMac(String tokenHash, String tokenId, long expires) {
        try {
            Mac mac = Mac.getInstance(SESSION_MAC);
            mac.init(new SecretKeySpec(tokenHash.getBytes(StandardCharsets.US_ASCII), SESSION_MAC));
            byte[] tag = mac.doFinal(("ingot-dashboard-session|" + tokenId + "|" + expires).getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(tag);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has " + SESSION_MAC, e);
        }
    }

    public Created create(String name, Role role, Caller.Operator by) {
        checkName(name);
        String token = Tokens.newToken(Tokens.OPERATOR_PREFIX);
        Info info = new Info(UUID.randomUUID().toString(), name, role, clock.instant(), by.name(), Optional.empty());
        database.useTransaction(handle -> {
            if (find(handle, name).isPresent()) {
                throw IngotException.tried(ErrorCode.CONFLICT, "create the token '" + name + "'", "a token with that name exists")
                        .withHint("choose another name, or revoke the old token first and use a new name");
            }
            insert(handle, info, Tokens.hash(token));
            audit.record(handle, by, "token.create", "token:" + name, null, describe(info));
        });
        return new Created(info, token);
    }

    public List<Info> list() {
        return jdbi.withHandle(handle -> handle.createQuery(
                        "SELECT id, name, role, created_at, created_by, revoked_at FROM operator_tokens ORDER BY name")
                .map((rs, ctx) -> info(rs)).list());
    }

    public Info revoke(String name, Caller.Operator by) {
        return database.inTransaction(handle -> {
            Info before = find(handle, name).orElseThrow(() -> IngotException.tried(ErrorCode.NOT_FOUND, "revoke the token '" + name + "'",
                    "no token has that name").withHint("ingot token list shows them"));
            if (before.revokedAt().isPresent()) {
                return before;
            }
            if (before.role() == Role.ADMIN) {
                // Lock every live admin row before counting (a write that changes nothing, as portable as it gets: SQLite
                // has no SELECT … FOR UPDATE). Without it, on PostgreSQL two admins revoking each other at once both
                // count two and both succeed; with it the second waits, then counts what the first left.
                handle.createUpdate("UPDATE operator_tokens SET role = role WHERE role = 'admin' AND revoked_at IS NULL").execute();
                long admins = handle.createQuery("SELECT COUNT(*) FROM operator_tokens WHERE role = 'admin' AND revoked_at IS NULL")
                        .mapTo(Long.class).one();
                if (admins <= 1) {
                    throw IngotException.tried(ErrorCode.CONFLICT, "revoke the token '" + name + "'", "it is the last admin token")
                            .withHint("create another admin token first");
                }
            }
            Instant now = clock.instant();
            handle.createUpdate("UPDATE operator_tokens SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL")
                    .bind("now", now.toEpochMilli()).bind("id", before.id()).execute();
            Info after = new Info(before.id(), before.name(), before.role(), before.createdAt(), before.createdBy(), Optional.of(now));
            audit.record(handle, by, "token.revoke", "token:" + name, describe(before), describe(after));
            return after;
        });
    }

    /**
     * At start: makes sure the bootstrap admin token exists. A given token (INGOT_ADMIN_TOKEN or a file)
     * replaces the stored hash; without one, a token is made only when none exists yet, and returned so that the
     * server prints it once.
     */
    public Optional<String> bootstrap(Optional<String> given) {
        given.ifPresent(token -> {
            if (!token.startsWith(Tokens.OPERATOR_PREFIX) || token.length() < Tokens.OPERATOR_PREFIX.length() + 32) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "take the admin token", "it is not an Ingot operator token (ingot_op_ and at least 32 random characters)")
                        .withHint("generate one with: echo ingot_op_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')");
            }
        });
        Caller.Operator server = new Caller.Operator("server", Role.ADMIN);
        return database.inTransaction(handle -> {
            Optional<Info> existing = find(handle, BOOTSTRAP_NAME);
            if (given.isPresent()) {
                String hash = Tokens.hash(given.get());
                if (existing.isEmpty()) {
                    insert(handle, new Info(UUID.randomUUID().toString(), BOOTSTRAP_NAME, Role.ADMIN, clock.instant(), "server", Optional.empty()), hash);
                    audit.record(handle, server, "token.create", "token:" + BOOTSTRAP_NAME, null, Map.of("role", "admin", "source", "given"));
                } else {
                    int changed = handle.createUpdate("UPDATE operator_tokens SET token_hash = :hash, role = 'admin', revoked_at = NULL "
                                    + "WHERE name = :name AND (token_hash <> :hash OR role <> 'admin' OR revoked_at IS NOT NULL)")
                            .bind("hash", hash).bind("name", BOOTSTRAP_NAME).execute();
                    if (changed > 0) {
                        audit.record(handle, server, "token.replace", "token:" + BOOTSTRAP_NAME, null, Map.of("role", "admin", "source", "given"));
                    }
                }
                return Optional.<String>empty();
            }
            if (existing.isPresent()) {
                return Optional.<String>empty();
            }
            String token = Tokens.newToken(Tokens.OPERATOR_PREFIX);
            insert(handle, new Info(UUID.randomUUID().toString(), BOOTSTRAP_NAME, Role.ADMIN, clock.instant(), "server", Optional.empty()),
                    Tokens.hash(token));
            audit.record(handle, server, "token.create", "token:" + BOOTSTRAP_NAME, null, Map.of("role", "admin", "source", "generated"));
            return Optional.of(token);
        });
    }

    private static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "name a token '" + name + "'",
                    "a token name is 1 to 100 letters, digits, '.', '_', '@' and '-'").withHint("name it after its holder, like ci-deploy or alice");
        }
    }

    private static Optional<Info> find(Handle handle, String name) {
        return handle.createQuery("SELECT id, name, role, created_at, created_by, revoked_at FROM operator_tokens WHERE name = :name")
                .bind("name", name).map((rs, ctx) -> info(rs)).findFirst();
    }

    private static void insert(Handle handle, Info info, String hash) {
        handle.createUpdate("INSERT INTO operator_tokens (id, name, token_hash, role, created_at, created_by, revoked_at) "
                        + "VALUES (:id, :name, :hash, :role, :createdAt, :createdBy, NULL)")
                .bind("id", info.id()).bind("name", info.name()).bind("hash", hash).bind("role", info.role().json())
                .bind("createdAt", info.createdAt().toEpochMilli()).bind("createdBy", info.createdBy()).execute();
    }

    private static Info info(java.sql.ResultSet rs) throws java.sql.SQLException {
        long revoked = rs.getLong("revoked_at");
        Optional<Instant> revokedAt = rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(revoked));
        return new Info(rs.getString("id"), rs.getString("name"), Role.parse(rs.getString("role")),
                Instant.ofEpochMilli(rs.getLong("created_at")), rs.getString("created_by"), revokedAt);
    }

    private static Map<String, Object> describe(Info info) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("name", info.name());
        map.put("role", info.role().json());
        map.put("revoked", info.revokedAt().isPresent());
        return map;
    }
}
