package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.agent.AgentState.Action;
import dev.ingot.agent.AgentState.Container;
import dev.ingot.agent.AgentState.Enrolled;
import dev.ingot.agent.AgentState.Outcome;
import dev.ingot.agent.AgentState.Reboot;
import dev.ingot.agent.AgentState.Reimage;
import dev.ingot.agent.ControlPlane.ActionReport;
import dev.ingot.agent.ControlPlane.Enrollment;
import dev.ingot.agent.ControlPlane.EnrollmentRequest;
import dev.ingot.agent.ControlPlane.PollAnswer;
import dev.ingot.agent.ControlPlane.ReleaseDownload;
import dev.ingot.boot.BootState;
import dev.ingot.boot.Slot;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.DesiredState;
import dev.ingot.fleet.Track;
import dev.ingot.health.HealthReport;
import dev.ingot.image.ImageVersion;
import dev.ingot.progress.Progress;
import dev.ingot.registry.RegistryLogin;
import dev.ingot.site.Secret;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * The device agent: enrolls once, then on every tick finishes what it was doing, polls the control plane with the
 * latest health report, starts the next change the desired state asks for, keeps the USB cache, and sends its
 * progress reports. One action at a time; each of its steps is saved before it is acted on (see {@link AgentState}).
 * What the agent tells the control plane comes from what it finds (boot id, booted and committed slot, health),
 * so a fall-back is never reported as a success. Time comes from the injected clock and waits are returned, not
 * slept, so that tests and the fleet simulation run without waiting.
 */
public final class Agent {
    /** The USB cache keeps this many known-good images (the strategy: the last two). */
    static final int CACHE_KEEPS = 2;
    /** A step loop that keeps asking for more is a bug; stop and come back later rather than spin. */
    private static final int STEPS_PER_TICK = 64;
    /** With no action in flight only polling sets the pace: longer than any poll interval. */
    private static final Duration IDLE = Duration.ofDays(1);

    private final AgentSettings settings;
    private final AgentHost host;
    private final ControlPlane controlPlane;
    private final Clock clock;
    private final RandomGenerator random;
    private final Timings timings;
    private final Consumer<String> log;
    private final ReimageTrack reimage;
    private final ContainerTrack container;
    private final RebootTrack reboot;

    private AgentState state;
    private Optional<DesiredState> desired = Optional.empty();
    private Map<ImageVersion, ReleaseDownload> downloads = Map.of();
    private String lastCacheFailure;

    /** What the agent wants next. */
    public sealed interface Tick {
        /** Come back after this long. */
        record Sleep(Duration duration) implements Tick {}

        /** The device is rebooting: nothing more to do in this boot. */
        record Rebooting() implements Tick {}
    }

    public Agent(AgentSettings settings, AgentHost host, ControlPlane controlPlane, RegistryLogin registry, Clock clock,
            RandomGenerator random, Timings timings, Progress progress, Consumer<String> log) {
        this.settings = requireNonNull(settings, "settings");
        this.host = requireNonNull(host, "host");
        this.controlPlane = requireNonNull(controlPlane, "controlPlane");
        this.clock = requireNonNull(clock, "clock");
        this.random = requireNonNull(random, "random");
        this.timings = requireNonNull(timings, "timings");
        this.log = requireNonNull(log, "log");
        this.reimage = new ReimageTrack(clock, host.boot(), host.fetcher(), host.writer(), host.health(), timings, progress);
        this.container = new ContainerTrack(clock, host.commands(), host.tags(), registry, host.health(), timings,
                settings.config().videoIngestImage());
        this.reboot = new RebootTrack(clock, host.boot(), host.health(), timings);
        this.state = host.store().load();
    }

    /** The state as last saved. */
    public AgentState state() {
        return state;
    }

    /** Ticks until interrupted, sleeping between ticks. */
    public void run(Sleeper sleeper) throws InterruptedException {
        while (!Thread.currentThread().isInterrupted()) {
            switch (tick()) {
                case Tick.Sleep sleep -> sleeper.sleep(sleep.duration());
                // systemd stops the agent on the way down; if the reboot never comes, the next tick asks again.
                case Tick.Rebooting rebooting -> sleeper.sleep(timings.commitWindow());
            }
        }
    }

