package dev.ingot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.agent.HttpControlPlane;
import dev.ingot.agent.Timings;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.ActionState;
import dev.ingot.health.DeviceId;
import dev.ingot.image.ImageVersion;
import dev.ingot.server.http.Durations;
import dev.ingot.sim.SimulatedFailure;
import dev.ingot.sim.SimulatedFleet;
import dev.ingot.site.ContainerImage;
import dev.ingot.site.Secret;
import dev.ingot.site.SiteId;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "sim",
        header = "Run a simulated fleet of N devices (the real agent on simulated hosts) against a control plane.",
        description = {"Run a simulated fleet against a control plane: N devices in this process, each the real device agent over a",
            "simulated host (A/B slots and GRUB, docker and systemd, health probes; no process per device). It adds the",
            "sites through the operator API (SITE-0001, SITE-0002, …; existing ones are kept), enrolls every device with a",
            "fresh one-time token of its site, then the devices poll with their health reports at the server's interval,",
            "apply what their desired state asks (re-image, container tag, reboot), commit or fall back, and report.",
            "--fail makes a site's newer images break the GPU (reimage), its newer tags crash-loop (container), or its",
            "disk full (health). Runs until stopped (Ctrl-C) or --duration; prints a status line every --every.",
            "The operator token comes from INGOT_TOKEN or --token-file (operator role: it adds sites and tokens)."},
        footer = {"", "Examples:",
            "  ingot sim --devices 500 --server http://127.0.0.1:8080",
            "  ingot sim --devices 50 --fail SITE-0003=reimage --fail SITE-0007=container --boot-time 5s --commit-window 1m",
            "  ingot sim --devices 10000 --duration 10m --json      (bench/sim.sh)",
            "",
            "--json prints one JSON object per line: {\"type\":\"status\",…} every --every, {\"type\":\"summary\",…} at the end."})
final class SimCommand extends BaseCommand {
    @Option(names = "--devices", required = true, paramLabel = "N", description = "How many devices (1 to 100000).")
    int devices;

    @Option(names = "--sites", paramLabel = "N", description = "Over how many sites, in turn (default: one site per device).")
    Integer sites;

    @Option(names = "--fail", paramLabel = "SITE=KIND[,KIND]",
            description = "What goes wrong at a site: reimage (newer images break the GPU driver), container (newer tags crash-loop), "
                    + "health (the root file system is full). Repeatable.")
    List<String> failures = new ArrayList<>();

    @Option(names = "--duration", paramLabel = "DURATION", description = "Stop after this long (90s, 15m, 2h). Default: until stopped.")
    String duration;

    @Option(names = "--image", paramLabel = "VERSION", defaultValue = "v1.4",
            description = "The golden image every device starts on. Default: ${DEFAULT-VALUE}.")
    String image;

    @Option(names = "--video-ingest", paramLabel = "IMAGE", defaultValue = "registry.example.net/video-ingest:2.8.1",
            description = "The site parameter video_ingest_image: the repository, and the tag every device starts with. Default: ${DEFAULT-VALUE}.")
    String videoIngest;

    @Option(names = "--boot-time", paramLabel = "DURATION", defaultValue = "40s", description = "From power-on to the agent running. Default: ${DEFAULT-VALUE}.")
    String bootTime;

    @Option(names = "--commit-window", paramLabel = "DURATION", defaultValue = "10m",
            description = "How long a new slot, tag or reboot has to turn healthy before the device falls back. Default: ${DEFAULT-VALUE}.")
    String commitWindow;

    @Option(names = "--ramp-up", paramLabel = "DURATION", defaultValue = "60s",
            description = "Spread the devices' start (and enrollment) over this long. Default: ${DEFAULT-VALUE}.")
    String rampUp;

