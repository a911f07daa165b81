package dev.ingot.site;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.Optional;

/**
 * An IPv4 network in CIDR notation (RFC 4632): {@code 10.20.0.0/16}. The address must be the network's
 * first address: {@code 10.20.0.5/16} is refused rather than silently widened, since in a firewall rule a
 * typo there would open or close more than meant.
 */
public record Cidr(Ipv4Address network, int prefixLength) {

    public Cidr {
        requireNonNull(network, "network");
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("a prefix length is 0 to 32: " + prefixLength);
        }
        if ((network.bits() & ~mask(prefixLength)) != 0) {
            throw new IllegalArgumentException(network + " has bits set beyond /" + prefixLength);
        }
    }

    public static Cidr parse(String text) {
        requireNonNull(text, "text");
        problemWith(text).ifPresent(problem -> {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the network '" + text + "'", problem)
                    .withHint("write it like 10.20.0.0/16");
        });
        int slash = text.indexOf('/');
        return new Cidr(Ipv4Address.parse(text.substring(0, slash)), Integer.parseInt(text.substring(slash + 1)));
    }

    /** Why {@code text} is not an IPv4 network in CIDR notation, or empty when it is one. */
    public static Optional<String> problemWith(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            return Optional.of("a network is ADDRESS/PREFIX-LENGTH, like 10.20.0.0/16 (a single host: 10.20.0.5/32)");
        }
        Optional<String> address = Ipv4Address.problemWith(text.substring(0, slash));
        if (address.isPresent()) {
            return address;
        }
        String length = text.substring(slash + 1);
        if (length.isEmpty() || length.length() > 2 || !length.chars().allMatch(c -> c >= '0' && c <= '9')
                || Integer.parseInt(length) > 32 || (length.length() > 1 && length.charAt(0) == '0')) {
            return Optional.of("the prefix length after '/' is a number 0 to 32");
        }
        int prefixLength = Integer.parseInt(length);
        Ipv4Address given = Ipv4Address.parse(text.substring(0, slash));
        int networkBits = given.bits() & mask(prefixLength);
        if (networkBits != given.bits()) {
            return Optional.of("the address has host bits set for a /" + prefixLength + " network (the network is "
                    + new Ipv4Address(networkBits) + "/" + prefixLength + ")");
        }
        return Optional.empty();
    }

    private static int mask(int prefixLength) {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }

    @Override
    public String toString() {
        return network + "/" + prefixLength;
    }
}