    public Tick tick() {
        repairBootloader();
        Optional<Secret> credential = state.enrollment().map(Enrolled::credential);
        if (credential.isEmpty()) {
            Optional<Duration> wait = enroll();
            if (wait.isPresent()) {
                return new Tick.Sleep(wait.get());
            }
            credential = state.enrollment().map(Enrolled::credential);
        }
        // Poll first, so that a step that may still be replaced is not taken for a desired state that changed;
        // an action in flight goes on without the control plane (a trial commits or falls back by its own clock).
        HealthReport report = host.health().check();
        Optional<PollAnswer> answer = poll(credential.get(), report);
        if (answer.isPresent()) {
            takeIn(answer.get());
            desired.ifPresent(wanted -> reconcile(wanted, report));
        }
        Step step = advance();
        if (step instanceof Step.Rebooted) {
            return new Tick.Rebooting();
        }
        if (answer.isEmpty()) {
            return new Tick.Sleep(shorter(wait(step), timings.pollRetry()));
        }
        if (state.action().isEmpty()) {
            desired.ifPresent(this::keepCache);
        }
        flush(credential.get());
        Duration jitter = answer.get().jitter();
        long extra = jitter.toMillis() <= 0 ? 0 : random.nextLong(jitter.toMillis() + 1);
        return new Tick.Sleep(shorter(wait(step), answer.get().interval().plusMillis(extra)));
    }

    /**
     * A damaged GRUB environment boots slot a at the next boot, whatever was committed: an older version, or a slot an
     * update left half-written. While the agent runs it knows which slot is committed (the one it booted, or the old
     * slot of a re-image in flight: a fall-back must still find it), and writes it back before anything else happens.
     */
    private void repairBootloader() {
        BootState boot;
        try {
            boot = host.boot().state();
        } catch (IngotException e) {
            return; // the step that needs the bootloader says why
        }
        if (boot.damage().isEmpty()) {
            return;
        }
        Slot committed = state.action().map(action -> switch (action) {
            // After the boot that was to commit, what came up tells: the new slot only if the commit reached GRUB.
            case Reimage update when update.step() instanceof AgentState.ReimageStep.Commit commit
                    && !commit.bootId().equals(boot.bootId()) -> boot.booted();
            case Reimage update -> update.from();
            case Container update -> boot.booted();
            case Reboot update -> boot.booted();
        }).orElse(boot.booted());
        log.accept("the GRUB environment is damaged (" + boot.damage().get() + "); the next boot would take slot a, so slot "
                + committed + " is written back as the committed slot");
        try {
            host.boot().commit(committed);
        } catch (IngotException e) {
            log.accept("the GRUB environment could not be repaired: " + e.oneLine());
        }
    }

    private Optional<PollAnswer> poll(Secret credential, HealthReport report) {
        try {
            return Optional.of(controlPlane.poll(credential, report, desired.map(DesiredState::generation).orElse(-1L)));
        } catch (IngotException e) {
            if (e.code() == ErrorCode.UNAUTHENTICATED) {
                // Revoked, or the device re-enrolled with another credential: this one opens nothing any more. The next tick
                // enrolls again with the token provisioning left (a used one is refused: an operator issues a fresh one).
                log.accept("the control plane refused this device's credential; enrolling again with the token in " + settings.tokenSource()
                        + ": " + e.oneLine());
                save(state.withoutEnrollment());
            } else {
                log.accept("poll failed: " + e.oneLine());
            }
            return Optional.empty();
        }
    }

    private void takeIn(PollAnswer answer) {
        if (answer.desired().isPresent()) {
            desired = answer.desired();
        }
        downloads = answer.downloads();
    }

    private Optional<Duration> enroll() {
        Optional<Secret> token;
        try {
            token = settings.token().get();
        } catch (IngotException e) {
            log.accept("enrollment token: " + e.oneLine());
            return Optional.of(timings.pollRetry());
        }
        if (token.isEmpty()) {
            log.accept("not enrolled and no enrollment token in " + settings.tokenSource() + "; provisioning writes it");
            return Optional.of(timings.pollRetry());
        }
        HealthReport report = host.health().check();
        if (report.findings().device().found().isEmpty()) {
            log.accept("cannot enroll: the device has no machine id yet (" + report.findings().device().failure().orElse("") + ")");
            return Optional.of(timings.pollRetry());
        }
        try {
            Enrollment enrollment = controlPlane.enroll(new EnrollmentRequest(settings.config().site(), token.get(),
                    report.findings().device().found().get()));
            save(state.withEnrollment(new Enrolled(enrollment.deviceId(), enrollment.credential(), clock.instant())));
            log.accept("enrolled as device " + enrollment.deviceId() + " of site " + settings.config().site());
            return Optional.empty();
        } catch (IngotException e) {
            log.accept("enrollment failed: " + e.oneLine());
            // A refused token needs an operator (a new token, provisioned again): ask far less often than when unreachable.
            return Optional.of(e.code() == ErrorCode.UNAVAILABLE ? timings.pollRetry() : timings.pollRetry().multipliedBy(20));
        }
    }

    /** What advancing the action came to. */
    private sealed interface Step {
        /** No action in flight. */
        record Idle() implements Step {}

        /** The action goes on after {@code delay}. */
        record Waiting(Duration delay) implements Step {}

        record Rebooted() implements Step {}
    }

