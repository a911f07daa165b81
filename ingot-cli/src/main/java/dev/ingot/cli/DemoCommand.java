package dev.ingot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.Track;
import dev.ingot.rollout.DurationText;
import dev.ingot.rollout.Plan;
import dev.ingot.rollout.RolloutId;
import dev.ingot.sim.SimulatedFailure;
import dev.ingot.site.SiteId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo",
        header = "Everything on one machine: a control plane, 50 simulated sites and a staged rollout to watch.",
        description = {"One command, no cloud account: a control plane on embedded defaults (SQLite and a store folder),",
            "two small golden images published with a fresh demo signing key, a simulated fleet of 50 sites (the real",
            "device agent over a simulated host, polling the server over HTTP), and a staged rollout you can watch on",
            "the dashboard (its link comes first). Fast by default: devices poll every 2 s and each stage soaks 20 s",
            "(a real fleet: 60 s and 30 min).",
            "",
            "Scenarios: good (v1.5 reaches every site, stage by stage), bad-canary (the canary site cannot take it:",
            "the rollout halts with only the canary touched), bad-stage (a site of the 10%% stage cannot: that stage",
            "is rolled back and the other 90%% never get it). With --json the scenario runs to its end without a",
            "browser and prints the outcome."},
        footer = {"", "Examples:", "  ingot demo", "  ingot demo --scenario bad-stage", "  ingot demo --scenario bad-canary --track container --json",
            "  ingot demo --dir ./demo-fleet --port 8080", "",
            "Exit codes: 0 the scenario ended as it must (with --json), 1 it did not, 2 bad input, 3 the demo could not start."})
final class DemoCommand extends BaseCommand {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

    @Option(names = "--scenario", paramLabel = "NAME", defaultValue = "good", description = "good, bad-canary or bad-stage. Default: ${DEFAULT-VALUE}.")
    String scenario;

    @Option(names = "--track", paramLabel = "TRACK", defaultValue = "reimage",
            description = "reimage (v1.4 → v1.5) or container (video-ingest 2.8.1 → 2026.11.3). Default: ${DEFAULT-VALUE}.")
    String track;

    @Option(names = "--sites", paramLabel = "N", defaultValue = "50", description = "Simulated sites, one device each. Default: ${DEFAULT-VALUE}.")
    int sites;

