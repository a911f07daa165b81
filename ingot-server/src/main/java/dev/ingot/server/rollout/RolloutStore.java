package dev.ingot.server.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.ActionState;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthStatus;
import dev.ingot.image.ImageVersion;
import dev.ingot.rollout.Decision;
import dev.ingot.rollout.DesiredStateWrite;
import dev.ingot.rollout.DeviceProgress;
import dev.ingot.rollout.DeviceReport;
import dev.ingot.rollout.Fleet;
import dev.ingot.rollout.OperatorCommand;
import dev.ingot.rollout.Rollout;
import dev.ingot.rollout.RolloutId;
import dev.ingot.rollout.RolloutJson;
import dev.ingot.rollout.RolloutView;
import dev.ingot.rollout.Target;
import dev.ingot.rollout.TimelineEntry;
import dev.ingot.server.audit.AuditLog;
import dev.ingot.server.db.Database;
import dev.ingot.server.fleet.DesiredStates;
import dev.ingot.server.fleet.Device;
import dev.ingot.server.fleet.Devices;
import dev.ingot.site.SiteId;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

/**
 * The rollouts' tables (V2__rollouts.sql): the stored rollout, the devices it holds, the desired-state writes it made
 * and the operator commands waiting for the engine. Each use case is one transaction: a rollout is inserted together
 * with its holds after reading the holds of the others; a step's decision is stored with its desired-state writes,
 * audit entries and the commands it took, under a revision check.
 */
public final class RolloutStore {
    /** A rollout's id is the reboot request id of its reboot writes, and the audit log's actor of its desired-state writes. */
    static final String WRITER_PREFIX = "rollout:";

    /** What the planner needs, read in one transaction: the fleet and the devices other active rollouts hold. */
    public record Snapshot(Fleet fleet, Map<DeviceId, RolloutId> held) {}

    /** A rollout as lists show it, from the columns kept beside its document. */
    public record Summary(RolloutId id, String track, String target, String state, boolean active, String summary,
            Optional<Integer> currentStage, int stages, int devices, Instant createdAt, String createdBy, Instant updatedAt, long revision) {}

    /** An operator command waiting for the engine. */
    public record Command(String id, long seq, OperatorCommand command) {}

    private final Database database;
    private final AuditLog audit;
    private final DesiredStates desired;
    private final Clock clock;

    public RolloutStore(Database database, AuditLog audit, DesiredStates desired, Clock clock) {
        this.database = requireNonNull(database, "database");
        this.audit = requireNonNull(audit, "audit");
        this.desired = requireNonNull(desired, "desired");
        this.clock = requireNonNull(clock, "clock");
    }

    /** Reads the snapshot and gives it to {@code read}, storing nothing ({@code --dry-run}). */
    public <T> T read(Function<Snapshot, T> read) {
        return database.jdbi().withHandle(handle -> read.apply(snapshot(handle)));
    }

    /**
     * Reads the snapshot, makes the rollout from it and inserts it with its holds and its audit entry, all in one
     * transaction: two rollouts started at once cannot both take a device (SQLite has one writer; on PostgreSQL the
     * holds' primary key refuses the second). The loser is planned again here around the winner's holds, so the
     * operator's answer says what the fleet allows (a rollout, or nothing eligible), not which request came first;
     * a conflict reaches the operator only when the race is lost {@value #START_ATTEMPTS} times.
     */
    public Rollout insert(Function<Snapshot, Rollout> make) {
        for (int attempt = 1; ; attempt++) {
            Optional<Rollout> inserted = insertOnce(make, attempt == START_ATTEMPTS);
            if (inserted.isPresent()) {
                return inserted.get();
            }
        }
    }

    private static final int START_ATTEMPTS = 3;

    /** Empty when another rollout took some of the devices first and {@code last} is false. */
    private Optional<Rollout> insertOnce(Function<Snapshot, Rollout> make, boolean last) {
        try {
            return Optional.of(insertInTransaction(make));
        } catch (UnableToExecuteStatementException e) {
            if (uniqueViolation(e) && !last) {
                return Optional.empty();
            }
            if (uniqueViolation(e)) {
                throw IngotException.tried(ErrorCode.CONFLICT, "start the rollout", "another rollout took some of its devices at the same moment")
                        .withHint("start it again: it is planned anew around the other").withCause(e);
            }
            throw e;
        }
    }

