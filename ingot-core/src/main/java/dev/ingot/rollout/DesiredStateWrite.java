package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.fleet.DesiredState;
import dev.ingot.health.DeviceId;
import java.util.Locale;

/**
 * A change to one device's desired state that a decision asks the server to make: the rollout's target for the
 * device ({@code APPLY}) or its previous version or tag ({@code REVERT}). It names the rollout and stage it belongs
 * to; {@link #key()} is unique per rollout, device and kind, so the server can record it with the write and skip a
 * write it already made (the rollout's state records every write as well: see {@link RolloutMachine}).
 */
public record DesiredStateWrite(RolloutId rollout, int stage, DeviceId device, Kind kind, Target value) {
    public enum Kind {
        APPLY,
        REVERT;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public DesiredStateWrite {
        requireNonNull(rollout, "rollout");
        requireNonNull(device, "device");
        requireNonNull(kind, "kind");
        requireNonNull(value, "value");
    }

    /** {@code ROLLOUT/DEVICE/apply} or {@code …/revert}: a device gets at most one of each from a rollout. */
    public String key() {
        return rollout + "/" + device + "/" + kind.json();
    }

    /** The device's new desired state (its generation one higher). */
    public DesiredState applyTo(DesiredState current) {
        return value.applyTo(requireNonNull(current, "current"), rollout);
    }
}
