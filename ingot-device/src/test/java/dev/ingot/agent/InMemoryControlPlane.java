package dev.ingot.agent;

import dev.ingot.agent.ControlPlane.ActionReport;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.DesiredState;
import dev.ingot.fleet.Track;
import dev.ingot.health.HealthReport;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.Secret;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The control plane's device API in memory, with the rules the server keeps: a one-time enrollment token, a
 * credential per device, desired state by generation, and action reports stored as transitions that never move an
 * action backwards (a refused report is an error, as the server answers it). It can be made unreachable.
 */
final class InMemoryControlPlane implements ControlPlane {
    final Set<String> tokens = new HashSet<>();
    final Map<String, String> devicesByCredential = new HashMap<>();
    final Map<String, DesiredState> desired = new HashMap<>();
    final Map<String, HealthReport> latestReport = new HashMap<>();
    /** Per device, per (track, generation): every state it was told, in order. */
    final Map<String, Map<String, List<ActionReport>>> actions = new HashMap<>();
    final List<String> calls = new ArrayList<>();
    Duration interval = Duration.ofSeconds(60);
    Duration jitter = Duration.ZERO;
    boolean unreachable;
    /** Refuses every progress report with this code, as the server would refuse one it cannot take. */
    Optional<ErrorCode> refuseReports = Optional.empty();
    private int enrolled;

    InMemoryControlPlane withToken(String token) {
        tokens.add(token);
        return this;
    }

    @Override
    public synchronized Enrollment enroll(EnrollmentRequest request) {
        reachable("enroll");
        calls.add("enroll " + request.site());
        if (!tokens.remove(request.token().reveal())) {
            throw IngotException.tried(ErrorCode.UNAUTHENTICATED, "enroll a device of site " + request.site(), "the token was used or never issued");
        }
        String device = "device-" + (++enrolled);
        String credential = "credential-of-" + device;
        devicesByCredential.put(credential, device);
        desired.putIfAbsent(device, DesiredState.initial());
        return new Enrollment(device, Secret.of(credential));
    }

    @Override
    public synchronized PollAnswer poll(Secret credential, HealthReport report, long knownGeneration) {
        reachable("poll");
        String device = device(credential);
        calls.add("poll " + device + " " + knownGeneration);
        latestReport.put(device, report);
        DesiredState state = desired.get(device);
        Map<ImageVersion, ReleaseDownload> downloads = new LinkedHashMap<>();
        state.image().ifPresent(version -> downloads.put(version, new ReleaseDownload(version, Map.of("edge-golden-" + version
                + ".root.img.zst", URI.create("https://ingot.example.net/api/v1/device/download/" + version)), Optional.empty())));
        return new PollAnswer(state.generation() == knownGeneration ? Optional.empty() : Optional.of(state), interval, jitter, downloads);
    }

    @Override
    public synchronized void report(Secret credential, ActionReport report) {
        reachable("report");
        String device = device(credential);
        if (refuseReports.isPresent()) {
            throw IngotException.tried(refuseReports.get(), "record " + report.state().json() + " for " + report.track().json(),
                    "refused (simulated)");
        }
        List<ActionReport> history = actions.computeIfAbsent(device, key -> new LinkedHashMap<>())
                .computeIfAbsent(report.track().json() + "@" + report.generation() + ":" + report.target(), key -> new ArrayList<>());
        if (!history.isEmpty() && !history.getLast().state().mayMoveTo(report.state())) {
            throw IngotException.tried(ErrorCode.CONFLICT, "record " + report.state().json() + " for " + report.track().json() + " "
                    + report.target(), "the action is already " + history.getLast().state().json());
        }
        history.add(report);
    }

    void setDesired(String device, DesiredState state) {
        desired.put(device, state);
    }

    DesiredState desired(String device) {
        return desired.get(device);
    }

    /** The states told for one action, in order. */
    List<ActionState> states(String device, Track track, long generation, String target) {
        return actions.getOrDefault(device, Map.of()).getOrDefault(track.json() + "@" + generation + ":" + target, List.of()).stream()
                .map(ActionReport::state).toList();
    }

    /** The last state told of the latest action on a track, whatever its generation. */
    Optional<ActionReport> last(String device, Track track) {
        return actions.getOrDefault(device, Map.of()).values().stream().flatMap(List::stream)
                .filter(report -> report.track() == track).reduce((first, second) -> second);
    }

    Optional<ImageVersion> reportedImage(String device) {
        return Optional.ofNullable(latestReport.get(device)).flatMap(report -> report.findings().image().found())
                .map(HealthReport.ImageInfo::version);
    }

    private String device(Secret credential) {
        String device = devicesByCredential.get(credential.reveal());
        if (device == null) {
            throw IngotException.tried(ErrorCode.UNAUTHENTICATED, "authenticate a device", "the credential is unknown");
        }
        return device;
    }

    private void reachable(String what) {
        if (unreachable) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, what + " at the control plane", "nothing answered (simulated outage)");
        }
    }
}
