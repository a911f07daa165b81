package dev.ingot.site;

/**
 * {@code /etc/apt/apt.conf.d/52ingot-unattended-upgrades}: security updates only, never an automatic reboot
 * (reboots are staged rollouts). Read after the package's own {@code 50unattended-upgrades}, whose origin lists
 * it clears. Format: apt.conf(5); {@code apt-config dump} shows the result.
 */
public final class UnattendedUpgrades {
    public static final String PATH = "/etc/apt/apt.conf.d/52ingot-unattended-upgrades";

    private UnattendedUpgrades() {}

    public static String render(SiteConfig config) {
        return SiteFiles.header("//", config, "apt.conf(5); apt-config dump shows the result") + """

                // Daily package lists and unattended upgrades (this file is read after 20auto-upgrades, so it wins).
                APT::Periodic::Update-Package-Lists "1";
                APT::Periodic::Unattended-Upgrade "1";

                // Security updates only: the lists from 50unattended-upgrades are cleared, then only the security
                // pockets are allowed (Docker CE and the NVIDIA stack change with a new image, never in place).
                #clear Unattended-Upgrade::Allowed-Origins;
                #clear Unattended-Upgrade::Origins-Pattern;
                Unattended-Upgrade::Origins-Pattern {
                        "origin=Ubuntu,archive=${distro_codename}-security,label=Ubuntu";
                        "origin=UbuntuESMApps,archive=${distro_codename}-apps-security";
                        "origin=UbuntuESM,archive=${distro_codename}-infra-security";
                };

                // The GPU driver's user space must match its kernel module: it changes with a new image only.
                Unattended-Upgrade::Package-Blacklist {
                        "nvidia-";
                        "libnvidia-";
                        "linux-modules-nvidia-";
                };

                // Never reboot by itself: a pending reboot shows in the health report and reboots are staged rollouts.
                Unattended-Upgrade::Automatic-Reboot "false";
                """;
    }
}
