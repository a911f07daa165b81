package dev.ingot.server.fleet;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.DeviceId;
import dev.ingot.server.audit.AuditLog;
import dev.ingot.server.auth.Tokens;
import dev.ingot.server.db.Database;
import dev.ingot.site.SiteId;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * A device trades a one-time enrollment token for a credential of its own. Taking the token is one
 * conditional UPDATE ({@code used_at IS NULL AND expires_at > now}) in the same transaction as the device's
 * row: of two devices racing with one token, exactly one sees its UPDATE change a row.
 *
 * <p>A site's token enrolls new machine ids only. A machine id the control plane knows (enrolled, revoked or
 * removed) re-enrolls only with a token an operator made for that very device ({@code ingot device reenroll}), as
 * hawkBit ties a target's security token to the target and Mender has an admin accept a known device's new key:
 * machine ids are not secret, so a site's token alone must not take a device's record, its desired state and its
 * history over. A device that still holds its credential rotates it instead ({@link DeviceCredentials#rotate}).
 */
public final class Enrollment {
    /** What the device keeps: its credential, shown once. */
    public record Enrolled(DeviceId device, SiteId site, String credential, boolean reenrolled) {}

    private final Database database;
    private final Jdbi jdbi;
    private final AuditLog audit;
    private final Clock clock;

    public Enrollment(Database database, AuditLog audit, Clock clock) {
        this.database = requireNonNull(database, "database");
        this.jdbi = database.jdbi();
        this.audit = requireNonNull(audit, "audit");
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
            Checked checked = check(handle, hash, device, site, now);
            int taken = handle.createUpdate("UPDATE enrollment_tokens SET used_at = :now, used_by = :device "
                            + "WHERE token_hash = :hash AND used_at IS NULL AND expires_at > :now")
                    .bind("now", now).bind("device", device.value()).bind("hash", hash).execute();
            if (taken != 1) {
                throw refused("the token was used already (an enrollment token enrolls one device once)");
            }
            if (checked.existing().isPresent()) {
                // The operator's token for this device: a new credential, every older one (and one waiting from a rotation)
                // stops working at once, revocation and removal end, the desired state, actions and history stay.
                Known before = checked.existing().get();
                handle.createUpdate("UPDATE devices SET credential_hash = :credential, next_credential_hash = NULL, revoked_at = NULL, "
                                + "revoked_by = NULL, removed_at = NULL, removed_by = NULL WHERE id = :id")
                        .bind("credential", Tokens.hash(credential)).bind("id", device.value()).execute();
                Map<String, Object> was = new LinkedHashMap<>();
                was.put("revoked", before.revoked());
                was.put("removed", before.removed());
                audit.record(handle, "device:" + device.value(), "device.reenrolled", "device:" + device.value(), was,
                        Map.of("token_id", checked.tokenId(), "credential", "new"));
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

    /** A device the control plane knows, as re-enrollment needs it. */
    private record Known(String site, long enrolledAt, boolean revoked, boolean removed) {}

    private record Checked(String tokenId, Optional<Known> existing) {}

    /**
     * Refuses a token that is unknown, used, expired, another site's or made for another device; a device enrolled
     * elsewhere; and a known device with a token not made for it. Else the token's id and the device, when known.
     */
    private static Checked check(Handle handle, String hash, DeviceId device, SiteId site, long now) {
        record TokenRow(String id, String site, long expiresAt, boolean used, Optional<String> device) {}
        Optional<TokenRow> row = handle.createQuery("SELECT id, site_id, expires_at, used_at, device_id FROM enrollment_tokens WHERE token_hash = :hash")
                .bind("hash", hash)
                .map((rs, ctx) -> {
                    rs.getLong("used_at");
                    boolean used = !rs.wasNull();
                    return new TokenRow(rs.getString("id"), rs.getString("site_id"), rs.getLong("expires_at"), used,
                            Optional.ofNullable(rs.getString("device_id")));
                })
                .findFirst();
        if (row.isEmpty()) {
            throw refused("no such token was issued");
        }
        TokenRow token = row.get();
        if (token.used()) {
            throw refused("the token was used already (an enrollment token enrolls one device once)");
        }
        if (token.expiresAt() <= now) {
            throw refused("the token expired");
        }
        String attempt = "enroll device " + device + " at " + site;
        if (!token.site().equals(site.value())) {
            throw IngotException.tried(ErrorCode.FORBIDDEN, attempt, "the token was issued for another site")
                    .withHint("provision the device with its own site's token");
        }
        if (token.device().isPresent() && !token.device().get().equals(device.value())) {
            throw IngotException.tried(ErrorCode.FORBIDDEN, attempt, "the token was made for another device")
                    .withHint("a token made with ingot device reenroll works for that device only");
        }
        Optional<Known> existing = handle.createQuery("SELECT site_id, enrolled_at, revoked_at, removed_at FROM devices WHERE id = :id")
                .bind("id", device.value())
                .map((rs, ctx) -> {
                    rs.getLong("revoked_at");
                    boolean revoked = !rs.wasNull();
                    rs.getLong("removed_at");
                    boolean removed = !rs.wasNull();
                    return new Known(rs.getString("site_id"), rs.getLong("enrolled_at"), revoked, removed);
                })
                .findFirst();
        if (existing.isPresent() && !existing.get().site().equals(site.value())) {
            throw IngotException.tried(ErrorCode.CONFLICT, attempt, "it is enrolled at " + existing.get().site())
                    .withHint("a device moves between sites by re-imaging (a new machine id)");
        }
        if (existing.isPresent() && token.device().isEmpty()) {
            Known known = existing.get();
            String since = Instant.ofEpochMilli(known.enrolledAt()).toString();
            String standing = known.removed() ? "was enrolled (since " + since + ") and removed from the fleet"
                    : "is enrolled already (since " + since + (known.revoked() ? ", its credential revoked)" : ")");
            throw IngotException.tried(ErrorCode.CONFLICT, attempt, "the device " + standing + ", and a site's token enrolls new devices only")
                    .withHint("a device that holds its credential rotates it (POST /api/v1/device/credential); for one that lost it, an "
                            + "operator makes a token for it: ingot device reenroll " + device);
        }
        return new Checked(token.id(), existing);
    }

    private static IngotException refused(String why) {
        return IngotException.tried(ErrorCode.UNAUTHENTICATED, "enroll with the token", why)
                .withHint("ask an operator for a fresh one: ingot site enroll SITE");
    }
}
