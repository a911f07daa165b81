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
        return database.inTransaction(handle -> {
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
            transition(handle, actionId, state, checkedReason, now);
            return new Action(action.id(), action.device(), action.track(), action.generation(), action.target(), state, checkedReason,
                    action.createdAt(), Instant.ofEpochMilli(now), action.createdBy());
        });
    }

    static void transition(Handle handle, String actionId, ActionState state, Optional<String> reason, long now) {
        handle.createUpdate("UPDATE actions SET state = :state, reason = :reason, updated_at = :now WHERE id = :id")
                .bind("state", state.json()).bind("reason", reason.orElse(null)).bind("now", now).bind("id", actionId).execute();
        long seq = handle.createQuery("SELECT COALESCE(MAX(seq), 0) + 1 FROM action_events WHERE action_id = :id").bind("id", actionId)
                .mapTo(Long.class).one();
        handle.createUpdate("INSERT INTO action_events (action_id, seq, state, reason, at) VALUES (:id, :seq, :state, :reason, :now)")
                .bind("id", actionId).bind("seq", seq).bind("state", state.json()).bind("reason", reason.orElse(null)).bind("now", now).execute();
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
