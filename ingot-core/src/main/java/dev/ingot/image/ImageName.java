package dev.ingot.image;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.regex.Pattern;

/** The name of an image line, the first part of every artifact's file name: {@code edge-golden}. */
public record ImageName(String value) {
    private static final Pattern FORMAT = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    public static final ImageName DEFAULT = new ImageName("edge-golden");

    public ImageName {
        requireNonNull(value, "value");
        if (!FORMAT.matcher(value).matches()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the image name '" + value + "'",
                    "a name is 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
        }
    }

    @Override
    public String toString() {
        return value;
    }
}
