package dev.ingot.server.fleet;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.DesiredState;
import dev.ingot.health.DeviceId;
import dev.ingot.server.auth.Caller;
import dev.ingot.server.auth.Tokens;
import dev.ingot.server.db.Database;
import dev.ingot.site.SiteId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Devices by their credential. One indexed read answers both "who is this" and "what should it run", so a
 * poll costs one query before its write. A credential opens nothing once its device is revoked or removed.
 *
 * <p>Rotation (docs/api.md): a device holding its credential asks for a new one, which waits in
 * {@code next_credential_hash}; the old one keeps working until the new one is first used, and that first use
 * makes the new one current in one conditional UPDATE. So an answer lost on the way costs nothing: the device goes
 * on with the old credential and may rotate again (only the newest waiting credential counts).
 */
public final class DeviceCredentials {
    /** A device as a poll needs it: identity, desired state, and what its previous report said (to decide on history). */
    public record Identity(Caller.Device caller, DesiredState desired, Optional<String> status, Optional<String> imageVersion,
            Optional<String> containerTag, long historyAt) {
        public DeviceId device() {
            return caller.device();
        }

        public SiteId site() {
            return caller.site();
        }
    }

    /** Why a credential opened nothing, for the 401's message; never says whether another device's credential is close. */
    public record Refusal(String reason, String hint) {}

    private final Database database;
    private final DataSource dataSource;

    public DeviceCredentials(Database database) {
        this.database = requireNonNull(database, "database");
        this.dataSource = database.dataSource();
    }

    /** Plain JDBC rather than JDBI's mapping: this read runs once per poll, thousands of times a second. */
    public Optional<Identity> authenticate(String credential) {
        if (!credential.startsWith(Tokens.DEVICE_PREFIX)) {
            return Optional.empty();
        }
        String hash = Tokens.hash(credential);
        try {
            Optional<Identity> current = lookup(credential, hash);
            return current.isPresent() ? current : promote(credential, hash);
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    private Optional<Identity> lookup(String credential, String hash) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            PreparedStatement query = statement(connection);
            query.setString(1, hash);
            try (ResultSet rs = query.executeQuery()) {
                if (!rs.next() || !Tokens.matches(credential, rs.getString("credential_hash"))) {
                    return Optional.empty();
                }
                return Optional.of(new Identity(new Caller.Device(new DeviceId(rs.getString("id")), new SiteId(rs.getString("site_id"))),
                        Devices.desired(rs), Optional.ofNullable(rs.getString("status")), Optional.ofNullable(rs.getString("image_version")),
                        Optional.ofNullable(rs.getString("container_tag")), rs.getLong("history_at")));
            }
        }
    }

    /** The first use of a rotated credential makes it the device's credential; the old one stops working in the same write. */
    private Optional<Identity> promote(String credential, String hash) throws SQLException {
        Optional<String> device = database.jdbi().withHandle(handle -> handle.createQuery(
                        "SELECT id, next_credential_hash FROM devices WHERE next_credential_hash = :hash AND revoked_at IS NULL")
                .bind("hash", hash)
                .map((rs, ctx) -> Tokens.matches(credential, rs.getString("next_credential_hash")) ? Optional.of(rs.getString("id")) : Optional.<String>empty())
                .findFirst().flatMap(found -> found));
        if (device.isEmpty()) {
            return Optional.empty();
        }
        database.useTransaction(handle -> handle.createUpdate("UPDATE devices SET credential_hash = next_credential_hash, next_credential_hash = NULL "
                        + "WHERE id = :id AND next_credential_hash = :hash AND revoked_at IS NULL")
                .bind("id", device.get()).bind("hash", hash).execute());
        // Promoted here or by a request of the same device racing this one; revoked or rotated again meanwhile: refused.
        return lookup(credential, hash);
    }

