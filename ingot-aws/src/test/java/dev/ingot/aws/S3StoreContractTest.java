package dev.ingot.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.store.ArtifactStore;
import dev.ingot.store.ArtifactStore.ObjectInfo;
import dev.ingot.testing.S3Server;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/** The artifact store contract, held by an S3 store talking to an in-process S3 server. */
class S3StoreContractTest extends ArtifactStoreContractTest {
    private static S3Server server;

    @BeforeAll
    static void startServer() {
        server = S3Server.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    /** Each test gets its own prefix in the shared bucket, which also exercises the prefix mapping. */
    @Override
    ArtifactStore newStore() {
        return storeAt(server, new S3Location(server.bucket(), "contract-" + UUID.randomUUID() + "/nested"));
    }

    /**
     * S3Proxy 4.1.0 decides If-None-Match: * atomically (link(2)), but answers If-Match on PUT by
     * reading the object's tag and then writing: a stale tag gets 412, yet two writers holding the
     * current tag can both pass the check (both won in about half of our tries). AWS S3 decides
     * If-Match atomically; S3Store only passes the header on.
     */
    @Override
    Optional<String> whyRacingCompareAndSetsAreNotChecked() {
        return Optional.of("S3Proxy 4.1.0 checks If-Match on PUT before writing, not atomically, so both racers can win");
    }

    /** A file over the single-put limit went up in parts: S3 tags such an object "md5-of-parts-COUNT". */
    @Override
    void checkLargeUpload(ObjectInfo info) {
        long parts = (LARGE_FILE_SIZE + S3Store.PART_SIZE - 1) / S3Store.PART_SIZE;
        assertThat(info.etag()).endsWith("-" + parts + "\"");
    }

    static S3Store storeAt(S3Server server, S3Location location) {
        return new S3Store(location, Optional.of(server.endpoint()),
                StaticCredentialsProvider.create(AwsBasicCredentials.create(server.accessKey(), server.secretKey())),
                Region.US_EAST_1);
    }
}
