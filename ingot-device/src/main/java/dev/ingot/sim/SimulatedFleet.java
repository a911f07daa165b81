package dev.ingot.sim;

import static java.util.Objects.requireNonNull;

import dev.ingot.agent.Agent;
import dev.ingot.agent.AgentSettings;
import dev.ingot.agent.AgentState;
import dev.ingot.agent.ControlPlane;
import dev.ingot.agent.HttpControlPlane;
import dev.ingot.agent.Timings;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.ActionState;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthReport;
import dev.ingot.image.ImageVersion;
import dev.ingot.progress.Progress;
import dev.ingot.registry.RegistryLogin;
import dev.ingot.site.AgentConfig;
import dev.ingot.site.ContainerImage;
import dev.ingot.site.Secret;
import dev.ingot.site.SiteId;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Many simulated devices in one process ({@code ingot sim}), each the real {@link Agent} over a {@link SimulatedHost},
 * talking to a real control plane through {@link HttpControlPlane}. No process or thread per device: one scheduler
 * thread keeps every device's next wake-up, and each wake-up (a tick of the device's agent, a boot) runs on a virtual
 * thread, so that ten thousand devices poll at the server's interval with its jitter from one JVM. A device's
 * wake-ups never overlap: the next is scheduled when one ends.
 *
 * <p>Each device enrolls with a one-time token of its site, asked for when it enrolls ({@link EnrollmentTokens}: the
 * operator API). A re-image fetches the release's signed manifest through the control plane's download endpoint with
 * the device's credential (a few kilobytes; the slot's bytes are simulated), so that every device exercises the
 * credential, the release lookup and the download path without moving an image per device.
 */
public final class SimulatedFleet implements AutoCloseable {
    /** The most devices one simulation runs. */
    public static final int MAX_DEVICES = 100_000;

    private final Options options;
    private final URI server;
    private final HttpClient http;
    private final EnrollmentTokens tokens;
    private final Clock clock;
    private final Consumer<String> log;
    private final List<Member> members = new ArrayList<>();
    private final ScheduledExecutorService timer;
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
    private final Stats stats = new Stats();
    private volatile boolean stopped;
    private Instant started;

