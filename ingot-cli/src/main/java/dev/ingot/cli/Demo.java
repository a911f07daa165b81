package dev.ingot.cli;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.agent.HttpControlPlane;
import dev.ingot.agent.Timings;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.DesiredState;
import dev.ingot.fleet.Track;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthStatus;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageScanner;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.Publisher;
import dev.ingot.image.ReleaseFiles;
import dev.ingot.progress.Progress;
import dev.ingot.rollout.DeviceReport;
import dev.ingot.rollout.Fleet;
import dev.ingot.rollout.Plan;
import dev.ingot.rollout.Planner;
import dev.ingot.rollout.RolloutDefinition;
import dev.ingot.rollout.RolloutId;
import dev.ingot.rollout.Stages;
import dev.ingot.rollout.Target;
import dev.ingot.server.IngotServer;
import dev.ingot.server.ServerConfig;
import dev.ingot.server.auth.Tokens;
import dev.ingot.server.device.DeviceApi.PollPolicy;
import dev.ingot.server.rollout.RolloutSettings;
import dev.ingot.sign.KeyGenerator;
import dev.ingot.sign.SigningKey;
import dev.ingot.sim.SimulatedFailure;
import dev.ingot.sim.SimulatedFleet;
import dev.ingot.site.ContainerImage;
import dev.ingot.site.Secret;
import dev.ingot.site.SiteId;
import dev.ingot.store.FolderStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * A whole fleet on one machine, for {@code ingot demo} and the end-to-end tests: a control plane on embedded defaults
 * (SQLite and a store folder under {@code folder}), two small golden images published with a fresh signing key, a
 * simulated fleet of one device per site ({@link SimulatedFleet}: the real agent over a simulated host, talking HTTP to
 * the server), and a staged rollout of a {@link Scenario} watched to its end. Everything runs in this process on the
 * real clock, with short soaks and poll intervals ({@link Pace}).
 */
final class Demo implements AutoCloseable {
    static final ImageVersion FROM = ImageVersion.parse("v1.4");
    static final ImageVersion TO = ImageVersion.parse("v1.5");
    static final String FROM_TAG = "2.8.1";
    static final String TO_TAG = "2026.11.3";
    static final String VIDEO_INGEST = "registry.example.net/video-ingest:" + FROM_TAG;
    static final String STAGES = "1,10%,50%,100%";

    /** What goes wrong, and so how the rollout must end. */
    enum Scenario {
        /** Nothing: the new version reaches every device, stage by stage. */
        GOOD,
        /** The canary site cannot take the change: the rollout halts with only the canary touched. */
        BAD_CANARY,
        /** One site of the 10% stage cannot: that stage is rolled back and the other 90% never get the change. */
        BAD_STAGE;

        String json() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        static Scenario parse(String text) {
            for (Scenario scenario : values()) {
                if (scenario.json().equals(text)) {
                    return scenario;
                }
            }
            throw IngotException.tried(ErrorCode.BAD_INPUT, "run the scenario '" + text + "'", "a scenario is good, bad-canary or bad-stage");
        }

        /** The state the rollout must end in. */
        String expected() {
            return switch (this) {
                case GOOD -> "completed";
                case BAD_CANARY -> "halted";
                case BAD_STAGE -> "rolled_back";
            };
        }
    }

    /**
     * How fast everything goes. The real defaults (a 60 s poll, a 30 min soak, a 10 min commit window) are for a real
     * fleet; a demo watched on a screen wants seconds.
     */
    record Pace(Duration poll, Duration step, Duration soak, Duration boot, Duration commitWindow, Duration rampUp, Duration deviceDeadline) {
        static final Pace DEMO = new Pace(Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ofSeconds(20), Duration.ofSeconds(3),
                Duration.ofSeconds(20), Duration.ofSeconds(5), Duration.ofMinutes(3));

