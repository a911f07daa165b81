package dev.ingot.server.device;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.ingot.fleet.DesiredState;
import dev.ingot.image.ImageVersion;
import dev.ingot.server.fleet.Action;
import java.util.List;

/** The device API's JSON documents (docs/api.md), kept apart from the domain records they carry. */
final class DeviceWire {
    private DeviceWire() {}

    record EnrollRequest(String token, String deviceId, String siteId) {}

    record EnrollResponse(String deviceId, String siteId, String credential, boolean reenrolled, long pollIntervalSeconds) {}


    @JsonInclude(JsonInclude.Include.NON_NULL)
    record PollResponse(boolean changed, long generation, Desired desired, List<ActionDocument> actions, long pollIntervalSeconds) {}

    @JsonInclude(JsonInclude.Include.ALWAYS)
    record Desired(long generation, String image, String containerTag, String rebootRequest, List<String> knownGood) {
        static Desired of(DesiredState state) {
            return new Desired(state.generation(), state.image().map(ImageVersion::toString).orElse(null), state.containerTag().orElse(null),
                    state.rebootRequest().orElse(null), state.knownGood().stream().map(ImageVersion::toString).toList());
        }
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    record ActionDocument(String id, String track, long generation, String target, String state, String reason, String updatedAt) {
        static ActionDocument of(Action action) {
            return new ActionDocument(action.id(), action.track().json(), action.generation(), action.target(), action.state().json(),
                    action.reason().orElse(null), action.updatedAt().toString());
        }
    }

    record ProgressRequest(String state, String reason) {}

    record ReleaseDocument(String version, String name, List<ReleaseFile> files) {}

    /** {@code url}: a path on the control plane, fetched with the device credential and Range requests. */
    record ReleaseFile(String name, long size, String url) {}
}
