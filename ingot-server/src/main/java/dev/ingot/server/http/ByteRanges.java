package dev.ingot.server.http;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One byte range of a Range header (RFC 9110 section 14.1.2): {@code bytes=FIRST-LAST}, {@code bytes=FIRST-} or
 * {@code bytes=-SUFFIX}. A header with several ranges, or another unit, is ignored and the whole file is sent,
 * which section 14.2 allows; a range past the end is unsatisfiable (416).
 */
public record ByteRanges(long first, long last) {
    private static final Pattern SINGLE = Pattern.compile("bytes=([0-9]{0,18})-([0-9]{0,18})");

    public long length() {
        return last - first + 1;
    }

    /** What the header asks of a file of {@code size} bytes. */
    public sealed interface Request {}

    public record Whole() implements Request {}

    public record Part(ByteRanges range) implements Request {}

    public record Unsatisfiable() implements Request {}

    public static Request parse(Optional<String> header, long size) {
        if (header.isEmpty()) {
            return new Whole();
        }
        Matcher matcher = SINGLE.matcher(header.get().strip());
        if (!matcher.matches() || (matcher.group(1).isEmpty() && matcher.group(2).isEmpty())) {
            return new Whole();
        }
        OptionalLong first = matcher.group(1).isEmpty() ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(matcher.group(1)));
        OptionalLong last = matcher.group(2).isEmpty() ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(matcher.group(2)));
        if (first.isEmpty()) {
            long suffix = last.getAsLong();
            if (suffix == 0 || size == 0) {
                return new Unsatisfiable();
            }
            return new Part(new ByteRanges(Math.max(0, size - suffix), size - 1));
        }
        if (first.getAsLong() >= size) {
            return new Unsatisfiable();
        }
        if (last.isPresent() && last.getAsLong() < first.getAsLong()) {
            return new Whole();
        }
        return new Part(new ByteRanges(first.getAsLong(), Math.min(size - 1, last.orElse(size - 1))));
    }
}