    private Rollout insertInTransaction(Function<Snapshot, Rollout> make) {
        return database.inTransaction(handle -> {
            Rollout rollout = make.apply(snapshot(handle));
            RolloutView view = RolloutView.of(rollout);
            handle.createUpdate("INSERT INTO rollouts (id, track, target, state, active, summary, current_stage, stages, devices, created_at, "
                            + "created_by, updated_at, revision, document) VALUES (:id, :track, :target, :state, :active, :summary, :stage, :stages, "
                            + ":devices, :createdAt, :createdBy, :updatedAt, :revision, :document)")
                    .bind("id", rollout.id().value()).bind("track", view.track()).bind("target", clip(view.target(), 200))
                    .bind("state", view.state()).bind("active", rollout.active()).bind("summary", clip(view.summary(), 2000))
                    .bind("stage", view.currentStage().orElse(null)).bind("stages", rollout.plan().stages().size())
                    .bind("devices", rollout.held().size()).bind("createdAt", rollout.definition().createdAt().toEpochMilli())
                    .bind("createdBy", rollout.definition().createdBy()).bind("updatedAt", clock.millis()).bind("revision", rollout.revision())
                    .bind("document", new String(RolloutJson.write(rollout), StandardCharsets.UTF_8))
                    .execute();
            var holds = handle.prepareBatch("INSERT INTO rollout_holds (device_id, rollout_id, track) VALUES (:device, :rollout, :track)");
            rollout.held().keySet().forEach(device -> holds.bind("device", device.value()).bind("rollout", rollout.id().value())
                    .bind("track", rollout.definition().track().json()).add());
            if (!rollout.held().isEmpty()) {
                holds.execute();
            }
            audit(handle, rollout.id(), rollout.timeline());
            return rollout;
        });
    }

    public Optional<Rollout> find(RolloutId id) {
        return database.jdbi().withHandle(handle -> handle.createQuery("SELECT document FROM rollouts WHERE id = :id").bind("id", id.value())
                .mapTo(String.class).findFirst().map(document -> RolloutJson.read(document.getBytes(StandardCharsets.UTF_8), id.value())));
    }

    public Rollout get(RolloutId id) {
        return find(id).orElseThrow(() -> notFound(id));
    }

    static IngotException notFound(RolloutId id) {
        return IngotException.tried(ErrorCode.NOT_FOUND, "find the rollout " + id, "no rollout has that id")
                .withHint("ingot rollout list shows the rollouts");
    }

    /** The newest first; only the active ones, or all. */
    public List<Summary> list(boolean activeOnly, int limit) {
        return database.jdbi().withHandle(handle -> handle.createQuery("SELECT * FROM rollouts" + (activeOnly ? " WHERE active = :active" : "")
                        + " ORDER BY created_at DESC, id DESC LIMIT :limit")
                .bind("active", true).bind("limit", limit)
                .map((rs, ctx) -> summary(rs)).list());
    }

    /** The active rollouts, oldest first: the engine steps them in the order they started. */
    public List<RolloutId> active() {
        return database.jdbi().withHandle(handle -> handle.createQuery("SELECT id FROM rollouts WHERE active = :active ORDER BY created_at, id")
                .bind("active", true).mapTo(String.class).map(RolloutId::new).list());
    }

