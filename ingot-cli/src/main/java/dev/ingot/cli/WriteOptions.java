package dev.ingot.cli;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.flash.FlashTarget;
import dev.ingot.flash.Flasher;
import dev.ingot.store.WorkFolder;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** How a disk is written, shared by {@code flash} and {@code rollback}; and the question before a partitioned disk is overwritten. */
final class WriteOptions {
    @Option(names = "--work-dir", paramLabel = "DIR", description = "Your own folder for spooled ranges (a foreign bmap's long ranges), "
            + "created 0700 (default: $XDG_CACHE_HOME/ingot or ~/.cache/ingot; /var/cache/ingot for root).")
    Path workDir;

    @Option(names = "--no-zero", description = "Leave unmapped blocks as they are (bmaptool's behaviour) instead of zeroing them.")
    boolean noZero;

    @Option(names = "--no-verify", description = "Skip reading back what was written (every range is still checked before it is written).")
    boolean noVerify;

    @Option(names = {"-y", "--yes"}, description = "Overwrite a disk that has a partition table without asking.")
    boolean yes;

    @Option(names = "--direct", paramLabel = "auto|on|off", defaultValue = "auto",
            description = "Direct I/O on the target (O_DIRECT): where the file system allows it (auto), required (on), or never (off). "
                    + "Default: ${DEFAULT-VALUE}.")
    String direct;

    @Option(names = "--connections", paramLabel = "N", description = "Ranges fetched at once from a store or URL (default: 4 for "
            + "S3 and HTTP(S), 1 for local files).")
    Integer connections;

    Flasher.Options flasherOptions() {
        Flasher.Direct mode = switch (direct.toLowerCase(java.util.Locale.ROOT)) {
            case "auto" -> Flasher.Direct.AUTO;
            case "on" -> Flasher.Direct.ON;
            case "off" -> Flasher.Direct.OFF;
            default -> throw IngotException.tried(ErrorCode.BAD_INPUT, "use --direct " + direct, "it is none of auto, on, off");
        };
        if (connections != null && (connections < 1 || connections > 32)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "use --connections " + connections, "it must be 1 to 32");
        }
        dev.ingot.fetch.OrderedFetch.Policy fetch = dev.ingot.fetch.OrderedFetch.Policy.defaults();
        return new Flasher.Options(!noZero, !noVerify, mode, connections == null ? fetch : fetch.withConnections(connections));
    }

    /** The caller's work folder: --work-dir, else the per-user default; created 0700 and checked to be the caller's own. */
    WorkFolder workFolder(CliContext context) {
        return workDir != null ? WorkFolder.at(context.resolve(workDir)) : WorkFolder.forCaller(context.environment());
    }

    /** Asks on the terminal before a disk with an MBR or GPT is overwritten; without a terminal, --yes is required. */
    void confirmOverwrite(CliContext context, FlashTarget target) {
        if (!target.hasPartitionTable() || yes) {
            return;
        }
        if (!context.interactive() || System.console() == null) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "flash " + target.path(), "it holds a partition table and no one confirmed")
                    .withHint("pass --yes to overwrite it");
        }
        String answer = System.console().readLine("%s holds a partition table. Overwrite it? Type 'yes': ", target.path());
        if (answer == null || !answer.strip().equalsIgnoreCase("yes")) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "flash " + target.path(), "the overwrite was not confirmed");
        }
    }
}
