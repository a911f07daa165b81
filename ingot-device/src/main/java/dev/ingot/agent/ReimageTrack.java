package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.agent.AgentState.Action;
import dev.ingot.agent.AgentState.Reimage;
import dev.ingot.agent.AgentState.ReimageStep;
import dev.ingot.agent.ControlPlane.ReleaseDownload;
import dev.ingot.agent.StepResult.Done;
import dev.ingot.agent.StepResult.Next;
import dev.ingot.agent.StepResult.Wait;
import dev.ingot.boot.BootControl;
import dev.ingot.boot.BootState;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.ImageVersion;
import dev.ingot.progress.Progress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The A/B update, one persisted step at a time (docs/agent.md has the table). The running slot is never written
 * and never loses its place as the default before the new slot has booted and passed its health check; the
 * bootloader's one-shot boot brings the old slot back by itself after any failure in between. Every step decides
 * from what it finds (the boot id, the booted and the committed slot), never from what it expected.
 */
final class ReimageTrack {
    private final Clock clock;
    private final BootControl boot;
    private final SlotPayloadFetcher fetcher;
    private final SlotWriter writer;
    private final HealthProbe health;
    private final Timings timings;
    private final Progress progress;
    /** The payload fetched in this process: a write resumed after a restart fetches it again (the fetcher resumes). */
    private Optional<SlotPayload> fetched = Optional.empty();

    ReimageTrack(Clock clock, BootControl boot, SlotPayloadFetcher fetcher, SlotWriter writer, HealthProbe health, Timings timings,
            Progress progress) {
        this.clock = requireNonNull(clock, "clock");
        this.boot = requireNonNull(boot, "boot");
        this.fetcher = requireNonNull(fetcher, "fetcher");
        this.writer = requireNonNull(writer, "writer");
        this.health = requireNonNull(health, "health");
        this.timings = requireNonNull(timings, "timings");
        this.progress = requireNonNull(progress, "progress");
    }

    Reimage start(long generation, ImageVersion version, BootState state) {
        return new Reimage(generation, version, state.booted(), state.inactive(), clock.instant(), new ReimageStep.Fetch(0, Optional.empty()));
    }

    /** Whether a newer desired state may replace this action: only before anything touched the bootloader. */
    static boolean supersedable(Reimage action) {
        return action.step() instanceof ReimageStep.Fetch || action.step() instanceof ReimageStep.Write;
    }

    StepResult step(Reimage action, Map<ImageVersion, ReleaseDownload> downloads, Consumer<Action> persist) {
        BootState state = boot.state();
        Instant now = clock.instant();
        return switch (action.step()) {
            case ReimageStep.Fetch fetch -> fetch(action, fetch, downloads, now);
            case ReimageStep.Write write -> write(action, write, state, downloads, persist);
            case ReimageStep.Written written -> new Next(action.at(new ReimageStep.Restart(state.bootId(), false, 1)));
            case ReimageStep.Restart restart -> restart(action, restart, state, now);
            case ReimageStep.Trial trial -> trial(action, trial, state, now);
            case ReimageStep.Commit commit -> commit(action, commit, state);
            case ReimageStep.FallBack fallBack -> fallBack(action, fallBack, state);
        };
    }

    private StepResult fetch(Reimage action, ReimageStep.Fetch fetch, Map<ImageVersion, ReleaseDownload> downloads, Instant now) {
        if (fetch.notBefore().isPresent() && now.isBefore(fetch.notBefore().get())) {
            return new Wait(Duration.between(now, fetch.notBefore().get()));
        }
        ReleaseDownload download = downloads.get(action.version());
        if (download == null) {
            return new Wait(timings.recheck()); // the next poll answer brings the download
        }
        try {
            fetched = Optional.of(fetcher.fetch(download, progress));
        } catch (IngotException e) {
            int attempts = fetch.attempts() + 1;
            if (e.code() == ErrorCode.UNAVAILABLE && attempts < timings.attempts()) {
                return new Next(action.at(new ReimageStep.Fetch(attempts, Optional.of(now.plus(timings.retry().multipliedBy(1L << (attempts - 1)))))));
            }
            return Done.failed("the slot payload of " + action.version() + " could not be fetched" + (attempts > 1 ? " (" + attempts
                    + " attempts)" : "") + ": " + e.oneLine());
        }
        return new Next(action.at(new ReimageStep.Write(0)));
    }