    /**
     * The progress of the rollout's {@link Rollout#watched()} devices: for each, the action of the generation that the
     * rollout's latest write to it made (its write-back if there is one), and its latest report as the inventory keeps
     * it (the fields {@link DeviceReport} needs, copied from the report when it was received, with the server's time
     * of receipt).
     */
    public Map<DeviceId, DeviceProgress> progress(Rollout rollout) {
        Set<DeviceId> watched = new HashSet<>(rollout.watched());
        if (watched.isEmpty()) {
            return Map.of();
        }
        record Written(String kind, Optional<ActionState> state, Optional<String> reason) {}
        return database.jdbi().withHandle(handle -> {
            Map<DeviceId, Written> latest = new HashMap<>();
            handle.createQuery("SELECT w.device_id, w.kind, a.state, a.reason FROM rollout_writes w LEFT JOIN actions a "
                            + "ON a.device_id = w.device_id AND a.track = :track AND a.generation = w.generation WHERE w.rollout_id = :id")
                    .bind("track", rollout.definition().track().json()).bind("id", rollout.id().value())
                    .map((rs, ctx) -> Map.entry(new DeviceId(rs.getString("device_id")), new Written(rs.getString("kind"),
                            Optional.ofNullable(rs.getString("state")).map(ActionState::parse), Optional.ofNullable(rs.getString("reason")))))
                    .forEach(entry -> latest.merge(entry.getKey(), entry.getValue(),
                            (one, other) -> one.kind().equals(DesiredStateWrite.Kind.REVERT.json()) ? one : other));
            Map<DeviceId, Optional<DeviceReport>> reports = new HashMap<>();
            // A reboot rollout's devices are few (an operator named them) and include some not written yet (Rollout#watched):
            // named one by one. Other tracks' stages can be large: the devices this rollout wrote, by a subquery.
            String columns = "SELECT id, last_seen_at, status, image_version, container_tag, reboot_required FROM devices ";
            var query = rollout.definition().target() instanceof Target.Reboot
                    ? handle.createQuery(columns + "WHERE id IN (<watched>)").bindList("watched", watched.stream().map(DeviceId::value).toList())
                    : handle.createQuery(columns + "WHERE id IN (SELECT device_id FROM rollout_writes WHERE rollout_id = :id)").bind("id", rollout.id().value());
            query
                    .map((rs, ctx) -> Map.entry(new DeviceId(rs.getString("id")), report(instant(rs, "last_seen_at"),
                            Optional.ofNullable(rs.getString("status")), Optional.ofNullable(rs.getString("image_version")),
                            Optional.ofNullable(rs.getString("container_tag")), bool(rs, "reboot_required"))))
                    .forEach(entry -> reports.put(entry.getKey(), entry.getValue()));
            Map<DeviceId, DeviceProgress> progress = new TreeMap<>((a, b) -> a.value().compareTo(b.value()));
            for (DeviceId device : watched) {
                Written written = latest.get(device);
                progress.put(device, new DeviceProgress(device, written == null ? Optional.empty() : written.state(),
                        written == null ? Optional.empty() : written.reason(), reports.getOrDefault(device, Optional.empty())));
            }
            return progress;
        });
    }

    /** The commands waiting for the rollout's next step, in the order they were given. */
    public List<Command> commands(RolloutId id) {
        return database.jdbi().withHandle(handle -> handle.createQuery("SELECT id, seq, kind, actor, at, note FROM rollout_commands "
                        + "WHERE rollout_id = :id ORDER BY seq").bind("id", id.value())
                .map((rs, ctx) -> new Command(rs.getString("id"), rs.getLong("seq"), new OperatorCommand(OperatorCommand.Kind.parse(rs.getString("kind")),
                        rs.getString("actor"), Instant.ofEpochMilli(rs.getLong("at")), Optional.ofNullable(rs.getString("note")))))
                .list());
    }

    /**
     * Queues an operator command for the rollout's next step, audited. Refused when the rollout is final, or when the
     * same command is already waiting (a double click).
     */
    public Command queue(RolloutId id, OperatorCommand command) {
        return database.inTransaction(handle -> {
            // The rollout's row locked first (a write that changes nothing; PostgreSQL holds the lock to the commit), so that two
            // operators clicking at once queue one after the other: else both read the same next seq and the second, an abort
            // lost to a pause, was answered as a conflict. SQLite serializes its writers anyway.
            handle.createUpdate("UPDATE rollouts SET revision = revision WHERE id = :id").bind("id", id.value()).execute();
            boolean waiting = handle.createQuery("SELECT COUNT(*) FROM rollout_commands WHERE rollout_id = :id AND kind = :kind")
                    .bind("id", id.value()).bind("kind", command.kind().json()).mapTo(Long.class).one() > 0;
            if (waiting) {
                throw IngotException.tried(ErrorCode.CONFLICT, command.kind().json() + " the rollout " + id,
                        "the same command is already waiting for the engine").withHint("ingot rollout status " + id + " shows when it is taken");
            }
            long seq = handle.createQuery("SELECT COALESCE(MAX(seq), 0) + 1 FROM rollout_commands WHERE rollout_id = :id").bind("id", id.value())
                    .mapTo(Long.class).one();
            String commandId = UUID.randomUUID().toString();
            handle.createUpdate("INSERT INTO rollout_commands (id, rollout_id, seq, kind, actor, at, note) VALUES (:id, :rollout, :seq, :kind, :actor, :at, :note)")
                    .bind("id", commandId).bind("rollout", id.value()).bind("seq", seq).bind("kind", command.kind().json())
                    .bind("actor", command.actor()).bind("at", command.at().toEpochMilli()).bind("note", command.note().orElse(null)).execute();
            Map<String, Object> after = new LinkedHashMap<>();
            after.put("command", command.kind().json());
            command.note().ifPresent(note -> after.put("note", note));
            audit.record(handle, command.actor(), "rollout.command", "rollout:" + id, null, after);
            return new Command(commandId, seq, command);
        });
    }

