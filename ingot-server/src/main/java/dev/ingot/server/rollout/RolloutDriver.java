package dev.ingot.server.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.rollout.Decision;
import dev.ingot.rollout.DeviceProgress;
import dev.ingot.rollout.Rollout;
import dev.ingot.rollout.RolloutEngine;
import dev.ingot.rollout.RolloutId;
import dev.ingot.rollout.RolloutMachine;
import dev.ingot.health.DeviceId;
import dev.ingot.server.fleet.Leases;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rollout engine of one server: among the replicas on one database, the one holding the {@value #LEASE} lease
 * steps every active rollout at each tick, on the injected clock. A step reads the rollout, the progress of the
 * devices it watches and the operator commands waiting, asks {@link RolloutEngine} (the pure machine and the gates),
 * and stores the decision in one transaction ({@link RolloutStore#commit}) behind two guards. The rollout's revision:
 * an engine that acted on an old copy finds it moved and stores nothing. And the lease as a fence
 * ({@link Leases#holdsIn}): a replica paused mid-step past its lease (a long GC, a stopped VM), which read the devices
 * before they turned bad, stores nothing once another replica has taken the lease, even where the revision had not
 * moved yet; the fence compares holders, not clocks, so skewed clocks cannot make two engines act at once.
 */
public final class RolloutDriver implements AutoCloseable {
    public static final String LEASE = "rollout-engine";
    private static final Logger LOG = LoggerFactory.getLogger(RolloutDriver.class);
    /** Steps in a row for one rollout while it says "again" (a large stage written 200 devices a step). */
    private static final int MAX_STEPS_PER_TICK = 1_000;

    private final RolloutStore store;
    private final Leases leases;
    private final RolloutEngine engine;
    private final RolloutSettings settings;
    private final Clock clock;
    private final String holder;
    private final Semaphore wakeups = new Semaphore(0);
    private final Object stepping = new Object();
    private volatile boolean closing;
    private volatile boolean leader;
    private Thread thread;

    RolloutDriver(RolloutStore store, Leases leases, RolloutGates gates, RolloutSettings settings, Clock clock) {
        this.store = requireNonNull(store, "store");
        this.leases = requireNonNull(leases, "leases");
        this.engine = new RolloutEngine(new RolloutMachine(), requireNonNull(gates, "gates"));
        this.settings = requireNonNull(settings, "settings");
        this.clock = requireNonNull(clock, "clock");
        this.holder = holderName();
    }

    /** Starts the background loop, when the settings ask for one. */
    void start() {
        if (settings.loop() && thread == null) {
            thread = Thread.ofPlatform().name("ingot-rollout-engine").daemon(true).start(this::loop);
        }
    }

    /** This replica's name in the lease: host, process and a random part, so two replicas on one host differ. */
    public String holder() {
        return holder;
    }

    /** Whether this replica held the lease at its last tick. */
    public boolean leader() {
        return leader;
    }

    /** Asks the loop to tick now (an operator command is waiting) instead of at the end of its interval. */
    void wake() {
        wakeups.release();
    }

    /**
     * One tick: takes or renews the lease and, as the leader, steps every active rollout until it settles. Returns
     * whether this replica is the leader. A rollout whose step fails (the database away, a bug) is logged and
     * stepped again at the next tick; it does not hold up the others.
     */
    public boolean tick() {
        synchronized (stepping) {
            try {
                leader = leases.acquire(LEASE, holder, settings.leaseTtl());
            } catch (RuntimeException e) {
                leader = false;
                LOG.atWarn().setCause(e).log("could not take the rollout engine's lease");
                return false;
            }
            if (!leader) {
                return false;
            }
            for (RolloutId id : store.active()) {
                if (closing) {
                    break;
                }
                try {
                    for (int steps = 0; steps < MAX_STEPS_PER_TICK && step(id); steps++) {
                        // the rollout asked to be stepped again at once
                    }
                } catch (RuntimeException e) {
                    LOG.atWarn().addKeyValue("rollout", id).setCause(e).log("rollout step failed; it is stepped again at the next tick");
                }
            }
            return true;
        }
    }

    /** One step of one rollout; true when it asks for another at once (never after a step that stored nothing). */
    private boolean step(RolloutId id) {
        Optional<Rollout> found = store.find(id);
        if (found.isEmpty() || !found.get().active()) {
            return false;
        }
        Rollout rollout = found.get();
        Map<DeviceId, DeviceProgress> progress = store.progress(rollout);
        List<RolloutStore.Command> commands = store.commands(id);
        Decision decision = engine.step(rollout, progress, commands.stream().map(RolloutStore.Command::command).toList(), clock.instant());
        if (decision.rollout().revision() == rollout.revision() && commands.isEmpty()) {
            return false;
        }
        if (!store.commit(rollout, decision, commands, handle -> leases.holdsIn(handle, LEASE, holder))) {
            LOG.atInfo().addKeyValue("rollout", id).log("rollout moved on under this step, or another replica took the engine's lease; nothing stored");
            return false;
        }
        decision.events().forEach(event -> LOG.atInfo().addKeyValue("rollout", id).addKeyValue("actor", event.actor())
                .addKeyValue("event", event.event()).addKeyValue("state", event.after()).log(event.detail()));
        return decision.again();
    }

    private void loop() {
        while (!closing) {
            tick();
            try {
                wakeups.tryAcquire(settings.stepInterval().toMillis(), TimeUnit.MILLISECONDS);
                wakeups.drainPermits();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Stops the loop and gives the lease up, so that another replica takes over at once. */
    @Override
    public void close() {
        closing = true;
        wakeups.release();
        if (thread != null) {
            try {
                thread.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (leader) {
            try {
                leases.release(LEASE, holder);
            } catch (RuntimeException e) {
                LOG.atWarn().setCause(e).log("could not give the rollout engine's lease up; it expires by itself");
            }
        }
    }

    private static String holderName() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "unknown-host";
        }
        byte[] random = new byte[3];
        new SecureRandom().nextBytes(random);
        String name = host + "/" + ProcessHandle.current().pid() + "/" + HexFormat.of().formatHex(random);
        return name.length() <= 100 ? name : name.substring(name.length() - 100);
    }
}