    private StepResult write(Reimage action, ReimageStep.Write write, BootState state, Map<ImageVersion, ReleaseDownload> downloads,
            Consumer<Action> persist) {
        if (state.booted() != action.from()) {
            return Done.failed("the device now runs slot " + state.booted() + "; the update was to write slot " + action.to()
                    + " from slot " + action.from());
        }
        if (state.committed() == action.to()) {
            return Done.failed("slot " + action.to() + " is the boot default; the running slot " + state.booted()
                    + " is on trial, and a default slot is never written");
        }
        // A one-shot boot left from elsewhere would boot a half-written slot after a power cut.
        boot.cancelOnce();
        SlotPayload payload;
        if (fetched.isPresent() && fetched.get().version().equals(action.version())) {
            payload = fetched.get();
        } else {
            ReleaseDownload download = downloads.get(action.version());
            if (download == null) {
                return new Wait(timings.recheck());
            }
            try {
                payload = fetcher.fetch(download, progress);
                fetched = Optional.of(payload);
            } catch (IngotException e) {
                return Done.failed("the slot payload of " + action.version() + " could not be fetched again to resume the write: " + e.oneLine());
            }
        }
        try {
            writer.write(payload, action.to(), write.position(), position -> persist.accept(action.at(new ReimageStep.Write(position))), progress);
        } catch (IngotException e) {
            return Done.failed("writing " + action.version() + " into slot " + action.to() + " (" + action.to().partitionLabel() + ") failed: "
                    + e.oneLine() + "; slot " + action.from() + " keeps running and stays the default");
        }
        return new Next(action.at(new ReimageStep.Written()));
    }

    private StepResult restart(Reimage action, ReimageStep.Restart restart, BootState state, Instant now) {
        if (state.bootId().equals(restart.bootId())) {
            if (!restart.oneShotSet()) {
                boot.bootOnce(action.to());
                return new Next(action.at(new ReimageStep.Restart(restart.bootId(), true, restart.reboots())));
            }
            return new StepResult.Reboot(action);
        }
        if (state.booted() == action.to()) {
            return new Next(action.at(new ReimageStep.Trial(state.bootId(), now.plus(timings.commitWindow()))));
        }
        if (!restart.oneShotSet()) {
            // The device restarted before the bootloader was told: slot b was never tried, so this is no fall-back.
            if (restart.reboots() < timings.reboots()) {
                return new Next(action.at(new ReimageStep.Restart(state.bootId(), false, restart.reboots() + 1)));
            }
            return Done.failed("the device restarted " + restart.reboots() + " times before slot " + action.to() + " could be tried");
        }
        return Done.rolledBack("slot " + action.to() + " (" + action.version() + ") was booted once, but the device came back on slot "
                + state.booted() + " before the agent saw slot " + action.to() + " running: it did not come up, or the device restarted"
                + " first; slot " + state.booted() + " booted again");
    }

    private StepResult trial(Reimage action, ReimageStep.Trial trial, BootState state, Instant now) {
        if (!state.bootId().equals(trial.bootId())) {
            return Done.rolledBack("the device restarted during the trial of slot " + action.to() + " (" + action.version()
                    + "), before the commit (power loss, a crash or the watchdog); slot " + state.booted() + " booted again");
        }
        if (Timings.clockWentBack(trial.deadline(), now, timings.commitWindow())) {
            return new Next(action.at(new ReimageStep.Trial(trial.bootId(), now.plus(timings.commitWindow()))));
        }
        Optional<String> problem = CommitCheck.trial(health.check(), action.version(), action.to());
        if (problem.isEmpty()) {
            return new Next(action.at(new ReimageStep.Commit(trial.bootId())));
        }
        if (!now.isBefore(trial.deadline())) {
            return new Next(action.at(new ReimageStep.FallBack(trial.bootId(), "slot " + action.to() + " with " + action.version()
                    + " was not healthy within " + Timings.describe(timings.commitWindow()) + ": " + problem.get())));
        }
        Duration left = Duration.between(now, trial.deadline());
        return new Wait(left.compareTo(timings.recheck()) < 0 ? left : timings.recheck());
    }

    private StepResult commit(Reimage action, ReimageStep.Commit commit, BootState state) {
        if (!state.bootId().equals(commit.bootId()) && state.committed() != action.to()) {
            return Done.rolledBack("the device restarted before the commit of slot " + action.to() + " reached the bootloader; slot "
                    + state.booted() + " booted again");
        }
        boot.commit(action.to());
        return Done.committed("slot " + action.to() + " (" + action.version() + ") is the default now");
    }

    private StepResult fallBack(Reimage action, ReimageStep.FallBack fallBack, BootState state) {
        if (state.bootId().equals(fallBack.bootId())) {
            boot.cancelOnce();
            return new StepResult.Reboot(action);
        }
        if (state.booted() == action.from() && state.committed() == action.from()) {
            return Done.rolledBack(fallBack.reason() + "; slot " + action.from() + " booted again");
        }
        return Done.failed(fallBack.reason() + "; after the reboot slot " + state.booted() + " runs and slot " + state.committed()
                + " is the default");
    }
}
