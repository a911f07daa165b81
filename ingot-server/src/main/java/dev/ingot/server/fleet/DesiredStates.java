package dev.ingot.server.fleet;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.DesiredState;
import dev.ingot.fleet.Track;
import dev.ingot.health.DeviceId;
import dev.ingot.image.ImageVersion;
import dev.ingot.server.audit.AuditLog;
import dev.ingot.server.auth.Caller;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import dev.ingot.server.db.Database;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.Query;

/**
 * Changes to what devices should run: for one device or every device a filter matches, in one transaction,
 * each device's generation raised once, an action opened per track that changed (the open action of that track
 * before it is closed as superseded), and one audit entry per device with the state before and after.
 */
public final class DesiredStates {
    /** The most devices one change may touch; a larger fleet is changed by a rollout, stage by stage. */
    public static final int MAX_DEVICES_PER_CHANGE = 100_000;

    /** What to change; empty parts stay as they are. */
    public record Change(Optional<ImageVersion> image, Optional<String> containerTag, Optional<String> rebootRequest,
            Optional<List<ImageVersion>> knownGood) {
        public Change {
            requireNonNull(image, "image");
            containerTag.ifPresent(DesiredState::checkTag);
            requireNonNull(rebootRequest, "rebootRequest");
            knownGood = knownGood.map(List::copyOf);
        }

        public boolean empty() {
            return image.isEmpty() && containerTag.isEmpty() && rebootRequest.isEmpty() && knownGood.isEmpty();
        }
    }

    /** What one change did to one device. */
    public record Outcome(Device device, DesiredState before, DesiredState after, List<Action> opened) {
        public boolean changed() {
            return after.generation() != before.generation();
        }
    }

    private final Database database;
    private final Jdbi jdbi;
    private final AuditLog audit;
    private final ReleaseCatalog catalog;
    private final Clock clock;

    public DesiredStates(Database database, AuditLog audit, ReleaseCatalog catalog, Clock clock) {
        this.database = requireNonNull(database, "database");
        this.jdbi = database.jdbi();
        this.audit = requireNonNull(audit, "audit");
        this.catalog = requireNonNull(catalog, "catalog");
        this.clock = requireNonNull(clock, "clock");
    }

