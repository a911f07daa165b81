package dev.ingot.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GPT reader against tables written by the real sfdisk, and against each header or array damaged on its own. */
class GptTableTest {
    @TempDir
    Path folder;

    private Path disk;

    @BeforeEach
    void partitionADiskImageWithSfdisk() throws IOException {
        assumeTrue(Tools.available("sfdisk") || Files.isExecutable(Path.of("/usr/sbin/sfdisk")), "sfdisk is not installed (fdisk)");
        disk = folder.resolve("disk.img");
        try (RandomAccessFile file = new RandomAccessFile(disk.toFile(), "rw")) {
            file.setLength(40L << 20);
        }
        Files.writeString(folder.resolve("layout"), """
                label: gpt
                size=1MiB, name=esp, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
                size=16MiB, name=root-a
                size=16MiB, name=root-b
                name=data
                """);
        Tools.run(folder, Map.of("PATH", System.getenv("PATH") + ":/usr/sbin:/sbin"), List.of("sh", "-c", "sfdisk -q disk.img < layout"))
                .assertSuccess(List.of("sfdisk"));
    }

    @Test
    void theTableSfdiskWroteReadsBackWithItsNamesAndPlaces() {
        GptTable table = GptTable.read(disk);

        assertThat(table.sectorSize()).isEqualTo(512);
        assertThat(table.partitions()).extracting(GptTable.Partition::name).containsExactly("esp", "root-a", "root-b", "data");
        GptTable.Partition rootA = table.partition("root-a").orElseThrow();
        assertThat(rootA.offset()).isEqualTo(2L << 20);
        assertThat(rootA.size()).isEqualTo(16L << 20);
        assertThat(rootA.number()).isEqualTo(2);
        assertThat(table.partition("esp").orElseThrow().typeGuid()).isEqualTo("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
        assertThat(rootA.typeGuid()).isEqualTo("0FC63DAF-8483-4772-8E79-3D69D8477DE4");
    }

    @Test
    void aFlippedByteInThePrimaryHeaderIsNamed() throws IOException {
        flip(512 + 40); // FirstUsableLBA

        assertThatThrownBy(() -> GptTable.read(disk)).isInstanceOfSatisfying(IngotException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED)).hasMessageContaining("the primary GPT header's CRC32 is");
    }

    @Test
    void aFlippedByteInTheEntryArrayIsNamed() throws IOException {
        flip(1024 + 128 + 60); // a letter of root-a's name

        assertThatThrownBy(() -> GptTable.read(disk)).hasMessageContaining("the primary GPT partition entry array's CRC32 is");
    }

    @Test
    void aFlippedByteInTheBackupHeaderIsNamed() throws IOException {
        flip((40L << 20) - 512 + 40);

        assertThatThrownBy(() -> GptTable.read(disk)).hasMessageContaining("the backup GPT header's CRC32 is");
    }

    @Test
    void aTruncatedImageHasNoBackupHeaderWhereThePrimarySaysIt() throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(disk.toFile(), "rw")) {
            file.setLength(39L << 20);
        }

        assertThatThrownBy(() -> GptTable.read(disk)).hasMessageContaining("the backup header is at LBA 81919")
                .hasMessageContaining("the disk's last LBA is 79871");
    }

    @Test
    void anImageWithoutAGptSaysSo() throws IOException {
        Path plain = Files.write(folder.resolve("plain.img"), new byte[1 << 20]);

        assertThat(GptTable.present(plain)).isFalse();
        assertThat(GptTable.present(disk)).isTrue();
        assertThatThrownBy(() -> GptTable.read(plain)).hasMessageContaining("it has no GPT header");
    }

    private void flip(long offset) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(disk.toFile(), "rw")) {
            file.seek(offset);
            int value = file.read();
            file.seek(offset);
            file.write(value ^ 0x20);
        }
    }
}
