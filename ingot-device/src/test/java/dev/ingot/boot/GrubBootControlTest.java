package dev.ingot.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.ToolRunner;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GRUB as the agent drives it, with the real grub-editenv, on a stand-in root (ESP folder, /proc files). */
class GrubBootControlTest {
    @TempDir
    Path root;

    private Path env;
    private GrubBootControl grub;

    @BeforeEach
    void aDeviceBootedFromSlotA() throws IOException {
        assumeTrue(Tools.available("grub-editenv"), "grub-editenv (grub-common) is not installed");
        env = root.resolve("boot/efi/EFI/ubuntu/grubenv");
        Files.createDirectories(env.getParent());
        Tools.succeed(root, "grub-editenv", env.toString(), "create");
        Tools.succeed(root, "grub-editenv", env.toString(), "set", "saved_entry=ingot-a");
        write("proc/cmdline", "BOOT_IMAGE=(hd0,gpt2)/boot/vmlinuz root=/dev/disk/by-partlabel/root-a ro ingot.slot=a panic=30\n");
        write("proc/sys/kernel/random/boot_id", "0d5f3a4e-1c1b-4c43-9f57-61c5fbd0a9e1\n");
        grub = new GrubBootControl(root, new ToolRunner(Map.of("PATH", System.getenv("PATH"))));
    }

    private void write(String path, String text) throws IOException {
        Files.createDirectories(root.resolve(path).getParent());
        Files.writeString(root.resolve(path), text);
    }

    private String list() {
        return Tools.succeed(root, "grub-editenv", env.toString(), "list").output();
    }

    @Test
    void theStateComesFromTheKernelCommandLineTheBootIdAndTheEnvironment() {
        assertThat(grub.state()).isEqualTo(new BootState(Slot.A, "0d5f3a4e-1c1b-4c43-9f57-61c5fbd0a9e1", Slot.A, Optional.empty()));
        assertThat(grub.state().inactive()).isEqualTo(Slot.B);
    }

    @Test
    void aOneShotBootIsSetAsGrubEditenvWouldAndDroppedAgain() {
        grub.bootOnce(Slot.B);

        assertThat(list()).isEqualTo("saved_entry=ingot-a\nnext_entry=ingot-b\n");
        assertThat(grub.state().oneShot()).contains(Slot.B);
        assertThat(grub.state().committed()).isEqualTo(Slot.A);

        grub.cancelOnce();

        assertThat(list()).isEqualTo("saved_entry=ingot-a\n");
    }

    @Test
    void aCommitMakesTheSlotTheDefaultAndDropsTheOneShotAndDoingItTwiceChangesNothing() throws IOException {
        grub.bootOnce(Slot.B);
        grub.commit(Slot.B);
        byte[] committed = Files.readAllBytes(env);
        grub.commit(Slot.B);

        assertThat(list()).isEqualTo("saved_entry=ingot-b\n");
        assertThat(Files.readAllBytes(env)).isEqualTo(committed).hasSize(GrubEnv.SIZE);
        try (Stream<Path> files = Files.list(env.getParent())) {
            assertThat(files.map(path -> path.getFileName().toString())).containsExactly("grubenv");
        }
    }

    @Test
    void aMissingEnvironmentIsSlotAAsGrubCfgReadsItAndTheFirstChangeCreatesIt() throws IOException {
        Files.delete(env);

        assertThat(grub.state().committed()).isEqualTo(Slot.A);
        grub.bootOnce(Slot.B);

        assertThat(list()).isEqualTo("next_entry=ingot-b\n");
    }

    @Test
    void aDamagedEnvironmentReadsAsGrubReadsItSlotAWithTheDamageNamedAndACommitWritesAFreshBlock() throws IOException {
        write("proc/cmdline", "BOOT_IMAGE=(hd0,gpt3)/boot/vmlinuz root=/dev/disk/by-partlabel/root-b rw ingot.slot=b panic=30\n");
        grub.commit(Slot.B);
        byte[] block = Files.readAllBytes(env);
        block[0] = 'X'; // the signature, as a stray write to the ESP would leave it; grub-editenv refuses such a block
        Files.write(env, block);

        BootState damaged = grub.state();

        assertThat(damaged.committed()).isEqualTo(Slot.A);
        assertThat(damaged.oneShot()).isEmpty();
        assertThat(damaged.damage()).hasValueSatisfying(reason -> assertThat(reason).contains("does not start with"));
        assertThat(Tools.run(root, "grub-editenv", env.toString(), "list").exitCode()).isNotZero();

        grub.commit(Slot.B);

        assertThat(list()).isEqualTo("saved_entry=ingot-b\n");
        assertThat(grub.state().damage()).isEmpty();
        assertThat(grub.state().committed()).isEqualTo(Slot.B);
    }

    @Test
    void aTruncatedEnvironmentIsDamagedAndAOneShotOnItStartsFromAFreshBlock() throws IOException {
        Files.write(env, java.util.Arrays.copyOf(Files.readAllBytes(env), 100));

        assertThat(grub.state().damage()).hasValueSatisfying(reason -> assertThat(reason).contains("100 bytes"));
        grub.bootOnce(Slot.B);

        assertThat(list()).isEqualTo("next_entry=ingot-b\n");
        assertThat(Files.size(env)).isEqualTo(GrubEnv.SIZE);
    }

    @Test
    void withoutGrubEditenvNothingIsChangedAndTheHintNamesThePackage() throws IOException {
        byte[] before = Files.readAllBytes(env);
        GrubBootControl without = new GrubBootControl(root, new ToolRunner(Map.of("PATH", root.resolve("no-tools").toString())));

        assertThatThrownBy(() -> without.bootOnce(Slot.B)).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
            assertThat(e.oneLine()).contains("set the one-shot boot of slot b", "grub-editenv is not installed", "install grub-common");
        });
        assertThat(Files.readAllBytes(env)).isEqualTo(before);
    }

    @Test
    void aDeviceNotBootedFromTheAbMenuIsAnUnexpectedStateNotAGuess() throws IOException {
        write("proc/cmdline", "BOOT_IMAGE=/vmlinuz root=UUID=3c2d ro quiet\n");

        assertThatThrownBy(grub::state).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
            assertThat(e.oneLine()).contains("has no ingot.slot=a|b", "not started from the Ingot A/B boot menu");
        });
    }
}
