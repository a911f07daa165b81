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

    /** A rotation takes no fields: its body is {@code {}}. */
    record RotateRequest() {}

    record RotateResponse(String deviceId, String credential) {}


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

    /** {@code expires_at}: when presigned URLs stop working (absent for the control plane's own paths, which do not expire). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record ReleaseDocument(String version, String name, List<ReleaseFile> files, String expiresAt) {}

    /**
     * {@code url}: a path under the control plane's URL, fetched with the device credential and Range requests; or an absolute,
     * presigned store URL, fetched without it.
     */
    record ReleaseFile(String name, long size, String url) {}
}
