package dev.ingot.server.fleet;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.DeviceId;
import dev.ingot.server.audit.AuditLog;
import dev.ingot.server.auth.Caller;
import dev.ingot.server.auth.Tokens;
import dev.ingot.server.db.Database;
import dev.ingot.site.SiteId;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

/**
 * An operator's say over a device's credential and membership (docs/api.md): revoke it (no credential of the device opens
 * anything, at its next request), remove it from the fleet (revoked, and gone from every fleet view; the row stays for its
 * history, the audit log and the rollouts it was in), or let it enroll again with a token made for it alone. Each in one
 * transaction with its audit entry; revoking or removing also voids the device's unused re-enrollment tokens, so a token
 * handed out before a device was stolen does not bring it back.
 */
public final class DeviceLifecycle {
    private final Database database;
    private final AuditLog audit;
    private final Clock clock;

    public DeviceLifecycle(Database database, AuditLog audit, Clock clock) {
        this.database = requireNonNull(database, "database");
        this.audit = requireNonNull(audit, "audit");
        this.clock = requireNonNull(clock, "clock");
    }

    /** What an operator's call did: the device as it now stands, and whether anything changed (a repeat changes nothing). */
    public record Outcome(Device device, boolean changed) {}

    /** Revokes the device's credential (and one waiting from a rotation); its next request gets 401 and nothing it sends is stored. */
    public Outcome revoke(DeviceId id, Caller.Operator by) {
        return database.inTransaction(handle -> {
            Device before = Devices.findAny(handle, id).orElseThrow(() -> Devices.notFound(id));
            if (before.revokedAt().isPresent()) {
                return new Outcome(before, false);
            }
            long now = clock.millis();
            handle.createUpdate("UPDATE devices SET revoked_at = :now, revoked_by = :by, next_credential_hash = NULL WHERE id = :id AND revoked_at IS NULL")
                    .bind("now", now).bind("by", by.name()).bind("id", id.value()).execute();
            int voided = voidTokens(handle, id, now);
            Device after = Devices.findAny(handle, id).orElseThrow();
            audit.record(handle, by, "device.revoke", "device:" + id, standing(before), withTokens(standing(after), voided));
            return new Outcome(after, true);
        });
    }

    /**
     * Removes the device from the fleet: revoked, and no longer listed, counted or planned into a rollout. Refused (409) while an
     * active rollout holds it, whose stages count on it; revoking works at any time.
     */
    public Outcome remove(DeviceId id, Caller.Operator by) {
        return database.inTransaction(handle -> {
            Device before = Devices.findAny(handle, id).orElseThrow(() -> Devices.notFound(id));
            if (before.removedAt().isPresent()) {
                return new Outcome(before, false);
            }
            List<String> holders = handle.createQuery("SELECT rollout_id FROM rollout_holds WHERE device_id = :id").bind("id", id.value())
                    .mapTo(String.class).list();
            if (!holders.isEmpty()) {
                throw IngotException.tried(ErrorCode.CONFLICT, "remove the device " + id, "the active rollout " + holders.getFirst() + " holds it")
                        .withHint("revoke it now (ingot device revoke " + id + "), and remove it once the rollout ended, or abort the rollout");
            }
            long now = clock.millis();
            handle.createUpdate("UPDATE devices SET removed_at = :now, removed_by = :by, revoked_at = COALESCE(revoked_at, :now), "
                            + "revoked_by = COALESCE(revoked_by, :by), next_credential_hash = NULL WHERE id = :id AND removed_at IS NULL")
                    .bind("now", now).bind("by", by.name()).bind("id", id.value()).execute();
            int voided = voidTokens(handle, id, now);
            Device after = Devices.findAny(handle, id).orElseThrow();
            audit.record(handle, by, "device.remove", "device:" + id, standing(before), withTokens(standing(after), voided));
            return new Outcome(after, true);
        });
    }

    /** A token made for one known device: it alone re-enrolls it (revoked and removed ones too), once, until it expires. */
    public Sites.EnrollmentToken reenroll(DeviceId id, Duration lifetime, Caller.Operator by) {
        Sites.checkLifetime(id, lifetime);
        String token = Tokens.newToken(Tokens.ENROLLMENT_PREFIX);
        String tokenId = UUID.randomUUID().toString();
        Instant now = Instant.ofEpochMilli(clock.millis());
        Instant expires = now.plus(lifetime);
        SiteId site = database.inTransaction(handle -> {
            Device device = Devices.findAny(handle, id).orElseThrow(() -> Devices.notFound(id));
            Sites.insertToken(handle, token, tokenId, device.site(), Optional.of(id), now, expires, by);
            Map<String, Object> after = new LinkedHashMap<>();
            after.put("token_id", tokenId);
            after.put("expires_at", expires.toString());
            audit.record(handle, by, "device.reenroll", "device:" + id, standing(device), after);
            return device.site();
        });
        return new Sites.EnrollmentToken(tokenId, site, expires, token);
    }

    /** The device's unused tokens made for it expire now. */
    private static int voidTokens(Handle handle, DeviceId id, long now) {
        return handle.createUpdate("UPDATE enrollment_tokens SET expires_at = :now WHERE device_id = :id AND used_at IS NULL AND expires_at > :now")
                .bind("now", now).bind("id", id.value()).execute();
    }

    private static Map<String, Object> standing(Device device) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("site_id", device.site().value());
        map.put("revoked_at", device.revokedAt().map(Instant::toString).orElse(null));
        map.put("removed_at", device.removedAt().map(Instant::toString).orElse(null));
        return map;
    }

    private static Map<String, Object> withTokens(Map<String, Object> standing, int voided) {
        if (voided > 0) {
            standing.put("reenrollment_tokens_voided", voided);
        }
        return standing;
    }
}
