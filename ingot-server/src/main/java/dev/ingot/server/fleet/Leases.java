package dev.ingot.server.fleet;

import static java.util.Objects.requireNonNull;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import dev.ingot.server.db.Database;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

/**
 * Named leases in the database: one holder at a time among the server's replicas (the rollout engine's
 * leader). Taking or renewing a lease is one conditional write, so the database decides who holds it; a
 * holder that stops renewing loses it when it expires, and another takes over.
 */
public final class Leases {
    private final Database database;
    private final Jdbi jdbi;
    private final Clock clock;

    public Leases(Database database, Clock clock) {
        this.database = requireNonNull(database, "database");
        this.jdbi = database.jdbi();
        this.clock = requireNonNull(clock, "clock");
    }

    /** Takes the lease, or renews it for its holder; false when another holder has it and it has not expired. */
    public boolean acquire(String name, String holder, Duration ttl) {
        long now = clock.millis();
        long expires = now + ttl.toMillis();
        try {
            return acquireOnce(name, holder, now, expires);
        } catch (UnableToExecuteStatementException e) {
            // Two replicas inserting a new name at once on PostgreSQL: the second waits on the first's key, then violates
            // it (SQLSTATE 23505, unique_violation). The first holds the lease.
            if (e.getCause() instanceof SQLException sql && "23505".equals(sql.getSQLState())) {
                return false;
            }
            throw e;
        }
    }

    private boolean acquireOnce(String name, String holder, long now, long expires) {
        return database.inTransaction(handle -> {
            int taken = handle.createUpdate("UPDATE leases SET holder = :holder, expires_at = :expires "
                            + "WHERE name = :name AND (holder = :holder OR expires_at <= :now)")
                    .bind("holder", holder).bind("expires", expires).bind("name", name).bind("now", now).execute();
            if (taken == 1) {
                return true;
            }
            boolean exists = handle.createQuery("SELECT COUNT(*) FROM leases WHERE name = :name").bind("name", name).mapTo(Long.class).one() > 0;
            if (exists) {
                return false;
            }
            // First use of the name: a primary-key insert, so of two racing replicas one inserts (see acquire for the other).
            return handle.createUpdate("INSERT INTO leases (name, holder, expires_at) SELECT :name, :holder, :expires "
                            + "WHERE NOT EXISTS (SELECT 1 FROM leases WHERE name = :name)")
                    .bind("name", name).bind("holder", holder).bind("expires", expires).execute() == 1;
        });
    }

    /**
     * Inside a transaction that acts as the lease's holder: whether {@code holder} still holds the lease, checked by
     * a write to its row, so that the row stays locked to the end of the transaction. This is the fence of a holder
     * that may have paused past its lease (a long GC, a stopped VM): a replica that took the lease meanwhile has
     * changed the holder and the paused one stores nothing; one taking it now waits until this transaction ends, so
     * the write is ordered before the takeover. It compares holders, not clocks, so skew between replicas cannot
     * let two act at once. An expired lease nobody took is still held: nobody else acts on it.
     */
    public boolean holdsIn(Handle handle, String name, String holder) {
        return handle.createUpdate("UPDATE leases SET holder = :holder WHERE name = :name AND holder = :holder")
                .bind("name", name).bind("holder", holder).execute() == 1;
    }

    /** Gives the lease up early, if this holder has it. */
    public void release(String name, String holder) {
        database.useTransaction(handle -> handle.createUpdate("UPDATE leases SET expires_at = 0 WHERE name = :name AND holder = :holder")
                .bind("name", name).bind("holder", holder).execute());
    }
}
