package dev.ingot.imagebuild;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.boot.GrubEnv;
import dev.ingot.boot.GrubMenu;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.imagetest.BootDisk;
import dev.ingot.imagetest.CheckResult;
import dev.ingot.imagetest.DirectoryTree;
import dev.ingot.imagetest.Expectations;
import dev.ingot.imagetest.Ext4Partition;
import dev.ingot.imagetest.ImageChecks;
import dev.ingot.testing.GoldenImages;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * packer/scripts/45-ab-boot.sh run for real into a scratch root (ROOT=) whose ESP is a folder: the real grub-editenv makes the
 * environment and the real dpkg holds the boot-loader packages in the root's own status file. A disk image built from what it
 * leaves (the ESP's files on a FAT ESP, the root as root-a) passes every check of the image test.
 */
class AbBootScriptTest {
    private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();
    private static final Map<String, String> ENVIRONMENT = Map.of("PATH",
            System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin");

    @TempDir
    Path folder;

    private Path uploads;
    private Path root;

    @BeforeEach
    void aRootAsTheInstallerLeftIt() throws IOException {
        for (String tool : List.of("grub-editenv", "dpkg", "dpkg-query")) {
            assumeTrue(Tools.available(tool), tool + " is not installed (grub-common, dpkg)");
        }
        uploads = Files.createDirectories(folder.resolve("uploads"));
        Files.copy(REPOSITORY.resolve("ingot-core/src/main/resources/dev/ingot/boot/grub.cfg"), uploads.resolve("grub.cfg"));
        Files.copy(REPOSITORY.resolve("packer/files/fstab"), uploads.resolve("fstab"));
        Map<String, String> files = new HashMap<>(GoldenImages.goodFiles());
        // The installer's own fstab, by UUID with a line for /, and the boot loader installed but not held.
        files.put("/etc/fstab", "UUID=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 / ext4 defaults 0 1\nUUID=AB12-CD34 /boot/efi vfat umask=0077 0 1\n");
        files.put("/var/lib/dpkg/status", files.get("/var/lib/dpkg/status").replace("Status: hold ok installed", "Status: install ok installed"));
        files.put("/boot/efi/EFI/ubuntu/grub.cfg", "search.fs_uuid 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 root\nconfigfile ($root)/boot/grub/grub.cfg\n");
        root = GoldenImages.writeTree(folder.resolve("root"), files);
        Files.createDirectories(root.resolve("var/lib/dpkg/updates"));
        Files.createDirectories(root.resolve("var/lib/dpkg/info"));
    }

    private Tools.Outcome runScript() {
        Map<String, String> environment = new HashMap<>(ENVIRONMENT);
        environment.putAll(Map.of("ROOT", root.toString(), "UPLOADS", uploads.toString()));
        return Tools.run(folder, environment, List.of("bash", REPOSITORY.resolve("packer/scripts/45-ab-boot.sh").toString()));
    }

    @Test
    void theMenuTheEnvironmentTheFstabAndTheHeldBootLoaderAreInPlace() throws IOException {
        Tools.Outcome outcome = runScript();

        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
        Path esp = root.resolve("boot/efi/EFI/ubuntu");
        assertThat(Files.readString(esp.resolve("grub.cfg"))).isEqualTo(GrubMenu.config());
        GrubEnv env = GrubEnv.parse(Files.readAllBytes(esp.resolve("grubenv")), "grubenv");
        assertThat(env.variables()).containsExactly(Map.entry(GrubMenu.SAVED_ENTRY, "ingot-a"));
        assertThat(root.resolve("etc/fstab")).hasSameTextualContentAs(REPOSITORY.resolve("packer/files/fstab"));
        DirectoryTree tree = new DirectoryTree(root, "the script's root");
        assertThat(List.of(ImageChecks.fstab(tree), ImageChecks.bootLoaderHeld(tree)))
                .allSatisfy(result -> assertThat(result.findings()).as(result.name()).isEmpty());
        assertThat(Files.readString(root.resolve("var/lib/dpkg/status"))).contains("Package: shim-signed\nStatus: hold ok installed");
    }

    @Test
    void aDiskImageOfWhatItLeftPassesEveryCheck() {
        String reason = GoldenImages.unavailableBecause();
        assumeTrue(reason == null, reason);
        assertThat(runScript().exitCode()).isZero();
        Map<String, byte[]> esp = new LinkedHashMap<>();
        for (String path : List.of(GoldenImages.ESP_CONFIG, GoldenImages.ESP_ENV)) {
            try {
                esp.put(path, Files.readAllBytes(root.resolve("boot/efi" + path)));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        Path image = GoldenImages.diskImage(root, folder.resolve("edge-golden.img"), esp, GoldenImages.PARTITIONS);
        DirectoryTree dumped = Ext4Partition.dump(image, "root-a", folder.resolve("dump"), ENVIRONMENT);
        List<CheckResult> results = ImageChecks.run(dumped, BootDisk.read(image, ENVIRONMENT), new Expectations(ImageName.DEFAULT,
                Optional.of(ImageVersion.parse(GoldenImages.VERSION)), Optional.of(Instant.parse(GoldenImages.BUILD_DATE)),
                VersionsFile.parse(GoldenImages.VERSIONS_FILE, "versions.pkrvars.hcl").packages(), "versions.pkrvars.hcl"));

        assertThat(results).allSatisfy(result -> assertThat(result.findings()).as(result.name()).isEmpty());
        assertThat(results).extracting(CheckResult::name).contains("fstab", "boot-loader-held", "ab-boot");
    }

    @Test
    void aSecondRunChangesNothing() throws IOException {
        assertThat(runScript().exitCode()).isZero();
        Map<String, String> before = snapshot(root.resolve("boot/efi"));
        String fstab = Files.readString(root.resolve("etc/fstab"));

        Tools.Outcome again = runScript();

        assertThat(again.exitCode()).as(again.output()).isZero();
        assertThat(snapshot(root.resolve("boot/efi"))).isEqualTo(before);
        assertThat(root.resolve("etc/fstab")).hasContent(fstab.strip());
    }

    @Test
    void aRootWithoutTheKernelTheMenuLoadsFailsAndChangesNothing() throws IOException {
        Files.delete(root.resolve("boot/vmlinuz"));

        Tools.Outcome outcome = runScript();

        assertThat(outcome.exitCode()).isEqualTo(1);
        assertThat(outcome.output()).contains("root-a has no /boot/vmlinuz", "Hint:");
        assertThat(Files.readString(root.resolve("boot/efi/EFI/ubuntu/grub.cfg"))).startsWith("search.fs_uuid");
        assertThat(root.resolve("boot/efi/EFI/ubuntu/grubenv")).doesNotExist();
    }

    /** Every path under a folder with its content and modification time. */
    private static Map<String, String> snapshot(Path folder) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path path : walk.filter(Files::isRegularFile).toList()) {
                entries.put(folder.relativize(path).toString(), new String(Files.readAllBytes(path), java.nio.charset.StandardCharsets.UTF_8)
                        + " " + Files.getLastModifiedTime(path, LinkOption.NOFOLLOW_LINKS));
            }
        }
        return entries;
    }
}