    @Option(names = "--every", paramLabel = "DURATION", defaultValue = "10s", description = "A status line this often. Default: ${DEFAULT-VALUE}.")
    String every;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "For the devices' jitter and start times. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--verbose", description = "Print every device's agent log on stderr (site and device first).")
    boolean verbose;

    @Mixin
    ServerClient.Options server = new ServerClient.Options();

    SimCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() throws InterruptedException {
        Duration commit = positive(commitWindow, "--commit-window");
        Duration recheck = min(Duration.ofSeconds(15), max(Duration.ofSeconds(1), commit.dividedBy(5)));
        Timings timings = new Timings(commit, commit, commit, recheck, Timings.DEFAULTS.retry(), Timings.DEFAULTS.attempts(),
                Timings.DEFAULTS.reboots(), Timings.DEFAULTS.pollRetry());
        SimulatedFleet.Options options = new SimulatedFleet.Options(devices, sites == null ? Math.max(1, devices) : sites, ImageVersion.parse(image),
                videoIngest(), failures(), Durations.parse(bootTime, "--boot-time"), Durations.parse(rampUp, "--ramp-up"), timings, seed);
        Optional<Duration> stopAfter = Optional.ofNullable(duration).map(text -> positive(text, "--duration"));
        Duration statusEvery = positive(every, "--every");

        ServerClient operator = server.connect(context);
        URI base = URI.create(operator.describe());
        List<SiteId> siteIds = SimulatedFleet.siteIds(options.sites());
        context.err().println("Adding " + siteIds.size() + " site(s) at " + base + " (existing ones are kept)…");
        context.err().flush();
        addSites(operator, siteIds);

        ExecutorService virtual = Executors.newVirtualThreadPerTaskExecutor();
        HttpClient http = HttpControlPlane.client(Optional.ofNullable(server.caCertificate).map(context::resolve), "--cacert", Optional.of(virtual));
        // Each device's token is made for its machine id: a second run of the same fleet re-enrolls the devices it enrolled before.
        SimulatedFleet.EnrollmentTokens tokens = new SimulatedFleet.EnrollmentTokens() {
            @Override
            public Secret issue(SiteId site) {
                return token(site, Map.of("expires_in_seconds", 3600));
            }

            @Override
            public Secret issue(SiteId site, DeviceId device) {
                return token(site, Map.of("expires_in_seconds", 3600, "device_id", device.value()));
            }

            private Secret token(SiteId site, Map<String, Object> request) {
                return Secret.of(operator.post("/api/v1/sites/" + ServerClient.segment(site.value()) + "/enrollment-tokens", request)
                        .path("token").asText());
            }
        };
        // The fleet lives in real time against a real server: its clock is the system's, whatever the context's.
        Clock clock = Clock.systemUTC();
        SimulatedFleet.Status last;
        try (SimulatedFleet fleet = new SimulatedFleet(options, base, http, tokens, clock, verbose ? this::deviceLog : line -> { })) {
            if (!json()) {
                context.out().println("Simulating " + devices + " device(s) at " + options.sites() + " site(s) against " + base
                        + stopAfter.map(d -> " for " + Durations.format(d)).orElse(" until stopped (Ctrl-C)")
                        + (options.failures().isEmpty() ? "" : "; failing: " + describe(options.failures())) + ".");
                context.out().flush();
            }
            fleet.start();
            Instant end = stopAfter.map(clock.instant()::plus).orElse(Instant.MAX);
            long lastPolls = 0;
            Instant lastAt = clock.instant();
            while (true) {
                Duration left = Duration.between(clock.instant(), end);
                boolean interrupted = false;
                try {
                    Thread.sleep(Math.max(0, min(statusEvery, left).toMillis()));
                } catch (InterruptedException e) {
                    // Stopped from outside (a test, an embedding demo): the status so far, then the summary.
                    interrupted = true;
                }
                SimulatedFleet.Status status = fleet.status();
                double rate = rate(status.polls() - lastPolls, Duration.between(lastAt, status.at()));
                lastPolls = status.polls();
                lastAt = status.at();
                line(status, rate);
                if (interrupted || !clock.instant().isBefore(end)) {
                    break;
                }
            }
            last = fleet.status();
        }
        virtual.shutdown();
        summary(last);
        if (last.polls() == 0 && last.pollFailures() + last.enrollmentFailures() > 0) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "simulate " + devices + " device(s) against " + base,
                    "no device got a poll through (" + last.enrollmentFailures() + " failed enrollments, " + last.pollFailures() + " failed polls)")
                    .withHint("rerun with --verbose to see the devices' errors");
        }
        return 0;
    }

    /** The fleet's sites through the operator API; those that exist are kept. At most 16 requests at a time. */
    private void addSites(ServerClient operator, List<SiteId> siteIds) throws InterruptedException {
        Semaphore slots = new Semaphore(16);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> added = new ArrayList<>();
            for (SiteId site : siteIds) {
                slots.acquire();
                added.add(pool.submit(() -> {
                    try {
                        operator.post("/api/v1/sites", Map.of("id", site.value(), "name", "Simulated " + site.value()));
                    } catch (IngotException e) {
                        if (e.code() != ErrorCode.CONFLICT) {
                            throw e;
                        }
                    } finally {
                        slots.release();
                    }
                    return null;
                }));
            }
            for (Future<?> future : added) {
                try {
                    future.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause() instanceof IngotException ingot ? ingot
                            : IngotException.tried(ErrorCode.INTERNAL, "add the simulated sites", String.valueOf(e.getCause()));
                }
            }
        }
    }

    private synchronized void deviceLog(String line) {
        context.err().println(line);
        context.err().flush();
    }

    private ContainerImage videoIngest() {
        Optional<String> problem = ContainerImage.problemWith(videoIngest);
        if (problem.isPresent()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "use --video-ingest '" + videoIngest + "'", problem.get())
                    .withHint("write it like registry.example.net/video-ingest:2.8.1");
        }
        return ContainerImage.parse(videoIngest);
    }

    private Map<SiteId, Set<SimulatedFailure>> failures() {
        Map<SiteId, Set<SimulatedFailure>> result = new LinkedHashMap<>();
        for (String failure : failures) {
            int equals = failure.indexOf('=');
            if (equals <= 0 || equals == failure.length() - 1) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "read --fail '" + failure + "'", "it is not SITE=KIND")
                        .withHint("write it like --fail SITE-0003=reimage (kinds: reimage, container, health; several with commas)");
            }
            SiteId site = new SiteId(failure.substring(0, equals));
            Set<SimulatedFailure> kinds = result.computeIfAbsent(site, id -> EnumSet.noneOf(SimulatedFailure.class));
            for (String kind : failure.substring(equals + 1).split(",")) {
                kinds.add(SimulatedFailure.parse(kind.strip()));
            }
        }
        return result;
    }

    private static String describe(Map<SiteId, Set<SimulatedFailure>> failures) {
        return failures.entrySet().stream().map(entry -> entry.getKey() + "=" + entry.getValue().stream().map(SimulatedFailure::json)
                .collect(Collectors.joining(","))).collect(Collectors.joining(" "));
    }

    private void line(SimulatedFleet.Status status, double rate) {
        if (json()) {
            ObjectNode node = document("status", status);
            node.put("polls_per_second", Math.round(rate * 10) / 10.0);
            JsonOutput.printLine(context.out(), node);
            return;
        }
        SimulatedFleet.Latency latency = status.pollLatency();
        context.out().println(String.format(Locale.ROOT, "%s  %d/%d enrolled  %.1f polls/s  poll p50 %.1f ms p99 %.1f ms  failed %d  "
                        + "in flight %d  done %s  %s  heap %d MB",
                clockTime(status.elapsed()), status.enrolled(), status.devices(), rate, latency.p50(), latency.p99(),
                status.pollFailures() + status.enrollmentFailures() + status.reportFailures(), status.busy(), outcomes(status),
                counts(status.versions()), heapMegabytes()));
        context.out().flush();
    }

    private void summary(SimulatedFleet.Status status) {
        if (json()) {
            ObjectNode node = document("summary", status);
            node.put("polls_per_second", Math.round(rate(status.polls(), status.elapsed()) * 10) / 10.0);
            JsonOutput.printLine(context.out(), node);
            return;
        }
        context.out().println(String.format(Locale.ROOT, "Ran %d device(s) for %s: %d enrolled, %d polls (%.1f/s) and %d failed, %d reports, "
                        + "%d manifests downloaded; outcomes %s; versions %s; tags %s.",
                status.devices(), clockTime(status.elapsed()), status.enrolled(), status.polls(), rate(status.polls(), status.elapsed()),
                status.pollFailures(), status.reports(), status.downloads(), outcomes(status), counts(status.versions()), counts(status.tags())));
        context.out().flush();
    }

    private ObjectNode document(String type, SimulatedFleet.Status status) {
        ObjectNode node = Ingot.JSON.createObjectNode();
        node.put("type", type);
        node.put("at", status.at().toString());
        node.put("elapsed_seconds", status.elapsed().toMillis() / 1000.0);
        node.put("devices", status.devices());
        node.put("sites", status.sites());
        node.put("enrolled", status.enrolled());
        node.put("in_flight", status.busy());
        node.put("polls", status.polls());
        node.put("poll_failures", status.pollFailures());
        ObjectNode latency = node.putObject("poll_ms");
        latency.put("count", status.pollLatency().count());
        latency.put("p50", status.pollLatency().p50());
        latency.put("p90", status.pollLatency().p90());
        latency.put("p99", status.pollLatency().p99());
        latency.put("max", status.pollLatency().max());
        node.put("enrollments", status.enrollments());
        node.put("enrollment_failures", status.enrollmentFailures());
        node.put("reports", status.reports());
        node.put("report_failures", status.reportFailures());
        node.put("downloads", status.downloads());
        node.put("downloaded_bytes", status.downloadedBytes());
        node.put("wake_errors", status.wakeErrors());
        ObjectNode outcomes = node.putObject("outcomes");
        status.outcomes().forEach((state, count) -> outcomes.put(state.json(), count));
        ObjectNode versions = node.putObject("versions");
        status.versions().forEach(versions::put);
        ObjectNode tags = node.putObject("tags");
        status.tags().forEach(tags::put);
        node.put("heap_used_mb", heapMegabytes());
        return node;
    }


    private static String outcomes(SimulatedFleet.Status status) {
        return ActionState.terminalStates().stream().map(state -> state.json() + " " + status.outcomes().getOrDefault(state, 0L))
                .collect(Collectors.joining(", "));
    }

    private static String counts(Map<String, Integer> counts) {
        return counts.entrySet().stream().map(entry -> entry.getKey() + "=" + entry.getValue()).collect(Collectors.joining(" "));
    }

    private static long heapMegabytes() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20;
    }

    private static double rate(long count, Duration over) {
        return over.toMillis() <= 0 ? 0 : count * 1000.0 / over.toMillis();
    }

    private static String clockTime(Duration elapsed) {
        long seconds = elapsed.toSeconds();
        return String.format(Locale.ROOT, "%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60);
    }

    private static Duration positive(String text, String option) {
        Duration value = Durations.parse(text, option);
        if (value.isZero()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read " + option + " '" + text + "'", "it must be longer than 0")
                    .withHint("write it like 90s, 15m or 2h");
        }
        return value;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }
}
