package dev.ingot.cli;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.provision.Provisioner;
import dev.ingot.provision.SystemHostCommands;
import dev.ingot.site.ParameterSource;
import dev.ingot.site.SiteId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The provision step of rollback's report: {@code ingot provision --dry-run} for the site, run here and timed (read every
 * parameter from the store, check them, render every file; into an empty scratch root, so nothing is written and no
 * secret lands on this machine's disk). The device's own run at first boot adds the writes and the service restarts.
 * Parameters that would not provision stop the rollback (the device could not come up by itself); a store that cannot be
 * reached from here (a site without network, rolling back from its USB cache) only leaves the step unmeasured, since the
 * device retries at its first boot.
 *
 * @param source the parameter store as the report names it
 * @param files how many files the site's provisioning renders
 * @param took the measured time, or empty with {@code unmeasuredBecause} when the store could not be reached
 */
record ProvisionCheck(String source, int files, Optional<Duration> took, Optional<String> unmeasuredBecause) {
    static ProvisionCheck run(CliContext context, SiteId site, String params) {
        Instant started = context.clock().instant();
        Path scratch = null;
        try (ParameterSource source = ProvisionCommand.openSource(context, params, null)) {
            scratch = Files.createTempDirectory("ingot-rollback-provision");
            Provisioner.Result result = new Provisioner(source, new SystemHostCommands())
                    .provision(new Provisioner.Request(site, scratch, true, false));
            return new ProvisionCheck(result.source(), result.files().size(), Optional.of(Duration.between(started, context.clock().instant())),
                    Optional.empty());
        } catch (IngotException e) {
            if (e.code() != ErrorCode.UNAVAILABLE) {
                throw e;
            }
            return new ProvisionCheck(params, 0, Optional.empty(), Optional.of(e.getMessage()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (scratch != null) {
                try {
                    Files.deleteIfExists(scratch);
                } catch (IOException e) {
                    // an empty temporary folder left behind harms nothing
                }
            }
        }
    }

    Duration duration() {
        return took.orElse(Duration.ZERO);
    }
}