        String describe() {
            return "devices poll every " + dev.ingot.rollout.DurationText.format(poll) + ", each stage soaks "
                    + dev.ingot.rollout.DurationText.format(soak) + ", a device that does not come up healthy falls back after "
                    + dev.ingot.rollout.DurationText.format(commitWindow) + " (a real fleet: 60s, 30m, 10m)";
        }
    }

    private final Path folder;
    private final Pace pace;
    private final Clock clock;
    private final IngotServer server;
    private final String adminToken;
    private final ServerClient operator;
    private final ExecutorService virtual = Executors.newVirtualThreadPerTaskExecutor();
    private SimulatedFleet fleet;

    private Demo(Path folder, Pace pace, Clock clock, IngotServer server, String adminToken) {
        this.folder = folder;
        this.pace = pace;
        this.clock = clock;
        this.server = server;
        this.adminToken = adminToken;
        this.operator = new ServerClient(URI.create(server.url()), Optional.of(adminToken), HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(5)).executor(virtual).build());
    }

    /** Starts the control plane on {@code port} (0: any) over {@code folder}: SQLite {@code ingot.db} and the store {@code store}. */
    static Demo start(Path folder, int port, Pace pace, Clock clock) {
        try {
            Path store = Files.createDirectories(folder.resolve("store"));
            String admin = Tokens.newToken(Tokens.OPERATOR_PREFIX);
            ServerConfig config = ServerConfig.defaults("127.0.0.1", port, "sqlite:" + folder.resolve("ingot.db"), new FolderStore(store, store.toString()),
                    folder).withAdminToken(Optional.of(admin)).withPollPolicy(new PollPolicy(pace.poll(), 0.2, Duration.ofMinutes(15)));
            IngotServer server = IngotServer.start(config, clock, new Random(), RolloutSettings.every(pace.step()));
            return new Demo(folder, pace, clock, server, admin);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "set the demo up in " + folder, String.valueOf(e.getMessage())).withCause(e);
        }
    }

    /** Makes a demo signing key and publishes v1.4 and v1.5 (small images) into the server's store, as ingot image publish does. */
    void publish(Consumer<String> progress) {
        Path store = folder.resolve("store");
        progress.accept("Making a demo signing key and publishing " + FROM + " and " + TO + " into " + store + "…");
        try {
            Path keys = Files.createDirectories(folder.resolve("keys"));
            Path secret = keys.resolve("demo-signing-key.asc");
            if (!Files.exists(secret)) {
                KeyGenerator.GeneratedKey key = new KeyGenerator(new SecureRandom()).generate("Ingot demo <demo@ingot.invalid>", Optional.empty(),
                        clock.instant().minusSeconds(60));
                Files.writeString(secret, key.armoredSecretKey());
                Files.writeString(keys.resolve("demo-signing-key.pub.asc"), key.armoredPublicKey());
            }
            SigningKey signing = SigningKey.load(secret, Optional.empty());
            FolderStore folderStore = new FolderStore(store, store.toString());
            for (ImageVersion version : List.of(FROM, TO)) {
                if (folderStore.stat(ReleaseFiles.STORE_FOLDER + new ReleaseFiles(ImageName.DEFAULT, version).manifest()).isPresent()) {
                    continue; // a kept demo folder: published the first time
                }
                Path image = smallImage(folder.resolve("edge-golden-" + version + ".img"), version);
                new Publisher(folderStore, signing, clock, Progress.NONE).publish(new Publisher.Request(image, ImageName.DEFAULT, version,
                        Optional.of(clock.instant()), false, Optional.empty(), new ImageScanner.Compression(3, 1), ImageScanner.DEFAULT_BLOCK_SIZE));
                Files.delete(image);
            }
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "publish the demo's images into " + store, String.valueOf(e.getMessage())).withCause(e);
        }
    }

    /** A 4 MiB disk image with 1 MiB of data that differs by version: what publish maps, hashes, compresses and signs. */
    private static Path smallImage(Path file, ImageVersion version) throws IOException {
        byte[] data = new byte[1 << 20];
        new Random(version.toString().hashCode()).nextBytes(data);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(data), 0);
            channel.truncate(4L << 20);
            channel.write(ByteBuffer.wrap(new byte[] {0}), (4L << 20) - 1);
        }
        return file;
    }

    String url() {
        return server.url();
    }

    String adminToken() {
        return adminToken;
    }

    IngotServer server() {
        return server;
    }

    ServerClient operator() {
        return operator;
    }

    Pace pace() {
        return pace;
    }

    /** The sites of a fleet of this size: SITE-0001, … */
    static List<SiteId> sites(int count) {
        return SimulatedFleet.siteIds(count);
    }

    /**
     * The plan the server will make for rollout {@code id} once every device of the fleet reports healthy on the old
     * version: {@link Planner#plan}, the server's own planner, over the fleet the demo is about to simulate. The later
     * stages' sites follow from the id, so the demo knows which site to make fail before the fleet starts.
     */
    static Plan plan(RolloutId id, Track track, int siteCount, Instant now) {
        Target target = track == Track.CONTAINER ? new Target.ContainerTag(TO_TAG) : new Target.Image(TO);
        RolloutDefinition definition = RolloutDefinition.withDefaults(id, target, "demo", now).withStages(Stages.parse(STAGES));
        List<Fleet.Site> fleetSites = new ArrayList<>();
        List<Fleet.Device> devices = new ArrayList<>();
        int n = 0;
        for (SiteId site : sites(siteCount)) {
            fleetSites.add(new Fleet.Site(site, false, new TreeSet<>()));
            DeviceReport report = new DeviceReport(now, HealthStatus.HEALTHY, Optional.of(FROM), Optional.of(FROM_TAG), false);
            devices.add(new Fleet.Device(new DeviceId(String.format("%032x", ++n)), site, Optional.of(now), Optional.of(report), DesiredState.initial()));
        }
        return Planner.plan(definition, new Fleet(fleetSites, devices), Map.of(), now);
    }

    /** Which sites fail, and how, for a scenario on a track: the canary site, or the first site of the 10% stage. */
    static Map<SiteId, Set<SimulatedFailure>> failures(Scenario scenario, Track track, Plan plan) {
        SimulatedFailure kind = track == Track.CONTAINER ? SimulatedFailure.CONTAINER : SimulatedFailure.REIMAGE;
        return switch (scenario) {
            case GOOD -> Map.of();
            case BAD_CANARY -> Map.of(plan.stage(1).sites().getFirst(), EnumSet.of(kind));
            case BAD_STAGE -> Map.of(plan.stage(2).sites().getFirst(), EnumSet.of(kind));
        };
    }

    /** Starts the simulated fleet: one device per site, on v1.4 and video-ingest 2.8.1, enrolling with tokens from the operator API. */
    void startFleet(int siteCount, Map<SiteId, Set<SimulatedFailure>> failures, long seed) {
        if (fleet != null) {
            throw new IllegalStateException("the demo's fleet runs already");
        }
        for (SiteId site : sites(siteCount)) {
            try {
                operator.post("/api/v1/sites", Map.of("id", site.value(), "name", "Demo " + site.value()));
            } catch (IngotException e) {
                if (e.code() != ErrorCode.CONFLICT) {
                    throw e;
                }
            }
        }
        Duration recheck = pace.commitWindow().dividedBy(5).compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : pace.commitWindow().dividedBy(5);
        Timings timings = new Timings(pace.commitWindow(), pace.commitWindow(), pace.commitWindow(), recheck, Duration.ofSeconds(2),
                Timings.DEFAULTS.attempts(), Timings.DEFAULTS.reboots(), pace.poll());
        SimulatedFleet.Options options = new SimulatedFleet.Options(siteCount, siteCount, FROM, ContainerImage.parse(VIDEO_INGEST), failures,
                pace.boot(), pace.rampUp(), timings, seed);
        HttpClient http = HttpControlPlane.client(Optional.empty(), "--cacert", Optional.of(virtual));
        SimulatedFleet.EnrollmentTokens tokens = site -> Secret.of(operator.post("/api/v1/sites/" + ServerClient.segment(site.value())
                + "/enrollment-tokens", Map.of("expires_in_seconds", 3600)).path("token").asText());
        fleet = new SimulatedFleet(options, URI.create(server.url()), http, tokens, Clock.systemUTC(), line -> { });
        fleet.start();
    }

    /** Waits until {@code count} devices have reported (healthy or not): the planner leaves out a device that never did. */
    void awaitReports(int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode devices = operator.get("/api/v1/devices", Map.of("seen_within", "1h"));
            if (devices.size() >= count) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "wait for the simulated fleet", "only " + devices.size() + " of " + count
                        + " devices reported within " + dev.ingot.rollout.DurationText.format(timeout));
            }
            Thread.sleep(250);
        }
    }

    /** Starts the scenario's rollout through the operator API, as {@code ingot rollout start} does. */
    JsonNode startRollout(RolloutId id, Track track, Scenario scenario) {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("id", id.value());
        request.put("track", track.json());
        if (track == Track.CONTAINER) {
            request.put("tag", TO_TAG);
        } else {
            request.put("version", TO.toString());
        }
        request.put("stages", STAGES);
        request.put("soak", dev.ingot.rollout.DurationText.format(pace.soak()));
        request.put("device_deadline", dev.ingot.rollout.DurationText.format(pace.deviceDeadline()));
        request.put("on_failure", scenario == Scenario.BAD_STAGE ? "rollback" : "halt");
        return operator.post("/api/v1/rollouts", request);
    }

    /**
     * Follows the rollout until it is final or halted, handing each new timeline entry to {@code entries}; returns the
     * rollout as it ended.
     */
    JsonNode follow(RolloutId id, Duration timeout, Consumer<JsonNode> entries) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int shown = 0;
        while (true) {
            JsonNode rollout = operator.get("/api/v1/rollouts/" + id, Map.of());
            JsonNode timeline = rollout.path("timeline");
            for (; shown < timeline.size(); shown++) {
                entries.accept(timeline.get(shown));
            }
            String state = rollout.path("state").asText();
            if (!rollout.path("active").asBoolean() || state.equals("halted")) {
                return rollout;
            }
            if (System.nanoTime() > deadline) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "follow the rollout " + id, "it was still " + rollout.path("summary").asText()
                        + " after " + dev.ingot.rollout.DurationText.format(timeout));
            }
            Thread.sleep(250);
        }
    }

    /**
     * What came of a scenario: the rollout's end, the stages it reached and what each did, the devices per version (or
     * tag) as they report it, how many devices the rollout wrote and how many it never touched, and whether all that is
     * what the scenario must give.
     */
    ObjectNode outcome(Scenario scenario, Track track, JsonNode rollout, Plan plan, Map<SiteId, Set<SimulatedFailure>> failures, Duration took)
            throws InterruptedException {
        JsonNode timeline = rollout.path("timeline");
        settle(Instant.parse(timeline.get(timeline.size() - 1).path("at").asText()));
        ObjectNode outcome = Ingot.JSON.createObjectNode();
        outcome.put("scenario", scenario.json());
        outcome.put("track", track.json());
        outcome.put("rollout", rollout.path("id").asText());
        outcome.put("state", rollout.path("state").asText());
        outcome.put("expected_state", scenario.expected());
        outcome.put("summary", rollout.path("summary").asText());
        int reached = 0;
        ArrayNode stages = outcome.putArray("stages");
        for (JsonNode stage : rollout.path("stages")) {
            ObjectNode node = stages.addObject();
            node.put("number", stage.path("number").asInt());
            node.put("size", stage.path("size").asText());
            node.put("devices", stage.path("devices").asInt());
            node.put("state", stage.path("state").asText());
            node.set("counts", stage.path("counts"));
            if (stage.hasNonNull("started_at")) {
                reached = stage.path("number").asInt();
            }
        }
        outcome.put("stages_reached", reached);
        ArrayNode failing = outcome.putArray("failing_sites");
        failures.keySet().forEach(site -> failing.add(site.value()));
        String field = track == Track.CONTAINER ? "container_tag" : "image_version";
        Map<String, Integer> versions = new java.util.TreeMap<>();
        for (JsonNode device : operator.get("/api/v1/devices", Map.of())) {
            versions.merge(device.path("reported").path(field).asText("none"), 1, Integer::sum);
        }
        int written = 0;
        for (JsonNode stage : rollout.path("stages")) {
            written += stage.path("devices").asInt() - stage.path("counts").path("not_started").asInt();
        }
        ObjectNode byVersion = outcome.putObject(track == Track.CONTAINER ? "devices_per_tag" : "devices_per_version");
        versions.forEach(byVersion::put);
        int planned = (int) plan.devices().count();
        outcome.put("devices", planned);
        outcome.put("devices_written", written);
        outcome.put("devices_untouched", planned - written);
        String target = track == Track.CONTAINER ? TO_TAG : TO.toString();
        String from = track == Track.CONTAINER ? FROM_TAG : FROM.toString();
        int expectedWritten = switch (scenario) {
            case GOOD -> planned;
            case BAD_CANARY -> plan.stage(1).devices().size();
            case BAD_STAGE -> plan.stage(1).devices().size() + plan.stage(2).devices().size();
        };
        int expectedOnTarget = switch (scenario) {
            case GOOD -> planned;
            case BAD_CANARY -> 0;
            case BAD_STAGE -> plan.stage(1).devices().size();
        };
        boolean asExpected = rollout.path("state").asText().equals(scenario.expected()) && written == expectedWritten
                && versions.getOrDefault(target, 0) == expectedOnTarget && versions.getOrDefault(from, 0) == planned - expectedOnTarget;
        outcome.put("as_expected", asExpected);
        outcome.put("dashboard", server.url() + "/ui/rollouts/" + rollout.path("id").asText());
        outcome.put("folder", folder.toString());
        outcome.put("took_seconds", took.toSeconds());
        return outcome;
    }

    /**
     * Waits until every device has reported since {@code since} (at most a few poll intervals): a device that fell back
     * says so in its action at once, and what it runs in its next report, which the outcome counts.
     */
    private void settle(Instant since) throws InterruptedException {
        long deadline = System.nanoTime() + pace.poll().multipliedBy(4).plusSeconds(5).toNanos();
        while (System.nanoTime() < deadline) {
            boolean all = true;
            for (JsonNode device : operator.get("/api/v1/devices", Map.of())) {
                all &= device.hasNonNull("last_seen_at") && Instant.parse(device.path("last_seen_at").asText()).isAfter(since);
            }
            if (all) {
                return;
            }
            Thread.sleep(200);
        }
    }

    /** A rollout id for a scenario, new at every run: {@code demo-bad-stage-7f3a}. */
    static RolloutId newId(Scenario scenario, Track track) {
        byte[] bytes = new byte[2];
        new SecureRandom().nextBytes(bytes);
        return new RolloutId("demo-" + (track == Track.CONTAINER ? "tag-" : "") + scenario.json() + "-" + HexFormat.of().formatHex(bytes));
    }

    @Override
    public void close() {
        try {
            if (fleet != null) {
                fleet.close();
            }
        } finally {
            server.close();
            virtual.shutdown();
        }
    }

    /** Seeds for the simulated fleet's jitter: fixed per scenario, so a run is as repeatable as real time lets it be. */
    static long seed(Scenario scenario) {
        return new SplittableRandom(scenario.ordinal() + 14).nextLong();
    }

    Path folder() {
        return folder;
    }

    Clock clock() {
        return clock;
    }
}