    /** How soon the agent must come back for its action: never sooner than polling asks, with none in flight. */
    private static Duration wait(Step step) {
        return switch (step) {
            case Step.Idle idle -> IDLE;
            case Step.Waiting waiting -> waiting.delay();
            case Step.Rebooted rebooted -> Duration.ZERO;
        };
    }

    /** Takes the in-flight action's steps until it must wait, reboots or ends. */
    private Step advance() {
        for (int steps = 0; steps < STEPS_PER_TICK && state.action().isPresent(); steps++) {
            Action action = state.action().get();
            StepResult result;
            try {
                result = switch (action) {
                    case Reimage update -> reimage.step(update, downloads, this::persist);
                    case Container update -> container.step(update);
                    case Reboot update -> reboot.step(update);
                };
            } catch (IngotException e) {
                // A host call failed (the ESP, a tool): the step stays saved and is taken again later.
                log.accept(action.track().json() + " " + action.target() + ": " + e.oneLine());
                return new Step.Waiting(timings.recheck());
            }
            switch (result) {
                case StepResult.Next next -> persist(next.action());
                case StepResult.Wait wait -> {
                    return new Step.Waiting(wait.delay());
                }
                case StepResult.Reboot restart -> {
                    persist(restart.action());
                    state.enrollment().ifPresent(enrolled -> flush(enrolled.credential()));
                    try {
                        host.commands().reboot();
                        return new Step.Rebooted();
                    } catch (IngotException e) {
                        if (restart.action() instanceof Reimage update && update.reported() == ActionState.REBOOTING) {
                            cancelOnceQuietly();
                        }
                        finish(restart.action(), new StepResult.Done(ActionState.FAILED, Optional.of("the reboot could not be started: "
                                + e.oneLine())));
                    }
                }
                case StepResult.Done done -> finish(action, done);
            }
        }
        return state.action().isPresent() ? new Step.Waiting(timings.recheck()) : new Step.Idle();
    }

    private void cancelOnceQuietly() {
        try {
            host.boot().cancelOnce();
        } catch (IngotException e) {
            log.accept("the one-shot boot could not be dropped: " + e.oneLine());
        }
    }

    /** Takes in a desired state: lifts blocks it no longer names, replaces an action it superseded, starts the next change. */
    private void reconcile(DesiredState wanted, HealthReport report) {
        AgentState updated = state;
        for (Track track : Track.values()) {
            String blocked = updated.blocked().get(track);
            if (blocked != null && !Optional.of(blocked).equals(target(wanted, track))) {
                updated = updated.unblocked(track);
            }
        }
        if (updated != state) {
            save(updated);
        }
        if (state.action().isPresent()) {
            supersede(wanted);
        }
        if (state.action().isPresent()) {
            return;
        }
        nextAction(wanted, report).ifPresent(action -> {
            AgentState started = action instanceof Reboot restart ? state.withRebootRequest(restart.requestId()) : state;
            log.accept("starting " + action.track().json() + " " + action.target() + " (generation " + action.generation() + ")");
            state = started;
            persist(action);
        });
    }

    private static Optional<String> target(DesiredState wanted, Track track) {
        return switch (track) {
            case REIMAGE -> wanted.image().map(ImageVersion::toString);
            case CONTAINER -> wanted.containerTag();
            case REBOOT -> wanted.rebootRequest();
        };
    }

    private void supersede(DesiredState wanted) {
        Action action = state.action().get();
        boolean replaced = switch (action) {
            case Reimage update -> ReimageTrack.supersedable(update) && !wanted.image().equals(Optional.of(update.version()));
            case Container update -> ContainerTrack.supersedable(update) && !wanted.containerTag().equals(Optional.of(update.tag()));
            case Reboot update -> false;
        };
        if (replaced) {
            finish(action, StepResult.Done.failed("superseded by generation " + wanted.generation() + " before anything was switched"));
        }
    }

    /** The first change the desired state asks for that is not done, not blocked, and can start now. */
    private Optional<Action> nextAction(DesiredState wanted, HealthReport report) {
        Optional<ImageVersion> running = report.findings().image().found().map(HealthReport.ImageInfo::version);
        if (wanted.image().isPresent() && running.isPresent()) {
            ImageVersion version = wanted.image().get();
            BootState boot = host.boot().state();
            if (running.get().equals(version) && !boot.onTrial()) {
                alreadyThere(Track.REIMAGE, wanted.generation(), version.toString());
            } else if (!isBlocked(Track.REIMAGE, version.toString()) && downloads.containsKey(version) && !boot.onTrial()) {
                return Optional.of(reimage.start(wanted.generation(), version, boot));
            }
        }
        if (wanted.containerTag().isPresent()) {
            String tag = wanted.containerTag().get();
            if (container.configuredTag().equals(Optional.of(tag))) {
                alreadyThere(Track.CONTAINER, wanted.generation(), tag);
            } else if (!isBlocked(Track.CONTAINER, tag)) {
                return Optional.of(container.start(wanted.generation(), tag));
            }
        }
        if (wanted.rebootRequest().isPresent() && !state.rebootRequests().contains(wanted.rebootRequest().get())) {
            return Optional.of(reboot.start(wanted.generation(), wanted.rebootRequest().get()));
        }
        return Optional.empty();
    }

