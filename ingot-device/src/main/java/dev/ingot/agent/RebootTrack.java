package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.agent.AgentState.Reboot;
import dev.ingot.agent.AgentState.RebootStep;
import dev.ingot.agent.StepResult.Done;
import dev.ingot.agent.StepResult.Next;
import dev.ingot.agent.StepResult.Wait;
import dev.ingot.boot.BootControl;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A reboot an operator asked for (the patch track: unattended-upgrades installs security updates and never
 * reboots). One reboot per request id: the id is remembered from the moment the request is taken, and the boot id
 * tells a reboot that happened from an agent that merely restarted. Back up, the device must pass its health check.
 */
final class RebootTrack {
    private final Clock clock;
    private final BootControl boot;
    private final HealthProbe health;
    private final Timings timings;

    RebootTrack(Clock clock, BootControl boot, HealthProbe health, Timings timings) {
        this.clock = requireNonNull(clock, "clock");
        this.boot = requireNonNull(boot, "boot");
        this.health = requireNonNull(health, "health");
        this.timings = requireNonNull(timings, "timings");
    }

    Reboot start(long generation, String requestId) {
        return new Reboot(generation, requestId, clock.instant(), new RebootStep.Restart(boot.state().bootId()));
    }

    StepResult step(Reboot action) {
        Instant now = clock.instant();
        return switch (action.step()) {
            case RebootStep.Restart restart -> boot.state().bootId().equals(restart.bootId()) ? new StepResult.Reboot(action)
                    : new Next(action.at(new RebootStep.Confirm(now.plus(timings.rebootWindow()))));
            case RebootStep.Confirm confirm when Timings.clockWentBack(confirm.deadline(), now, timings.rebootWindow()) ->
                    new Next(action.at(new RebootStep.Confirm(now.plus(timings.rebootWindow()))));
            case RebootStep.Confirm confirm -> confirm(confirm, now);
        };
    }

    private StepResult confirm(RebootStep.Confirm confirm, Instant now) {
        Optional<String> problem = CommitCheck.afterReboot(health.check());
        if (problem.isEmpty()) {
            return Done.committed("rebooted and healthy");
        }
        if (!now.isBefore(confirm.deadline())) {
            return Done.failed("rebooted but not healthy within " + Timings.describe(timings.rebootWindow()) + ": " + problem.get());
        }
        Duration left = Duration.between(now, confirm.deadline());
        return new Wait(left.compareTo(timings.recheck()) < 0 ? left : timings.recheck());
    }
}
