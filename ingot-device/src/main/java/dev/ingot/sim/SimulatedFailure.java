package dev.ingot.sim;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.Arrays;
import java.util.Locale;

/**
 * What goes wrong on a simulated site ({@code ingot sim --fail SITE=reimage|container|health}).
 */
public enum SimulatedFailure {
    /** Every golden image newer than the one the device started on breaks the GPU driver: nvidia-smi fails after the boot. */
    REIMAGE,
    /** Every video-ingest tag other than the one the device started on crash-loops. */
    CONTAINER,
    /** The device is unhealthy whatever it runs: its root file system is full. */
    HEALTH;

    public String json() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static SimulatedFailure parse(String text) {
        return Arrays.stream(values()).filter(failure -> failure.json().equals(text)).findFirst()
                .orElseThrow(() -> IngotException.tried(ErrorCode.BAD_INPUT, "read the simulated failure '" + text + "'",
                        "a failure is one of reimage, container, health"));
    }
}
