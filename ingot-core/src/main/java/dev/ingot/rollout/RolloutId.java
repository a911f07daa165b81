package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.regex.Pattern;

/**
 * A rollout's identifier, made by whoever creates the rollout (the server): short, lowercase, safe in a URL, a
 * file name and a log line. It doubles as the reboot request id of the reboot track (DesiredState's request-id
 * grammar accepts it), so that one rollout reboots a device at most once.
 */
public record RolloutId(String value) implements Comparable<RolloutId> {
    private static final Pattern FORMAT = Pattern.compile("[a-z0-9][a-z0-9-]{0,39}");

    public RolloutId {
        requireNonNull(value, "value");
        if (!FORMAT.matcher(value).matches()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the rollout id '" + value + "'",
                    "a rollout id is 1 to 40 lowercase letters, digits and '-', starting with a letter or digit")
                    .withHint("write it like r-20261130-7f3a");
        }
    }

    @Override
    public int compareTo(RolloutId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
