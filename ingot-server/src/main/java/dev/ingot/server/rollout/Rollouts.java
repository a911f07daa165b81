package dev.ingot.server.rollout;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.Track;
import dev.ingot.health.DeviceId;
import dev.ingot.image.ImageVersion;
import dev.ingot.rollout.DurationText;
import dev.ingot.rollout.FailurePolicy;
import dev.ingot.rollout.GateSpec;
import dev.ingot.rollout.MaxFailures;
import dev.ingot.rollout.OperatorCommand;
import dev.ingot.rollout.Plan;
import dev.ingot.rollout.Planner;
import dev.ingot.rollout.Rollout;
import dev.ingot.rollout.RolloutDefinition;
import dev.ingot.rollout.RolloutId;
import dev.ingot.rollout.RolloutJson;
import dev.ingot.rollout.RolloutMachine;
import dev.ingot.rollout.RolloutView;
import dev.ingot.rollout.SiteFilter;
import dev.ingot.rollout.Stages;
import dev.ingot.rollout.Target;
import dev.ingot.server.audit.AuditLog;
import dev.ingot.server.auth.Caller;
import dev.ingot.server.db.Database;
import dev.ingot.server.fleet.Devices;
import dev.ingot.server.fleet.DesiredStates;
import dev.ingot.server.fleet.Leases;
import dev.ingot.server.fleet.ReleaseCatalog;
import dev.ingot.server.http.ApiJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The rollouts as the operator API and the dashboard use them: start one (or plan it without storing anything),
 * queue an operator command, and show one as {@code ingot rollout status} does. The engine itself is
 * {@link RolloutDriver}.
 */
public final class Rollouts implements AutoCloseable {
    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmm").withZone(ZoneOffset.UTC);
    private static final int MAX_NOTE = 500;

    /** What {@code POST /api/v1/rollouts} takes (docs/api.md); every field but the track and its target is optional. */
    public record StartRequest(String id, String track, String version, String tag, List<String> devices, Boolean onlyIfRebootRequired,
            String stages, String soak, List<String> gates, String onFailure, String maxFailures, Integer minimumSample, String sites,
            String deviceDeadline, String offlineAfter, String gateTimeout, Boolean dryRun) {}

    private final Database database;
    private final RolloutStore store;
    private final RolloutGates gates;
    private final RolloutDriver driver;
    private final ReleaseCatalog catalog;
    private final RolloutSettings settings;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    Rollouts(Database database, RolloutStore store, RolloutGates gates, RolloutDriver driver, ReleaseCatalog catalog, RolloutSettings settings,
            Clock clock) {
        this.database = requireNonNull(database, "database");
        this.store = requireNonNull(store, "store");
        this.gates = requireNonNull(gates, "gates");
        this.driver = requireNonNull(driver, "driver");
        this.catalog = requireNonNull(catalog, "catalog");
        this.settings = requireNonNull(settings, "settings");
        this.clock = requireNonNull(clock, "clock");
    }

    /** The rollouts of one server over its database: the store, the gates (CloudWatch through {@code settings}) and the engine. */
    public static Rollouts create(Database database, AuditLog audit, DesiredStates desired, ReleaseCatalog catalog, RolloutSettings settings,
            Clock clock) {
        RolloutStore store = new RolloutStore(database, audit, desired, clock);
        RolloutGates gates = new RolloutGates(settings.cloudWatch());
        RolloutDriver driver = new RolloutDriver(store, new Leases(database, clock), gates, settings, clock);
        return new Rollouts(database, store, gates, driver, catalog, settings, clock);
    }

    /** Starts the engine's loop (when the settings ask for one). */
    public void startEngine() {
        driver.start();
    }

    /** Stops the engine (giving its lease up) and closes the gates' clients. */
    @Override
    public void close() {
        try {
            driver.close();
        } finally {
            gates.close();
        }
    }

    /** The engine, for the server's life cycle and for tests that step it by hand. */
    public RolloutDriver driver() {
        return driver;
    }

    public RolloutStore store() {
        return store;
    }

