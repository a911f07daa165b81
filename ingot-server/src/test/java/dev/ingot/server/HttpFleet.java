package dev.ingot.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.testing.HealthReports;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Devices that speak the real device API to a test server, as an agent would at its poll: send the report, and when
 * the answer carries actions not yet ended, act on each as the device's behaviour on that track says (reporting each
 * state through {@code POST /api/v1/device/actions/{id}}), then report what it runs at the next poll. The full agent
 * and its simulated host are ingot-device's ({@code ingot sim}); this keeps the server's own tests to the server.
 */
final class HttpFleet {
    /** What a device does with a change on a track. */
    enum Behaviour {
        /** Takes the change, commits it and runs it, healthy. */
        GOOD,
        /** Reports the action failed (the payload did not verify); keeps what it ran. */
        FAIL,
        /** Falls back by itself (A/B fall-back, container revert) and says so. */
        ROLL_BACK,
        /** Never takes the change up. */
        HANG,
        /** Commits the change, then reports unhealthy on it. */
        UNHEALTHY_AFTER
    }

    final class Device {
        final TestServer.EnrolledDevice enrolled;
        String version;
        String tag;
        String status = "healthy";
        boolean rebootRequired;
        Long generation;
        final Map<String, Behaviour> behaviour = new HashMap<>();
        final List<String> actionsSeen = new ArrayList<>();
        int reboots;

        Device(TestServer.EnrolledDevice enrolled, String version, String tag) {
            this.enrolled = enrolled;
            this.version = version;
            this.tag = tag;
        }

        String id() {
            return enrolled.id();
        }

        String site() {
            return enrolled.site();
        }

        Device on(String track, Behaviour what) {
            behaviour.put(track, what);
            return this;
        }

        ObjectNode report() {
            ObjectNode report = HealthReports.report(site(), id(), status, version, tag);
            ((ObjectNode) report.get("reboot")).put("required", rebootRequired);
            return report;
        }

        /** One poll, and the work its answer asks for. */
        void poll() {
            JsonNode answer = TestServer.require(server.poll(enrolled, generation, report()), 200).json();
            if (!answer.path("changed").asBoolean()) {
                return;
            }
            for (JsonNode action : answer.path("actions")) {
                String state = action.path("state").asText();
                if (state.equals("committed") || state.equals("failed") || state.equals("rolled_back")) {
                    continue;
                }
                String id = action.path("id").asText();
                if (actionsSeen.contains(id)) {
                    continue;
                }
                String track = action.path("track").asText();
                String target = action.path("target").asText();
                if (track.equals("reimage") && target.equals(version) || track.equals("container") && target.equals(tag)) {
                    // Asked for what it runs (a write-back to the version it fell back to): nothing to do but say so.
                    actionsSeen.add(id);
                    progress(id, "committed", null);
                    continue;
                }
                Behaviour what = behaviour.getOrDefault(track, Behaviour.GOOD);
                if (what == Behaviour.HANG) {
                    continue;
                }
                switch (what) {
                    case GOOD, UNHEALTHY_AFTER -> {
                        List<String> steps = steps(track);
                        for (String step : steps.subList(0, steps.size() - 1)) {
                            progress(id, step, null);
                        }
                        // The change is in place before the commit is reported, as the agent does it (a crash in between reports it again).
                        switch (track) {
                            case "reimage" -> version = target;
                            case "container" -> tag = target;
                            default -> {
                                rebootRequired = false;
                                reboots++;
                            }
                        }
                        if (what == Behaviour.UNHEALTHY_AFTER) {
                            status = "unhealthy";
                        }
                        progress(id, "committed", null);
                    }
                    case FAIL -> {
                        progress(id, "downloading", null);
                        progress(id, "failed", "the payload did not verify against the signed manifest");
                    }
                    case ROLL_BACK -> {
                        progress(id, "downloading", null);
                        progress(id, "rolled_back", "unhealthy after boot: video-ingest did not start within 300 s");
                    }
                    case HANG -> { }
                }
                actionsSeen.add(id);
            }
            // Only now: a device interrupted above asks for the whole desired state again and finishes its work.
            generation = answer.path("generation").asLong();
        }

        private void progress(String action, String state, String reason) {
            Map<String, String> body = new HashMap<>();
            body.put("state", state);
            if (reason != null) {
                body.put("reason", reason);
            }
            TestServer.Response answer = server.post("/api/v1/device/actions/" + action, enrolled.credential(), body);
            if (answer.status() != 409) { // the server holds a later state already: it got this one before a crash
                TestServer.require(answer, 200);
            }
        }
    }

    private final ApiClient server;
    final List<Device> devices = new ArrayList<>();

    HttpFleet(TestServer server) {
        this(server.client());
    }

    /** Against a server the test may kill: a device whose poll or report fails picks its work up again at its next poll. */
    HttpFleet(ApiClient server) {
        this.server = server;
    }

    /** {@code count} sites {@code SITE-0001}… with one device each, on {@code version} and {@code tag}, each polled once. */
    HttpFleet sites(int count, String version, String tag) {
        for (int index = 1; index <= count; index++) {
            Device device = new Device(server.enroll(String.format("SITE-%04d", index)), version, tag);
            devices.add(device);
            device.poll();
        }
        return this;
    }

    Device device(String site) {
        return devices.stream().filter(device -> device.site().equals(site)).findFirst().orElseThrow();
    }

    void pollAll() {
        devices.forEach(Device::poll);
    }

    long on(String version) {
        return devices.stream().filter(device -> device.version.equals(version)).count();
    }

    long onTag(String tag) {
        return devices.stream().filter(device -> device.tag.equals(tag)).count();
    }

    private static List<String> steps(String track) {
        return switch (track) {
            case "reimage" -> List.of("downloading", "written", "rebooting", "committed");
            case "container" -> List.of("downloading", "committed");
            default -> List.of("rebooting", "committed");
        };
    }
}
