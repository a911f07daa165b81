package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.DesiredState;
import dev.ingot.fleet.Track;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthReport;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.Secret;
import dev.ingot.site.SiteId;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * The device's side of the control plane's device API (DESIGN.md, "The fleet model"): enroll once, then poll
 * (send the latest health report, get the desired state back) and report each action's progress. The device
 * always calls; the control plane never connects to a site. {@link HttpControlPlane} speaks the server's device API
 * (docs/api.md); the agent's tests use an in-memory one.
 *
 * <p>Every call may fail with an {@link dev.ingot.error.IngotException}: {@code UNAVAILABLE} when the control plane
 * cannot be reached or could not store the request (the agent tries again later); {@code UNAUTHENTICATED} when it
 * refuses the token or the credential (used, expired, revoked: the agent enrolls again, which needs a fresh token);
 * {@code CONFLICT}, {@code NOT_FOUND}, {@code FORBIDDEN} or {@code BAD_INPUT} when it refuses the request for good.
 */
public interface ControlPlane {
    /** Trades the site's one-time enrollment token for this device's own credential. */
    Enrollment enroll(EnrollmentRequest request);

    /**
     * Sends the latest report and asks what to do. {@code knownGeneration} is the generation of the desired state
     * the device holds (-1 for none): an answer without a desired state means "unchanged".
     */
    PollAnswer poll(Secret credential, HealthReport report, long knownGeneration);

    /**
     * Where one action stands. Reporting the same state twice is harmless. A report that would move an action
     * backwards (one sent again after a crash lost its acknowledgement) is refused with {@code CONFLICT}, and the
     * agent drops it: the control plane already holds a later state.
     */
    void report(Secret credential, ActionReport report);

    /**
     * What a device says about itself when it enrolls: its site (agent.json), the site's one-time token, and its machine
     * id (machine-id(5)), which the control plane keys the device by and which its health reports must name.
     */
    record EnrollmentRequest(SiteId site, Secret token, DeviceId machineId) {
        public EnrollmentRequest {
            requireNonNull(site, "site");
            requireNonNull(token, "token");
            requireNonNull(machineId, "machineId");
        }
    }

    /** The device's identity on the control plane and the credential it authenticates every later call with. */
    record Enrollment(String deviceId, Secret credential) {
        public Enrollment {
            requireNonNull(deviceId, "deviceId");
            requireNonNull(credential, "credential");
        }
    }

    /**
     * The answer to a poll.
     *
     * @param desired the desired state, when it changed since the generation the device holds
     * @param interval when to poll next, before jitter
     * @param jitter up to how much to add at random, so that a fleet that restarted together spreads out
     * @param downloads where to fetch the images the desired state names (short-lived URLs), by version
     */
    record PollAnswer(Optional<DesiredState> desired, Duration interval, Duration jitter, Map<ImageVersion, ReleaseDownload> downloads) {
        public PollAnswer {
            requireNonNull(desired, "desired");
            requireNonNull(interval, "interval");
            requireNonNull(jitter, "jitter");
            downloads = Map.copyOf(downloads);
        }
    }

    /**
     * Where to download one release from: each of its files (named as in the store, {@code ReleaseFiles}) by a URL
     * the device may fetch without store credentials, valid until {@code expiresAt}. Trusted only after the
     * manifest's signature verifies against the keyring in the image.
     */
    record ReleaseDownload(ImageVersion version, Map<String, URI> files, Optional<Instant> expiresAt) {
        public ReleaseDownload {
            requireNonNull(version, "version");
            files = Map.copyOf(files);
            requireNonNull(expiresAt, "expiresAt");
        }
    }

    /**
     * One transition of one action.
     *
     * @param generation the desired state's generation the action works towards
     * @param target what the action installs: an image version, a container tag, a reboot request id
     * @param reason why it failed or rolled back; also said for other states when there is something to say
     */
    record ActionReport(Track track, long generation, String target, ActionState state, Optional<String> reason, Instant at) {
        public ActionReport {
            requireNonNull(track, "track");
            requireNonNull(target, "target");
            requireNonNull(state, "state");
            requireNonNull(reason, "reason");
            requireNonNull(at, "at");
        }
    }
}
