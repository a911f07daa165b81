package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.fleet.Track;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The built-in gate: the share of a stage's devices that are healthy on the target, from their own reports.
 * A device counts as <em>bad</em> when it failed (and no operator accepted that), or when its latest report made
 * since the soak began shows it off the target or less healthy than it was at plan time; as <em>unknown</em> when it
 * has not reported since the soak began. The stage's devices that an operator accepted as failed are left out of the
 * sample. With {@code allowed} = the rollout's {@link MaxFailures} for the sample: more bad than allowed fails; bad
 * and unknown together more than allowed waits (the unknown could still tip it); otherwise it passes.
 */
public final class HealthGate implements Gate {
    private final String name = new GateSpec.Health().text();

    @Override
    public String name() {
        return name;
    }

    @Override
    public GateResult evaluate(GateInput stage, Instant now) {
        requireNonNull(stage, "stage");
        requireNonNull(now, "now");
        List<String> bad = new ArrayList<>();
        int unknown = 0;
        int sample = 0;
        for (GateInput.Device device : stage.devices()) {
            if (device.run().outcome().failure()) {
                if (device.run().accepted()) {
                    continue;
                }
                sample++;
                bad.add(device.planned().id() + " (" + device.run().reason().orElse(device.run().outcome().json()) + ")");
                continue;
            }
            sample++;
            Optional<DeviceReport> report = device.progress().flatMap(DeviceProgress::report)
                    .filter(candidate -> !candidate.at().isBefore(stage.soakStartedAt()));
            if (report.isEmpty()) {
                unknown++;
            } else if (!stage.target().reachedBy(report.get())) {
                bad.add(device.planned().id() + " (reports " + running(stage.target().track(), report.get()) + ")");
            } else if (!report.get().noWorseThan(device.planned().baseline())) {
                bad.add(device.planned().id() + " (" + report.get().status().json() + ", was " + device.planned().baseline().json() + ")");
            }
        }
        int allowed = stage.maxFailures().allowed(sample);
        int healthy = sample - bad.size() - unknown;
        String share = healthy + " of " + sample + " devices healthy on " + stage.target().describe();
        if (bad.size() > allowed) {
            return GateResult.fail(name, share + "; " + bad.size() + " not, more than --max-failures " + stage.maxFailures().describe()
                    + " allows" + (stage.maxFailures().limit() instanceof MaxFailures.Percent ? " (" + allowed + ")" : "") + ": " + Listed.of(bad, ", "), now);
        }
        if (bad.size() + unknown > allowed) {
            return GateResult.waiting(name, share + "; " + unknown + " not reported since the soak began", now);
        }
        return GateResult.pass(name, share + (bad.isEmpty() ? "" : "; " + bad.size() + " not (within " + allowed + " allowed)"), now);
    }

    private static String running(Track track, DeviceReport report) {
        return switch (track) {
            case REIMAGE -> report.image().map(Object::toString).orElse("no image version");
            case CONTAINER -> report.containerTag().map(tag -> "video-ingest " + tag).orElse("no video-ingest tag");
            case REBOOT -> report.status().json();
        };
    }

}