    @Option(names = "--soak", paramLabel = "DURATION", defaultValue = "20s", description = "How long each stage soaks. Default: ${DEFAULT-VALUE}.")
    String soak;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where the demo keeps its database, store and key. Default: a new temporary folder.")
    Path dir;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "0", description = "The server's port on 127.0.0.1. Default: any free port.")
    int port;

    @Option(names = "--stop", description = "Without --json: stop when the rollout ends instead of serving the dashboard until Ctrl-C.")
    boolean stop;

    DemoCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() throws InterruptedException, IOException {
        Demo.Scenario chosen = Demo.Scenario.parse(scenario);
        Track onTrack = switch (track) {
            case "reimage" -> Track.REIMAGE;
            case "container" -> Track.CONTAINER;
            default -> throw IngotException.tried(ErrorCode.BAD_INPUT, "run the demo on the track '" + track + "'",
                    "the demo rolls out on reimage or container").withHint("the reboot track: ingot rollout start --track reboot --devices …");
        };
        if (sites < 10 || sites > 1000) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "simulate " + sites + " sites", "the demo runs 10 to 1000 sites")
                    .withHint("ingot sim runs larger fleets against a server of your own");
        }
        if (port < 0 || port > 65535) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "serve the demo on port " + port, "a port is 0 to 65535")
                    .withHint("leave --port out for any free port");
        }
        Duration soakTime = DurationText.parse(soak, "--soak");
        if (dir != null && Files.exists(context.resolve(dir)) && !Files.isDirectory(context.resolve(dir))) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "keep the demo in " + context.resolve(dir), "it is a file, not a folder")
                    .withHint("name a new or existing folder, or leave --dir out for a temporary one");
        }
        Demo.Pace pace = new Demo.Pace(Demo.Pace.DEMO.poll(), Demo.Pace.DEMO.step(), soakTime, Demo.Pace.DEMO.boot(), Demo.Pace.DEMO.commitWindow(),
                Demo.Pace.DEMO.rampUp(), Demo.Pace.DEMO.deviceDeadline());
        Path folder = dir != null ? context.resolve(dir) : Files.createTempDirectory("ingot-demo-");
        // The fleet lives in real time against a real server: the demo's clock is the system's, whatever the context's.
        Clock clock = Clock.systemUTC();
        RolloutId id = Demo.newId(chosen, onTrack);
        Instant started = clock.instant();
        Plan plan = Demo.plan(id, onTrack, sites, started);
        Map<SiteId, Set<SimulatedFailure>> failures = Demo.failures(chosen, onTrack, plan);

        // The demo's output is the rollout; the server's request log (INFO, logback.xml) would bury it. Warnings still show.
        if (org.slf4j.LoggerFactory.getLogger("dev.ingot.server") instanceof ch.qos.logback.classic.Logger server) {
            server.setLevel(ch.qos.logback.classic.Level.WARN);
        }
        Demo demo;
        try {
            demo = Demo.start(folder, port, pace, clock);
        } catch (IngotException e) {
            if (dir == null) {
                try {
                    ImageBuildCommands.deleteTree(folder); // nothing in it is worth keeping when the demo never started
                } catch (IOException leftOver) {
                    e.addSuppressed(leftOver);
                }
            }
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            demo.close();
            stopped.countDown();
        }, "ingot-demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean keepServing = !json() && !stop;
        try {
            String dashboard = demo.url() + "/ui/rollouts/" + id;
            if (!json()) {
                context.out().println("Dashboard: " + dashboard);
                context.out().println("  sign in with the admin token " + demo.adminToken());
                context.out().println("  or in a terminal: export INGOT_SERVER=" + demo.url() + " INGOT_TOKEN=" + demo.adminToken()
                        + "; ingot rollout status " + id);
                context.out().println("Demo folder " + folder + "; " + pace.describe() + ".");
                context.out().flush();
            } else {
                progress("Dashboard: " + dashboard + " (admin token " + demo.adminToken() + ")");
            }
            demo.publish(this::progress);
            progress("Starting " + sites + " simulated sites (one device each, on " + (onTrack == Track.CONTAINER ? "video-ingest " + Demo.FROM_TAG
                    : Demo.FROM.toString()) + ")" + (failures.isEmpty() ? "" : "; " + String.join(", ", failures.keySet().stream().map(SiteId::value).toList())
                    + " cannot take the change") + "…");
            demo.startFleet(sites, failures, Demo.seed(chosen));
            demo.awaitReports(sites, Duration.ofMinutes(2));
            progress("All " + sites + " devices report. Starting rollout " + id + ": " + (onTrack == Track.CONTAINER ? "video-ingest " + Demo.TO_TAG
                    : Demo.TO.toString()) + " in stages " + Demo.STAGES + " (" + plan.stages().stream().map(stage -> String.valueOf(stage.devices().size()))
                    .reduce((a, b) -> a + ", " + b).orElse("") + " devices), gate: health" + (chosen == Demo.Scenario.BAD_STAGE
                    ? ", a failed stage is rolled back" : ", a failed stage halts the rollout") + ".");
            JsonNode begun = demo.startRollout(id, onTrack, chosen);
            checkPlan(begun, plan);
            JsonNode ended = demo.follow(id, Duration.ofMinutes(30), this::entry);
            ObjectNode outcome = demo.outcome(chosen, onTrack, ended, plan, failures, Duration.between(started, clock.instant()));
            boolean asExpected = outcome.path("as_expected").asBoolean();
            if (json()) {
                JsonOutput.print(context.out(), outcome);
            } else {
                context.out().println();
                context.out().print(RolloutCommand.statusText(ended));
                context.out().println("Outcome: " + outcome.path("state").asText() + " after " + outcome.path("took_seconds").asLong() + " s, "
                        + outcome.path("stages_reached").asInt() + " of " + plan.stages().size() + " stages reached, "
                        + outcome.path("devices_written").asInt() + " of " + outcome.path("devices").asInt() + " devices written"
                        + (asExpected ? " — as the " + chosen.json() + " scenario must end." : " — NOT as the " + chosen.json() + " scenario must end ("
                        + chosen.expected() + ")."));
                if (keepServing) {
                    context.out().println("The dashboard stays up at " + dashboard + "; try another scenario: ingot demo --scenario "
                            + (chosen == Demo.Scenario.GOOD ? "bad-stage" : "good") + ". Stop with Ctrl-C.");
                }
                context.out().flush();
            }
            if (keepServing) {
                stopped.await();
            }
            return asExpected ? 0 : ErrorCode.CHECK_FAILED.exitCode();
        } finally {
            if (!keepServing) {
                boolean shuttingDown = false;
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    shuttingDown = true; // Ctrl-C or a TERM: the hook closes the demo; this must not bury why the run ended
                }
                if (!shuttingDown) {
                    demo.close();
                }
            }
        }
    }

    /** The server planned what the demo computed (the fleet all reported): else the failing site would be in the wrong stage. */
    private static void checkPlan(JsonNode rollout, Plan plan) {
        for (Plan.Stage stage : plan.stages()) {
            java.util.List<String> sites = new java.util.ArrayList<>();
            rollout.path("stages").path(stage.number() - 1).path("sites").forEach(site -> sites.add(site.asText()));
            if (!sites.equals(stage.sites().stream().map(SiteId::value).toList())) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "run the demo's rollout", "the server planned stage " + stage.number()
                        + " differently from the demo (a simulated device had not reported?)").withHint("run the demo again");
            }
        }
    }

    private void entry(JsonNode entry) {
        progress(TIME.format(Instant.parse(entry.path("at").asText())) + "  " + entry.path("event").asText() + ": " + entry.path("detail").asText());
    }

    /** Progress goes to stderr: stdout is the outcome (one JSON document with --json). */
    private void progress(String line) {
        context.err().println(line);
        context.err().flush();
    }
}