    public List<Outcome> change(DeviceFilter filter, Change change, Caller actor) {
        if (change.empty()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "change the desired state", "the change names nothing to change")
                    .withHint("give an image, a container tag, a reboot request or a known-good list");
        }
        change.image().ifPresent(version -> {
            if (!catalog.published(version)) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "set the image " + version, "the store has no published release " + version)
                        .withHint("ingot image list shows what is published");
            }
        });
        change.knownGood().ifPresent(versions -> versions.forEach(version -> {
            if (!catalog.published(version)) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "name " + version + " known-good", "the store has no published release " + version);
            }
        }));
        if (change.knownGood().map(Devices::knownGood).map(String::length).orElse(0) > 1000) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "set the known-good list", "it is too long (a USB cache keeps two)");
        }
        // A change that raced another on one of its devices (PostgreSQL, or two replicas) is rolled back whole and
        // made again from what the winner wrote.
        for (int attempt = 1; ; attempt++) {
            try {
                return changeOnce(filter, change, actor);
            } catch (Raced raced) {
                if (attempt == MAX_ATTEMPTS) {
                    throw IngotException.tried(ErrorCode.CONFLICT, "change the desired state of " + raced.device,
                            "other changes to it kept landing first (" + MAX_ATTEMPTS + " tries)").withHint("read its state again, then retry");
                }
            }
        }
    }

    private static final int MAX_ATTEMPTS = 5;

    /** Another transaction changed a device's desired state between this one's read and its write. */
    private static final class Raced extends RuntimeException {
        private final transient DeviceId device;

        Raced(DeviceId device) {
            super(null, null, false, false);
            this.device = device;
        }
    }

    private List<Outcome> changeOnce(DeviceFilter filter, Change change, Caller actor) {
        return database.inTransaction(handle -> {
            DeviceFilter.Sql sql = filter.sql(clock.instant());
            Query query = handle.createQuery("SELECT " + Devices.COLUMNS + Devices.FROM + sql.where() + " ORDER BY d.id LIMIT :limit")
                    .bind("limit", MAX_DEVICES_PER_CHANGE + 1);
            sql.binds().forEach(query::bind);
            List<Device> devices = query.map((rs, ctx) -> Devices.device(rs)).list();
            if (devices.isEmpty()) {
                if (filter.device().isPresent()) {
                    throw Devices.notFound(filter.device().get());
                }
                throw IngotException.tried(ErrorCode.NOT_FOUND, "change the desired state", "no device matches the filter")
                        .withHint("ingot device list with the same filter shows what it matches");
            }
            if (devices.size() > MAX_DEVICES_PER_CHANGE) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "change the desired state", "the filter matches more than "
                        + MAX_DEVICES_PER_CHANGE + " devices").withHint("narrow it, or use a staged rollout");
            }
            refuseHeld(handle, sql, devices, change);
            List<Outcome> outcomes = new ArrayList<>();
            for (Device device : devices) {
                outcomes.add(apply(handle, device, change, actor.name()));
            }
            return outcomes;
        });
    }

    /**
     * One device's change inside the caller's transaction: the rollout engine's writes, which land together with the
     * rollout's new state or not at all. Their image was checked against the catalog when the rollout started.
     */
    public Outcome changeIn(Handle handle, DeviceId id, Change change, String actor) {
        Device device = Devices.find(handle, id).orElseThrow(() -> Devices.notFound(id));
        return apply(handle, device, change, actor);
    }

    /**
     * A device that an active rollout holds belongs to the rollout on the rollout's track: a direct change of that
     * track would undo the rollout, or be undone by its write-back (docs/rollouts.md). Such a change is refused as a
     * whole; other tracks and the known-good list stay open.
     */
    private static void refuseHeld(Handle handle, DeviceFilter.Sql sql, List<Device> devices, Change change) {
        if (change.image().isEmpty() && change.containerTag().isEmpty() && change.rebootRequest().isEmpty()) {
            return;
        }
        Query query = handle.createQuery("SELECT h.device_id, h.rollout_id, h.track FROM rollout_holds h JOIN devices d ON d.id = h.device_id"
                + sql.where() + " ORDER BY h.device_id");
        sql.binds().forEach(query::bind);
        Map<String, String[]> holds = new LinkedHashMap<>();
        query.map((rs, ctx) -> new String[] {rs.getString("device_id"), rs.getString("rollout_id"), rs.getString("track")})
                .forEach(row -> holds.put(row[0], row));
        if (holds.isEmpty()) {
            return;
        }
        List<String> refused = new ArrayList<>();
        for (Device device : devices) {
            String[] hold = holds.get(device.id().value());
            if (hold == null) {
                continue;
            }
            DesiredState before = device.desired();
            boolean touches = switch (Track.parse(hold[2])) {
                case REIMAGE -> change.image().isPresent() && !change.image().equals(before.image());
                case CONTAINER -> change.containerTag().isPresent() && !change.containerTag().equals(before.containerTag());
                case REBOOT -> change.rebootRequest().isPresent() && !change.rebootRequest().equals(before.rebootRequest());
            };
            if (touches) {
                refused.add(device.id() + " (rollout " + hold[1] + ", " + hold[2] + ")");
            }
        }
        if (!refused.isEmpty()) {
            throw IngotException.tried(ErrorCode.CONFLICT, "change the desired state", refused.size() + " of the devices "
                    + (refused.size() == 1 ? "is" : "are") + " held by an active rollout on that track: "
                    + String.join(", ", refused.subList(0, Math.min(5, refused.size()))) + (refused.size() > 5 ? " and " + (refused.size() - 5) + " more" : ""))
                    .withHint("pause, abort or finish the rollout first (ingot rollout status ID), or leave those devices out of the filter");
        }
    }


    private Outcome apply(Handle handle, Device device, Change change, String actor) {
        DesiredState before = device.desired();
        long generation = before.generation() + 1;
        boolean newImage = change.image().isPresent() && !change.image().equals(before.image());
        boolean newTag = change.containerTag().isPresent() && !change.containerTag().equals(before.containerTag());
        boolean newReboot = change.rebootRequest().isPresent() && !change.rebootRequest().equals(before.rebootRequest());
        boolean newKnownGood = change.knownGood().isPresent() && !change.knownGood().get().equals(before.knownGood());
        if (!newImage && !newTag && !newReboot && !newKnownGood) {
            return new Outcome(device, before, before, List.of());
        }
        DesiredState after = new DesiredState(generation, newImage ? change.image() : before.image(),
                newTag ? change.containerTag() : before.containerTag(), newReboot ? change.rebootRequest() : before.rebootRequest(),
                newKnownGood ? change.knownGood().get() : before.knownGood());
        long now = clock.millis();
        // The row is written first and only from the generation read: on PostgreSQL a racing change waits here on the
        // row lock, then finds the generation moved and writes nothing (two changes never share a generation).
        int written = handle.createUpdate("UPDATE desired_states SET generation = :generation, image_version = :image, container_tag = :tag, "
                        + "reboot_request = :reboot, known_good = :knownGood, updated_at = :now, updated_by = :by "
                        + "WHERE device_id = :id AND generation = :before")
                .bind("generation", generation).bind("image", after.image().map(ImageVersion::toString).orElse(null))
                .bind("tag", after.containerTag().orElse(null)).bind("reboot", after.rebootRequest().orElse(null))
                .bind("knownGood", Devices.knownGood(after.knownGood())).bind("now", now).bind("by", actor)
                .bind("id", device.id().value()).bind("before", before.generation()).execute();
        if (written == 0) {
            throw new Raced(device.id());
        }
        List<Action> opened = new ArrayList<>();
        if (newImage) {
            opened.add(open(handle, device, Track.REIMAGE, generation, after.image().orElseThrow().toString(), actor, now));
        }
        if (newTag) {
            opened.add(open(handle, device, Track.CONTAINER, generation, after.containerTag().orElseThrow(), actor, now));
        }
        if (newReboot) {
            opened.add(open(handle, device, Track.REBOOT, generation, after.rebootRequest().orElseThrow(), actor, now));
        }
        audit.record(handle, actor, "device.set", "device:" + device.id(), describe(before), describe(after));
        return new Outcome(device, before, after, opened);
    }

    private static Action open(Handle handle, Device device, Track track, long generation, String target, String actor, long now) {
        List<Action> superseded = handle.createQuery("SELECT * FROM actions WHERE device_id = :device AND track = :track "
                        + "AND state NOT IN ('committed', 'failed', 'rolled_back')")
                .bind("device", device.id().value()).bind("track", track.json()).map((rs, ctx) -> Actions.action(rs)).list();
        for (Action open : superseded) {
            // An action the device ended meanwhile stays as it ended (the transition then changes nothing).
            Actions.transition(handle, open, ActionState.FAILED, Optional.of("superseded by generation " + generation), now);
        }
        Action action = new Action(UUID.randomUUID().toString(), device.id(), track, generation, target, ActionState.PENDING, Optional.empty(),
                java.time.Instant.ofEpochMilli(now), java.time.Instant.ofEpochMilli(now), actor);
        handle.createUpdate("INSERT INTO actions (id, device_id, track, generation, target, state, reason, created_at, updated_at, created_by) "
                        + "VALUES (:id, :device, :track, :generation, :target, 'pending', NULL, :now, :now, :by)")
                .bind("id", action.id()).bind("device", device.id().value()).bind("track", track.json()).bind("generation", generation)
                .bind("target", target).bind("now", now).bind("by", actor).execute();
        handle.createUpdate("INSERT INTO action_events (action_id, seq, state, reason, at) VALUES (:id, 1, 'pending', NULL, :now)")
                .bind("id", action.id()).bind("now", now).execute();
        return action;
    }

    static Map<String, Object> describe(DesiredState state) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("generation", state.generation());
        map.put("image", state.image().map(ImageVersion::toString).orElse(null));
        map.put("container_tag", state.containerTag().orElse(null));
        map.put("reboot_request", state.rebootRequest().orElse(null));
        map.put("known_good", state.knownGood().stream().map(ImageVersion::toString).toList());
        return map;
    }
}
