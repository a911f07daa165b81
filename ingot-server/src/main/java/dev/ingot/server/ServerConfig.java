package dev.ingot.server;

import static java.util.Objects.requireNonNull;

import dev.ingot.server.device.DeviceApi.PollPolicy;
import dev.ingot.sign.Keyring;
import dev.ingot.store.ArtifactStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How one server runs: where it listens and how (TLS, or plain HTTP by choice), its database and store, and its
 * fleet policy.
 *
 * @param adminToken the bootstrap admin token given by the operator (INGOT_ADMIN_TOKEN or a file); empty: made once
 * @param offlineAfter a device not heard from for this long counts as offline (needs attention)
 * @param presignedDownloads hand devices presigned store URLs valid this long (an S3 store) instead of the server's own
 *     download path; empty: the server streams releases from its store itself
 */
public record ServerConfig(String host, int port, Optional<Tls> tls, boolean plainHttp, String database, Optional<String> databaseUser,
        Optional<String> databasePassword, int databasePool, ArtifactStore store, Optional<Keyring> keyring, Optional<String> adminToken,
        PollPolicy pollPolicy, int historyLimit, Duration offlineAfter, Path workingDirectory, Optional<Duration> presignedDownloads) {

    public record Tls(Path certificate, Path key) {
        public Tls {
            requireNonNull(certificate, "certificate");
            requireNonNull(key, "key");
        }
    }

    public ServerConfig {
        requireNonNull(host, "host");
        requireNonNull(tls, "tls");
        requireNonNull(database, "database");
        requireNonNull(databaseUser, "databaseUser");
        requireNonNull(databasePassword, "databasePassword");
        requireNonNull(store, "store");
        requireNonNull(keyring, "keyring");
        requireNonNull(adminToken, "adminToken");
        requireNonNull(pollPolicy, "pollPolicy");
        requireNonNull(offlineAfter, "offlineAfter");
        requireNonNull(workingDirectory, "workingDirectory");
        requireNonNull(presignedDownloads, "presignedDownloads");
    }

    /** Defaults for everything but where it listens, the database and the store. */
    public static ServerConfig defaults(String host, int port, String database, ArtifactStore store, Path workingDirectory) {
        return new ServerConfig(host, port, Optional.empty(), false, database, Optional.empty(), Optional.empty(), 8, store, Optional.empty(),
                Optional.empty(), new PollPolicy(Duration.ofSeconds(60), 0.2, Duration.ofMinutes(15)), 96, Duration.ofMinutes(5), workingDirectory, Optional.empty());
    }

    public ServerConfig withTls(Optional<Tls> newTls, boolean newPlainHttp) {
        return new ServerConfig(host, port, newTls, newPlainHttp, database, databaseUser, databasePassword, databasePool, store, keyring, adminToken,
                pollPolicy, historyLimit, offlineAfter, workingDirectory, presignedDownloads);
    }

    public ServerConfig withAdminToken(Optional<String> token) {
        return new ServerConfig(host, port, tls, plainHttp, database, databaseUser, databasePassword, databasePool, store, keyring, token,
                pollPolicy, historyLimit, offlineAfter, workingDirectory, presignedDownloads);
    }

    public ServerConfig withPollPolicy(PollPolicy policy) {
        return new ServerConfig(host, port, tls, plainHttp, database, databaseUser, databasePassword, databasePool, store, keyring, adminToken,
                policy, historyLimit, offlineAfter, workingDirectory, presignedDownloads);
    }

    public ServerConfig withDatabase(String url, Optional<String> user, Optional<String> password, int pool) {
        return new ServerConfig(host, port, tls, plainHttp, url, user, password, pool, store, keyring, adminToken, pollPolicy, historyLimit,
                offlineAfter, workingDirectory, presignedDownloads);
    }

    public ServerConfig withPresignedDownloads(Optional<Duration> lifetime) {
        return new ServerConfig(host, port, tls, plainHttp, database, databaseUser, databasePassword, databasePool, store, keyring, adminToken,
                pollPolicy, historyLimit, offlineAfter, workingDirectory, lifetime);
    }

    public ServerConfig withStore(ArtifactStore newStore) {
        return new ServerConfig(host, port, tls, plainHttp, database, databaseUser, databasePassword, databasePool, newStore, keyring, adminToken,
                pollPolicy, historyLimit, offlineAfter, workingDirectory, presignedDownloads);
    }

    public ServerConfig withKeyring(Optional<Keyring> newKeyring) {
        return new ServerConfig(host, port, tls, plainHttp, database, databaseUser, databasePassword, databasePool, store, newKeyring, adminToken,
                pollPolicy, historyLimit, offlineAfter, workingDirectory, presignedDownloads);
    }
}
