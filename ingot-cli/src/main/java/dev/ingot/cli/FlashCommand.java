package dev.ingot.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.flash.FlashJob;
import dev.ingot.flash.FlashSources;
import dev.ingot.flash.FlashTarget;
import dev.ingot.flash.Flasher;
import dev.ingot.flash.SystemView;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.PayloadSet;
import dev.ingot.image.ReleaseFiles;
import dev.ingot.sign.Keyring;
import dev.ingot.site.SiteId;
import dev.ingot.store.ArtifactStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "flash",
        description = {"Write an image onto a disk, or a slot payload into a partition: one verified pass, only the mapped blocks.",
            "SOURCE is a published VERSION (taken from --cache when it holds it, else streamed from --store: a folder, s3://",
            "or https://) or a local NAME.img.zst / NAME.img with its bmap beside it (or --bmap) and its signed manifest beside",
            "it (or --allow-unsigned). The manifest's signature and the bmap are checked first; then the payload streams in",
            "once: hashed, each range decompressed and its SHA-256 checked before it is written, read back from the disk while",
            "later ranges are written, the payload's digest confirmed at the end. Downloads resume after a cut; --keep DIR",
            "keeps a verified copy (and a rerun resumes from it). --partition root-b writes the release's root-a slot payload",
            "into that partition of the disk (or name the partition device itself). Unmapped blocks are made to read as zeros",
            "where that is cheap (--no-zero leaves them, as bmaptool does). Refuses a mounted or held disk or partition, the",
            "running root, a target smaller than the image; asks before overwriting a partitioned disk (--yes). With --site,",
            "the site's identity goes onto the flashed disk's data partition: its first boot provisions it by itself."},
        footer = {"", "Examples:",
            "  ingot flash v1.4 --target /dev/nvme0n1 --store s3://artifacts/prod --keyring keys/signing-key.pub.asc",
            "  ingot flash v1.4 --target /dev/nvme0n1 --store s3://artifacts/prod --keyring trusted/ --keep /media/usb/ingot",
            "  ingot flash v1.4 --target /dev/nvme0n1 --cache /media/usb/ingot --keyring trusted/ --site SITE-2847",
            "  ingot flash v1.3 --target /dev/nvme0n1 --cache /media/usb/ingot --keyring trusted/ --yes",
            "  ingot flash v1.5 --target /dev/nvme0n1 --partition root-b --cache /media/usb/ingot --keyring trusted/",
            "  ingot flash v1.5 --target /dev/nvme0n1p3 --store https://cdn.example/store --keyring trusted/",
            "  ingot flash edge-golden-v1.4.img.zst --target disk.img --keyring keys/signing-key.pub.asc",
            "  ingot flash custom.img --bmap custom.img.bmap --target /dev/sdb --allow-unsigned"})