    private boolean isBlocked(Track track, String target) {
        return target.equals(state.blocked().get(track));
    }

    /** The device already runs the target: tell the control plane once, so that a rollout counts it. */
    private void alreadyThere(Track track, long generation, String target) {
        Outcome last = state.outcomes().get(track);
        if (last != null && last.target().equals(target) && last.state() == ActionState.COMMITTED) {
            return;
        }
        Outcome outcome = new Outcome(track, generation, target, ActionState.COMMITTED, Optional.of("already runs " + target), clock.instant());
        save(state.finished(outcome).queued(report(outcome)));
    }

    /** Saves the action's next step, and queues a report when the state the control plane knows changes. */
    private void persist(Action next) {
        Optional<Action> previous = state.action();
        AgentState updated = state.withAction(next);
        boolean sameAction = previous.isPresent() && previous.get().track() == next.track() && previous.get().generation() == next.generation()
                && previous.get().target().equals(next.target());
        if (!sameAction || previous.get().reported() != next.reported()) {
            if (sameAction && !previous.get().reported().mayMoveTo(next.reported())) {
                throw new IllegalStateException("an action never moves back: " + previous.get().reported() + " → " + next.reported());
            }
            updated = updated.queued(new ActionReport(next.track(), next.generation(), next.target(), next.reported(), Optional.empty(),
                    clock.instant()));
        }
        save(updated);
    }

    private void finish(Action action, StepResult.Done done) {
        Outcome outcome = new Outcome(action.track(), action.generation(), action.target(), done.state(), done.reason(), clock.instant());
        log.accept(action.track().json() + " " + action.target() + ": " + done.state().json() + done.reason().map(reason -> " (" + reason + ")").orElse(""));
        save(state.finished(outcome).queued(report(outcome)));
    }

    private static ActionReport report(Outcome outcome) {
        return new ActionReport(outcome.track(), outcome.generation(), outcome.target(), outcome.state(), outcome.reason(), outcome.at());
    }

    private void keepCache(DesiredState wanted) {
        List<ImageVersion> versions = wanted.knownGood().stream().distinct().limit(CACHE_KEEPS).toList();
        if (versions.isEmpty()) {
            return;
        }
        try {
            // As sets: the cache lists newest first, the control plane in its own order; compared as lists, a list that is not
            // newest first had every idle tick verify each cached image in full again.
            if (!Set.copyOf(host.cache().cached()).equals(Set.copyOf(versions))) {
                host.cache().keep(versions);
            }
        } catch (IngotException e) {
            // Every idle tick tries again; the log says so once per distinct failure, not once a minute.
            String line = "the USB cache could not be brought to " + versions + ": " + e.oneLine();
            if (!line.equals(lastCacheFailure)) {
                log.accept(line);
                lastCacheFailure = line;
            }
            return;
        }
        lastCacheFailure = null;
    }

    /** Sends the queued reports in order; stops at the first that does not go through and keeps it for later. */
    private void flush(Secret credential) {
        int sent = 0;
        for (ActionReport report : state.outbox()) {
            try {
                controlPlane.report(credential, report);
                sent++;
            } catch (IngotException e) {
                if (!refusedForGood(e.code())) {
                    log.accept("report of " + report.track().json() + " " + report.target() + " not sent yet: " + e.oneLine());
                    break;
                }
                // CONFLICT: the control plane holds a later state of this action (a report sent again after a crash lost its
                // acknowledgement, or the action was superseded there); the later state is the truth. NOT_FOUND, FORBIDDEN
                // and BAD_INPUT: sending it again would be refused the same way, and would hold up every report after it.
                log.accept("report of " + report.track().json() + " " + report.target() + " " + report.state().json()
                        + " dropped, the control plane refused it: " + e.oneLine());
                sent++;
            }
        }
        if (sent > 0) {
            save(state.sent(sent));
        }
    }

    /** Whether a refused report would be refused again, whenever it is sent: then it is dropped. */
    private static boolean refusedForGood(ErrorCode code) {
        return switch (code) {
            case CONFLICT, NOT_FOUND, FORBIDDEN, BAD_INPUT, CHECK_FAILED -> true;
            case UNAVAILABLE, INTERNAL, UNAUTHENTICATED -> false;
        };
    }

    private void save(AgentState updated) {
        host.store().save(updated);
        state = updated;
    }

    private static Duration shorter(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