    /**
     * A new credential for an authenticated device; the one it used works until the new one is first used.
     *
     * @throws IngotException UNAUTHENTICATED when the device was revoked between its authentication and this write
     */
    public String rotate(Identity identity) {
        String next = Tokens.newToken(Tokens.DEVICE_PREFIX);
        int updated = database.inTransaction(handle -> handle.createUpdate("UPDATE devices SET next_credential_hash = :next "
                        + "WHERE id = :id AND revoked_at IS NULL")
                .bind("next", Tokens.hash(next)).bind("id", identity.device().value()).execute());
        if (updated != 1) {
            throw IngotException.tried(ErrorCode.UNAUTHENTICATED, "rotate the credential of " + identity.device(), "the device was revoked meanwhile")
                    .withHint("an operator lets it enroll again: ingot device reenroll " + identity.device());
        }
        return next;
    }

    /**
     * Why a credential that {@link #authenticate} refused opens nothing: a revoked or removed device's (the only case worth
     * telling the device, so that its log says what an operator did), or none at all. Runs only on a refusal.
     */
    public Refusal refusal(String credential) {
        String generic = "the credential belongs to no enrolled device";
        if (!credential.startsWith(Tokens.DEVICE_PREFIX)) {
            return new Refusal(generic, "enroll again with a fresh enrollment token");
        }
        String hash = Tokens.hash(credential);
        record Standing(String id, boolean removed) {}
        Optional<Standing> standing = database.jdbi().withHandle(handle -> handle.createQuery(
                        "SELECT id, removed_at FROM devices WHERE credential_hash = :hash AND revoked_at IS NOT NULL")
                .bind("hash", hash)
                .map((rs, ctx) -> {
                    rs.getLong("removed_at");
                    boolean removed = !rs.wasNull();
                    return new Standing(rs.getString("id"), removed);
                })
                .findFirst());
        return standing.map(found -> new Refusal("the device's credential was revoked" + (found.removed() ? " and the device removed from the fleet" : ""),
                        "an operator lets it enroll again: ingot device reenroll " + found.id()))
                .orElse(new Refusal(generic, "enroll again with a fresh enrollment token"));
    }

    private static IngotException unavailable(SQLException e) {
        return IngotException.tried(ErrorCode.UNAVAILABLE, "look up the device's credential", "the database failed: " + e.getMessage())
                .withHint("poll again after the interval").withCause(e);
    }

    /**
     * The query prepared once per database connection. sqlite-jdbc compiles a statement anew at every
     * prepareStatement (PostgreSQL's driver caches them itself); the pool lends a connection to one caller at a
     * time, so its statement is used by one caller at a time too. Keyed by the pool's underlying connection;
     * entries of connections the pool closed are dropped at the next miss (a statement holds its connection, so a
     * weak map would keep them).
     */
    private PreparedStatement statement(Connection pooled) throws SQLException {
        Connection physical = pooled.isWrapperFor(Connection.class) ? pooled.unwrap(Connection.class) : pooled;
        synchronized (statements) {
            PreparedStatement cached = statements.get(physical);
            if (cached != null && !cached.isClosed()) {
                return cached;
            }
            statements.keySet().removeIf(DeviceCredentials::closed);
            PreparedStatement prepared = physical.prepareStatement(QUERY);
            statements.put(physical, prepared);
            return prepared;
        }
    }

    private final Map<Connection, PreparedStatement> statements = new IdentityHashMap<>();

    private static boolean closed(Connection connection) {
        try {
            return connection.isClosed();
        } catch (SQLException e) {
            return true;
        }
    }

    private static final String QUERY = "SELECT d.id, d.site_id, d.credential_hash, d.status, d.image_version, d.container_tag, d.history_at, "
            + "s.generation, s.image_version AS desired_image, s.container_tag AS desired_tag, s.reboot_request, s.known_good "
            + "FROM devices d JOIN desired_states s ON s.device_id = d.id WHERE d.credential_hash = ? AND d.revoked_at IS NULL";
}