    /** Whether a command is still waiting (the engine deletes it when it takes it). */
    public boolean waiting(String commandId) {
        return database.jdbi().withHandle(handle -> handle.createQuery("SELECT COUNT(*) FROM rollout_commands WHERE id = :id").bind("id", commandId)
                .mapTo(Long.class).one() > 0);
    }

    /**
     * Stores one step's decision in one transaction: the new rollout (only if it is still at the revision the step
     * read: else another engine stepped it meanwhile and nothing is stored), each desired-state write not made before,
     * the timeline's new entries in the audit log, and the commands the step took; a final rollout lets its devices go.
     * Returns false when the revision had moved on, or when {@code fence} (run first, in the transaction) says the
     * engine that decided no longer holds the engine's lease.
     */
    public boolean commit(Rollout before, Decision decision, List<Command> taken, Predicate<Handle> fence) {
        Rollout after = decision.rollout();
        RolloutView view = RolloutView.of(after);
        try {
            database.useTransaction(handle -> {
                // First, so that the engine's lease is locked before anything is written (Leases#holdsIn).
                if (!fence.test(handle)) {
                    throw new StaleRevision();
                }
                int updated = handle.createUpdate("UPDATE rollouts SET state = :state, active = :active, summary = :summary, current_stage = :stage, "
                                + "updated_at = :now, revision = :revision, document = :document WHERE id = :id AND revision = :before")
                        .bind("state", view.state()).bind("active", after.active()).bind("summary", clip(view.summary(), 2000))
                        .bind("stage", view.currentStage().orElse(null)).bind("now", clock.millis()).bind("revision", after.revision())
                        .bind("document", new String(RolloutJson.write(after), StandardCharsets.UTF_8)).bind("id", after.id().value())
                        .bind("before", before.revision()).execute();
                if (updated != 1) {
                    throw new StaleRevision();
                }
                for (DesiredStateWrite write : decision.writes()) {
                    write(handle, write);
                }
                audit(handle, after.id(), decision.events());
                for (Command command : taken) {
                    handle.createUpdate("DELETE FROM rollout_commands WHERE id = :id").bind("id", command.id()).execute();
                }
                if (!after.active()) {
                    handle.createUpdate("DELETE FROM rollout_holds WHERE rollout_id = :id").bind("id", after.id().value()).execute();
                }
            });
            return true;
        } catch (StaleRevision e) {
            return false;
        }
    }

    /**
     * One desired-state write, idempotent by its key: a key recorded already is skipped. The change goes through the
     * fleet's one path for desired state ({@link DesiredStates#changeIn}: a new generation, the track's action opened
     * and the open one superseded, audited as the rollout's), which gives what {@link DesiredStateWrite#applyTo} gives.
     */
    private void write(Handle handle, DesiredStateWrite write) {
        boolean made = handle.createQuery("SELECT COUNT(*) FROM rollout_writes WHERE write_key = :key").bind("key", write.key())
                .mapTo(Long.class).one() > 0;
        if (made) {
            return;
        }
        DesiredStates.Change change = switch (write.value()) {
            case Target.Image image -> new DesiredStates.Change(Optional.of(image.version()), Optional.empty(), Optional.empty(), Optional.empty());
            case Target.ContainerTag tag -> new DesiredStates.Change(Optional.empty(), Optional.of(tag.tag()), Optional.empty(), Optional.empty());
            case Target.Reboot reboot -> new DesiredStates.Change(Optional.empty(), Optional.empty(), Optional.of(write.rollout().value()),
                    Optional.empty());
        };
        DesiredStates.Outcome outcome = desired.changeIn(handle, write.device(), change, WRITER_PREFIX + write.rollout());
        handle.createUpdate("INSERT INTO rollout_writes (write_key, rollout_id, device_id, kind, generation, written_at) "
                        + "VALUES (:key, :rollout, :device, :kind, :generation, :at)")
                .bind("key", write.key()).bind("rollout", write.rollout().value()).bind("device", write.device().value())
                .bind("kind", write.kind().json()).bind("generation", outcome.after().generation()).bind("at", clock.millis()).execute();
    }

