package dev.ingot.provision;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.site.ChronyConfig;
import dev.ingot.site.FirewallRules;
import dev.ingot.site.ParameterSource;
import dev.ingot.site.SiteConfig;
import dev.ingot.site.SiteFile;
import dev.ingot.site.SiteFiles;
import dev.ingot.site.SiteId;
import dev.ingot.site.SiteParameters;
import dev.ingot.site.VideoIngestEnvironment;
import dev.ingot.site.VideoIngestUnit;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;

/**
 * Turns a site's parameters into the device's configuration: read every parameter, check them all (any problem:
 * nothing is written), render every file, compare with what is under the root, replace the files that differ
 * (atomically, see {@link AtomicFiles}), then ask the host to pick them up. Running it again with the same
 * parameters changes nothing and reports so.
 */
public final class Provisioner {
    /** The service that chrony's Debian/Ubuntu package installs. */
    static final String CHRONY_UNIT = "chrony.service";
    /** Where both root slots mount the data partition (relative to the root). */
    static final String DATA_MOUNT = "data";

    private final ParameterSource source;
    private final HostCommands host;

    public Provisioner(ParameterSource source, HostCommands host) {
        this.source = requireNonNull(source, "source");
        this.host = requireNonNull(host, "host");
    }

    /**
     * @param root where the device's file system is: {@code /} on the device, or a mounted copy / scratch folder
     * @param dryRun compare and report only; nothing is written or applied
     * @param apply ask the host to pick the files up; the caller decides (never for a root other than the running one)
     */
    public record Request(SiteId site, Path root, boolean dryRun, boolean apply) {
        public Request {
            requireNonNull(site, "site");
            requireNonNull(root, "root");
        }
    }

    /** What happened (or would happen, in a dry run) to one file. */
    public enum Change {
        CREATED, UPDATED, REMOVED, UNCHANGED,
        /** A file the site does not have (no enrollment token), and the device has none either. */
        ABSENT;

        public boolean isChange() {
            return this == CREATED || this == UPDATED || this == REMOVED;
        }
    }

    /** One file's outcome; {@code diff} is the masked unified diff from the old to the new content (empty when unchanged). */
    public record FileOutcome(String path, Path location, Change change, int mode, String diff) {}

    public record Result(SiteId site, String source, Path root, boolean dryRun, List<FileOutcome> files, List<String> ignoredParameters,
            List<HostAction> actions, boolean applied) {
        public Result {
            files = List.copyOf(files);
            ignoredParameters = List.copyOf(ignoredParameters);
            actions = List.copyOf(actions);
        }

        public List<FileOutcome> changed() {
            return files.stream().filter(file -> file.change().isChange()).toList();
        }

        /** Every change as one unified diff, secrets masked. */
        public String diff() {
            return String.join("", files.stream().map(FileOutcome::diff).toList());
        }
    }

