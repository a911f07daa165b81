package dev.ingot.imagebuild;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The real tools accept packer/: Packer (Debian's 1.6.6 and later) parses and formats the template, shellcheck the scripts. */
class PackerFilesToolsTest {
    private static final Path PACKER = Path.of("..", "packer").toAbsolutePath().normalize();

    @Test
    void packerValidatesTheTemplatesSyntax() {
        assumeTrue(Tools.available("packer"), "packer is not installed (apt-get install packer)");
        Tools.Outcome outcome = Tools.run(PACKER, Map.of("CHECKPOINT_DISABLE", "1"), List.of("packer", "validate", "-syntax-only", "."));
        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
    }

    @Test
    void packerFindsTheTemplateFormatted() {
        assumeTrue(Tools.available("packer"), "packer is not installed (apt-get install packer)");
        Tools.Outcome outcome = Tools.run(PACKER, Map.of("CHECKPOINT_DISABLE", "1"), List.of("packer", "fmt", "-check", "."));
        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
    }

    @Test
    void shellcheckFindsNothingInTheScripts() throws IOException {
        assumeTrue(Tools.available("shellcheck"), "shellcheck is not installed (apt-get install shellcheck)");
        List<String> command = new ArrayList<>(List.of("shellcheck"));
        try (Stream<Path> files = Files.walk(PACKER)) {
            files.filter(path -> path.toString().endsWith(".sh")).sorted().forEach(path -> command.add(path.toString()));
        }
        assertThat(command).hasSizeGreaterThan(7);
        Tools.Outcome outcome = Tools.run(PACKER, Map.of(), command);
        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
    }
}
