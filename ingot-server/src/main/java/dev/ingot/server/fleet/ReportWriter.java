package dev.ingot.server.fleet;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.DeviceId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.function.IntConsumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes devices' reports: one thread takes every report waiting, writes them all in one transaction and
 * commits once, then completes each report's future. A poll is answered only after its report is committed,
 * so an acknowledged report survives a kill; one commit (one fsync) serves hundreds of polls under load.
 * The futures are completed here, but the pollers wait on virtual threads, so completing one only unparks
 * its poller: the HTTP response is written on the poller's thread, never on this one.
 */
public final class ReportWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReportWriter.class);
    /** The most reports one transaction writes; more wait for the next commit. */
    static final int MAX_BATCH = 1000;

    /**
     * What one poll writes. {@code report}: its stored form ({@link ReportText#store}); {@code keepInHistory}: also append it to
     * the device's bounded history.
     */
    public record ReportWrite(DeviceId device, long receivedAt, String status, Optional<String> imageVersion, Optional<String> containerTag,
            Optional<String> slotBooted, Optional<Boolean> rebootRequired, OptionalLong securityUpdates, long checkedAt, String report,
            boolean keepInHistory) {
        public ReportWrite {
            requireNonNull(device, "device");
            requireNonNull(status, "status");
            requireNonNull(imageVersion, "imageVersion");
            requireNonNull(containerTag, "containerTag");
            requireNonNull(slotBooted, "slotBooted");
            requireNonNull(rebootRequired, "rebootRequired");
            requireNonNull(securityUpdates, "securityUpdates");
            requireNonNull(report, "report");
        }
    }

    private record Pending(ReportWrite write, CompletableFuture<Void> done) {}

    private final DataSource dataSource;
    private final Lock writeLock;
    private final int historyLimit;
    private final IntConsumer batchSizes;
    private final BlockingQueue<Pending> queue;
    private final Thread thread;
    private volatile boolean closing;

    /**
     * @param writeLock held around each transaction (the database's writers' lock, {@link dev.ingot.server.db.Database#writeLock})
     * @param historyLimit how many reports each device's history keeps
     * @param queueLimit how many reports may wait; beyond that a poll is refused as overload (503) instead of queued
     * @param batchSizes told the size of every committed batch (metrics)
     */
    public ReportWriter(DataSource dataSource, Lock writeLock, int historyLimit, int queueLimit, IntConsumer batchSizes) {
        this.dataSource = requireNonNull(dataSource, "dataSource");
        this.writeLock = requireNonNull(writeLock, "writeLock");
        this.historyLimit = historyLimit;
        this.batchSizes = requireNonNull(batchSizes, "batchSizes");
        this.queue = new LinkedBlockingQueue<>(queueLimit);
        this.thread = Thread.ofPlatform().name("ingot-report-writer").daemon(false).start(this::run);
    }

    /** Queues a report; the future completes once it is committed, or fails with the reason it was not. */
    public CompletableFuture<Void> submit(ReportWrite write) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closing) {
            done.completeExceptionally(IngotException.tried(ErrorCode.UNAVAILABLE, "store the report", "the server is shutting down")
                    .withHint("poll again shortly"));
        } else if (!queue.offer(new Pending(write, done))) {
            done.completeExceptionally(IngotException.tried(ErrorCode.UNAVAILABLE, "store the report",
                    "the server has more reports waiting than it can write").withHint("poll again after the interval"));
        }
        return done;
    }

    private void run() {
        List<Pending> batch = new ArrayList<>(MAX_BATCH);
        while (!closing || !queue.isEmpty()) {
            try {
                Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                writeBatch(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException e) {
                LOG.error("report writer failed on a batch", e);
                batch.forEach(pending -> pending.done().completeExceptionally(e));
            } finally {
                batch.clear();
            }
        }
    }

    private void writeBatch(List<Pending> batch) {
        // Ordered by device: two replicas writing to one PostgreSQL lock rows in the same order and never deadlock.
        List<Pending> ordered = new ArrayList<>(batch);
        ordered.sort(Comparator.comparing(pending -> pending.write().device().value()));
        try {
            write(ordered.stream().map(Pending::write).toList());
            batchSizes.accept(ordered.size());
            ordered.forEach(pending -> pending.done().complete(null));
        } catch (SQLException whole) {
            if (ordered.size() == 1) {
                fail(ordered.getFirst(), whole);
                return;
            }
            // One bad report (a device deleted meanwhile) must not fail the others: each on its own.
            for (Pending pending : ordered) {
                try {
                    write(List.of(pending.write()));
                    pending.done().complete(null);
                } catch (SQLException single) {
                    fail(pending, single);
                }
            }
        }
    }

    private static void fail(Pending pending, SQLException e) {
        if (e instanceof NotEnrolled) {
            // Revoked or removed between the poll's authentication and this write: refused as its next poll will be.
            pending.done().completeExceptionally(IngotException.tried(ErrorCode.UNAUTHENTICATED, "store the report of " + pending.write().device(),
                    "the device's credential was revoked meanwhile").withHint("an operator lets it enroll again: ingot device reenroll "
                    + pending.write().device()));
            return;
        }
        LOG.atWarn().addKeyValue("device", pending.write().device()).setCause(e).log("report not stored");
        // The database's message stays in the server's log: it quotes the statement and its values, which a device has no business reading.
        pending.done().completeExceptionally(IngotException.tried(ErrorCode.UNAVAILABLE, "store the report of " + pending.write().device(),
                "the database refused it").withHint("poll again after the interval").withCause(e));
    }

    private void write(List<ReportWrite> writes) throws SQLException {
        writeLock.lock();
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            // Two forms of the device's row update: most polls change neither status, version nor tag, and leaving
            // those columns out of the SET list spares the index on image_version.
            try (PreparedStatement full = connection.prepareStatement("UPDATE devices SET last_seen_at = ?, status = ?, image_version = ?, "
                            + "container_tag = ?, slot_booted = ?, reboot_required = ?, security_updates = ?, report_checked_at = ?, "
                            + "history_seq = history_seq + 1, history_at = ? WHERE id = ? AND revoked_at IS NULL");
                    PreparedStatement light = connection.prepareStatement("UPDATE devices SET last_seen_at = ?, slot_booted = ?, "
                            + "reboot_required = ?, security_updates = ?, report_checked_at = ? WHERE id = ? AND revoked_at IS NULL");
                    PreparedStatement latest = connection.prepareStatement("UPDATE latest_reports SET received_at = ?, report = ? WHERE device_id = ?");
                    PreparedStatement firstLatest = connection.prepareStatement("INSERT INTO latest_reports (device_id, received_at, report) "
                            + "VALUES (?, ?, ?)");
                    PreparedStatement history = connection.prepareStatement("INSERT INTO report_history (device_id, seq, received_at, status, "
                            + "image_version, report) SELECT id, history_seq, ?, ?, ?, ? FROM devices WHERE id = ?");
                    PreparedStatement trim = connection.prepareStatement("DELETE FROM report_history WHERE device_id = ? AND seq <= "
                            + "(SELECT history_seq FROM devices WHERE id = ?) - ?")) {
                // A device twice in one batch (an agent's retry while its first poll waits) is written in a second round: within
                // one round, its two history rows would take one sequence number and its first latest report would be inserted
                // twice, failing the batch and sending every report in it down the one-by-one path.
                for (List<ReportWrite> round : rounds(writes)) {
                    List<ReportWrite> fulls = new ArrayList<>();
                    List<ReportWrite> lights = new ArrayList<>();
                    for (ReportWrite write : round) {
                        String id = write.device().value();
                        if (write.keepInHistory()) {
                            fulls.add(write);
                            full.setLong(1, write.receivedAt());
                            full.setString(2, write.status());
                            full.setString(3, write.imageVersion().orElse(null));
                            full.setString(4, write.containerTag().orElse(null));
                            full.setString(5, write.slotBooted().orElse(null));
                            setBoolean(full, 6, write.rebootRequired());
                            setLong(full, 7, write.securityUpdates());
                            full.setLong(8, write.checkedAt());
                            full.setLong(9, write.receivedAt());
                            full.setString(10, id);
                            full.addBatch();
                            history.setLong(1, write.receivedAt());
                            history.setString(2, write.status());
                            history.setString(3, write.imageVersion().orElse(null));
                            history.setString(4, write.report());
                            history.setString(5, id);
                            history.addBatch();
                            trim.setString(1, id);
                            trim.setString(2, id);
                            trim.setInt(3, historyLimit);
                            trim.addBatch();
                        } else {
                            lights.add(write);
                            light.setLong(1, write.receivedAt());
                            light.setString(2, write.slotBooted().orElse(null));
                            setBoolean(light, 3, write.rebootRequired());
                            setLong(light, 4, write.securityUpdates());
                            light.setLong(5, write.checkedAt());
                            light.setString(6, id);
                            light.addBatch();
                        }
                        latest.setLong(1, write.receivedAt());
                        latest.setString(2, write.report());
                        latest.setString(3, id);
                        latest.addBatch();
                    }
                    if (!fulls.isEmpty()) {
                        requireEnrolled(full.executeBatch(), fulls);
                        history.executeBatch();
                        trim.executeBatch();
                    }
                    if (!lights.isEmpty()) {
                        requireEnrolled(light.executeBatch(), lights);
                    }
                    // A device's first report has no row to update yet.
                    int[] updated = latest.executeBatch();
                    boolean anyFirst = false;
                    for (int i = 0; i < updated.length; i++) {
                        if (updated[i] == 0) {
                            anyFirst = true;
                            firstLatest.setString(1, round.get(i).device().value());
                            firstLatest.setLong(2, round.get(i).receivedAt());
                            firstLatest.setString(3, round.get(i).report());
                            firstLatest.addBatch();
                        }
                    }
                    if (anyFirst) {
                        firstLatest.executeBatch();
                    }
                }
                connection.commit();
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** The writes split so that each device appears at most once per round, in the order they came. */
    static List<List<ReportWrite>> rounds(List<ReportWrite> writes) {
        List<List<ReportWrite>> rounds = new ArrayList<>();
        Map<DeviceId, Integer> seen = new HashMap<>();
        for (ReportWrite write : writes) {
            int round = seen.merge(write.device(), 1, Integer::sum) - 1;
            if (round == rounds.size()) {
                rounds.add(new ArrayList<>());
            }
            rounds.get(round).add(write);
        }
        return rounds;
    }

    /** A device's row took no update: it was revoked or removed since its poll was authenticated. */
    private static void requireEnrolled(int[] updated, List<ReportWrite> writes) throws SQLException {
        for (int i = 0; i < updated.length; i++) {
            if (updated[i] == 0) {
                throw new NotEnrolled(writes.get(i).device());
            }
        }
    }

    /** The batch is then written one report at a time, so that only this device's report is refused. */
    private static final class NotEnrolled extends SQLException {
        NotEnrolled(DeviceId device) {
            super("device " + device + " is not enrolled, or its credential was revoked");
        }
    }

    private static void setBoolean(PreparedStatement statement, int index, Optional<Boolean> value) throws SQLException {
        if (value.isPresent()) {
            statement.setBoolean(index, value.get());
        } else {
            statement.setNull(index, Types.BOOLEAN);
        }
    }

    private static void setLong(PreparedStatement statement, int index, OptionalLong value) throws SQLException {
        if (value.isPresent()) {
            statement.setLong(index, value.getAsLong());
        } else {
            statement.setNull(index, Types.BIGINT);
        }
    }

    /** Stops taking reports, writes what waits, and stops. */
    @Override
    public void close() {
        closing = true;
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
