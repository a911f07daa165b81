package dev.ingot.health;

import static java.util.Objects.requireNonNull;

import java.util.regex.Pattern;

/** A device's identifier: its systemd machine id, 32 lowercase hex digits (machine-id(5)), unique per installed system. */
public record DeviceId(String value) {
    private static final Pattern FORMAT = Pattern.compile("[0-9a-f]{32}");

    public DeviceId {
        requireNonNull(value, "value");
        if (!FORMAT.matcher(value).matches()) {
            throw new IllegalArgumentException("a device id is 32 lowercase hex digits (machine-id(5)), not '" + value + "'");
        }
    }

    /** The id in the content of {@code /etc/machine-id}, or why there is none. */
    public static Probed<DeviceId> fromMachineIdFile(String content) {
        String text = content.strip();
        if (text.isEmpty() || text.equals("uninitialized")) {
            return Probed.failed("/etc/machine-id is empty or uninitialized (the image must leave it empty so each device makes its own at first boot)");
        }
        return FORMAT.matcher(text).matches() ? Probed.found(new DeviceId(text))
                : Probed.failed("/etc/machine-id does not hold 32 hex digits: '" + Excerpt.of(text) + "'");
    }

    @Override
    public String toString() {
        return value;
    }
}
