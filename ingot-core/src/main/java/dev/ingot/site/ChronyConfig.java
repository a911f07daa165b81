package dev.ingot.site;

/** {@code /etc/chrony/chrony.conf}: the site's NTP server, preferred. Format: chrony.conf(5). */
public final class ChronyConfig {
    public static final String PATH = "/etc/chrony/chrony.conf";

    private ChronyConfig() {}

    public static String render(SiteConfig config) {
        return SiteFiles.header("#", config, "ntp_server", "chrony.conf(5); chronyd -p -f FILE checks it") + """

                # The site's NTP server. iburst: a burst of requests at start, for a quick first sync;
                # prefer: the source chosen over any other that chrony may learn about.
                server %s iburst prefer

                # Step the clock instead of slewing it when it is off by more than 1 second, during the first
                # 3 updates only: a device that booted with a wrong hardware clock. Later corrections are slewed.
                makestep 1 3

                # Copy the system time to the hardware clock (the kernel's 11-minute mode), so a reboot starts close.
                rtcsync

                # Where chronyd keeps the local clock's measured drift between restarts.
                driftfile /var/lib/chrony/chrony.drift
                """.formatted(config.ntpServer());
    }
}
