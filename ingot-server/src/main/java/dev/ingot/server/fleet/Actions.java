package dev.ingot.server.fleet;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.Track;
import dev.ingot.health.DeviceId;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import dev.ingot.server.db.Database;
import org.jdbi.v3.core.Jdbi;

/** Actions and their history: what devices were asked to do and how far each got. */
public final class Actions {
    /** The longest reason kept; a device's reason is a line, not a log. */
    public static final int MAX_REASON = 1000;

    private final Database database;
    private final Jdbi jdbi;
    private final Clock clock;

    public Actions(Database database, Clock clock) {
        this.database = requireNonNull(database, "database");
        this.jdbi = database.jdbi();
        this.clock = requireNonNull(clock, "clock");
    }

    /** Each track's newest action for the device (whatever its state): what the device should be working on, or how it ended. */
    public List<Action> current(DeviceId device) {
        return jdbi.withHandle(handle -> current(handle, device));
    }

    /** Every action of the device, newest first. */
    public List<Action> all(DeviceId device, int limit) {
        return jdbi.withHandle(handle -> handle.createQuery("SELECT * FROM actions WHERE device_id = :device ORDER BY created_at DESC, generation DESC LIMIT :limit")
                .bind("device", device.value()).bind("limit", limit).map((rs, ctx) -> action(rs)).list());
    }

    public List<Action.Event> events(String actionId) {
        return jdbi.withHandle(handle -> handle.createQuery("SELECT seq, state, reason, at FROM action_events WHERE action_id = :id ORDER BY seq")
                .bind("id", actionId)
                .map((rs, ctx) -> new Action.Event(rs.getLong("seq"), ActionState.parse(rs.getString("state")),
                        Optional.ofNullable(rs.getString("reason")), Instant.ofEpochMilli(rs.getLong("at"))))
                .list());
    }

    /**
     * A device reports where one of its actions stands. Only the device's own actions; only forwards
     * ({@link ActionState#mayMoveTo}); the same state again changes nothing (a retried report is harmless).
     * A failure or a fall-back needs a reason.
     */
    public Action report(DeviceId device, String actionId, ActionState state, Optional<String> reason) {
        Optional<String> checkedReason = reason.map(String::strip).filter(text -> !text.isEmpty());
        if ((state == ActionState.FAILED || state == ActionState.ROLLED_BACK) && checkedReason.isEmpty()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "report action " + actionId + " " + state.json(), "a " + state.json() + " report needs a reason")
                    .withHint("say what went wrong in one line");
        }
        if (checkedReason.map(String::length).orElse(0) > MAX_REASON) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "report action " + actionId, "the reason is longer than " + MAX_REASON + " characters");
        }
        // A NUL is refused by PostgreSQL (a 500), and a newline would forge a line in the server's log, which records reasons.
        if (checkedReason.map(text -> text.chars().anyMatch(Character::isISOControl)).orElse(false)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "report action " + actionId,
                    "the reason is not one line of text (it holds a control character)").withHint("say what went wrong in one line");
        }
        return database.inTransaction(handle -> {
            if (handle.createQuery("SELECT COUNT(*) FROM devices WHERE id = :device AND revoked_at IS NULL").bind("device", device.value())
                    .mapTo(Long.class).one() == 0) {
                // Revoked between the request's authentication and this transaction: nothing it sends is stored.
                throw IngotException.tried(ErrorCode.UNAUTHENTICATED, "report action " + actionId, "the device's credential was revoked meanwhile")
                        .withHint("an operator lets it enroll again: ingot device reenroll " + device);
            }
            Action action = handle.createQuery("SELECT * FROM actions WHERE id = :id AND device_id = :device")
                    .bind("id", actionId).bind("device", device.value()).map((rs, ctx) -> action(rs)).findFirst()
                    // Another device's action reads as absent: a device learns nothing about the rest of the fleet.
                    .orElseThrow(() -> IngotException.tried(ErrorCode.NOT_FOUND, "report action " + actionId, "this device has no such action"));
            if (action.state() == state) {
                return action;
            }
            if (!action.state().mayMoveTo(state)) {
                throw IngotException.tried(ErrorCode.CONFLICT, "move action " + actionId + " from " + action.state().json() + " to " + state.json(),
                        action.state().terminal() ? "it ended already (" + action.state().json() + "); a new attempt is a new action"
                                : "an action only moves forwards");
            }
            long now = clock.millis();
            if (!transition(handle, action, state, checkedReason, now)) {
                // Another report (or a superseding change) moved it between our read and our write: a retry of the same
                // report is still harmless; anything else is refused as from the state it moved to.
                Action moved = handle.createQuery("SELECT * FROM actions WHERE id = :id").bind("id", actionId).map((rs, ctx) -> action(rs)).one();
                if (moved.state() == state) {
                    return moved;
                }
                throw IngotException.tried(ErrorCode.CONFLICT, "move action " + actionId + " to " + state.json(),
                        "it moved meanwhile to " + moved.state().json() + (moved.state().terminal() ? " and ended there" : ""))
                        .withHint("poll for the action's state and report again from there");
            }
            return new Action(action.id(), action.device(), action.track(), action.generation(), action.target(), state, checkedReason,
                    action.createdAt(), Instant.ofEpochMilli(now), action.createdBy());
        });
    }

    /**
     * Moves the action from the state it was read in, or not at all (false) when it is no longer in that state. The
     * conditional UPDATE is what orders racing writers on PostgreSQL, where nothing else does: the second waits on the
     * first's row lock, then finds the state changed and updates nothing. The row lock also keeps the event's sequence
     * number one writer's at a time.
     */
    static boolean transition(Handle handle, Action from, ActionState state, Optional<String> reason, long now) {
        String actionId = from.id();
        int moved = handle.createUpdate("UPDATE actions SET state = :state, reason = :reason, updated_at = :now WHERE id = :id AND state = :from")
                .bind("state", state.json()).bind("reason", reason.orElse(null)).bind("now", now).bind("id", actionId)
                .bind("from", from.state().json()).execute();
        if (moved == 0) {
            return false;
        }
        long seq = handle.createQuery("SELECT COALESCE(MAX(seq), 0) + 1 FROM action_events WHERE action_id = :id").bind("id", actionId)
                .mapTo(Long.class).one();
        handle.createUpdate("INSERT INTO action_events (action_id, seq, state, reason, at) VALUES (:id, :seq, :state, :reason, :now)")
                .bind("id", actionId).bind("seq", seq).bind("state", state.json()).bind("reason", reason.orElse(null)).bind("now", now).execute();
        return true;
    }

    static List<Action> current(Handle handle, DeviceId device) {
        return handle.createQuery("SELECT * FROM actions a WHERE a.device_id = :device AND a.generation = "
                        + "(SELECT MAX(b.generation) FROM actions b WHERE b.device_id = a.device_id AND b.track = a.track) ORDER BY a.track")
                .bind("device", device.value()).map((rs, ctx) -> action(rs)).list();
    }

    static Action action(ResultSet rs) throws SQLException {
        return new Action(rs.getString("id"), new DeviceId(rs.getString("device_id")), Track.parse(rs.getString("track")), rs.getLong("generation"),
                rs.getString("target"), ActionState.parse(rs.getString("state")), Optional.ofNullable(rs.getString("reason")),
                Instant.ofEpochMilli(rs.getLong("created_at")), Instant.ofEpochMilli(rs.getLong("updated_at")), rs.getString("created_by"));
    }
}