final class FlashCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "SOURCE", description = "A version (v1.4) or a local image file (.img.zst or .img).")
    String source;

    @Option(names = "--target", required = true, paramLabel = "DISK", description = "The block device, partition device or image file to write.")
    Path target;

    @Option(names = "--partition", paramLabel = "NAME", description = "Write a slot payload into this GPT partition of --target (root-b).")
    String partition;

    @Option(names = "--slot", paramLabel = "NAME", description = "Which slot payload of the release to write into a partition "
            + "(default: its only one, root-a).")
    String slot;

    @Mixin
    StoreOptions store = new StoreOptions();

    @Mixin
    ImageCommand.NameOption name = new ImageCommand.NameOption();

    @Option(names = "--keyring", paramLabel = "FILE|DIR", description = "Trusted public key(s); required unless --allow-unsigned.")
    Path keyring;

    @Option(names = "--cache", paramLabel = "DIR", description = "A USB cache (ingot cache sync) to take the version from first.")
    Path cache;

    @Option(names = "--keep", paramLabel = "DIR", description = "Keep a verified copy of the payload and the release's files in DIR "
            + "(a release folder for --cache); a rerun after a cut or a kill resumes from what is there.")
    Path keep;

    @Option(names = "--bmap", paramLabel = "FILE", description = "The block map for a local image (default: IMAGE.bmap beside it).")
    Path bmap;

    @Option(names = "--allow-unsigned", description = "Flash a local image without a signed manifest (only the bmap's checksums vouch for it).")
    boolean allowUnsigned;

    @Option(names = "--site", paramLabel = "SITE", description = {"Then write this site's identity onto the disk (SITE_ID in the data "
            + "partition, /data/ingot/provision.env on the device), so that its first boot provisions it with nobody typing anything."})
    String site;

    @Mixin
    WriteOptions write = new WriteOptions();

    FlashCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        Path targetPath = context.resolve(target);
        // Refuse a wrong target before fetching anything; the size check follows once the image is known.
        Optional<SiteId> siteId = Optional.ofNullable(site).map(SiteId::new);
        FlashTarget early = FlashTarget.inspect(targetPath, 0, SystemView.live());
        if (siteId.isPresent()) {
            if (partition != null || slot != null) {
                // A slot write is an A/B update of a device that already has its identity on /data.
                throw IngotException.tried(ErrorCode.BAD_INPUT, "flash " + source, "--site goes with a whole-disk flash, not --partition or --slot")
                        .withHint("a device updated slot by slot keeps its identity on its data partition; leave out --site");
            }
            FirstBootIdentity.check(context, early);
        }
        Flasher.Options options = write.flasherOptions();
        boolean version = source.startsWith("v") && !Files.exists(context.resolve(Path.of(source)));
        java.time.Instant started = context.clock().instant();
        try (ArtifactStore artifactStore = version && !cached() ? store.open(context, true) : null) {
            FlashJob job = resolveSource(artifactStore);
            java.time.Duration trust = java.time.Duration.between(started, context.clock().instant());
            try {
                if (keep != null) {
                    if (job.release().isEmpty() || job.format() != FlashJob.Format.ZSTD) {
                        throw IngotException.tried(ErrorCode.BAD_INPUT, "flash " + source, "--keep keeps a signed .img.zst payload only");
                    }
                    job = job.keepingIn(context.resolve(keep));
                }
                FlashTarget flashTarget = partition != null || job.set() instanceof PayloadSet.Slot
                        ? FlashTarget.inspectPartition(targetPath, Optional.ofNullable(partition), job.imageSize(), SystemView.live())
                        : FlashTarget.inspect(targetPath, job.imageSize(), SystemView.live());
                if (flashTarget.window().whole()) {
                    write.confirmOverwrite(context, flashTarget);
                }
                Flasher.Report report = new Flasher(context.clock(), progress(), () -> write.workFolder(context).folder("spool"))
                        .flash(job, flashTarget, options);
                Optional<FirstBootIdentity.Outcome> identity = siteId.map(id -> FirstBootIdentity.write(context, flashTarget.path(), id, false));
                ObjectNode json = json(job, report, trust);
                identity.ifPresent(outcome -> FirstBootIdentity.json(json, outcome));
                emit(human(job, report, trust) + identity.map(FirstBootIdentity::human).orElse(""), json);
                return 0;
            } finally {
                job.source().close();
            }
        }
    }

    /** Whether --cache holds the version asked for (then no store is opened). */
    private boolean cached() {
        if (cache == null) {
            return false;
        }
        ReleaseFiles files = new ReleaseFiles(name.value(), ImageVersion.parse(source));
        return Files.exists(context.resolve(cache).resolve(files.manifest()));
    }

    /** The payload set asked for: a slot when a partition is the target, else the disk. */
    private PayloadSet set(boolean partitionTarget) {
        if (slot != null) {
            return PayloadSet.slot(slot);
        }
        return partitionTarget ? PayloadSet.slot("root-a") : PayloadSet.DISK;
    }

    private boolean partitionTarget() {
        return partition != null || FlashTarget.isPartitionDevice(context.resolve(target));
    }

    private FlashJob resolveSource(ArtifactStore artifactStore) {
        Path asFile = context.resolve(Path.of(source));
        PayloadSet set = set(partitionTarget());
        if (artifactStore == null && !(source.startsWith("v") && !Files.exists(asFile))) {
            if (set instanceof PayloadSet.Slot || partition != null) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "flash " + source, "--partition and --slot take a published version")
                        .withHint("ingot flash VERSION --cache DIR --partition root-b");
            }
            return FlashSources.fromFiles(asFile, Optional.ofNullable(bmap).map(context::resolve),
                    Optional.ofNullable(keyring).map(path -> Keyring.load(context.resolve(path))), allowUnsigned);
        }
        ImageVersion version = ImageVersion.parse(source);
        if (keyring == null) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "flash " + version, "no --keyring was given")
                    .withHint("pass --keyring keys/signing-key.pub.asc: a published release is always checked against it");
        }
        if (bmap != null || allowUnsigned) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "flash " + version, "--bmap and --allow-unsigned apply to local image files only");
        }
        Keyring trusted = Keyring.load(context.resolve(keyring));
        ImageName imageName = name.value();
        if (artifactStore == null) {
            return FlashSources.fromReleaseFolder(context.resolve(cache), imageName, version, trusted, set);
        }
        return FlashSources.fromStore(artifactStore, ReleaseFiles.STORE_FOLDER, imageName, version, trusted, set, progress());
    }

    private static String human(FlashJob job, Flasher.Report report, java.time.Duration trust) {
        StringBuilder text = new StringBuilder();
        text.append("Flashed ").append(job.description()).append(" onto ").append(report.targetDescription()).append('\n');
        text.append(String.format(Locale.ROOT, "  image %s, %s mapped and written; unmapped: %s%n", Sizes.bytes(report.imageSize()),
                Sizes.bytes(report.writtenBytes()), report.zeroing()));
        text.append(String.format(Locale.ROOT, "  from %s (%s%s); decompression: %s; direct I/O: %s%n", report.source(),
                Sizes.bytes(report.payloadBytes()), report.replayedBytes() > 0 ? ", " + Sizes.bytes(report.replayedBytes())
                        + " of it from the kept copy" : "", report.decompression(), report.directIo()));
        if (report.resumes() > 0) {
            text.append(String.format(Locale.ROOT, "  the download was resumed %d time(s) after a cut or a stall%n", report.resumes()));
        }
        text.append(String.format(Locale.ROOT, "  %-15s %8s  (signature, manifest, block maps)%n", "trust", Sizes.seconds(trust)));
        for (Flasher.Phase phase : report.phases()) {
            text.append(String.format(Locale.ROOT, "  %-15s %8s%s%n", phase.name(), Sizes.seconds(phase.duration()),
                    phase.bytes() > 0 ? "  " + Sizes.rate(phase.bytes(), phase.duration()) : ""));
        }
        text.append(String.format(Locale.ROOT, "  %-15s %8s%s%n", "total", Sizes.seconds(report.total()),
                report.readBack() ? "  (written data read back and checked)" : "  (not read back: --no-verify)"));
        report.kept().ifPresent(folder -> text.append("  a verified copy is in ").append(folder).append(" (use it with --cache)\n"));
        return text.toString();
    }

    private static ObjectNode json(FlashJob job, Flasher.Report report, java.time.Duration trust) {
        ObjectNode json = Ingot.JSON.createObjectNode();
        json.put("source", job.description());
        json.put("read_from", report.source());
        json.put("target", report.target().toString());
        json.put("target_description", report.targetDescription());
        json.put("image_size", report.imageSize());
        json.put("written_bytes", report.writtenBytes());
        json.put("zeroed_bytes", report.zeroedBytes());
        json.put("zeroing", report.zeroing());
        json.put("decompression", report.decompression());
        json.put("direct_io", report.directIo());
        json.put("payload_bytes", report.payloadBytes());
        json.put("replayed_bytes", report.replayedBytes());
        json.put("resumes", report.resumes());
        report.kept().ifPresent(folder -> json.put("kept", folder.toString()));
        json.put("read_back", report.readBack());
        json.put("total_ms", report.total().toMillis());
        json.put("trust_ms", trust.toMillis());
        ArrayNode phases = json.putArray("phases");
        for (Flasher.Phase phase : report.phases()) {
            ObjectNode node = phases.addObject();
            node.put("name", phase.name());
            node.put("ms", phase.duration().toMillis());
            node.put("bytes", phase.bytes());
        }
        ArrayNode stages = json.putArray("stages");
        for (Flasher.Stage stage : report.stages()) {
            ObjectNode node = stages.addObject();
            node.put("name", stage.name());
            node.put("cpu_ms", stage.cpuMillis());
            node.put("bytes", stage.bytes());
        }
        json.set("jvm", jvm());
        return json;
    }

    /**
     * What the JVM itself cost this process so far: all its CPU, the JIT compilers' time and the collectors' (the
     * benchmark's phase table shows where CPU went besides the stages; on 2 cores the JIT competes with them).
     */
    private static ObjectNode jvm() {
        ObjectNode jvm = Ingot.JSON.createObjectNode();
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            jvm.put("process_cpu_ms", os.getProcessCpuTime() / 1_000_000);
        }
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        if (jit != null && jit.isCompilationTimeMonitoringSupported()) {
            jvm.put("jit_ms", jit.getTotalCompilationTime());
        }
        jvm.put("gc_ms", java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionTime).filter(ms -> ms > 0).sum());
        jvm.put("uptime_ms", java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime());
        return jvm;
    }
}
