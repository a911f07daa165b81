package dev.ingot.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.testing.SparseImages;
import dev.ingot.testing.SparseImages.Region;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparseFileTest {
    @TempDir
    Path folder;

    @Test
    void holesAreFoundWithoutReadingTheFile() throws IOException {
        Path image = SparseImages.create(folder.resolve("a.img"), 64L << 20, 1,
                new Region(0, 4096), new Region(16L << 20, 8192), new Region((64L << 20) - 10, 10));

        List<SparseFile.Extent> aligned = SparseFile.alignToBlocks(SparseFile.dataExtents(image), 4096, 64L << 20);

        // File systems allocate in their own block size; aligned to 4 KiB the data sits where it was written.
        assertThat(aligned).containsExactly(
                new SparseFile.Extent(0, 4096),
                new SparseFile.Extent(16L << 20, 8192),
                new SparseFile.Extent((64L << 20) - 4096, 4096));
    }

    @Test
    void alignmentMergesTouchingExtentsAndClipsTheShortLastBlock() {
        List<SparseFile.Extent> extents = List.of(new SparseFile.Extent(100, 100), new SparseFile.Extent(4000, 200),
                new SparseFile.Extent(13000, 100));

        assertThat(SparseFile.alignToBlocks(extents, 4096, 13500))
                .containsExactly(new SparseFile.Extent(0, 8192), new SparseFile.Extent(12288, 1212));
    }

    @Test
    void longExtentsAreCutIntoPiecesOfAtMostTheLimit() {
        assertThat(SparseFile.split(List.of(new SparseFile.Extent(4096, 40L << 20), new SparseFile.Extent(100L << 20, 4096)), 16L << 20))
                .containsExactly(
                        new SparseFile.Extent(4096, 16L << 20),
                        new SparseFile.Extent(4096 + (16L << 20), 16L << 20),
                        new SparseFile.Extent(4096 + (32L << 20), 8L << 20),
                        new SparseFile.Extent(100L << 20, 4096));
    }
}
