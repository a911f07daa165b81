package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.agent.ControlPlane.ActionReport;
import dev.ingot.boot.Slot;
import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.Track;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.Secret;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything the agent needs to carry on after a crash, a power cut or a reboot into the other slot: kept on the
 * {@code data} partition, which both slots mount, and written atomically before every step it describes (the
 * agent persists a step, then acts on it; after a crash it finds the step and either finishes it or falls back).
 *
 * @param enrollment the device's identity and credential once enrolled
 * @param action the one action in flight, if any: the agent works on one change at a time
 * @param outcomes the last finished action of each track
 * @param blocked per track, a target that failed or rolled back here: the agent does not try it again while the
 *     desired state keeps naming it, only after the desired state has named something else (docs/agent.md, "No
 *     reinstall loop")
 * @param rebootRequests reboot request ids already acted on, oldest first, at most {@value #REBOOT_REQUESTS_KEPT}
 * @param outbox progress reports the control plane has not acknowledged yet, oldest first
 */
public record AgentState(Optional<Enrolled> enrollment, Optional<Action> action, Map<Track, Outcome> outcomes,
        Map<Track, String> blocked, List<String> rebootRequests, List<ActionReport> outbox) {
    public static final int SCHEMA_VERSION = 1;
    static final int REBOOT_REQUESTS_KEPT = 32;
    /** Beyond this the oldest unsent reports are dropped: the latest state of each action is what matters. */
    static final int OUTBOX_LIMIT = 256;

    public AgentState {
        requireNonNull(enrollment, "enrollment");
        requireNonNull(action, "action");
        outcomes = copy(outcomes);
        blocked = copy(blocked);
        rebootRequests = List.copyOf(rebootRequests);
        outbox = List.copyOf(outbox);
    }

    private static <V> Map<Track, V> copy(Map<Track, V> map) {
        EnumMap<Track, V> copy = new EnumMap<>(Track.class);
        copy.putAll(map);
        return java.util.Collections.unmodifiableMap(copy);
    }

    /** A device that has never run the agent. */
    public static AgentState initial() {
        return new AgentState(Optional.empty(), Optional.empty(), Map.of(), Map.of(), List.of(), List.of());
    }

    public AgentState withEnrollment(Enrolled value) {
        return new AgentState(Optional.of(value), action, outcomes, blocked, rebootRequests, outbox);
    }

    /** The control plane refused the credential: the device enrolls again (its action, outcomes and outbox stay). */
    public AgentState withoutEnrollment() {
        return new AgentState(Optional.empty(), action, outcomes, blocked, rebootRequests, outbox);
    }

    public AgentState withAction(Action value) {
        return new AgentState(enrollment, Optional.of(value), outcomes, blocked, rebootRequests, outbox);
    }

    /** The action finished: it is forgotten, its outcome kept, and a failed target blocked. */
    public AgentState finished(Outcome outcome) {
        Map<Track, Outcome> newOutcomes = new EnumMap<>(Track.class);
        newOutcomes.putAll(outcomes);
        newOutcomes.put(outcome.track(), outcome);
        Map<Track, String> newBlocked = new EnumMap<>(Track.class);
        newBlocked.putAll(blocked);
        if (!outcome.state().succeeded()) {
            newBlocked.put(outcome.track(), outcome.target());
        }
        return new AgentState(enrollment, Optional.empty(), newOutcomes, newBlocked, rebootRequests, outbox);
    }

    /** The desired target of {@code track} is no longer {@code blocked}'s: a later return to it is a new request. */
    public AgentState unblocked(Track track) {
        Map<Track, String> newBlocked = new EnumMap<>(Track.class);
        newBlocked.putAll(blocked);
        newBlocked.remove(track);
        return new AgentState(enrollment, action, outcomes, newBlocked, rebootRequests, outbox);
    }

    public AgentState withRebootRequest(String id) {
        List<String> ids = new ArrayList<>(rebootRequests);
        ids.remove(id);
        ids.add(id);
        while (ids.size() > REBOOT_REQUESTS_KEPT) {
            ids.removeFirst();
        }
        return new AgentState(enrollment, action, outcomes, blocked, ids, outbox);
    }

    public AgentState queued(ActionReport report) {
        List<ActionReport> reports = new ArrayList<>(outbox);
        reports.add(report);
        while (reports.size() > OUTBOX_LIMIT) {
            reports.removeFirst();
        }
        return new AgentState(enrollment, action, outcomes, blocked, rebootRequests, reports);
    }

    /** The first {@code count} reports were acknowledged. */
    public AgentState sent(int count) {
        return new AgentState(enrollment, action, outcomes, blocked, rebootRequests, outbox.subList(count, outbox.size()));
    }

    /** The device's identity on the control plane. The state file is mode 0600: the credential is in it. */
    public record Enrolled(String deviceId, Secret credential, Instant at) {
        public Enrolled {
            requireNonNull(deviceId, "deviceId");
            requireNonNull(credential, "credential");
            requireNonNull(at, "at");
        }
    }

    /** How an action ended. */
    public record Outcome(Track track, long generation, String target, ActionState state, Optional<String> reason, Instant at) {
        public Outcome {
            requireNonNull(track, "track");
            requireNonNull(target, "target");
            requireNonNull(state, "state");
            requireNonNull(reason, "reason");
            requireNonNull(at, "at");
            if (!state.terminal()) {
                throw new IllegalArgumentException("an outcome is a terminal state, not " + state);
            }
        }
    }

    /** One attempt to reach a desired generation on one track, and the step it is at. */
    public sealed interface Action permits Reimage, Container, Reboot {
        Track track();

        long generation();

        /** What it installs, as reported: the version, the tag, the request id. */
        String target();

        Instant startedAt();

        /** The action state the control plane is told for the current step. */
        ActionState reported();
    }

    /** A golden image written to the inactive slot, booted once, committed or fallen back from. */
    public record Reimage(long generation, ImageVersion version, Slot from, Slot to, Instant startedAt, ReimageStep step) implements Action {
        public Reimage {
            requireNonNull(version, "version");
            requireNonNull(from, "from");
            requireNonNull(to, "to");
            requireNonNull(startedAt, "startedAt");
            requireNonNull(step, "step");
            if (from == to) {
                throw new IllegalArgumentException("an update writes the other slot, not the running one (" + from + ")");
            }
        }

        public Reimage at(ReimageStep next) {
            return new Reimage(generation, version, from, to, startedAt, next);
        }

        @Override
        public Track track() {
            return Track.REIMAGE;
        }

        @Override
        public String target() {
            return version.toString();
        }

        @Override
        public ActionState reported() {
            return switch (step) {
                case ReimageStep.Fetch fetch -> ActionState.DOWNLOADING;
                case ReimageStep.Write write -> ActionState.DOWNLOADING;
                case ReimageStep.Written written -> ActionState.WRITTEN;
                case ReimageStep.Restart restart -> ActionState.REBOOTING;
                case ReimageStep.Trial trial -> ActionState.REBOOTING;
                case ReimageStep.Commit commit -> ActionState.REBOOTING;
                case ReimageStep.FallBack fallBack -> ActionState.REBOOTING;
            };
        }
    }

    /** The steps of the A/B update, each persisted before it is acted on (docs/agent.md has them as a table). */
    public sealed interface ReimageStep {
        /** Fetch and verify the slot payload; {@code attempts} failed so far, the next not before {@code notBefore}. */
        record Fetch(int attempts, Optional<Instant> notBefore) implements ReimageStep {
            public Fetch {
                requireNonNull(notBefore, "notBefore");
            }
        }

        /** Write the payload into the inactive slot; everything before {@code position} is on the disk. */
        record Write(long position) implements ReimageStep {}

        /** Written and read back; next: set the one-shot boot and reboot. */
        record Written() implements ReimageStep {}

        /**
         * Reboot into the new slot once. {@code bootId} is the boot that asked; {@code oneShotSet} says whether the
         * bootloader was told, so that a reboot that came before it is not taken for a fall-back.
         */
        record Restart(String bootId, boolean oneShotSet, int reboots) implements ReimageStep {
            public Restart {
                requireNonNull(bootId, "bootId");
            }
        }

        /** Booted the new slot once (boot {@code bootId}): healthy before {@code deadline}, or fall back. */
        record Trial(String bootId, Instant deadline) implements ReimageStep {
            public Trial {
                requireNonNull(bootId, "bootId");
                requireNonNull(deadline, "deadline");
            }
        }

        /** Healthy on trial: make the new slot the default. */
        record Commit(String bootId) implements ReimageStep {
            public Commit {
                requireNonNull(bootId, "bootId");
            }
        }

        /** Not healthy in time: reboot without committing, so that the default (old) slot boots. */
        record FallBack(String bootId, String reason) implements ReimageStep {
            public FallBack {
                requireNonNull(bootId, "bootId");
                requireNonNull(reason, "reason");
            }
        }
    }

    /**
     * A new {@code video-ingest} tag: pulled, switched to, verified, or switched back.
     *
     * @param previous the override before the switch (empty: the site parameter's tag ran)
     */
    public record Container(long generation, String tag, Optional<String> previous, Instant startedAt, ContainerStep step) implements Action {
        public Container {
            requireNonNull(tag, "tag");
            requireNonNull(previous, "previous");
            requireNonNull(startedAt, "startedAt");
            requireNonNull(step, "step");
        }

        public Container at(ContainerStep next) {
            return new Container(generation, tag, previous, startedAt, next);
        }

        @Override
        public Track track() {
            return Track.CONTAINER;
        }

        @Override
        public String target() {
            return tag;
        }

        @Override
        public ActionState reported() {
            return ActionState.DOWNLOADING;
        }
    }

    /** The steps of a container update. */
    public sealed interface ContainerStep {
        record Pull(int attempts, Optional<Instant> notBefore) implements ContainerStep {
            public Pull {
                requireNonNull(notBefore, "notBefore");
            }
        }

        /** Point the unit at the new tag and restart it. */
        record Switch() implements ContainerStep {}

        /** Running and healthy before {@code deadline}, or switch back. */
        record Verify(Instant deadline) implements ContainerStep {
            public Verify {
                requireNonNull(deadline, "deadline");
            }
        }

        /** Put the previous tag back and restart. */
        record Revert(String reason) implements ContainerStep {
            public Revert {
                requireNonNull(reason, "reason");
            }
        }
    }

    /** An operator's reboot request: reboot once, then confirm the device came back healthy. */
    public record Reboot(long generation, String requestId, Instant startedAt, RebootStep step) implements Action {
        public Reboot {
            requireNonNull(requestId, "requestId");
            requireNonNull(startedAt, "startedAt");
            requireNonNull(step, "step");
        }

        public Reboot at(RebootStep next) {
            return new Reboot(generation, requestId, startedAt, next);
        }

        @Override
        public Track track() {
            return Track.REBOOT;
        }

        @Override
        public String target() {
            return requestId;
        }

        @Override
        public ActionState reported() {
            return ActionState.REBOOTING;
        }
    }

    /** The steps of a requested reboot. */
    public sealed interface RebootStep {
        /** Reboot, unless boot {@code bootId} (the one that took the request) is already over. */
        record Restart(String bootId) implements RebootStep {
            public Restart {
                requireNonNull(bootId, "bootId");
            }
        }

        /** Back up: healthy before {@code deadline}, or the request failed. */
        record Confirm(Instant deadline) implements RebootStep {
            public Confirm {
                requireNonNull(deadline, "deadline");
            }
        }
    }
}