    /**
     * How the fleet is made up.
     *
     * @param devices how many devices, spread over the sites in turn (device n at site n mod sites)
     * @param sites how many sites ({@link #siteId}: SITE-0001, SITE-0002, …)
     * @param version the golden image every device starts on (slot a, committed)
     * @param videoIngest the site parameter video_ingest_image: the repository, and the tag every device starts with
     * @param failures what goes wrong on which site
     * @param bootTime from power-on to the agent running
     * @param rampUp the first wake-ups (and so the enrollments) are spread over this long
     * @param timings the agent's windows (shorter ones let a demo show a fall-back in minutes)
     * @param seed for the agents' jitter and the ramp-up
     */
    public record Options(int devices, int sites, ImageVersion version, ContainerImage videoIngest, Map<SiteId, Set<SimulatedFailure>> failures,
            Duration bootTime, Duration rampUp, Timings timings, long seed) {
        public Options {
            requireNonNull(version, "version");
            requireNonNull(videoIngest, "videoIngest");
            failures = Map.copyOf(failures);
            requireNonNull(bootTime, "bootTime");
            requireNonNull(rampUp, "rampUp");
            requireNonNull(timings, "timings");
            if (devices < 1 || devices > MAX_DEVICES) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "simulate " + devices + " devices", "a simulation runs 1 to " + MAX_DEVICES);
            }
            if (sites < 1 || sites > devices) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "spread " + devices + " devices over " + sites + " sites",
                        "there are 1 to " + devices + " sites (each has at least one device)");
            }
            List<SiteId> fleetSites = siteIds(sites);
            for (SiteId site : failures.keySet()) {
                if (!fleetSites.contains(site)) {
                    throw IngotException.tried(ErrorCode.BAD_INPUT, "make " + site + " fail", "the simulation's sites are "
                            + fleetSites.getFirst() + " to " + fleetSites.getLast()).withHint("name one of them in --fail");
                }
            }
            if (bootTime.isNegative() || rampUp.isNegative()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "simulate the fleet", "the boot time and the ramp-up are not negative");
            }
        }
    }

    /** Issues a fresh one-time enrollment token of a site: the operator API's {@code POST /api/v1/sites/{id}/enrollment-tokens}. */
    @FunctionalInterface
    public interface EnrollmentTokens {
        /** A site's token, which enrolls a machine id the control plane does not know yet. */
        Secret issue(SiteId site);

        /**
         * A token made for one machine id ({@code "device_id"} in the same request), which also re-enrolls it when the control plane
         * knows it already (a second run of the same fleet): a site's token enrolls new devices only. By default the site's token.
         */
        default Secret issue(SiteId site, DeviceId device) {
            return issue(site);
        }
    }

    /** One device of the fleet, with what the status line counts, written after each of its wake-ups. */
    private static final class Member {
        final SiteId site;
        final SimulatedHost host;
        SimulatedDevice device;
        volatile ImageVersion version;
        volatile Optional<String> tag;
        volatile boolean enrolled;
        volatile boolean busy;

        Member(SiteId site, SimulatedHost host) {
            this.site = site;
            this.host = host;
            this.version = host.runningVersion();
            this.tag = host.runningTag();
        }
    }

    /** @param log where the devices' agents log (prefixed with the site and device), for --verbose; otherwise dropped */
    public SimulatedFleet(Options options, URI server, HttpClient http, EnrollmentTokens tokens, Clock clock, Consumer<String> log) {
        this.options = requireNonNull(options, "options");
        this.server = requireNonNull(server, "server");
        this.http = requireNonNull(http, "http");
        this.tokens = requireNonNull(tokens, "tokens");
        this.clock = requireNonNull(clock, "clock");
        this.log = requireNonNull(log, "log");
        // Checked once here rather than by every device on its first enrollment.
        new HttpControlPlane(server, http);
        this.timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("ingot-sim-timer").daemon().factory());
        List<SiteId> sites = siteIds(options.sites());
        SplittableRandom seeds = new SplittableRandom(options.seed());
        Map<SiteId, AgentConfig.Document> configs = new java.util.HashMap<>();
        for (int n = 0; n < options.devices(); n++) {
            SiteId site = sites.get(n % sites.size());
            SimulatedHost host = new SimulatedHost(site, n + 1, clock, options.version(), options.videoIngest(),
                    options.failures().getOrDefault(site, Set.of())).everyTagPublished();
            Member member = new Member(site, host);
            AgentConfig.Document config = configs.computeIfAbsent(site, id -> new AgentConfig.Document(id, Optional.empty(), "us-east-1",
                    Optional.of(server), Optional.of(AgentConfig.TOKEN_PATH), Optional.of(options.videoIngest()), Optional.empty()));
            DeviceId machineId = SimulatedHealth.machineId(site, n + 1);
            AgentSettings settings = new AgentSettings(config, () -> Optional.of(tokens.issue(site, machineId)), "the operator API (ingot sim)");
            SplittableRandom random = seeds.split();
            String prefix = site + " #" + (n + 1) + ": ";
            member.device = new SimulatedDevice(host, running -> process(running, settings, random.split(), prefix), options.bootTime());
            members.add(member);
        }
    }

    /** The sites of a fleet of {@code count} sites, in order: SITE-0001, … (wider numbers beyond 9999). */
    public static List<SiteId> siteIds(int count) {
        int width = Math.max(4, String.valueOf(count).length());
        List<SiteId> sites = new ArrayList<>(count);
        for (int n = 1; n <= count; n++) {
            sites.add(new SiteId("SITE-" + String.format("%0" + width + "d", n)));
        }
        return sites;
    }

    /** The agent's process of one boot: a new client (it remembers what its polls said, as the process does) and a new agent. */
    private Agent process(SimulatedHost host, AgentSettings settings, SplittableRandom random, String prefix) {
        HttpControlPlane client = new HttpControlPlane(server, http);
        Agent[] agent = new Agent[1];
        host.downloadWith(release -> fetchManifest(client, agent[0], release));
        agent[0] = new Agent(settings, host.agentHost(), new Measured(client), RegistryLogin.NONE, clock, random, options.timings(),
                Progress.NONE, line -> log.accept(prefix + line));
        return agent[0];
    }

    /** The release's signed manifest through the download endpoint, read to its end: the device's part of a re-image's traffic. */
    private void fetchManifest(HttpControlPlane client, Agent agent, ControlPlane.ReleaseDownload release) {
        Secret credential = agent.state().enrollment().map(AgentState.Enrolled::credential)
                .orElseThrow(() -> IngotException.tried(ErrorCode.UNAVAILABLE, "download " + release.version(), "the device is not enrolled"));
        URI manifest = release.files().entrySet().stream().filter(file -> file.getKey().endsWith(".manifest.json")).map(Map.Entry::getValue)
                .findFirst().orElseThrow(() -> IngotException.tried(ErrorCode.UNAVAILABLE, "download release " + release.version(),
                        "the control plane lists no manifest for it"));
        try (HttpControlPlane.Download download = client.download(credential, manifest, 0, Optional.empty()); InputStream body = download.body()) {
            long read = body.transferTo(java.io.OutputStream.nullOutputStream());
            if (download.size() >= 0 && read != download.size()) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "download " + manifest.getPath(), "it ended after " + read + " of "
                        + download.size() + " bytes");
            }
            stats.downloadedBytes.add(read);
            stats.downloads.increment();
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "download " + manifest.getPath(), String.valueOf(e.getMessage())).withCause(e);
        }
    }

    /** Starts every device, their first wake-ups spread over the ramp-up. */
    public synchronized void start() {
        if (started != null) {
            throw new IllegalStateException("the fleet runs already");
        }
        started = clock.instant();
        SplittableRandom random = new SplittableRandom(options.seed() ^ 0x5DEECE66DL);
        long spread = Math.max(1, options.rampUp().toMillis());
        for (Member member : members) {
            schedule(member, Duration.ofMillis(random.nextLong(spread)));
        }
    }

    private void schedule(Member member, Duration delay) {
        if (stopped) {
            return;
        }
        try {
            timer.schedule(() -> workers.execute(() -> wake(member)), Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // Closing: the device is simply not woken again.
        }
    }

    private void wake(Member member) {
        if (stopped) {
            return;
        }
        Duration next;
        try {
            next = member.device.wake();
        } catch (RuntimeException e) {
            stats.wakeErrors.increment();
            log.accept(member.site + ": the device's wake-up failed: " + (e instanceof IngotException ingot ? ingot.oneLine() : e.toString()));
            next = options.timings().pollRetry();
        }
        if (member.host.up()) {
            member.version = member.host.runningVersion();
            member.tag = member.host.runningTag();
            AgentState state = member.device.agent().state();
            member.enrolled = state.enrollment().isPresent();
            member.busy = state.action().isPresent();
        }
        schedule(member, next);
    }

    /** What the fleet has done so far; the counters since the start, the latencies since the last status. */
    public record Status(Instant at, Duration elapsed, int devices, int sites, int enrolled, int busy, long polls, long pollFailures,
            Latency pollLatency, long enrollments, long enrollmentFailures, long reports, long reportFailures, long downloads,
            long downloadedBytes, long wakeErrors, Map<ActionState, Long> outcomes, Map<String, Integer> versions,
            Map<String, Integer> tags) {}

    /** Poll round trips in one interval, in milliseconds: the HTTP call, the report written, the answer read. */
    public record Latency(long count, double p50, double p90, double p99, double max) {}

    /** A status line's worth; the latencies are those since the previous call. */
    public Status status() {
        Map<String, Integer> versions = new TreeMap<>();
        Map<String, Integer> tags = new TreeMap<>();
        int enrolled = 0;
        int busy = 0;
        for (Member member : members) {
            versions.merge(member.version.toString(), 1, Integer::sum);
            tags.merge(member.tag.orElse("(none)"), 1, Integer::sum);
            enrolled += member.enrolled ? 1 : 0;
            busy += member.busy ? 1 : 0;
        }
        Histogram latencies = stats.pollLatency.getIntervalHistogram();
        Latency latency = new Latency(latencies.getTotalCount(), millis(latencies.getValueAtPercentile(50)),
                millis(latencies.getValueAtPercentile(90)), millis(latencies.getValueAtPercentile(99)), millis(latencies.getMaxValue()));
        Map<ActionState, Long> outcomes = new EnumMap<>(ActionState.class);
        stats.outcomes.forEach((state, count) -> outcomes.put(state, count.sum()));
        Instant now = clock.instant();
        return new Status(now, started == null ? Duration.ZERO : Duration.between(started, now), members.size(), options.sites(), enrolled, busy,
                stats.polls.sum(), stats.pollFailures.sum(), latency, stats.enrollments.sum(), stats.enrollmentFailures.sum(), stats.reports.sum(),
                stats.reportFailures.sum(), stats.downloads.sum(), stats.downloadedBytes.sum(), stats.wakeErrors.sum(), outcomes, versions, tags);
    }

    private static double millis(long micros) {
        return micros / 1000.0;
    }

    /** Stops waking devices and waits (up to 30 s) for the wake-ups under way. */
    @Override
    public void close() {
        stopped = true;
        timer.shutdownNow();
        workers.shutdown();
        try {
            workers.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The fleet's counters, shared by every device's client. */
    private static final class Stats {
        final LongAdder polls = new LongAdder();
        final LongAdder pollFailures = new LongAdder();
        /** Microseconds, up to a minute, three significant digits. */
        final Recorder pollLatency = new Recorder(60_000_000L, 3);
        final LongAdder enrollments = new LongAdder();
        final LongAdder enrollmentFailures = new LongAdder();
        final LongAdder reports = new LongAdder();
        final LongAdder reportFailures = new LongAdder();
        final LongAdder downloads = new LongAdder();
        final LongAdder downloadedBytes = new LongAdder();
        final LongAdder wakeErrors = new LongAdder();
        final Map<ActionState, LongAdder> outcomes = new EnumMap<>(ActionState.class);

        Stats() {
            for (ActionState state : ActionState.terminalStates()) {
                outcomes.put(state, new LongAdder());
            }
        }
    }

    /** A device's client, counted: every call, every failure, each poll's round trip, each outcome the control plane took. */
    private final class Measured implements ControlPlane {
        private final ControlPlane client;

        Measured(ControlPlane client) {
            this.client = client;
        }

        @Override
        public Enrollment enroll(EnrollmentRequest request) {
            try {
                Enrollment enrollment = client.enroll(request);
                stats.enrollments.increment();
                return enrollment;
            } catch (IngotException e) {
                stats.enrollmentFailures.increment();
                throw e;
            }
        }

        @Override
        public PollAnswer poll(Secret credential, HealthReport report, long knownGeneration) {
            long start = System.nanoTime();
            try {
                PollAnswer answer = client.poll(credential, report, knownGeneration);
                stats.polls.increment();
                stats.pollLatency.recordValue(Math.min(60_000_000L, (System.nanoTime() - start) / 1000));
                return answer;
            } catch (IngotException e) {
                stats.pollFailures.increment();
                throw e;
            }
        }

        @Override
        public void report(Secret credential, ActionReport report) {
            try {
                client.report(credential, report);
                stats.reports.increment();
                if (report.state().terminal()) {
                    stats.outcomes.get(report.state()).increment();
                }
            } catch (IngotException e) {
                stats.reportFailures.increment();
                throw e;
            }
        }
    }
}
