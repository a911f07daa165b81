package dev.ingot.fleet;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.ImageVersion;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What one device should run, as the control plane keeps it and hands it out with every poll answer.
 * Only rollouts and operators change it; everything else is the agent reconciling towards it.
 *
 * @param generation grows with every change; a poll answer with the generation the device already holds
 *     means "nothing to do"
 * @param image the golden image version the device should boot, if any is set
 * @param containerTag the {@code video-ingest} tag the device should run, if the control plane sets one (the
 *     repository comes from the site's {@code video_ingest_image} parameter)
 * @param rebootRequest a reboot requested by an operator: an id, never a bare flag, so that a reboot happens
 *     once per request however often the device polls
 * @param knownGood the versions the site's USB cache should keep, newest first
 */
public record DesiredState(long generation, Optional<ImageVersion> image, Optional<String> containerTag,
        Optional<String> rebootRequest, List<ImageVersion> knownGood) {
    /** A tag as docker takes it (distribution's reference grammar); {@code latest} moves, so it is refused. */
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    /** A request id: short, printable, safe in a file name and a log line. */
    private static final Pattern REQUEST = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    public DesiredState {
        requireNonNull(image, "image");
        requireNonNull(containerTag, "containerTag");
        requireNonNull(rebootRequest, "rebootRequest");
        knownGood = List.copyOf(requireNonNull(knownGood, "knownGood"));
        if (generation < 0) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read a desired state", "its generation is negative (" + generation + ")");
        }
        containerTag.ifPresent(DesiredState::checkTag);
        rebootRequest.ifPresent(id -> {
            if (!REQUEST.matcher(id).matches()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "read the reboot request '" + id + "'",
                        "a request id is 1 to 64 letters, digits, '.', '_' and '-', starting with a letter or digit");
            }
        });
    }

    /** The state of a device nobody has asked anything of yet. */
    public static DesiredState initial() {
        return new DesiredState(0, Optional.empty(), Optional.empty(), Optional.empty(), List.of());
    }

    /** The tag checked as the container track takes it: fixed, so that a rollout decides what runs. */
    public static String checkTag(String tag) {
        requireNonNull(tag, "tag");
        if (!TAG.matcher(tag).matches() || tag.equals("latest")) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the container tag '" + tag + "'",
                    tag.equals("latest") ? "'latest' moves: name a fixed tag, like 2026.11.3"
                            : "a tag is 1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'");
        }
        return tag;
    }

    public DesiredState withImage(ImageVersion version) {
        return new DesiredState(generation + 1, Optional.of(version), containerTag, rebootRequest, knownGood);
    }

    public DesiredState withContainerTag(String tag) {
        return new DesiredState(generation + 1, image, Optional.of(tag), rebootRequest, knownGood);
    }

    public DesiredState withRebootRequest(String requestId) {
        return new DesiredState(generation + 1, image, containerTag, Optional.of(requestId), knownGood);
    }

    public DesiredState withKnownGood(List<ImageVersion> versions) {
        return new DesiredState(generation + 1, image, containerTag, rebootRequest, versions);
    }
}