    private void audit(Handle handle, RolloutId id, List<TimelineEntry> entries) {
        for (TimelineEntry entry : entries) {
            Map<String, Object> before = entry.before().isEmpty() ? null : Map.of("state", entry.before());
            Map<String, Object> after = new LinkedHashMap<>();
            after.put("state", entry.after());
            after.put("detail", entry.detail());
            audit.record(handle, entry.actor(), "rollout." + entry.event(), "rollout:" + id, before, after);
        }
    }

    private static Snapshot snapshot(Handle handle) {
        Map<String, TreeSet<String>> tags = new HashMap<>();
        handle.createQuery("SELECT site_id, tag FROM site_tags").map((rs, ctx) -> Map.entry(rs.getString("site_id"), rs.getString("tag")))
                .forEach(entry -> tags.computeIfAbsent(entry.getKey(), key -> new TreeSet<>()).add(entry.getValue()));
        List<Fleet.Site> sites = handle.createQuery("SELECT id, canary FROM sites")
                .map((rs, ctx) -> new Fleet.Site(new SiteId(rs.getString("id")), rs.getBoolean("canary"),
                        tags.getOrDefault(rs.getString("id"), new TreeSet<>())))
                .list();
        List<Fleet.Device> devices = new ArrayList<>();
        for (Device device : Devices.all(handle)) {
            Device.Reported reported = device.reported();
            devices.add(new Fleet.Device(device.id(), device.site(), device.lastSeen(), report(device.lastSeen(),
                    reported.status().map(HealthStatus::json), reported.imageVersion(), reported.containerTag(), reported.rebootRequired()),
                    device.desired()));
        }
        Map<DeviceId, RolloutId> held = new HashMap<>();
        handle.createQuery("SELECT device_id, rollout_id FROM rollout_holds")
                .map((rs, ctx) -> Map.entry(new DeviceId(rs.getString("device_id")), new RolloutId(rs.getString("rollout_id"))))
                .forEach(entry -> held.put(entry.getKey(), entry.getValue()));
        return new Snapshot(new Fleet(sites, devices), held);
    }

    /**
     * A device's latest report as the engine reads it, from the inventory's summary of it: the server copied these
     * fields out of the report (the same ones {@link DeviceReport#of} takes) when it received it, and stamped its
     * receipt as {@code last_seen_at}; reading them spares parsing every watched device's report at every step.
     */
    static Optional<DeviceReport> report(Optional<Instant> receivedAt, Optional<String> status, Optional<String> image, Optional<String> tag,
            Optional<Boolean> rebootRequired) {
        if (receivedAt.isEmpty() || status.isEmpty()) {
            return Optional.empty();
        }
        Optional<ImageVersion> version;
        try {
            version = image.map(ImageVersion::parse);
        } catch (RuntimeException e) {
            version = Optional.empty(); // a version no release could have: as good as none for the planner and the gates
        }
        return Optional.of(new DeviceReport(receivedAt.get(), HealthStatus.valueOf(status.get().toUpperCase(Locale.ROOT)), version, tag,
                rebootRequired.orElse(false)));
    }

    private static Summary summary(ResultSet rs) throws SQLException {
        int stage = rs.getInt("current_stage");
        Optional<Integer> current = rs.wasNull() ? Optional.empty() : Optional.of(stage);
        return new Summary(new RolloutId(rs.getString("id")), rs.getString("track"), rs.getString("target"), rs.getString("state"),
                rs.getBoolean("active"), rs.getString("summary"), current, rs.getInt("stages"), rs.getInt("devices"),
                Instant.ofEpochMilli(rs.getLong("created_at")), rs.getString("created_by"), Instant.ofEpochMilli(rs.getLong("updated_at")),
                rs.getLong("revision"));
    }

    private static Optional<Instant> instant(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(value));
    }

    private static Optional<Boolean> bool(ResultSet rs, String column) throws SQLException {
        boolean value = rs.getBoolean(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(value);
    }

    private static String clip(String text, int length) {
        return text.length() <= length ? text : text.substring(0, length - 1) + "…";
    }

    /** SQLState 23505 (PostgreSQL's unique_violation) or SQLite's constraint failure on a primary key or unique index. */
    private static boolean uniqueViolation(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && ("23505".equals(sql.getSQLState())
                    || String.valueOf(sql.getMessage()).contains("UNIQUE constraint failed"))) {
                return true;
            }
        }
        return false;
    }

    /** Thrown inside a commit's transaction to roll it back: the rollout moved on since the step read it, or its engine lost the lease. */
    private static final class StaleRevision extends RuntimeException {
        StaleRevision() {
            super(null, null, false, false);
        }
    }
}
