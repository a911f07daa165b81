package dev.ingot.server.fleet;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.DeviceId;
import dev.ingot.server.auth.Tokens;
import dev.ingot.site.SiteId;
import java.time.Clock;
import java.util.Optional;
import dev.ingot.server.db.Database;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * A device trades its site's one-time enrollment token for a credential of its own. Taking the token is one
 * conditional UPDATE ({@code used_at IS NULL AND expires_at > now}) in the same transaction as the device's
 * row: of two devices racing with one token, exactly one sees its UPDATE change a row.
 */
public final class Enrollment {
    /** What the device keeps: its credential, shown once. */
    public record Enrolled(DeviceId device, SiteId site, String credential, boolean reenrolled) {}

    private final Database database;
    private final Jdbi jdbi;
    private final Clock clock;

    public Enrollment(Database database, Clock clock) {
        this.database = requireNonNull(database, "database");
        this.jdbi = database.jdbi();
        this.clock = requireNonNull(clock, "clock");
    }

    public Enrolled enroll(String token, DeviceId device, SiteId site) {
        if (!token.startsWith(Tokens.ENROLLMENT_PREFIX)) {
            throw refused("no such token was issued");
        }
        String hash = Tokens.hash(token);
        String credential = Tokens.newToken(Tokens.DEVICE_PREFIX);
        long now = clock.millis();
        // Checked first without the writers' lock: this endpoint needs no credential, and on SQLite a stream of made-up
        // tokens would otherwise queue on the lock the report writer needs. Checked again in the transaction, which decides.
        jdbi.useHandle(handle -> check(handle, hash, device, site, now));
        return database.inTransaction(handle -> {
            Optional<String> existingSite = check(handle, hash, device, site, now);
            int taken = handle.createUpdate("UPDATE enrollment_tokens SET used_at = :now, used_by = :device "
                            + "WHERE token_hash = :hash AND used_at IS NULL AND expires_at > :now")
                    .bind("now", now).bind("device", device.value()).bind("hash", hash).execute();
            if (taken != 1) {
                throw refused("the token was used already (an enrollment token enrolls one device once)");
            }
            if (existingSite.isPresent()) {
                // Re-enrollment (the agent lost its credential): a new credential, the old one stops working, the state stays.
                handle.createUpdate("UPDATE devices SET credential_hash = :credential WHERE id = :id")
                        .bind("credential", Tokens.hash(credential)).bind("id", device.value()).execute();
                return new Enrolled(device, site, credential, true);
            }
            handle.createUpdate("INSERT INTO devices (id, site_id, credential_hash, enrolled_at, history_seq, history_at) "
                            + "VALUES (:id, :site, :credential, :now, 0, 0)")
                    .bind("id", device.value()).bind("site", site.value()).bind("credential", Tokens.hash(credential)).bind("now", now)
                    .execute();
            handle.createUpdate("INSERT INTO desired_states (device_id, generation, known_good, updated_at, updated_by) "
                            + "VALUES (:id, 0, '', :now, 'enrollment')")
                    .bind("id", device.value()).bind("now", now).execute();
            return new Enrolled(device, site, credential, false);
        });
    }

    /** Refuses a token that is unknown, used, expired or another site's, or a device enrolled elsewhere; else the device's site if enrolled. */
    private static Optional<String> check(Handle handle, String hash, DeviceId device, SiteId site, long now) {
        record TokenRow(String site, long expiresAt, boolean used) {}
        Optional<TokenRow> row = handle.createQuery("SELECT site_id, expires_at, used_at FROM enrollment_tokens WHERE token_hash = :hash")
                .bind("hash", hash)
                .map((rs, ctx) -> {
                    rs.getLong("used_at");
                    boolean used = !rs.wasNull();
                    return new TokenRow(rs.getString("site_id"), rs.getLong("expires_at"), used);
                })
                .findFirst();
        if (row.isEmpty()) {
            throw refused("no such token was issued");
        }
        if (row.get().used()) {
            throw refused("the token was used already (an enrollment token enrolls one device once)");
        }
        if (row.get().expiresAt() <= now) {
            throw refused("the token expired");
        }
        if (!row.get().site().equals(site.value())) {
            throw IngotException.tried(ErrorCode.FORBIDDEN, "enroll device " + device + " at " + site,
                    "the token was issued for another site").withHint("provision the device with its own site's token");
        }
        Optional<String> existingSite = handle.createQuery("SELECT site_id FROM devices WHERE id = :id").bind("id", device.value())
                .mapTo(String.class).findFirst();
        if (existingSite.isPresent() && !existingSite.get().equals(site.value())) {
            throw IngotException.tried(ErrorCode.CONFLICT, "enroll device " + device + " at " + site,
                    "it is enrolled at " + existingSite.get()).withHint("a device moves between sites by re-imaging (a new machine id)");
        }
        return existingSite;
    }

    private static IngotException refused(String why) {
        return IngotException.tried(ErrorCode.UNAUTHENTICATED, "enroll with the token", why)
                .withHint("ask an operator for a fresh one: ingot site enroll SITE");
    }
}
