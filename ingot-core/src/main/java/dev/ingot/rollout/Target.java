package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.DesiredState;
import dev.ingot.fleet.Track;
import dev.ingot.health.DeviceId;
import dev.ingot.image.ImageVersion;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** What a rollout brings its devices to; the track follows from it. */
public sealed interface Target {
    Track track();

    /** How a person reads it: {@code v1.5}, {@code video-ingest 2026.11.3}, {@code reboot of 3 selected devices}. */
    String describe();

    /** Whether a device's report shows it on this target (the reboot track changes no version: always true). */
    boolean reachedBy(DeviceReport report);

    /** The desired state with this target set; a reboot asks with the rollout's id as the request id. */
    DesiredState applyTo(DesiredState desired, RolloutId rollout);

    /** A new golden image on the inactive A/B slot. */
    record Image(ImageVersion version) implements Target {
        public Image {
            requireNonNull(version, "version");
        }

        @Override
        public Track track() {
            return Track.REIMAGE;
        }

        @Override
        public String describe() {
            return version.toString();
        }

        @Override
        public boolean reachedBy(DeviceReport report) {
            return report.image().filter(version::sameReleaseAs).isPresent();
        }

        @Override
        public DesiredState applyTo(DesiredState desired, RolloutId rollout) {
            return desired.withImage(version);
        }
    }

    /** A new {@code video-ingest} container tag; fixed ({@link DesiredState#checkTag}), never {@code latest}. */
    record ContainerTag(String tag) implements Target {
        public ContainerTag {
            DesiredState.checkTag(tag);
        }

        @Override
        public Track track() {
            return Track.CONTAINER;
        }

        @Override
        public String describe() {
            return "video-ingest " + tag;
        }

        @Override
        public boolean reachedBy(DeviceReport report) {
            return report.containerTag().filter(tag::equals).isPresent();
        }

        @Override
        public DesiredState applyTo(DesiredState desired, RolloutId rollout) {
            return desired.withContainerTag(tag);
        }
    }

    /**
     * A reboot of the devices an operator named, and of no other: the list is fixed when the rollout is defined.
     * With {@code onlyIfRebootRequired}, a named device that no longer reports reboot-required is left out.
     */
    record Reboot(List<DeviceId> devices, boolean onlyIfRebootRequired) implements Target {
        public Reboot {
            devices = requireNonNull(devices, "devices").stream().distinct().sorted(Comparator.comparing(DeviceId::value)).toList();
            if (devices.isEmpty()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "define a reboot rollout", "it names no device")
                        .withHint("name the devices to reboot, e.g. those reporting reboot-required");
            }
        }

        @Override
        public Track track() {
            return Track.REBOOT;
        }

        @Override
        public String describe() {
            return "reboot of " + devices.size() + " selected device" + (devices.size() == 1 ? "" : "s")
                    + (onlyIfRebootRequired ? " (those reporting reboot-required)" : "");
        }

        @Override
        public boolean reachedBy(DeviceReport report) {
            return true;
        }

        @Override
        public DesiredState applyTo(DesiredState desired, RolloutId rollout) {
            return desired.withRebootRequest(rollout.value());
        }
    }

    /** What a device runs on this target's track, as a target to go back to; none on the reboot track. */
    static Optional<Target> current(Track track, DeviceReport report) {
        return switch (track) {
            case REIMAGE -> report.image().map(Image::new);
            case CONTAINER -> report.containerTag().filter(Target::fixedTag).map(ContainerTag::new);
            case REBOOT -> Optional.empty();
        };
    }

    private static boolean fixedTag(String tag) {
        try {
            DesiredState.checkTag(tag);
            return true;
        } catch (IngotException e) {
            return false;
        }
    }
}
