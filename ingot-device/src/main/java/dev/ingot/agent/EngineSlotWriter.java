package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.boot.Slot;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fetch.RangeReadable;
import dev.ingot.flash.FlashJob;
import dev.ingot.flash.FlashTarget;
import dev.ingot.flash.Flasher;
import dev.ingot.flash.SystemView;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.TrustedRelease;
import dev.ingot.progress.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The agent's {@link SlotWriter} over the streaming flash engine ({@link Flasher}, {@code PayloadSet.Slot}): streams the
 * release's root-slot payload into the inactive slot's partition, found by its GPT name ({@code root-b}), every range
 * checked against the signed block map before it is written, read back after, the payload's digest confirmed at the end.
 * The partition is claimed on its own device node (O_EXCL), never the disk whose other slot runs the system, and a
 * mounted or held partition is refused ({@link FlashTarget#inspectPartition}).
 *
 * <p>Resuming: what the engine read from the network is kept in {@code keepFolder} on the data partition as it is
 * hashed, so a write cut by a crash or a power loss replays that prefix (re-hashed: the signed digests catch a damaged
 * copy) and downloads only the rest; within one write, a cut connection is resumed range by range ({@code OrderedFetch}).
 * The write itself starts over each time (the engine writes every range again, which is idempotent), so the checkpoint
 * is reached once, at the end, with the slot image's size. The kept copy is removed once the slot is written.
 */
public final class EngineSlotWriter implements SlotWriter {
    private final Function<Slot, Path> partitions;
    private final Path keepFolder;
    private final Clock clock;
    private final SystemView system;
    private final Flasher.Options options;
    private final Consumer<String> log;

    /**
     * @param partitions where each slot's partition is found, with its GPT name: {@code /dev/disk/by-partlabel/root-b} on a
     *     device; a disk image file (written through the partition's byte range) in tests
     * @param keepFolder the data partition's download folder: a cut download resumes from what is kept there
     */
    public EngineSlotWriter(Function<Slot, Path> partitions, Path keepFolder, Clock clock, SystemView system, Flasher.Options options,
            Consumer<String> log) {
        this.partitions = requireNonNull(partitions, "partitions");
        this.keepFolder = requireNonNull(keepFolder, "keepFolder");
        this.clock = requireNonNull(clock, "clock");
        this.system = requireNonNull(system, "system");
        this.options = requireNonNull(options, "options");
        this.log = requireNonNull(log, "log");
    }

    /** The slots by GPT partition name, as udev links them on a device. */
    public static Function<Slot, Path> byPartitionLabel() {
        return slot -> Path.of("/dev/disk/by-partlabel", slot.partitionLabel());
    }

    /**
     * A release trusted through the one trust path and where its root-slot payload streams from (the USB cache or the
     * control plane), made by {@link EngineSlotFetcher}.
     *
     * @param remote whether it comes over the network (then the engine keeps what it read, to resume)
     */
    public record StreamedSlotPayload(TrustedRelease release, RangeReadable source, boolean remote) implements SlotPayload {
        public StreamedSlotPayload {
            requireNonNull(release, "release");
            requireNonNull(source, "source");
        }

        @Override
        public ImageVersion version() {
            return release.version();
        }

        @Override
        public long size() {
            return release.blockMap(EngineSlotFetcher.ROOT_SLOT).imageSize();
        }

        @Override
        public String describe() {
            return source.describe();
        }
    }

    @Override
    public void write(SlotPayload payload, Slot slot, long resumeFrom, Checkpoint checkpoint, Progress progress) {
        if (!(payload instanceof StreamedSlotPayload streamed)) {
            throw new IllegalArgumentException("this writer takes the engine fetcher's payloads, not " + payload.describe());
        }
        Path where = partitions.apply(slot);
        FlashTarget target = FlashTarget.inspectPartition(where, java.util.Optional.of(slot.partitionLabel()), streamed.size(), system);
        FlashJob job = FlashJob.signed(streamed.release(), EngineSlotFetcher.ROOT_SLOT, streamed.source());
        Path kept = keepFolder.resolve(streamed.release().files().base());
        if (streamed.remote()) {
            try {
                Files.createDirectories(kept);
            } catch (IOException e) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "keep the download of " + streamed.version() + " in " + kept,
                        String.valueOf(e.getMessage())).withHint("is the data partition mounted and writable?");
            }
            job = job.keepingIn(kept);
        }
        Flasher.Report report;
        try {
            report = new Flasher(clock, progress, () -> keepFolder.resolve("spool")).flash(job, target, options);
        } finally {
            streamed.source().close();
        }
        log.accept("wrote " + streamed.version() + " into slot " + slot + " (" + target.describe() + "): " + report.writtenBytes()
                + " bytes written and read back" + (report.replayedBytes() > 0 ? ", " + report.replayedBytes() + " replayed from "
                + kept : "") + (report.resumes() > 0 ? ", " + report.resumes() + " cut read(s) resumed" : ""));
        checkpoint.reached(streamed.size());
        if (streamed.remote()) {
            removeQuietly(kept);
        }
    }

    /** The kept copy served its purpose; one left behind only costs space on /data and is replaced by the next download. */
    private void removeQuietly(Path folder) {
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            log.accept("the kept download " + folder + " could not be removed: " + e.getMessage());
        }
    }
}
