package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.health.DeviceId;
import dev.ingot.server.TestServer.EnrolledDevice;
import dev.ingot.server.fleet.ReportWriter;
import dev.ingot.server.fleet.ReportWriter.ReportWrite;
import dev.ingot.testing.HealthReports;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report writer's batches when one device shows up twice in one (an agent's retry while its first poll waits), and when one
 * device is revoked while its report waits.
 */
class ReportWriterTest {
    @TempDir
    Path folder;

    @Test
    void twoReportsOfOneDeviceInOneBatchAreCommittedTogetherNotOneByOne() throws Exception {
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder,
                new MutableClock(Instant.parse("2026-11-29T10:00:00Z")))) {
            EnrolledDevice first = server.enroll("SITE-1");
            EnrolledDevice twice = server.enroll("SITE-1");
            EnrolledDevice other = server.enroll("SITE-1");
            List<Integer> batches = Collections.synchronizedList(new ArrayList<>());
            // The writer takes the lock around each commit: held here, the first report waits in its commit and the next
            // three queue behind it, to be drained as one batch.
            ReentrantLock gate = new ReentrantLock();
            List<CompletableFuture<Void>> done = new ArrayList<>();
            try (ReportWriter writer = new ReportWriter(server.server().database().dataSource(), gate, 96, 100, batches::add)) {
                gate.lock();
                try {
                    done.add(writer.submit(write(first, "healthy", 1)));
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (!gate.hasQueuedThreads() && System.nanoTime() < deadline) {
                        Thread.onSpinWait();
                    }
                    assertThat(gate.hasQueuedThreads()).isTrue();
                    done.add(writer.submit(write(twice, "healthy", 2)));
                    done.add(writer.submit(write(twice, "degraded", 3)));
                    done.add(writer.submit(write(other, "healthy", 4)));
                } finally {
                    gate.unlock();
                }
                CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            }
            // Before: the batch failed on the device's two history rows (one sequence number) and its first latest report
            // (inserted twice), and every report of the batch was written again in a commit of its own.
            assertThat(batches).containsExactly(1, 3);
            List<String> history = new ArrayList<>();
            server.get("/api/v1/devices/" + twice.id() + "/reports", TestServer.ADMIN_TOKEN).json()
                    .forEach(kept -> history.add(kept.path("report").path("status").asText()));
            assertThat(history).as("both kept, newest first").containsExactly("degraded", "healthy");
            assertThat(server.get("/api/v1/devices/" + twice.id(), TestServer.ADMIN_TOKEN).json().path("device").path("reported")
                    .path("status").asText()).isEqualTo("degraded");
        }
    }

    @Test
    void aReportOfADeviceRevokedWhileItWaitedIsRefusedAsUnauthenticatedAndNotStoredWhileTheRestOfItsBatchIs() throws Exception {
        try (TestServer server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder,
                new MutableClock(Instant.parse("2026-11-29T10:00:00Z")))) {
            EnrolledDevice first = server.enroll("SITE-1");
            EnrolledDevice revoked = server.enroll("SITE-1");
            EnrolledDevice other = server.enroll("SITE-1");
            ReentrantLock gate = new ReentrantLock();
            CompletableFuture<Void> refused;
            List<CompletableFuture<Void>> stored = new ArrayList<>();
            try (ReportWriter writer = new ReportWriter(server.server().database().dataSource(), gate, 96, 100, size -> { })) {
                gate.lock();
                try {
                    stored.add(writer.submit(write(first, "healthy", 1)));
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (!gate.hasQueuedThreads() && System.nanoTime() < deadline) {
                        Thread.onSpinWait();
                    }
                    assertThat(gate.hasQueuedThreads()).isTrue();
                    // Its poll was authenticated; the operator revokes it before the report reaches the database.
                    refused = writer.submit(write(revoked, "healthy", 2));
                    stored.add(writer.submit(write(other, "healthy", 3)));
                    TestServer.require(server.post("/api/v1/devices/" + revoked.id() + "/revoke", TestServer.ADMIN_TOKEN, java.util.Map.of()), 200);
                } finally {
                    gate.unlock();
                }
                CompletableFuture.allOf(stored.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
                assertThat(refused).failsWithin(30, TimeUnit.SECONDS).withThrowableOfType(java.util.concurrent.ExecutionException.class)
                        .havingCause().isInstanceOf(dev.ingot.error.IngotException.class)
                        .withMessageContaining("credential was revoked meanwhile")
                        .satisfies(e -> assertThat(((dev.ingot.error.IngotException) e).code()).isEqualTo(dev.ingot.error.ErrorCode.UNAUTHENTICATED));
            }
            var device = server.get("/api/v1/devices/" + revoked.id(), TestServer.ADMIN_TOKEN).json();
            assertThat(device.path("device").path("last_seen_at").isNull()).isTrue();
            assertThat(device.path("latest_report").isNull()).isTrue();
            assertThat(server.get("/api/v1/devices/" + revoked.id() + "/reports", TestServer.ADMIN_TOKEN).json()).isEmpty();
            assertThat(server.get("/api/v1/devices/" + other.id(), TestServer.ADMIN_TOKEN).json().path("device").path("last_seen_at").isNull())
                    .isFalse();
        }
    }

    private static ReportWrite write(EnrolledDevice device, String status, long at) {
        return new ReportWrite(new DeviceId(device.id()), Instant.parse("2026-11-29T10:00:00Z").toEpochMilli() + at, status, Optional.of("v1.4"),
                Optional.of("2.8.1"), Optional.of("a"), Optional.of(false), OptionalLong.of(0), Instant.parse("2026-11-29T09:59:00Z").toEpochMilli(),
                HealthReports.compact(HealthReports.report(device.site(), device.id(), status, "v1.4", "2.8.1")), true);
    }
}
