package dev.ingot.server;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The two databases every storage test runs on: a SQLite file, and a fresh database in one embedded PostgreSQL
 * that the whole test run shares (started once, with fsync and synchronous_commit on, as in production).
 */
public final class TestDatabases {
    /** A database kind a parameterized test runs on. */
    public enum Kind { SQLITE, POSTGRESQL }

    private static final AtomicInteger NEXT = new AtomicInteger();
    private static EmbeddedPostgres postgres;

    private TestDatabases() {}

    public static Stream<Kind> kinds() {
        return Stream.of(Kind.SQLITE, Kind.POSTGRESQL);
    }

    /** A new, empty database of this kind: a file under {@code folder}, or a new PostgreSQL database. */
    public static String fresh(Kind kind, Path folder) {
        return switch (kind) {
            case SQLITE -> "sqlite:" + folder.resolve("ingot-" + NEXT.incrementAndGet() + ".db");
            case POSTGRESQL -> {
                String name = "ingot_test_" + NEXT.incrementAndGet();
                try (Connection connection = postgres().getPostgresDatabase().getConnection(); Statement statement = connection.createStatement()) {
                    statement.execute("CREATE DATABASE " + name);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
                yield postgres().getJdbcUrl("postgres", name);
            }
        };
    }

    public static synchronized EmbeddedPostgres postgres() {
        if (postgres == null) {
            try {
                postgres = EmbeddedPostgres.builder()
                        // Embedded PostgreSQL turns both off by default; the durability tests need what production has.
                        .setServerConfig("fsync", "on")
                        .setServerConfig("synchronous_commit", "on")
                        .setServerConfig("max_connections", "300")
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException("embedded PostgreSQL did not start", e);
            }
            EmbeddedPostgres started = postgres;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    started.close();
                } catch (IOException e) {
                    // the JVM is ending; the temp folder goes with it
                }
            }));
        }
        return postgres;
    }
}
