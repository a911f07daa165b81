package dev.ingot.server.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.rollout.Gate;
import dev.ingot.rollout.GateInput;
import dev.ingot.rollout.GateResult;
import dev.ingot.rollout.GateSpec;
import dev.ingot.rollout.HealthGate;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gates a rollout's specs name: the built-in health gate, and a CloudWatch alarm gate per prefix, made once by
 * the factory the command line wires (ingot-aws; the server itself holds no AWS client) and kept until the server
 * stops. A gate that cannot be made (no region, no credentials) is a gate that fails, saying why: the engine never
 * throws on a gate.
 */
final class RolloutGates implements Function<GateSpec, Gate>, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RolloutGates.class);

    private final Optional<Function<GateSpec.CloudWatch, Gate>> cloudWatch;
    private final Map<String, Gate> made = new ConcurrentHashMap<>();
    private final HealthGate health = new HealthGate();

    RolloutGates(Optional<Function<GateSpec.CloudWatch, Gate>> cloudWatch) {
        this.cloudWatch = requireNonNull(cloudWatch, "cloudWatch");
    }

    /** Refuses, before a rollout starts, a gate this server cannot ask. */
    void check(List<GateSpec> specs) {
        for (GateSpec spec : specs) {
            if (spec instanceof GateSpec.CloudWatch && cloudWatch.isEmpty()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "use the gate " + spec.text(), "this server was started without CloudWatch gates")
                        .withHint("start it with ingot server (which asks CloudWatch through the AWS SDK's default chain), or use --gate health");
            }
        }
    }

    @Override
    public Gate apply(GateSpec spec) {
        return switch (spec) {
            case GateSpec.Health healthSpec -> health;
            case GateSpec.CloudWatch cloudWatchSpec -> made.computeIfAbsent(spec.text(), text -> make(cloudWatchSpec));
        };
    }

    private Gate make(GateSpec.CloudWatch spec) {
        try {
            return cloudWatch.orElseThrow(() -> IngotException.tried(ErrorCode.UNAVAILABLE, "ask the gate " + spec.text(),
                    "this server was started without CloudWatch gates")).apply(spec);
        } catch (RuntimeException e) {
            LOG.atWarn().addKeyValue("gate", spec.text()).setCause(e).log("gate not available");
            String why = e instanceof IngotException ingot ? ingot.oneLine() : String.valueOf(e);
            return new Failing(spec.text(), why);
        }
    }

    @Override
    public void close() {
        made.values().forEach(gate -> {
            if (gate instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    LOG.atWarn().setCause(e).log("could not close a gate");
                }
            }
        });
        made.clear();
    }

    /** A gate that could not be made: it fails every stage it is asked about, saying why (kept so the next step tries no AWS call again). */
    private record Failing(String name, String why) implements Gate {
        @Override
        public GateResult evaluate(GateInput stage, Instant now) {
            return GateResult.fail(name, "the gate could not be made: " + why, now);
        }
    }
}
