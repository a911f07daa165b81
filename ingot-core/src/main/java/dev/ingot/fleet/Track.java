package dev.ingot.fleet;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.Arrays;
import java.util.Locale;

/**
 * The three ways a change reaches a device (the strategy's three tracks): a new golden image written to
 * the inactive A/B slot, a new {@code video-ingest} container tag, or an operator-requested reboot that
 * activates the security patches unattended-upgrades installed.
 */
public enum Track {
    REIMAGE,
    CONTAINER,
    REBOOT;

    /** The name used on the command line and in JSON: {@code reimage}, {@code container}, {@code reboot}. */
    public String json() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Track parse(String text) {
        return Arrays.stream(values()).filter(track -> track.json().equals(text)).findFirst()
                .orElseThrow(() -> IngotException.tried(ErrorCode.BAD_INPUT, "read the track '" + text + "'",
                        "a track is one of reimage, container, reboot"));
    }
}
