package dev.ingot.cli;

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

/**
 * The provision step of the report: {@code ingot provision --dry-run} for the site, run here and timed (read every
 * parameter from the store, check them, render every file; into an empty scratch root, so nothing is written and no
 * secret lands on this machine's disk). The device's own run at first boot adds the writes and the service restarts.
 */
record ProvisionCheck(String source, int files, Duration took) {
    static ProvisionCheck run(CliContext context, SiteId site, String params) {
        Instant started = context.clock().instant();
        Path scratch = null;
        try (ParameterSource source = ProvisionCommand.openSource(context, params, null)) {
            scratch = Files.createTempDirectory("ingot-rollback-provision");
            Provisioner.Result result = new Provisioner(source, new SystemHostCommands())
                    .provision(new Provisioner.Request(site, scratch, true, false));
            return new ProvisionCheck(result.source(), result.files().size(), Duration.between(started, context.clock().instant()));
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
}
