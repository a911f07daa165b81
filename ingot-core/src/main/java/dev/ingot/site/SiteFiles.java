package dev.ingot.site;

import java.util.List;
import java.util.Optional;

/**
 * Every file a site's configuration becomes, rendered: pure and deterministic (the same configuration gives
 * the same bytes; no timestamps), in the order they are to be replaced. {@code /etc/edge/site-id} comes last:
 * its presence means "provisioned", so a run that stops early leaves it absent and the first-boot unit tries again.
 */
public final class SiteFiles {
    public static final String SITE_ID_PATH = "/etc/edge/site-id";

    private SiteFiles() {}

    public static List<SiteFile> render(SiteConfig config) {
        String environment = VideoIngestEnvironment.render(config, true);
        return List.of(
                SiteFile.plain(ChronyConfig.PATH, ChronyConfig.render(config)),
                SiteFile.plain(FirewallRules.PATH, FirewallRules.render(config)),
                SiteFile.plain(FirewallRules.PATH_V6, FirewallRules.renderV6(config)),
                SiteFile.environment(VideoIngestEnvironment.PATH, environment, VideoIngestEnvironment.render(config, false),
                        VideoIngestEnvironment.FROM_PARAMETERS),
                SiteFile.plain(VideoIngestUnit.PATH, VideoIngestUnit.render(config)),
                SiteFile.plain(UnattendedUpgrades.PATH, UnattendedUpgrades.render(config)),
                SiteFile.optional(AgentConfig.CA_PATH, config.controlPlaneCa()),
                SiteFile.plain(AgentConfig.PATH, AgentConfig.render(config)),
                SiteFile.secret(AgentConfig.TOKEN_PATH, config.enrollmentToken().map(AgentConfig::renderToken)),
                SiteFile.plain(SITE_ID_PATH, config.site().value() + "\n"));
    }

    /** The comment every rendered file starts with: who wrote it, from which parameters, in which format. */
    static String header(String comment, SiteConfig config, String parameters, String format) {
        return comment + " Written by `ingot provision` for site " + config.site() + " from " + SiteParameters.pathOf(config.site())
                + " (" + parameters + ").\n"
                + comment + " Edits here are replaced the next time the site is provisioned. Format: " + format + ".\n";
    }

    /** The header of a file that is the same on every site. */
    static String header(String comment, SiteConfig config, String format) {
        return comment + " Written by `ingot provision` for site " + config.site() + "; the same on every site.\n"
                + comment + " Edits here are replaced the next time the site is provisioned. Format: " + format + ".\n";
    }

    /** The file at {@code path}, if provisioning owns it. */
    public static Optional<SiteFile> find(List<SiteFile> files, String path) {
        return files.stream().filter(file -> file.path().equals(path)).findFirst();
    }
}
