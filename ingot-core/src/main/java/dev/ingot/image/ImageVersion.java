package dev.ingot.image;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.Comparator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A golden image version tag: {@code v1.4}, {@code v1.10}, {@code v2.0.1}, {@code v1.5-rc.1}. Ordered by
 * number, not text (v1.10 after v1.9), and a pre-release before its release (as SemVer 2.0 §11).
 */
public final class ImageVersion implements Comparable<ImageVersion> {
    /** A pre-release identifier: a number without leading zeros, or letters and digits (SemVer 2.0 §9). */
    private static final String IDENTIFIER = "(?:0|[1-9][0-9]{0,17}|[0-9]*[a-z][0-9a-z]*)";
    private static final Pattern FORMAT =
            Pattern.compile("v(0|[1-9]\\d{0,8})\\.(0|[1-9]\\d{0,8})(?:\\.(0|[1-9]\\d{0,8}))?"
                    + "(?:-(" + IDENTIFIER + "(?:\\." + IDENTIFIER + ")*))?");
    private static final Comparator<ImageVersion> ORDER = Comparator.comparingInt((ImageVersion v) -> v.major)
            .thenComparingInt(v -> v.minor)
            .thenComparingInt(v -> v.patch)
            .thenComparing((a, b) -> comparePreRelease(a.preRelease, b.preRelease));

    private final String text;
    private final int major;
    private final int minor;
    private final int patch;
    private final String preRelease;

    private ImageVersion(String text, int major, int minor, int patch, String preRelease) {
        this.text = text;
        this.major = major;
        this.minor = minor;
        this.patch = patch;
        this.preRelease = preRelease;
    }

    public static ImageVersion parse(String text) {
        requireNonNull(text, "text");
        Matcher matcher = FORMAT.matcher(text);
        if (!matcher.matches()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the version '" + text + "'",
                            "a version is 'v' then MAJOR.MINOR[.PATCH][-PRERELEASE], lowercase")
                    .withHint("write it like v1.4, v1.10 or v2.0.1-rc.1");
        }
        return new ImageVersion(text, Integer.parseInt(matcher.group(1)), Integer.parseInt(matcher.group(2)),
                matcher.group(3) == null ? 0 : Integer.parseInt(matcher.group(3)), matcher.group(4));
    }

    /** Whether two spellings name the same release number ({@code v1.4} and {@code v1.4.0}). */
    public boolean sameReleaseAs(ImageVersion other) {
        return ORDER.compare(this, other) == 0;
    }

    public boolean isPreRelease() {
        return preRelease != null;
    }

    @Override
    public int compareTo(ImageVersion other) {
        int order = ORDER.compare(this, other);
        return order != 0 ? order : text.compareTo(other.text);
    }

    private static int comparePreRelease(String a, String b) {
        if (a == null || b == null) {
            return a == null ? (b == null ? 0 : 1) : -1;
        }
        String[] left = a.split("\\.");
        String[] right = b.split("\\.");
        for (int i = 0; i < Math.min(left.length, right.length); i++) {
            boolean leftNumeric = left[i].chars().allMatch(Character::isDigit);
            boolean rightNumeric = right[i].chars().allMatch(Character::isDigit);
            int order;
            if (leftNumeric && rightNumeric) {
                order = Long.compare(Long.parseLong(left[i]), Long.parseLong(right[i])); // at most 18 digits: fits a long
            } else if (leftNumeric != rightNumeric) {
                order = leftNumeric ? -1 : 1;
            } else {
                order = left[i].compareTo(right[i]);
            }
            if (order != 0) {
                return order;
            }
        }
        return Integer.compare(left.length, right.length);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ImageVersion that && text.equals(that.text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    @Override
    public String toString() {
        return text;
    }
}
