package dev.ingot.provision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UnifiedDiffTest {
    @TempDir
    Path folder;

    private static String diff(String old, String updated) {
        return UnifiedDiff.of(new UnifiedDiff.Side("a/f", old, UnaryOperator.identity()),
                new UnifiedDiff.Side("b/f", updated, UnaryOperator.identity()));
    }

    private static String numbered(int from, int to) {
        return IntStream.rangeClosed(from, to).mapToObj(i -> "line " + i + "\n").collect(Collectors.joining());
    }

    @Test
    void equalTextsHaveNoDiff() {
        assertThat(diff("a\nb\n", "a\nb\n")).isEmpty();
    }

    @Test
    void oneChangedLineIsShownWithThreeLinesOfContext() {
        String old = numbered(1, 10);
        String updated = old.replace("line 5\n", "line five\n");

        assertThat(diff(old, updated)).isEqualTo("""
                --- a/f
                +++ b/f
                @@ -2,7 +2,7 @@
                 line 2
                 line 3
                 line 4
                -line 5
                +line five
                 line 6
                 line 7
                 line 8
                """);
    }

    @Test
    void aNewFileIsOneHunkFromNothing() {
        assertThat(UnifiedDiff.of(new UnifiedDiff.Side("/dev/null", "", UnaryOperator.identity()),
                new UnifiedDiff.Side("b/f", "x\ny\n", UnaryOperator.identity())))
                .isEqualTo("--- /dev/null\n+++ b/f\n@@ -0,0 +1,2 @@\n+x\n+y\n");
    }

    @Test
    void aMissingFinalLineBreakIsMarked() {
        assertThat(diff("a\nb", "a\nb\n")).isEqualTo("--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
    }

    @Test
    void linesAreShownThroughEachSidesMask() {
        String shown = UnifiedDiff.of(new UnifiedDiff.Side("a/f", "KEY=old\n", line -> "KEY=***"),
                new UnifiedDiff.Side("b/f", "KEY=new\n", line -> "KEY=###"));

        assertThat(shown).isEqualTo("--- a/f\n+++ b/f\n@@ -1 +1 @@\n-KEY=***\n+KEY=###\n");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "1|40|3:three,30:thirty", "1|40|3:three,9:nine", "1|40|1:one,40:forty", "1|5|", "1|20|5:-,6:-,7:-", "1|12|12:twelve"})
    void patchTurnsTheOldTextIntoTheNewWithOurDiff(int from, int to, String edits) throws IOException {
        assumeTrue(Tools.available("patch"), "patch is not installed");
        String old = numbered(from, to);
        String updated = old;
        if (edits != null) {
            for (String edit : edits.split(",")) {
                String[] parts = edit.split(":");
                updated = updated.replace("line " + parts[0] + "\n", parts[1].equals("-") ? "" : parts[1] + "\nadded after " + parts[0] + "\n");
            }
        }
        updated = updated + (edits == null ? "appended\n" : "");
        Files.createDirectories(folder.resolve("a"));
        Files.writeString(folder.resolve("f"), old);
        Files.writeString(folder.resolve("change.diff"), diff(old, updated));

        Tools.succeed(folder, "patch", "-p1", "--quiet", "--input", "change.diff");

        assertThat(Files.readString(folder.resolve("f"))).isEqualTo(updated);
    }
}
