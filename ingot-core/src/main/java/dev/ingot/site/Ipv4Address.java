package dev.ingot.site;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.Optional;

/**
 * An IPv4 address in dotted-decimal form: four numbers 0–255 without leading zeros (the only form
 * inet_pton(3) accepts; {@code 010.1.1.1} is octal to some tools and decimal to others, so it is refused).
 */
public record Ipv4Address(int bits) implements Comparable<Ipv4Address> {

    public static Ipv4Address parse(String text) {
        requireNonNull(text, "text");
        problemWith(text).ifPresent(problem -> {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the IPv4 address '" + text + "'", problem)
                    .withHint("write it like 10.1.2.30");
        });
        String[] parts = text.split("\\.");
        int bits = 0;
        for (String part : parts) {
            bits = (bits << 8) | Integer.parseInt(part);
        }
        return new Ipv4Address(bits);
    }

    /** Why {@code text} is not an IPv4 address, or empty when it is one. */
    public static Optional<String> problemWith(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return Optional.of("an IPv4 address is four numbers joined by dots");
        }
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return Optional.of("an IPv4 address is four numbers 0 to 255 joined by dots");
            }
            if (part.length() > 1 && part.charAt(0) == '0') {
                return Optional.of("a number in an IPv4 address has no leading zero");
            }
            if (Integer.parseInt(part) > 255) {
                return Optional.of("a number in an IPv4 address is at most 255");
            }
        }
        return Optional.empty();
    }

    @Override
    public int compareTo(Ipv4Address other) {
        return Integer.compareUnsigned(bits, other.bits);
    }

    @Override
    public String toString() {
        return (bits >>> 24) + "." + ((bits >>> 16) & 0xff) + "." + ((bits >>> 8) & 0xff) + "." + (bits & 0xff);
    }
}
