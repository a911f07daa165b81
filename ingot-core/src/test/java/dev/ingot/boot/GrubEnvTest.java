package dev.ingot.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The environment block as the real grub-editenv writes it, read back here. */
class GrubEnvTest {
    @TempDir
    Path folder;

    @Test
    void whatGrubEditenvWritesIsReadBackVariableForVariableEscapesIncluded() throws IOException {
        assumeTrue(Tools.available("grub-editenv"), "grub-editenv (grub-common) is not installed");
        Path env = folder.resolve("grubenv");
        Tools.succeed(folder, "grub-editenv", env.toString(), "create");
        Tools.succeed(folder, "grub-editenv", env.toString(), "set", "saved_entry=ingot-b", "next_entry=ingot-a", "odd=back\\slash",
                "multi=line one\nline two");
        Tools.succeed(folder, "grub-editenv", env.toString(), "unset", "next_entry");

        GrubEnv parsed = GrubEnv.parse(Files.readAllBytes(env), env.toString());

        assertThat(parsed.variables()).containsExactly(Map.entry("saved_entry", "ingot-b"), Map.entry("odd", "back\\slash"),
                Map.entry("multi", "line one\nline two"));
        assertThat(Tools.succeed(folder, "grub-editenv", env.toString(), "list").output())
                .isEqualTo("saved_entry=ingot-b\nodd=back\\slash\nmulti=line one\nline two\n");
    }

    @Test
    void anEmptyValueIsAVariableThatIsNotSet() {
        GrubEnv env = GrubEnv.parse(block("next_entry=\nsaved_entry=ingot-a\n"), "grubenv");

        assertThat(env.get("next_entry")).isEmpty();
        assertThat(env.get("saved_entry")).contains("ingot-a");
    }

    @Test
    void aTruncatedOrForeignFileIsRefusedWithTheWayToRecreateIt() {
        assertThatThrownBy(() -> GrubEnv.parse(Arrays.copyOf(block("saved_entry=ingot-b\n"), 512), "/boot/efi/EFI/ubuntu/grubenv"))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED);
                    assertThat(e.oneLine()).contains("/boot/efi/EFI/ubuntu/grubenv", "512 bytes, not 1024", "grub-editenv");
                });
        byte[] foreign = new byte[GrubEnv.SIZE];
        Arrays.fill(foreign, (byte) '#');
        assertThatThrownBy(() -> GrubEnv.parse(foreign, "grubenv")).hasMessageContaining("does not start with '# GRUB Environment Block'");
    }

    /** A block as grub-editenv lays it out: signature, variables, '#' to 1024 bytes. */
    static byte[] block(String variables) {
        byte[] block = new byte[GrubEnv.SIZE];
        Arrays.fill(block, (byte) '#');
        byte[] text = (GrubEnv.SIGNATURE + variables).getBytes(StandardCharsets.UTF_8);
        System.arraycopy(text, 0, block, 0, text.length);
        return block;
    }
}
