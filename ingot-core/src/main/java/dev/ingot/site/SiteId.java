package dev.ingot.site;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.regex.Pattern;

/** A site's identifier, as the parameter store's paths use it: {@code SITE-2847} in {@code /edge/SITE-2847/}. */
public record SiteId(String value) {
    private static final Pattern FORMAT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,62}");

    public SiteId {
        requireNonNull(value, "value");
        if (!FORMAT.matcher(value).matches()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the site id '" + value + "'",
                    "a site id is 1 to 63 letters, digits, '-' and '_', starting with a letter or digit (it becomes a path: /edge/SITE/)")
                    .withHint("write it like SITE-2847");
        }
    }

    @Override
    public String toString() {
        return value;
    }
}