    /**
     * Plans the rollout and, unless it is a dry run, stores it holding its devices (it starts at the engine's next
     * tick). A dry run answers the definition and the plan and stores nothing.
     */
    public ObjectNode start(StartRequest request, Caller.Operator operator) {
        Instant now = clock.instant();
        // An id the operator chose names the rollout in scripts, and fixes its plan: a dry run with the same id plans the same stages.
        RolloutId id = request.id() == null ? newId(now) : new RolloutId(request.id());
        if (request.id() != null && store.find(id).isPresent()) {
            throw IngotException.tried(ErrorCode.CONFLICT, "start the rollout " + id, "a rollout with that id exists")
                    .withHint("choose another id, or leave it out and the server makes one");
        }
        RolloutDefinition definition = definition(request, id, operator.name(), now);
        gates.check(definition.gates());
        if (definition.target() instanceof Target.Image image && !catalog.published(image.version())) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "roll out " + image.version(), "the store has no published release " + image.version())
                    .withHint("ingot image list shows what is published");
        }
        if (Boolean.TRUE.equals(request.dryRun())) {
            Plan plan = store.read(snapshot -> Planner.plan(definition, snapshot.fleet(), snapshot.held(), now));
            ObjectNode document = tree(RolloutJson.plan(definition, plan));
            document.put("dry_run", true);
            return document;
        }
        Rollout rollout = store.insert(snapshot -> Rollout.start(definition, Planner.plan(definition, snapshot.fleet(), snapshot.held(), now), now));
        driver.wake();
        return document(rollout);
    }

    /**
     * Queues an operator command for the engine: refused at once (409) when the rollout's state refuses it
     * ({@link RolloutMachine#refusal}) and no other command waits, else taken at the engine's next step, which this waits for a moment so that the
     * answer shows its effect. {@code queued} in the answer says the engine had not taken it yet.
     */
    public ObjectNode command(RolloutId id, OperatorCommand.Kind kind, Caller.Operator operator, Optional<String> note) {
        note.ifPresent(text -> {
            if (text.length() > MAX_NOTE || text.chars().anyMatch(Character::isISOControl)) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, kind.json() + " the rollout " + id, "the note is not one line of at most "
                        + MAX_NOTE + " characters");
            }
        });
        Rollout rollout = store.get(id);
        // With other commands waiting, the state they lead to is the engine's to judge (it audits a refusal then).
        Optional<String> refused = store.commands(id).isEmpty() ? RolloutMachine.refusal(rollout, kind) : Optional.empty();
        if (refused.isPresent()) {
            throw IngotException.tried(ErrorCode.CONFLICT, kind.json() + " the rollout " + id, refused.get())
                    .withHint("ingot rollout status " + id + " shows where it stands");
        }
        RolloutStore.Command queued = store.queue(id, new OperatorCommand(kind, operator.name(), clock.instant(), note));
        driver.wake();
        long deadline = System.nanoTime() + settings.commandWait().toNanos();
        boolean waiting = store.waiting(queued.id());
        while (waiting && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            waiting = store.waiting(queued.id());
        }
        ObjectNode document = document(store.get(id));
        document.put("queued", waiting);
        return document;
    }

    /** What {@code ingot rollout status --json} prints: the status view, the definition, and the fleet's versions on the rollout's track. */
    public ObjectNode document(Rollout rollout) {
        RolloutView view = RolloutView.of(rollout);
        ObjectNode document = tree(RolloutJson.view(view));
        view.lines().forEach(document.putArray("lines")::add);
        document.set("definition", RolloutJson.tree(rollout).get("definition"));
        document.put("active", rollout.active());
        ObjectNode fleet = document.putObject("fleet");
        fleet.put("track", rollout.definition().track().json());
        ObjectNode versions = fleet.putObject("versions");
        fleetVersions(rollout.definition().track()).forEach(versions::put);
        return document;
    }

    public ObjectNode document(RolloutId id) {
        return document(store.get(id));
    }

    /**
     * How many devices of the whole fleet report each version on a track (image versions; container tags on the
     * container track), "none" for those that report none: what the dashboard's rollout view charts as it changes.
     */
    public Map<String, Long> fleetVersions(Track track) {
        String column = track == Track.CONTAINER ? "container_tag" : "image_version";
        Map<String, Long> counts = new TreeMap<>();
        database.jdbi().useHandle(handle -> handle.createQuery("SELECT COALESCE(" + column + ", 'none') AS version, COUNT(*) AS devices FROM devices d "
                        + "WHERE " + Devices.IN_FLEET + " GROUP BY COALESCE(" + column + ", 'none')")
                .map((rs, ctx) -> Map.entry(rs.getString("version"), rs.getLong("devices")))
                .forEach(entry -> counts.put(entry.getKey(), entry.getValue())));
        return counts;
    }

    public List<RolloutStore.Summary> list(boolean activeOnly, int limit) {
        return store.list(activeOnly, limit);
    }

    private RolloutDefinition definition(StartRequest request, RolloutId id, String createdBy, Instant now) {
        String attempt = "start a rollout";
        Track track = Track.parse(ApiJson.required(request.track(), "track", attempt));
        Target target = switch (track) {
            case REIMAGE -> {
                only(request.tag() == null && request.devices() == null, "a reimage rollout takes a version, not a tag or devices");
                yield new Target.Image(ImageVersion.parse(ApiJson.required(request.version(), "version", attempt)));
            }
            case CONTAINER -> {
                only(request.version() == null && request.devices() == null, "a container rollout takes a tag, not a version or devices");
                yield new Target.ContainerTag(ApiJson.required(request.tag(), "tag", attempt));
            }
            case REBOOT -> {
                only(request.version() == null && request.tag() == null, "a reboot rollout takes the devices to reboot, not a version or tag");
                List<String> named = ApiJson.required(request.devices(), "devices", attempt);
                yield new Target.Reboot(named.stream().map(Rollouts::deviceId).toList(), Boolean.TRUE.equals(request.onlyIfRebootRequired()));
            }
        };
        if (track != Track.REBOOT && request.onlyIfRebootRequired() != null) {
            throw invalid("only_if_reboot_required is for the reboot track");
        }
        RolloutDefinition definition = RolloutDefinition.withDefaults(id, target, createdBy, now);
        if (request.stages() != null) {
            definition = definition.withStages(Stages.parse(request.stages()));
        }
        if (request.soak() != null) {
            definition = definition.withSoak(DurationText.parse(request.soak(), "the soak"));
        }
        if (request.gates() != null) {
            definition = definition.withGates(request.gates().stream().map(GateSpec::parse).toList());
        }
        if (request.onFailure() != null) {
            definition = definition.withFailurePolicy(FailurePolicy.parse(request.onFailure()));
        }
        if (request.maxFailures() != null || request.minimumSample() != null) {
            int sample = request.minimumSample() == null ? MaxFailures.DEFAULT_MINIMUM_SAMPLE : request.minimumSample();
            definition = definition.withMaxFailures(MaxFailures.parse(request.maxFailures() == null ? "0" : request.maxFailures(), sample));
        }
        if (request.sites() != null) {
            definition = definition.withSites(SiteFilter.parse(request.sites()));
        }
        if (request.deviceDeadline() != null) {
            definition = definition.withDeviceDeadline(DurationText.parse(request.deviceDeadline(), "the device deadline"));
        }
        if (request.offlineAfter() != null) {
            definition = definition.withOfflineAfter(DurationText.parse(request.offlineAfter(), "the offline threshold"));
        }
        if (request.gateTimeout() != null) {
            definition = definition.withGateTimeout(DurationText.parse(request.gateTimeout(), "the gate timeout"));
        }
        if (definition.gates().isEmpty()) {
            throw invalid("it names no gate").withHint("use --gate health (the default), cloudwatch:PREFIX, or both");
        }
        return definition;
    }

    private static void only(boolean fine, String reason) {
        if (!fine) {
            throw invalid(reason);
        }
    }

    private static IngotException invalid(String reason) {
        return IngotException.tried(ErrorCode.BAD_INPUT, "start a rollout", reason).withHint("docs/rollouts.md describes every option");
    }

    private static DeviceId deviceId(String text) {
        try {
            return new DeviceId(text);
        } catch (IllegalArgumentException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the device id '" + text + "'", "it is not 32 lowercase hex digits (a machine id)");
        }
    }

    /** {@code r-20261130-0800-7f3a}: when it started, and a random part so that two started in one minute differ. */
    private RolloutId newId(Instant now) {
        byte[] bytes = new byte[2];
        random.nextBytes(bytes);
        return new RolloutId("r-" + ID_TIME.format(now) + "-" + HexFormat.of().formatHex(bytes));
    }

    static ObjectNode tree(byte[] json) {
        try {
            JsonNode node = ApiJson.MAPPER.readTree(json);
            return (ObjectNode) node;
        } catch (IOException e) {
            throw new UncheckedIOException("the rollout's JSON is its own", e);
        }
    }
}
