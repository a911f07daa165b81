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
 * The work folder (a flash's spool) is the caller's own, never a shared temp path; a folder that is a link or belongs to
 * someone else is refused. Links planted where a kept copy ({@code --keep}) is written are replaced, never followed, so
 * nothing outside the folder is touched.
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
    void linksPlantedForEveryFileAKeptCopyWritesAreReplacedAndWhatTheyPointAtIsUntouched() throws IOException {
        Path keep = Files.createDirectories(folder.resolve("usb"));
        Path victims = Files.createDirectories(folder.resolve("outside"));
        for (String name : List.of("edge-golden-v1.4.img.zst", "edge-golden-v1.4.img.bmap", "edge-golden-v1.4.sha256",
                "edge-golden-v1.4.manifest.json", "edge-golden-v1.4.manifest.json.asc")) {
            Path victim = Files.writeString(victims.resolve(name), "an important file: " + name);
            Files.createSymbolicLink(keep.resolve(name), victim);
        }

        FlashJob job = FlashSources.fromStore(store, ImageName.DEFAULT, ImageVersion.parse("v1.4"), keyring, Progress.NONE).keepingIn(keep);
        new Flasher(Clock.systemUTC(), Progress.NONE, () -> folder.resolve("spool")).flash(job,
                FlashTarget.inspect(folder.resolve("disk.img"), 8L << 20, SystemView.live()), Flasher.Options.defaults());

        assertThat(Files.mismatch(folder.resolve("disk.img"), image)).isEqualTo(-1);
        try (var outside = Files.list(victims)) {
            for (Path victim : outside.toList()) {
                assertThat(Files.readString(victim)).isEqualTo("an important file: " + victim.getFileName());
            }
        }
        try (var inside = Files.list(keep)) {
            assertThat(inside.toList()).allSatisfy(file -> assertThat(Files.isSymbolicLink(file)).as(file.toString()).isFalse());
        }
    }

    @Test
    void aLinkPlantedWhereAKeptDownloadGrowsIsRefusedAndNotFollowed() throws IOException {
        Path keep = Files.createDirectories(folder.resolve("usb"));
        Path victim = Files.writeString(folder.resolve("victim"), "an important file");
        Files.createSymbolicLink(keep.resolve("edge-golden-v1.4.img.zst.part"), victim);

        FlashJob job = FlashSources.fromStore(store, ImageName.DEFAULT, ImageVersion.parse("v1.4"), keyring, Progress.NONE).keepingIn(keep);
        assertThatThrownBy(() -> new Flasher(Clock.systemUTC(), Progress.NONE, () -> folder.resolve("spool")).flash(job,
                FlashTarget.inspect(folder.resolve("disk.img"), 8L << 20, SystemView.live()), Flasher.Options.defaults()))
                .hasMessageContaining("is not a plain file (a link?)");

        assertThat(Files.readString(victim)).isEqualTo("an important file");
        assertThat(folder.resolve("disk.img")).doesNotExist();
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
        Path keep = folder.resolve("usb");
        Flasher flasher = new Flasher(Clock.systemUTC(), Progress.NONE, () -> folder.resolve("spool"));
        // Each run inspects its target, as each command does: a checked target is written only while it is what was checked.
        java.util.function.Supplier<FlashTarget> disk = () -> FlashTarget.inspect(folder.resolve("disk.img"), 8L << 20, SystemView.live());
        flasher.flash(FlashSources.fromStore(store, ImageName.DEFAULT, ImageVersion.parse("v1.4"), keyring, Progress.NONE).keepingIn(keep),
                disk.get(), Flasher.Options.defaults());
        Path kept = keep.resolve("edge-golden-v1.4.img.zst");
        byte[] good = Files.readAllBytes(kept);
        byte[] damaged = good.clone();
        damaged[damaged.length / 2] ^= 1;
        Files.write(kept, damaged);

        // The damaged copy is read, fails its range, and is cut back; the rerun fetches the rest and keeps a good copy.
        assertThatThrownBy(() -> flasher.flash(FlashSources.fromStore(store, ImageName.DEFAULT, ImageVersion.parse("v1.4"), keyring,
                Progress.NONE).keepingIn(keep), disk.get(), Flasher.Options.defaults())).hasMessageContaining("that range was not written");
        flasher.flash(FlashSources.fromStore(store, ImageName.DEFAULT, ImageVersion.parse("v1.4"), keyring, Progress.NONE).keepingIn(keep),
                disk.get(), Flasher.Options.defaults());

        assertThat(Files.readAllBytes(kept)).isEqualTo(good);
        assertThat(Files.mismatch(folder.resolve("disk.img"), image)).isEqualTo(-1);
    }
}
