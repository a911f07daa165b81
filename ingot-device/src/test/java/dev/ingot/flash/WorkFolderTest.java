package dev.ingot.flash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.image.ImageName;
import dev.ingot.image.ImageScanner;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.Publisher;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.FolderStore;
import dev.ingot.store.WorkFolder;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The work folder a flash downloads into: the caller's own, never a shared temp path. Links planted where Ingot
 * writes are replaced, never followed, so nothing outside the folder is touched; a folder that is a link or belongs to
 * someone else is refused.
 */
class WorkFolderTest {
    @TempDir
    Path folder;

    private FolderStore store;
    private Keyring keyring;
    private Path image;

    @BeforeEach
    void publish() throws IOException {
        image = SparseImages.create(folder.resolve("edge.img"), 8L << 20, 9, new SparseImages.Region(0, 300_000));
        SigningKey key = SigningKey.load(TestKeys.RELEASE.secretKey(folder.resolve("keys")), Optional.empty());
        keyring = Keyring.load(TestKeys.RELEASE.publicKey(folder.resolve("keys")));
        store = new FolderStore(folder.resolve("store"));
        new Publisher(store, key, FlasherTest.CLOCK, Progress.NONE).publish(new Publisher.Request(image, ImageName.DEFAULT,
                ImageVersion.parse("v1.4"), Optional.empty(), false, Optional.empty(), new ImageScanner.Compression(3, 1),
                ImageScanner.DEFAULT_BLOCK_SIZE));
    }

    @Test
    void theDefaultFolderIsPerUserAndRootsIsUnderVarCache() {
        Path forUser = WorkFolder.defaultRoot(Map.of("XDG_CACHE_HOME", "/home/op/.cache-elsewhere", "HOME", "/home/op"));

        assertThat(forUser).isIn(Path.of("/var/cache/ingot"), Path.of("/home/op/.cache-elsewhere/ingot"));
        assertThat(forUser).isNotEqualTo(Path.of(System.getProperty("java.io.tmpdir"), "ingot-flash"));
    }

    @Test
    void linksPlantedForEveryFileAFlashDownloadWritesAreReplacedAndWhatTheyPointAtIsUntouched() throws IOException {
        WorkFolder work = WorkFolder.at(folder.resolve("work"));
        Path release = work.folder("flash", "edge-golden-v1.4");
        Path victims = Files.createDirectories(folder.resolve("outside"));
        for (String name : List.of("edge-golden-v1.4.img.zst", "edge-golden-v1.4.img.bmap", "edge-golden-v1.4.manifest.json",
                "edge-golden-v1.4.manifest.json.asc")) {
            Path victim = Files.writeString(victims.resolve(name), "an important file: " + name);
            Files.createSymbolicLink(release.resolve(name), victim);
        }

        Flasher.Source source = FlashSources.fromStore(store, ImageName.DEFAULT, ImageVersion.parse("v1.4"), keyring, work, Progress.NONE);
        new Flasher(Clock.systemUTC(), Progress.NONE, work.folder("spool")).flash(source,
                FlashTarget.inspect(folder.resolve("disk.img"), 8L << 20, SystemView.live()), new Flasher.Options(true, true));

        assertThat(Files.mismatch(folder.resolve("disk.img"), image)).isEqualTo(-1);
        try (var outside = Files.list(victims)) {
            for (Path victim : outside.toList()) {
                assertThat(Files.readString(victim)).isEqualTo("an important file: " + victim.getFileName());
            }
        }
        try (var inside = Files.list(release)) {
            assertThat(inside.toList()).allSatisfy(file -> assertThat(Files.isSymbolicLink(file)).as(file.toString()).isFalse());
        }
    }

    @Test
    void aWorkFolderThatIsALinkIsRefused() throws IOException {
        Path elsewhere = Files.createDirectories(folder.resolve("somebody-elses"));
        Files.createSymbolicLink(folder.resolve("work"), elsewhere);

        assertThatThrownBy(() -> WorkFolder.at(folder.resolve("work"))).hasMessageContaining("it is a symbolic link");
        assertThat(elsewhere.resolve("flash")).doesNotExist();
    }

    @Test
    void aWorkFolderOfAnotherUserIsRefused() throws IOException {
        Path theirs = Files.createDirectories(folder.resolve("theirs"));
        Files.setAttribute(theirs, "unix:uid", 4242);

        assertThatThrownBy(() -> WorkFolder.at(theirs)).hasMessageContaining("it belongs to uid 4242, not to the caller");
    }

    @Test
    void aWorkFolderOpenToOthersIsClosedTo0700() throws IOException {
        Path open = Files.createDirectories(folder.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));

        WorkFolder.at(open).folder("flash");

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(open, LinkOption.NOFOLLOW_LINKS))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(open.resolve("flash")))).isEqualTo("rwx------");
    }

    @Test
    void aKeptDownloadIsReusedOnlyAfterItVerifiesAgain() throws IOException {
        WorkFolder work = WorkFolder.at(folder.resolve("work"));
        FlashSources.fromStore(store, ImageName.DEFAULT, ImageVersion.parse("v1.4"), keyring, work, Progress.NONE);
        Path kept = folder.resolve("work/flash/edge-golden-v1.4/edge-golden-v1.4.img.zst");
        byte[] good = Files.readAllBytes(kept);
        byte[] damaged = good.clone();
        damaged[damaged.length / 2] ^= 1;
        Files.write(kept, damaged);

        FlashSources.fromStore(store, ImageName.DEFAULT, ImageVersion.parse("v1.4"), keyring, work, Progress.NONE);

        assertThat(Files.readAllBytes(kept)).isEqualTo(good);
    }
}
