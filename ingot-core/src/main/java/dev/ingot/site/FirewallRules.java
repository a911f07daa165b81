package dev.ingot.site;

/**
 * {@code /etc/iptables/rules.v4}: default deny inbound. Format: iptables-save(8), read by iptables-restore(8);
 * iptables-persistent loads it at boot. The file flushes INPUT itself, so {@code iptables-restore --noflush}
 * replaces INPUT alone and leaves the chains Docker keeps in the filter table.
 */
public final class FirewallRules {
    public static final String PATH = "/etc/iptables/rules.v4";

    private FirewallRules() {}

    public static String render(SiteConfig config) {
        StringBuilder text = new StringBuilder(SiteFiles.header("#", config, "mgmt_cidr, camera_ips",
                "iptables-save(8), loaded at boot by iptables-persistent; iptables-restore --test FILE checks it"));
        text.append("""
                # Inbound traffic is dropped unless a rule below accepts it; the device may open any outbound connection.
                *filter
                :INPUT DROP [0:0]
                :FORWARD DROP [0:0]
                :OUTPUT ACCEPT [0:0]
                # Flushing INPUT here lets `iptables-restore --noflush` replace INPUT alone, keeping Docker's chains.
                -F INPUT
                -A INPUT -i lo -j ACCEPT
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
}
