package dev.ingot.server.fleet;

import static java.util.Objects.requireNonNull;

import dev.ingot.fleet.DesiredState;
import dev.ingot.health.DeviceId;
import dev.ingot.server.auth.Caller;
import dev.ingot.server.auth.Tokens;
import dev.ingot.site.SiteId;
import java.util.Map;
import java.util.Optional;
import java.util.IdentityHashMap;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Devices by their credential. One indexed read answers both "who is this" and "what should it run", so a
 * poll costs one query before its write.
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

    private final DataSource dataSource;

    public DeviceCredentials(DataSource dataSource) {
        this.dataSource = requireNonNull(dataSource, "dataSource");
    }

    /** Plain JDBC rather than JDBI's mapping: this read runs once per poll, thousands of times a second. */
    public Optional<Identity> authenticate(String credential) {
        if (!credential.startsWith(Tokens.DEVICE_PREFIX)) {
            return Optional.empty();
        }
        String hash = Tokens.hash(credential);
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
        } catch (SQLException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "look up the device's credential", "the database failed: " + e.getMessage())
                    .withHint("poll again after the interval").withCause(e);
        }
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
            + "FROM devices d JOIN desired_states s ON s.device_id = d.id WHERE d.credential_hash = ?";
}
