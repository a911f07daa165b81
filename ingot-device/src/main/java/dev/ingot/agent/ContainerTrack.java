package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.agent.AgentState.Container;
import dev.ingot.agent.AgentState.ContainerStep;
import dev.ingot.agent.StepResult.Done;
import dev.ingot.agent.StepResult.Next;
import dev.ingot.agent.StepResult.Wait;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.HealthReport;
import dev.ingot.health.Probed;
import dev.ingot.provision.HostCommands;
import dev.ingot.registry.RegistryLogin;
import dev.ingot.site.ContainerImage;
import dev.ingot.site.VideoIngestUnit;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A new {@code video-ingest} tag: pull it (logging in to ECR first when the registry is ECR), point the unit at it
 * through the {@link TagOverride}, restart, and commit once the unit and the container run the new tag and the
 * device is not unhealthy; otherwise put the previous tag back and restart. A failed pull changes nothing.
 */
final class ContainerTrack {
    /** The container the unit runs ({@code docker run --name video-ingest}). */
    static final String CONTAINER = "video-ingest";

    private final Clock clock;
    private final HostCommands host;
    private final TagOverride tags;
    private final RegistryLogin registry;
    private final HealthProbe health;
    private final Timings timings;
    private final Optional<ContainerImage> siteImage;

    /** @param siteImage the site parameter {@code video_ingest_image}: its repository, and the tag that runs without an override */
    ContainerTrack(Clock clock, HostCommands host, TagOverride tags, RegistryLogin registry, HealthProbe health, Timings timings,
            Optional<ContainerImage> siteImage) {
        this.clock = requireNonNull(clock, "clock");
        this.host = requireNonNull(host, "host");
        this.tags = requireNonNull(tags, "tags");
        this.registry = requireNonNull(registry, "registry");
        this.health = requireNonNull(health, "health");
        this.timings = requireNonNull(timings, "timings");
        this.siteImage = requireNonNull(siteImage, "siteImage");
    }

    /** The tag running now, by the device's own configuration: the override, else the site parameter's. */
    Optional<String> configuredTag() {
        return tags.current().or(() -> siteImage.map(ContainerImage::tag));
    }

    Container start(long generation, String tag) {
        return new Container(generation, tag, tags.current(), clock.instant(), new ContainerStep.Pull(0, Optional.empty()));
    }

    static boolean supersedable(Container action) {
        return action.step() instanceof ContainerStep.Pull;
    }

    StepResult step(Container action) {
        Instant now = clock.instant();
        if (siteImage.isEmpty()) {
            return Done.failed("the agent's configuration names no video_ingest_image, so there is no repository to pull "
                    + action.tag() + " from (provisioning writes it into " + AgentSettings.CONFIG_PATH + ")");
        }
        ContainerImage image = new ContainerImage(siteImage.get().repository(), action.tag(), Optional.empty());
        return switch (action.step()) {
            case ContainerStep.Pull pull -> pull(action, pull, image, now);
            case ContainerStep.Switch change -> switchTo(action, now);
            case ContainerStep.Verify verify -> verify(action, verify, now);
            case ContainerStep.Revert revert -> revert(action, revert);
        };
    }

    private StepResult pull(Container action, ContainerStep.Pull pull, ContainerImage image, Instant now) {
        if (pull.notBefore().isPresent() && now.isBefore(pull.notBefore().get())) {
            return new Wait(Duration.between(now, pull.notBefore().get()));
        }
        try {
            registry.credentialsFor(image).ifPresent(host::registryLogin);
            host.pullImage(image.toString());
        } catch (IngotException e) {
            int attempts = pull.attempts() + 1;
            if (e.code() == ErrorCode.UNAVAILABLE && attempts < timings.attempts()) {
                return new Next(action.at(new ContainerStep.Pull(attempts, Optional.of(now.plus(timings.retry().multipliedBy(1L << (attempts - 1)))))));
            }
            return Done.failed("pulling " + image + " failed" + (attempts > 1 ? " (" + attempts + " attempts)" : "") + ": " + e.oneLine()
                    + "; nothing was changed");
        }
        return new Next(action.at(new ContainerStep.Switch()));
    }

    private StepResult switchTo(Container action, Instant now) {
        try {
            tags.set(Optional.of(action.tag()));
            host.restartUnit(VideoIngestUnit.UNIT, false);
        } catch (IngotException e) {
            return new Next(action.at(new ContainerStep.Revert("switching to " + action.tag() + " failed: " + e.oneLine())));
        }
        return new Next(action.at(new ContainerStep.Verify(now.plus(timings.containerWindow()))));
    }

    private StepResult verify(Container action, ContainerStep.Verify verify, Instant now) {
        if (Timings.clockWentBack(verify.deadline(), now, timings.containerWindow())) {
            return new Next(action.at(new ContainerStep.Verify(now.plus(timings.containerWindow()))));
        }
        Probed<HealthReport.UnitState> unit = host.unitState(VideoIngestUnit.UNIT);
        Probed<HealthReport.ContainerInfo> container = host.inspectContainer(CONTAINER);
        Optional<String> problem;
        if (unit instanceof Probed.Failed<HealthReport.UnitState> failed) {
            problem = Optional.of(VideoIngestUnit.UNIT + " cannot be read: " + failed.reason());
        } else if (container instanceof Probed.Failed<HealthReport.ContainerInfo> failed) {
            problem = Optional.of(failed.reason());
        } else {
            problem = CommitCheck.container(unit.found().orElseThrow(), container.found().orElseThrow(), action.tag(), health.check());
        }
        if (problem.isEmpty()) {
            return Done.committed(CONTAINER + " runs " + action.tag());
        }
        if (!now.isBefore(verify.deadline())) {
            return new Next(action.at(new ContainerStep.Revert(action.tag() + " was not running and healthy within "
                    + Timings.describe(timings.containerWindow()) + ": " + problem.get())));
        }
        Duration left = Duration.between(now, verify.deadline());
        return new Wait(left.compareTo(timings.recheck()) < 0 ? left : timings.recheck());
    }

    private StepResult revert(Container action, ContainerStep.Revert revert) {
        String back = action.previous().map(tag -> "tag " + tag).orElseGet(() -> "the site parameter's tag"
                + siteImage.map(image -> " " + image.tag()).orElse(""));
        try {
            tags.set(action.previous());
            host.restartUnit(VideoIngestUnit.UNIT, false);
        } catch (IngotException e) {
            return Done.failed(revert.reason() + "; putting back " + back + " failed too: " + e.oneLine());
        }
        return Done.rolledBack(revert.reason() + "; back on " + back);
    }
}
