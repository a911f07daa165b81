package dev.ingot.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Drives a rollout over a {@link SimulatedFleet} the way the server will: each tick the fleet polls, then the engine
 * steps (again at once while a step says so), the writes are made, and the rollout is stored — here as its JSON,
 * read back before the next step, so that every step starts from what a restarted server would read.
 */
final class Runner {
    static final Duration TICK = Duration.ofMinutes(1);
    private Duration tick = TICK;

    final SimulatedFleet fleet;
    final RolloutEngine engine;
    Rollout rollout;
    Instant now;
    final List<Decision> decisions = new ArrayList<>();

    /** How the engine dies at {@link #crashAt}: before its transaction committed, or (were writes made outside it) after the writes only. */
    enum Crash {
        BEFORE_COMMIT,
        AFTER_WRITES_ONLY
    }

    private int crashAt = -1;
    private Crash crash;
    private int stepped;

    /** The engine is killed at its {@code step}-th step (counting from 0); it comes back on the next tick from what was stored. */
    Runner crashAt(int step, Crash how) {
        this.crashAt = step;
        this.crash = how;
        return this;
    }

    Runner(Rollout rollout, SimulatedFleet fleet, Instant start, RolloutMachine machine, Function<GateSpec, Gate> gates) {
        this.rollout = rollout;
        this.fleet = fleet;
        this.now = start;
        this.engine = new RolloutEngine(machine, gates);
    }

    Runner(Rollout rollout, SimulatedFleet fleet, Instant start) {
        this(rollout, fleet, start, new RolloutMachine(), Runner::healthOnly);
    }

    static Gate healthOnly(GateSpec spec) {
        return switch (spec) {
            case GateSpec.Health health -> new HealthGate();
            case GateSpec.CloudWatch cloudWatch -> throw new IllegalArgumentException("no CloudWatch in this test");
        };
    }

    /** A longer tick makes a long run cheaper: the devices poll, and the engine steps, that much less often. */
    Runner tickEvery(Duration every) {
        this.tick = every;
        return this;
    }

    /** One tick: the fleet polls, then the engine steps until it says it is done for now. */
    void tick(OperatorCommand... commands) {
        now = now.plus(tick);
        fleet.tick(now);
        List<OperatorCommand> pending = List.of(commands);
        Decision decision;
        do {
            decision = engine.step(rollout, fleet.progress(rollout.watched()), pending, now);
            if (stepped++ == crashAt) {
                if (crash == Crash.AFTER_WRITES_ONLY) {
                    fleet.make(decision.writes());
                }
                return;
            }
            fleet.make(decision.writes());
            // An unchanged rollout is not stored again (the server skips the write too).
            rollout = decision.rollout() == rollout ? rollout : stored(decision.rollout());
            decisions.add(decision);
            pending = List.of();
        } while (decision.again());
    }

    /** Ticks until the rollout is final, or has stood halted for an hour (nothing more happens without an operator). */
    Rollout settle(int maximumTicks) {
        int halted = 0;
        for (int index = 0; index < maximumTicks && !rollout.status().terminal() && halted < 3_600 / tick.toSeconds(); index++) {
            tick();
            halted = rollout.status() instanceof Status.Halted ? halted + 1 : 0;
        }
        return rollout;
    }

    static Rollout stored(Rollout rollout) {
        Rollout read = RolloutJson.read(RolloutJson.write(rollout), "under test");
        assertThat(read).isEqualTo(rollout);
        return read;
    }
}
