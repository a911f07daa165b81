package dev.ingot.site;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Optional;

/**
 * An IPv6 network in CIDR notation (RFC 4291 §2.3): {@code fd20:47::/48}. As with {@link Cidr}, the address must be the
 * network's first address, so a typo cannot silently widen a firewall rule. Shown in the RFC 5952 text form (lowercase,
 * no leading zeros, the longest run of zero groups as {@code ::}), which is also how ip6tables-save(8) prints it.
 *
 * @param high the address's first 64 bits
 * @param low the address's last 64 bits
 */
public record Ipv6Cidr(long high, long low, int prefixLength) {

    public Ipv6Cidr {
        if (prefixLength < 0 || prefixLength > 128) {
            throw new IllegalArgumentException("a prefix length is 0 to 128: " + prefixLength);
        }
        if ((high & ~mask(prefixLength)) != 0 || (low & ~mask(prefixLength - 64)) != 0) {
            throw new IllegalArgumentException("the address has bits set beyond /" + prefixLength);
        }
    }

    public static Ipv6Cidr parse(String text) {
        problemWith(text).ifPresent(problem -> {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the IPv6 network '" + text + "'", problem)
                    .withHint("write it like fd20:47::/48");
        });
        int slash = text.indexOf('/');
        long[] bits = bits(text.substring(0, slash)).orElseThrow();
        return new Ipv6Cidr(bits[0], bits[1], Integer.parseInt(text.substring(slash + 1)));
    }

    /** Why {@code text} is not an IPv6 network in CIDR notation, or empty when it is one. */
    public static Optional<String> problemWith(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            return Optional.of("a network is ADDRESS/PREFIX-LENGTH, like fd20:47::/48 (a single host: fd20:47::5/128)");
        }
        String address = text.substring(0, slash);
        Optional<long[]> bits = bits(address);
        if (bits.isEmpty()) {
            return Optional.of("'" + address + "' is not an IPv6 address (an IPv4 network goes in mgmt_cidr)");
        }
        String length = text.substring(slash + 1);
        if (length.isEmpty() || length.length() > 3 || !length.chars().allMatch(c -> c >= '0' && c <= '9')
                || Integer.parseInt(length) > 128 || (length.length() > 1 && length.charAt(0) == '0')) {
            return Optional.of("the prefix length after '/' is a number 0 to 128");
        }
        int prefixLength = Integer.parseInt(length);
        long high = bits.get()[0] & mask(prefixLength);
        long low = bits.get()[1] & mask(prefixLength - 64);
        if (high != bits.get()[0] || low != bits.get()[1]) {
            return Optional.of("the address has host bits set for a /" + prefixLength + " network (the network is "
                    + new Ipv6Cidr(high, low, prefixLength) + ")");
        }
        return Optional.empty();
    }

    /** The 128 bits of an IPv6 literal (no zone, no brackets), parsed without any name lookup. */
    private static Optional<long[]> bits(String literal) {
        if (literal.isEmpty() || !literal.contains(":") || literal.contains("%") || literal.contains("[")) {
            return Optional.empty();
        }
        InetAddress address;
        try {
            address = InetAddress.ofLiteral(literal);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        // The JDK turns an IPv4-mapped literal (::ffff:10.0.0.1) into an Inet4Address: that is an IPv4 host, not an IPv6 network.
        if (!(address instanceof Inet6Address)) {
            return Optional.empty();
        }
        byte[] bytes = address.getAddress();
        long high = 0;
        long low = 0;
        for (int i = 0; i < 8; i++) {
            high = (high << 8) | (bytes[i] & 0xff);
            low = (low << 8) | (bytes[i + 8] & 0xff);
        }
        return Optional.of(new long[] {high, low});
    }

    /** The mask of a prefix length over one 64-bit half; negative lengths give 0, lengths over 64 all ones. */
    private static long mask(int prefixLength) {
        if (prefixLength <= 0) {
            return 0;
        }
        return prefixLength >= 64 ? -1L : -1L << (64 - prefixLength);
    }

    @Override
    public String toString() {
        int[] groups = new int[8];
        for (int i = 0; i < 4; i++) {
            groups[i] = (int) (high >>> (48 - 16 * i)) & 0xffff;
            groups[i + 4] = (int) (low >>> (48 - 16 * i)) & 0xffff;
        }
        // RFC 5952 §4.2: the longest run of two or more zero groups becomes "::", the first one on a tie.
        int bestStart = -1;
        int bestLength = 1;
        for (int start = 0; start < 8; start++) {
            int length = 0;
            while (start + length < 8 && groups[start + length] == 0) {
                length++;
            }
            if (length > bestLength) {
                bestStart = start;
                bestLength = length;
            }
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (!text.isEmpty() && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        return text + "/" + prefixLength;
    }
}
