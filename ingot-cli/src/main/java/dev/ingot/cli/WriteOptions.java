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
    @Option(names = "--work-dir", paramLabel = "DIR", description = "Your own folder for downloads and spooled ranges, created 0700 "
            + "(default: $XDG_CACHE_HOME/ingot or ~/.cache/ingot; /var/cache/ingot for root).")
    Path workDir;

    @Option(names = "--no-zero", description = "Leave unmapped blocks as they are (bmaptool's behaviour) instead of zeroing them.")
    boolean noZero;

    @Option(names = "--no-verify", description = "Skip reading back what was written.")
    boolean noVerify;

    @Option(names = {"-y", "--yes"}, description = "Overwrite a disk that has a partition table without asking.")
    boolean yes;

    Flasher.Options flasherOptions() {
        return new Flasher.Options(!noZero, !noVerify);
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
