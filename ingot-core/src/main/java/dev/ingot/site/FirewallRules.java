package dev.ingot.site;

import java.util.Optional;

/**
 * {@code /etc/iptables/rules.v4} and {@code /etc/iptables/rules.v6}: the same policy for both, default deny inbound.
 * Format: iptables-save(8) / ip6tables-save, read by iptables-restore(8) and ip6tables-restore; iptables-persistent
 * loads both at boot. Each file flushes INPUT itself, so {@code iptables-restore --noflush} (and its IPv6 twin) replaces
 * INPUT alone and leaves the chains Docker keeps in the filter table.
 */
public final class FirewallRules {
    public static final String PATH = "/etc/iptables/rules.v4";
    public static final String PATH_V6 = "/etc/iptables/rules.v6";

    /** The two address families, each with its file and the tool that loads it. */
    public enum Family {
        IPV4(PATH, "iptables-restore"),
        IPV6(PATH_V6, "ip6tables-restore");

        private final String path;
        private final String restore;

        Family(String path, String restore) {
            this.path = path;
            this.restore = restore;
        }

        public String path() {
            return path;
        }

        /** The iptables-restore(8) program for this family. */
        public String restore() {
            return restore;
        }
    }

    private FirewallRules() {}

    public static String render(SiteConfig config) {
        StringBuilder text = new StringBuilder(SiteFiles.header("#", config, "mgmt_cidr, camera_ips",
                "iptables-save(8), loaded at boot by iptables-persistent; iptables-restore --test FILE checks it"));
        text.append(policy(Family.IPV4)).append("""
                # Replies to connections the device opened (NTP, DNS, S3, SQS, RTSP to the cameras), and their ICMP errors.
                -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
                -A INPUT -m conntrack --ctstate INVALID -j DROP
                # SSH and ping from the management network only.
                -A INPUT -s %1$s -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT
                -A INPUT -s %1$s -p icmp -m icmp --icmp-type echo-request -j ACCEPT
                # The cameras: video-ingest reads RTSP (TCP port %2$d, outbound) and the cameras send RTP/RTCP media over UDP
                # to ports that the RTSP SETUP negotiates, so UDP from each camera is accepted whatever its port.
                """.formatted(config.mgmtCidr(), config.cameraRtspPort()));
        for (Ipv4Address camera : config.cameraIps()) {
            text.append("-A INPUT -s ").append(camera).append("/32 -p udp -j ACCEPT\n");
        }
        text.append("COMMIT\n");
        return text.toString();
    }

    /** What both families start with: the filter table's policies (inbound dropped) and loopback. */
    private static String policy(Family family) {
        return """
                # Inbound traffic is dropped unless a rule below accepts it; the device may open any outbound connection.
                *filter
                :INPUT DROP [0:0]
                :FORWARD DROP [0:0]
                :OUTPUT ACCEPT [0:0]
                # Flushing INPUT here lets `%s --noflush` replace INPUT alone, keeping Docker's chains.
                -F INPUT
                -A INPUT -i lo -j ACCEPT
                """.formatted(family.restore());
    }

    /**
     * The IPv6 rules: the policy of {@link #render}, plus the ICMPv6 that IPv6 cannot work without (RFC 4890 §4.4.1:
     * neighbour discovery, router advertisements, MLD queries and the error messages), and DHCPv6 replies, whose
     * requests go to a multicast address that connection tracking cannot pair them with. SSH and ping only from
     * {@code mgmt_cidr_v6}; without it, nothing reaches SSH over IPv6. The cameras are IPv4 ({@code camera_ips}).
     */
    public static String renderV6(SiteConfig config) {
        Optional<Ipv6Cidr> management = config.mgmtCidrV6();
        StringBuilder text = new StringBuilder(SiteFiles.header("#", config, "mgmt_cidr_v6",
                "ip6tables-save, loaded at boot by iptables-persistent; ip6tables-restore --test FILE checks it"));
        text.append(policy(Family.IPV6)).append("""
                # Replies to connections the device opened, and their ICMPv6 errors.
                -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
                # ICMPv6 that must never be dropped (RFC 4890 section 4.4.1): errors, and neighbour discovery (RFC 4861) from the
                # link itself (hop limit 255). It comes before the INVALID rule: conntrack marks some of it invalid.
                -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type destination-unreachable -j ACCEPT
                -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type packet-too-big -j ACCEPT
                -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type time-exceeded -j ACCEPT
                -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type parameter-problem -j ACCEPT
                -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type router-advertisement -m hl --hl-eq 255 -j ACCEPT
                -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type neighbour-solicitation -m hl --hl-eq 255 -j ACCEPT
                -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type neighbour-advertisement -m hl --hl-eq 255 -j ACCEPT
                # Multicast listener queries (type 130, RFC 3810) from the link's router: unanswered, switches stop forwarding
                # the solicited-node multicast that neighbour discovery needs.
                -A INPUT -s fe80::/10 -p ipv6-icmp -m icmp6 --icmpv6-type 130 -j ACCEPT
                # DHCPv6 replies from the link's server (RFC 8415: server port 547 to client port 546).
                -A INPUT -s fe80::/10 -p udp -m udp --sport 547 --dport 546 -j ACCEPT
                -A INPUT -m conntrack --ctstate INVALID -j DROP
                """);
        if (management.isPresent()) {
            text.append("""
                    # SSH and ping from the management network only.
                    -A INPUT -s %1$s -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT
                    -A INPUT -s %1$s -p ipv6-icmp -m icmp6 --icmpv6-type echo-request -j ACCEPT
                    """.formatted(management.get()));
        } else {
            text.append("# No mgmt_cidr_v6: SSH and ping are accepted over IPv4 only (rules.v4).\n");
        }
        text.append("COMMIT\n");
        return text.toString();
    }
}
