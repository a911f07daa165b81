package dev.ingot.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.boot.Slot;
import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.ImageVersion;
import dev.ingot.progress.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stand-in slot writer on file-backed slots: checkpoints, resume, read-back, a slot too small. */
class FileSlotWriterTest {
    @TempDir
    Path folder;

    private FileSlotWriter.RawSlotPayload payload(int size) throws IOException {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        Path file = Files.write(folder.resolve("payload.img"), bytes);
        return new FileSlotWriter.RawSlotPayload(ImageVersion.parse("v1.5"), file, size, Sha256.of(bytes));
    }

    private Path slot(long size) throws IOException {
        Path file = folder.resolve("root-b.img");
        Files.write(file, new byte[(int) size]);
        return file;
    }

    @Test
    void theSlotHoldsThePayloadAndEachCheckpointFollowsAFlushedChunk() throws IOException {
        FileSlotWriter.RawSlotPayload payload = payload(3 * FileSlotWriter.CHUNK + 100);
        Path slot = slot(4L * FileSlotWriter.CHUNK);
        List<Long> checkpoints = new ArrayList<>();

        new FileSlotWriter(which -> slot).write(payload, Slot.B, 0, checkpoints::add, Progress.NONE);

        assertThat(checkpoints).containsExactly((long) FileSlotWriter.CHUNK, 2L * FileSlotWriter.CHUNK, 3L * FileSlotWriter.CHUNK,
                3L * FileSlotWriter.CHUNK + 100);
        assertThat(Arrays.copyOf(Files.readAllBytes(slot), (int) payload.size())).isEqualTo(Files.readAllBytes(payload.file()));
    }

    @Test
    void aResumedWriteKeepsAMatchingPrefixAndStartsOverOnAStrangeOne() throws IOException {
        FileSlotWriter.RawSlotPayload payload = payload(3 * FileSlotWriter.CHUNK);
        Path slot = slot(3L * FileSlotWriter.CHUNK);
        byte[] content = Files.readAllBytes(payload.file());
        byte[] half = Arrays.copyOf(content, (int) slot.toFile().length());
        Arrays.fill(half, 2 * FileSlotWriter.CHUNK, half.length, (byte) 0);
        Files.write(slot, half);
        List<Long> checkpoints = new ArrayList<>();

        new FileSlotWriter(which -> slot).write(payload, Slot.B, 2L * FileSlotWriter.CHUNK, checkpoints::add, Progress.NONE);
        assertThat(checkpoints).containsExactly(3L * FileSlotWriter.CHUNK);

        Files.write(slot, new byte[3 * FileSlotWriter.CHUNK]);
        checkpoints.clear();
        new FileSlotWriter(which -> slot).write(payload, Slot.B, 2L * FileSlotWriter.CHUNK, checkpoints::add, Progress.NONE);
        assertThat(checkpoints).first().isEqualTo((long) FileSlotWriter.CHUNK);
        assertThat(Files.readAllBytes(slot)).isEqualTo(content);
    }

    @Test
    void aSlotSmallerThanThePayloadIsRefusedBeforeAnythingIsWritten() throws IOException {
        FileSlotWriter.RawSlotPayload payload = payload(2 * FileSlotWriter.CHUNK);
        Path slot = slot(FileSlotWriter.CHUNK);

        assertThatThrownBy(() -> new FileSlotWriter(which -> slot).write(payload, Slot.B, 0, position -> { }, Progress.NONE))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED);
                    assertThat(e.oneLine()).contains("the partition holds " + FileSlotWriter.CHUNK + " bytes");
                });
        assertThat(Files.readAllBytes(slot)).containsOnly(0);
    }

    @Test
    void aPayloadThatDoesNotMatchItsDigestFailsTheReadBack() throws IOException {
        FileSlotWriter.RawSlotPayload good = payload(FileSlotWriter.CHUNK);
        FileSlotWriter.RawSlotPayload lying = new FileSlotWriter.RawSlotPayload(good.version(), good.file(), good.size(),
                Sha256.of(new byte[] {1}));

        Path slot = slot(FileSlotWriter.CHUNK);

        assertThatThrownBy(() -> new FileSlotWriter(which -> slot).write(lying, Slot.B, 0, position -> { },
                Progress.NONE)).hasMessageContaining("what was read back has SHA-256");
    }
}
