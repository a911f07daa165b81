package dev.ingot.agent;

import dev.ingot.boot.Slot;
import dev.ingot.health.Check;
import dev.ingot.health.HealthReport;
import dev.ingot.health.HealthStatus;
import dev.ingot.health.Probed;
import dev.ingot.image.ImageVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Whether a change may be committed, judged from one health report: no failed critical check (a device that is
 * only degraded commits: a trial boot itself warns that booted and committed slots differ), and the change is
 * what actually runs. Pure: each method gives the reason it may not, or empty.
 */
public final class CommitCheck {
    private CommitCheck() {}

    /** A trial boot of {@code slot}: the slot booted and runs {@code version}, and the device is not unhealthy. */
    public static Optional<String> trial(HealthReport report, ImageVersion version, Slot slot) {
        List<String> problems = new ArrayList<>();
        switch (report.findings().image()) {
            case Probed.Found<HealthReport.ImageInfo> found when !found.value().version().equals(version) ->
                    problems.add("slot " + slot + " runs " + found.value().version() + ", not " + version);
            case Probed.Found<HealthReport.ImageInfo> found -> { }
            case Probed.Failed<HealthReport.ImageInfo> failed -> problems.add("the image version cannot be read: " + failed.reason());
        }
        Optional<String> booted = report.findings().slot().found().flatMap(HealthReport.Slots::booted);
        if (!booted.equals(Optional.of(slot.letter()))) {
            problems.add("the report says slot " + booted.orElse("(none)") + " booted, not " + slot);
        }
        problems.addAll(failedCritical(report));
        return joined(problems);
    }

    /** A new container tag: the unit and the container run, the container runs {@code tag}, and the device is not unhealthy. */
    public static Optional<String> container(HealthReport.UnitState unit, HealthReport.ContainerInfo container, String tag,
            HealthReport report) {
        List<String> problems = new ArrayList<>();
        if (!unit.running()) {
            problems.add(unit.unit() + " is " + unit.activeState() + " (" + unit.subState() + ")");
        }
        if (!container.running()) {
            problems.add("container " + container.name() + " is " + container.state());
        }
        if (!container.tag().equals(Optional.of(tag))) {
            problems.add("container " + container.name() + " runs " + container.image() + ", not tag " + tag);
        }
        problems.addAll(failedCritical(report));
        return joined(problems);
    }

    /** Back from a requested reboot: not unhealthy. */
    public static Optional<String> afterReboot(HealthReport report) {
        return joined(failedCritical(report));
    }

    private static List<String> failedCritical(HealthReport report) {
        if (report.status() != HealthStatus.UNHEALTHY) {
            return List.of();
        }
        return report.checks().stream().filter(check -> check.critical() && check.status() == Check.Status.FAIL)
                .map(check -> check.name() + ": " + check.reason()).toList();
    }

    private static Optional<String> joined(List<String> problems) {
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }
}