    public Result provision(Request request) {
        SiteId site = request.site();
        String path = SiteParameters.pathOf(site);
        SortedMap<String, ParameterSource.Parameter> parameters = source.readAll(path);
        if (parameters.isEmpty()) {
            throw IngotException.tried(ErrorCode.NOT_FOUND, "read the parameters of site " + site + " from " + source.describe(),
                            "there are none under " + path)
                    .withHint("check the site id (--site) and the parameter store (--params" + (source.describe().startsWith("ssm:")
                            ? "; for ssm:, the AWS account and AWS_REGION)" : ")"));
        }
        SiteParameters.Reading reading = SiteParameters.read(site, parameters, source.describe());
        SiteConfig config = reading.config();
        Path root = request.root().toAbsolutePath().normalize();
        if (!Files.isDirectory(root)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "provision site " + site + " into " + root,
                            Files.exists(root) ? "it is not a folder" : "it does not exist")
                    .withHint("--root names the device's root file system: / on the device, or a mounted copy (create a scratch one first)");
        }
        // The folder source's describe() is its --params form; SSM is the first boot's default and is left out.
        Optional<String> params = Optional.of(source.describe()).filter(text -> text.startsWith("dir:"));
        List<SiteFile> files = withIdentity(SiteFiles.render(config), config, root, params);
        List<FileOutcome> outcomes = new ArrayList<>();
        List<AtomicFiles.Replacement> replacements = new ArrayList<>();
        for (SiteFile file : files) {
            Path location = root.resolve(file.path().substring(1));
            Current current = current(location, file.path(), site);
            Change change = changeOf(file, current);
            outcomes.add(new FileOutcome(file.path(), location, change, file.mode(), diff(file, current)));
            if (change.isChange()) {
                replacements.add(new AtomicFiles.Replacement(location, file.content().map(text -> text.getBytes(StandardCharsets.UTF_8)),
                        permissions(file.mode())));
            }
        }
        List<HostAction> actions = plan(outcomes, root);
        if (request.dryRun()) {
            return new Result(site, source.describe(), root, true, outcomes, reading.ignored(), actions, false);
        }
        try {
            AtomicFiles.removeLeftovers(outcomes.stream().map(FileOutcome::location).toList());
            AtomicFiles.replaceAll(replacements);
        } catch (AtomicFiles.Failure failure) {
            throw writeFailure(site, root, failure);
        }
        if (request.apply()) {
            for (HostAction action : actions) {
                action.applyTo(host);
            }
        }
        return new Result(site, source.describe(), root, false, outcomes, reading.ignored(), actions, request.apply());
    }

    /**
     * The site files, and, where the data partition is mounted ({@code ROOT/data}), the site identity on it
     * ({@link SiteIdentity#ON_DEVICE}) before {@code /etc/edge/site-id}, which stays last. A root slot that an A/B update
     * wrote holds no site file; its first boot finds the identity there and provisions itself before the agent's health
     * check decides whether the new slot is committed. A folder source is named in it (the default, ssm:, is not).
     */
    static List<SiteFile> withIdentity(List<SiteFile> files, SiteConfig config, Path root, Optional<String> params) {
        if (!Files.isDirectory(root.resolve(DATA_MOUNT))) {
            return files;
        }
        List<SiteFile> all = new ArrayList<>(files);
        all.add(all.size() - 1, SiteFile.plain(SiteIdentity.ON_DEVICE, SiteIdentity.render(config.site(), params, Optional.of(config.awsRegion()))));
        return List.copyOf(all);
    }

    /**
     * The host calls the changes need: units reread when the unit changed, chrony restarted when its configuration
     * did, the rules loaded when they changed, video-ingest restarted when its unit or environment changed, and in
     * every case enabled and started if it is not running. Pure: tests call it directly.
     */
    static List<HostAction> plan(List<FileOutcome> outcomes, Path root) {
        List<HostAction> actions = new ArrayList<>();
        boolean unitChanged = changed(outcomes, VideoIngestUnit.PATH);
        if (unitChanged) {
            actions.add(new HostAction.ReloadUnits());
        }
        if (changed(outcomes, ChronyConfig.PATH)) {
            actions.add(new HostAction.RestartUnit(CHRONY_UNIT, true));
        }
        for (FirewallRules.Family family : FirewallRules.Family.values()) {
            if (changed(outcomes, family.path())) {
                actions.add(new HostAction.LoadFirewallRules(family, root.resolve(family.path().substring(1))));
            }
        }
        if (unitChanged || changed(outcomes, VideoIngestEnvironment.PATH)) {
            // The image pull runs in the unit's ExecStartPre and may take minutes: queue the restart, do not wait for it.
            actions.add(new HostAction.EnableUnit(VideoIngestUnit.UNIT, false));
            actions.add(new HostAction.RestartUnit(VideoIngestUnit.UNIT, false));
        } else {
            actions.add(new HostAction.EnableUnit(VideoIngestUnit.UNIT, true));
        }
        return actions;
    }

    private static boolean changed(List<FileOutcome> outcomes, String path) {
        return outcomes.stream().anyMatch(outcome -> outcome.path().equals(path) && outcome.change().isChange());
    }

    /** What is at a target now: nothing, or its bytes and mode. */
    private record Current(Optional<byte[]> content, int mode) {}

    private static Current current(Path location, String path, SiteId site) {
        try {
            if (!Files.exists(location, LinkOption.NOFOLLOW_LINKS)) {
                return new Current(Optional.empty(), 0);
            }
            if (!Files.isRegularFile(location)) {
                throw IngotException.tried(ErrorCode.CONFLICT, "provision site " + site, location + " is not a regular file")
                        .withHint("move it away: provisioning owns " + path);
            }
            PosixFileAttributeView view = Files.getFileAttributeView(location, PosixFileAttributeView.class);
            int mode = view == null ? 0 : modeOf(view.readAttributes().permissions());
            return new Current(Optional.of(Files.readAllBytes(location)), mode);
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read " + location + " to compare it", describe(e)).withCause(e);
        }
    }

    private static Change changeOf(SiteFile file, Current current) {
        if (file.content().isEmpty()) {
            return current.content().isPresent() ? Change.REMOVED : Change.ABSENT;
        }
        if (current.content().isEmpty()) {
            return Change.CREATED;
        }
        boolean sameBytes = Arrays.equals(current.content().get(), file.content().get().getBytes(StandardCharsets.UTF_8));
        return sameBytes && current.mode() == file.mode() ? Change.UNCHANGED : Change.UPDATED;
    }

    private static String diff(SiteFile file, Current current) {
        String relative = file.path().substring(1);
        String old = current.content().map(bytes -> new String(bytes, StandardCharsets.UTF_8)).orElse("");
        String updated = file.content().orElse("");
        String text = UnifiedDiff.of(
                new UnifiedDiff.Side(current.content().isPresent() ? "a/" + relative : "/dev/null", old, file.showOld()),
                new UnifiedDiff.Side(file.content().isPresent() ? "b/" + relative : "/dev/null", updated, file.showNew()));
        if (text.isEmpty() && current.content().isPresent() && file.content().isPresent() && current.mode() != file.mode()) {
            // Same text, other mode: diff(1) has no words for it; git's extended header does (and GNU patch reads it).
            return "diff --git a/" + relative + " b/" + relative + "\n" + String.format(Locale.ROOT,
                    "old mode %06o%nnew mode %06o%n", 0100000 | current.mode(), 0100000 | file.mode()).replace(System.lineSeparator(), "\n");
        }
        return text;
    }

    private static IngotException writeFailure(SiteId site, Path root, AtomicFiles.Failure failure) {
        String reason = describe(failure.getCause());
        String state = failure.replaced().isEmpty() ? "nothing was changed"
                : "these files were already replaced: " + String.join(", ", failure.replaced().stream().map(Path::toString).toList())
                        + "; every other file kept its old content";
        String hint = reason.contains("Read-only file system") ? "the root is mounted read-only: remount it read-write (mount -o remount,rw "
                + root + ") and run again" : "fix the cause and run again: a new run finishes what this one started";
        return IngotException.tried(ErrorCode.UNAVAILABLE, "write " + failure.file() + " for site " + site, reason + " (" + state + ")")
                .withHint(hint).withCause(failure);
    }

    private static String describe(IOException e) {
        return switch (e) {
            case AccessDeniedException denied -> "permission to write " + denied.getFile() + " was denied";
            case NoSuchFileException missing -> missing.getFile() + " does not exist";
            case FileSystemException system when system.getReason() != null -> system.getFile() + ": " + system.getReason();
            default -> String.valueOf(e.getMessage());
        };
    }

    /** The permission each mode bit stands for, from bit 0 (others execute) to bit 8 (owner read), as chmod(1) numbers them. */
    private static final List<PosixFilePermission> MODE_BITS = List.of(PosixFilePermission.OTHERS_EXECUTE,
            PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE,
            PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ);

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
        for (int bit = 0; bit < MODE_BITS.size(); bit++) {
            if ((mode & (1 << bit)) != 0) {
                permissions.add(MODE_BITS.get(bit));
            }
        }
        return permissions;
    }

    static int modeOf(Set<PosixFilePermission> permissions) {
        int mode = 0;
        for (int bit = 0; bit < MODE_BITS.size(); bit++) {
            if (permissions.contains(MODE_BITS.get(bit))) {
                mode |= 1 << bit;
            }
        }
        return mode;
    }
}
