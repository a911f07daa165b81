package dev.ingot.server.db;

import static java.util.Objects.requireNonNull;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.HandleConsumer;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's one database, SQLite (the default: a file beside the server) or PostgreSQL (several replicas
 * share one), opened through a HikariCP pool and migrated by Flyway with the same plain-SQL migrations on both.
 */
public final class Database implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Database.class);
    /** Which engine: the SQL is the same, the connection settings and the durability story differ (docs/server.md). */
    public enum Kind { SQLITE, POSTGRESQL }

    private final Kind kind;
    private final Lock writers;
    private final String describe;
    private final HikariDataSource dataSource;
    private final Jdbi jdbi;

    private Database(Kind kind, String describe, HikariDataSource dataSource) {
        this.kind = kind;
        // SQLite has one writer at a time; a second waits in SQLite's busy handler, inside native code, where a
        // virtual thread pins its carrier. With two carriers, two such waiters can starve the writer they wait
        // for. Writers therefore queue on this lock, where waiting virtual threads unmount. PostgreSQL locks rows.
        this.writers = kind == Kind.SQLITE ? new ReentrantLock(true) : NoLock.INSTANCE;
        this.describe = describe;
        this.dataSource = dataSource;
        this.jdbi = Jdbi.create(dataSource);
    }

    /**
     * Opens and migrates the database a user named: {@code sqlite:PATH} (or {@code jdbc:sqlite:PATH}) or a
     * {@code jdbc:postgresql://} URL. {@code user} and {@code password} apply to PostgreSQL when the URL does
     * not carry them (a password on the command line shows in ps).
     */
    public static Database open(String url, Path workingDirectory, Optional<String> user, Optional<String> password, int poolSize) {
        requireNonNull(url, "url");
        HikariConfig config = new HikariConfig();
        config.setPoolName("ingot-db");
        config.setMaximumPoolSize(poolSize);
        config.setMinimumIdle(Math.min(2, poolSize));
        config.setConnectionTimeout(10_000);
        Kind kind;
        String describe;
        if (url.startsWith("sqlite:") || url.startsWith("jdbc:sqlite:")) {
            kind = Kind.SQLITE;
            String location = url.substring(url.indexOf("sqlite:") + "sqlite:".length());
            if (location.isBlank()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "open the database " + url, "it names no file")
                        .withHint("write it like sqlite:./ingot.db");
            }
            Path file = workingDirectory.resolve(location).normalize();
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "open the database " + url, "the folder " + parent + " does not exist")
                        .withHint("create it, or name a file in an existing folder");
            }
            createPrivately(file);
            describe = "sqlite:" + file;
            config.setJdbcUrl("jdbc:sqlite:" + file);
            // WAL: readers never block the writer; synchronous=FULL: a commit is on disk before it is acknowledged
            // (https://www.sqlite.org/pragma.html#pragma_synchronous). IMMEDIATE: a write transaction takes the
            // write lock at BEGIN, so two writers queue on busy_timeout instead of failing with SQLITE_BUSY_SNAPSHOT.
            config.addDataSourceProperty("journal_mode", "WAL");
            config.addDataSourceProperty("synchronous", "FULL");
            config.addDataSourceProperty("busy_timeout", "10000");
            config.addDataSourceProperty("foreign_keys", "true");
            config.addDataSourceProperty("transaction_mode", "IMMEDIATE");
            // A local file needs no reconnecting; connections live as long as the server (the credential lookup
            // keeps a prepared statement per connection).
            config.setMaxLifetime(0);
        } else if (url.startsWith("jdbc:postgresql:")) {
            kind = Kind.POSTGRESQL;
            describe = url.replaceAll("password=[^&]*", "password=***");
            config.setJdbcUrl(url);
            user.ifPresent(config::setUsername);
            password.ifPresent(config::setPassword);
            // A commit is acknowledged (to a device, an operator) only once it is flushed: with synchronous_commit=off
            // (a DBA's speed setting, or a database default) a power loss of the database host takes the last commits
            // the server answered for. Raised to on for the server's own sessions; a stronger setting
            // (remote_write, remote_apply) is kept.
            config.setConnectionInitSql("SELECT set_config('synchronous_commit', CASE current_setting('synchronous_commit') "
                    + "WHEN 'off' THEN 'on' ELSE current_setting('synchronous_commit') END, false)");
        } else {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "open the database " + url, "it is neither sqlite:PATH nor a jdbc:postgresql:// URL")
                    .withHint("use --db sqlite:./ingot.db or --db jdbc:postgresql://host:5432/ingot");
        }
        HikariDataSource dataSource;
        try {
            dataSource = new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "connect to the database " + describe, String.valueOf(e.getMessage()))
                    .withHint("check --db, that the server runs and that the user may log in").withCause(e);
        }
        try {
            migrate(dataSource, kind);
            if (kind == Kind.POSTGRESQL) {
                Map<String, String> settings = new LinkedHashMap<>();
                Jdbi.create(dataSource).useHandle(handle -> {
                    for (String setting : List.of("fsync", "synchronous_commit")) {
                        settings.put(setting, handle.createQuery("SHOW " + setting).mapTo(String.class).one());
                    }
                });
                durabilityProblems(settings).forEach(problem -> LOG.atWarn().addKeyValue("database", describe).log(problem));
            }
        } catch (RuntimeException e) {
            dataSource.close();
            throw e;
        }
        return new Database(kind, describe, dataSource);
    }

    /** What PostgreSQL's settings (as SHOW prints them) cost the promise that an acknowledged write survives (docs/server.md). */
    public static List<String> durabilityProblems(Map<String, String> settings) {
        List<String> problems = new ArrayList<>();
        if ("off".equals(settings.get("fsync"))) {
            problems.add("PostgreSQL runs with fsync=off: a crash or power loss of the database host can lose or corrupt writes the server "
                    + "acknowledged; turn it on (postgresql.conf)");
        }
        if ("off".equals(settings.get("synchronous_commit"))) {
            problems.add("PostgreSQL sessions run with synchronous_commit=off: a power loss of the database host can lose the last writes the "
                    + "server acknowledged");
        }
        return problems;
    }

    /**
     * A new SQLite file is made readable by the server's user only, before SQLite opens it: the reports, the fleet's
     * layout and the tokens' hashes are nobody else's, and SQLite gives the -wal and -shm files it makes the mode of
     * the database file (os_unix.c, findCreateFileMode). An existing file keeps the mode its operator gave it.
     */
    private static void createPrivately(Path file) {
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) || !file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (FileAlreadyExistsException e) {
            // made meanwhile, or a link: SQLite opens what is there
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "create the database " + file, String.valueOf(e.getMessage()))
                    .withHint("the server needs to write in that folder");
        }
    }

    /**
     * The schema (db/migration: the same plain SQL on both databases), and for PostgreSQL its storage settings
     * (db/postgresql, a repeatable migration: tuning that has no meaning on SQLite).
     */
    private static void migrate(DataSource dataSource, Kind kind) {
        String[] locations = switch (kind) {
            case SQLITE -> new String[] {"classpath:db/migration"};
            case POSTGRESQL -> new String[] {"classpath:db/migration", "classpath:db/postgresql"};
        };
        try {
            Flyway.configure().dataSource(dataSource).locations(locations).load().migrate();
        } catch (FlywayException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "migrate the database", String.valueOf(e.getMessage()))
                    .withHint("a database written by a newer Ingot cannot be opened by an older one").withCause(e);
        }
    }

    /** Runs a write transaction (see {@link #writeLock()}). */
    public <R, X extends Exception> R inTransaction(HandleCallback<R, X> callback) throws X {
        writers.lock();
        try {
            return jdbi.inTransaction(callback);
        } finally {
            writers.unlock();
        }
    }

    /** Runs a write transaction (see {@link #writeLock()}). */
    public <X extends Exception> void useTransaction(HandleConsumer<X> callback) throws X {
        writers.lock();
        try {
            jdbi.useTransaction(callback);
        } finally {
            writers.unlock();
        }
    }

    /** Held around every write transaction: SQLite's writers queue here; on PostgreSQL it does nothing. */
    public Lock writeLock() {
        return writers;
    }

    public Kind kind() {
        return kind;
    }

    public Jdbi jdbi() {
        return jdbi;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /** The database for messages, without a password. */
    public String describe() {
        return describe;
    }

    @Override
    public void close() {
        dataSource.close();
    }

    /** The lock of a database that needs none. */
    private enum NoLock implements Lock {
        INSTANCE;

        @Override
        public void lock() {}

        @Override
        public void lockInterruptibly() {}

        @Override
        public boolean tryLock() {
            return true;
        }

        @Override
        public boolean tryLock(long time, TimeUnit unit) {
            return true;
        }

        @Override
        public void unlock() {}

        @Override
        public Condition newCondition() {
            throw new UnsupportedOperationException("no conditions on a lock that does nothing");
        }
    }
}
