package dev.ingot.rollback;

import static java.util.Objects.requireNonNull;

import dev.ingot.cache.UsbCache;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.flash.FlashJob;
import dev.ingot.flash.FlashSources;
import dev.ingot.flash.FlashTarget;
import dev.ingot.flash.Flasher;
import dev.ingot.flash.SystemView;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.KnownGood;
import dev.ingot.image.ReleaseFiles;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.site.SiteId;
import dev.ingot.store.ArtifactStore;
import dev.ingot.store.WorkFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Puts a site back on a known-good image: picks the newest known-good version older than the one
 * the device runs (or the one named), takes it from the USB cache first and the store second,
 * flashes it, and reports each phase's time: the site's recovery time.
 */
public final class Rollback {
    private final Clock clock;
    private final Progress progress;
    private final SystemView system;

    public Rollback(Clock clock, Progress progress, SystemView system) {
        this.clock = requireNonNull(clock, "clock");
        this.progress = requireNonNull(progress, "progress");
        this.system = requireNonNull(system, "system");
    }

    /**
     * What to roll back. {@code current} is the version the device runs (needed unless {@code to} is
     * given); {@code cache} and {@code store} are the places to look, in that order.
     */
    public record Request(SiteId site, Path target, ImageName name, Optional<ImageVersion> to, Optional<ImageVersion> current,
            Optional<UsbCache> cache, Optional<ArtifactStore> store, Keyring keyring, WorkFolder workFolder, Flasher.Options options,
            java.util.function.Consumer<FlashTarget> confirm) {}

    public record Phase(String name, Duration duration) {}

    public record Result(SiteId site, ImageVersion version, String source, Flasher.Report flash, List<Phase> phases) {
        public Duration total() {
            return phases.stream().map(Phase::duration).reduce(Duration.ZERO, Duration::plus);
        }
    }

    public Result rollBack(Request request) {
        String what = "roll " + request.site() + " back";
        Instant started = clock.instant();
        ImageVersion version = request.to().orElseGet(() -> choose(request, what));
        ReleaseFiles files = new ReleaseFiles(request.name(), version);
        List<Phase> phases = new ArrayList<>();

        FlashJob source;
        String from;
        Optional<Path> cached = request.cache().map(UsbCache::folder).filter(folder -> Files.exists(folder.resolve(files.manifest())));
        if (cached.isPresent()) {
            source = FlashSources.fromReleaseFolder(cached.get(), request.name(), version, request.keyring());
            from = "USB cache " + cached.get();
        } else if (request.store().isPresent()) {
            // Streamed from the store as it is written: fetching and writing overlap (the "fetch" phase is the trust checks).
            source = FlashSources.fromStore(request.store().get(), request.name(), version, request.keyring(), progress);
            from = "store " + request.store().get().describe();
        } else {
            throw IngotException.tried(ErrorCode.NOT_FOUND, what, version + " is not in the USB cache and no store was given")
                    .withHint("pass --store, or sync the cache: ingot cache sync --dir DIR");
        }
        phases.add(new Phase("fetch", Duration.between(started, clock.instant())));

        FlashTarget target;
        Flasher.Report report;
        try {
            target = FlashTarget.inspect(request.target(), source.imageSize(), system);
            request.confirm().accept(target);
            report = new Flasher(clock, progress, () -> request.workFolder().folder("spool")).flash(source, target, request.options());
        } finally {
            source.source().close();
        }
        for (Flasher.Phase phase : report.phases()) {
            phases.add(new Phase(phase.name(), phase.duration()));
        }
        return new Result(request.site(), version, from, report, phases);
    }

    /** The newest known-good version older than the current one, from the store's list or else the cache's contents. */
    private ImageVersion choose(Request request, String what) {
        ImageVersion current = request.current().orElseThrow(() -> IngotException.tried(ErrorCode.BAD_INPUT, what,
                        "it is not known which version the device runs")
                .withHint("pass --to VERSION, or --current VERSION (what the device runs now)"));
        TreeSet<ImageVersion> candidates = new TreeSet<>();
        String consulted;
        if (request.store().isPresent()) {
            KnownGood.Document document = KnownGood.load(request.store().get(), request.name(), Optional.of(request.keyring())).document();
            // A store's list older than the one the cache took is stale or replayed: it could name a withdrawn version.
            java.util.OptionalLong seen = request.cache().map(cache -> cache.revisionSeen(request.name())).orElse(java.util.OptionalLong.empty());
            if (seen.isPresent()) {
                KnownGood.requireNotOlder(document, seen.getAsLong(), request.store().get().describe());
            }
            document.entries().forEach(entry -> candidates.add(entry.version()));
            consulted = "the store's known-good list";
        } else if (request.cache().isPresent()) {
            Optional<KnownGood.Document> cached = request.cache().get().knownGood(request.name());
            // Offline: the verified cached releases that the cache's own signed list (when it has one) still names known-good.
            request.cache().get().list(Optional.of(request.name()), false).stream().filter(UsbCache.Entry::ok)
                    .filter(entry -> cached.map(document -> document.contains(entry.version())).orElse(true))
                    .forEach(entry -> candidates.add(entry.version()));
            consulted = "the USB cache";
        } else {
            throw IngotException.tried(ErrorCode.BAD_INPUT, what, "neither a cache nor a store was given").withHint("pass --cache DIR or --store URI");
        }
        ImageVersion chosen = candidates.lower(current);
        if (chosen == null) {
            throw IngotException.tried(ErrorCode.NOT_FOUND, what, "no known-good version older than " + current + " is in " + consulted)
                    .withHint("name one with --to VERSION");
        }
        return chosen;
    }

    /** The version a root file system says it runs ({@code /etc/edge/image-version}, read as the health report reads it). */
    public static Optional<ImageVersion> runningVersion(Path root) {
        Path file = root.resolve(dev.ingot.health.EdgeFiles.IMAGE_VERSION.substring(1));
        try {
            return Files.isRegularFile(file)
                    ? dev.ingot.health.EdgeFiles.imageVersion(Files.readString(file)).found().map(image -> image.version())
                    : Optional.empty();
        } catch (java.io.IOException e) {
            return Optional.empty();
        }
    }
}
