package dev.ingot.aws;

import static java.util.Objects.requireNonNull;

import dev.ingot.health.StandardAlarms;
import dev.ingot.rollout.Gate;
import dev.ingot.rollout.GateInput;
import dev.ingot.rollout.GateResult;
import dev.ingot.rollout.GateSpec;
import dev.ingot.rollout.Listed;
import dev.ingot.site.SiteId;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.cloudwatch.model.AlarmType;
import software.amazon.awssdk.services.cloudwatch.model.CompositeAlarm;
import software.amazon.awssdk.services.cloudwatch.model.DescribeAlarmsRequest;
import software.amazon.awssdk.services.cloudwatch.model.DescribeAlarmsResponse;
import software.amazon.awssdk.services.cloudwatch.model.Dimension;
import software.amazon.awssdk.services.cloudwatch.model.MetricAlarm;
import software.amazon.awssdk.services.cloudwatch.model.MetricDataQuery;

/**
 * The CloudWatch alarm gate ({@code --gate cloudwatch:PREFIX}): lists every metric and composite alarm whose name
 * starts with PREFIX (DescribeAlarms, all pages) and judges a stage by them.
 * <ul>
 *   <li>An alarm belongs to a site when its name is a standard per-site alarm's ({@link StandardAlarms#siteOf},
 *       {@code edge-health-SITE-…-unhealthy} and the rest, as {@code ingot health alarms} puts them), or else when its
 *       metric (or every metric of its metric math) carries the {@code SiteId} dimension of one site.</li>
 *   <li>Every other alarm under the prefix is <em>fleet-wide</em>: a composite alarm, or one on a metric without a
 *       site, such as an error rate across the fleet. It counts for every stage.</li>
 *   <li>An alarm of one of the stage's sites, or a fleet-wide one, in ALARM fails the gate. One in INSUFFICIENT_DATA,
 *       and a stage site with no alarm at all under the prefix (the gate would be blind there), count as
 *       {@code insufficient-data}; a failure to read the alarms (throttled past the SDK's retries, unreachable,
 *       refused) counts as {@code unreadable}; each fails the gate unless the gate's spec says wait or pass.</li>
 *   <li>Alarms of sites outside the stage are not this stage's business: they were judged with their own stage.</li>
 * </ul>
 */
public final class CloudWatchAlarmGate implements Gate, AutoCloseable {
    private final CloudWatchClient client;
    private final GateSpec.CloudWatch spec;
    private final Optional<URI> endpoint;

    private CloudWatchAlarmGate(CloudWatchClient client, GateSpec.CloudWatch spec, Optional<URI> endpoint) {
        this.client = requireNonNull(client, "client");
        this.spec = requireNonNull(spec, "spec");
        this.endpoint = requireNonNull(endpoint, "endpoint");
    }

    public static CloudWatchAlarmGate fromDefaultChain(GateSpec.CloudWatch spec, Optional<URI> endpoint) {
        return new CloudWatchAlarmGate(CloudWatchClients.fromDefaultChain(endpoint), spec, endpoint);
    }

    public static CloudWatchAlarmGate with(GateSpec.CloudWatch spec, Optional<URI> endpoint, AwsCredentialsProvider credentials, Region region) {
        return new CloudWatchAlarmGate(CloudWatchClients.with(endpoint, credentials, region), spec, endpoint);
    }

    @Override
    public String name() {
        return spec.text();
    }

    /** One alarm as the gate reads it: its name, state and reason, and the site it belongs to (none: fleet-wide). */
    record Alarm(String name, String state, String reason, Optional<SiteId> site) {}

    @Override
    public GateResult evaluate(GateInput stage, Instant now) {
        List<Alarm> alarms;
        try {
            alarms = alarms();
        } catch (SdkException e) {
            String why = CloudWatchClients.unavailable("read the alarms named " + spec.prefix() + "…", e, endpoint).getMessage();
            return tolerate(spec.unreadable(), "the alarms could not be read: " + why, now);
        }
        Set<SiteId> sites = new HashSet<>(stage.sites());
        List<Alarm> relevant = alarms.stream().filter(alarm -> alarm.site().isEmpty() || sites.contains(alarm.site().get())).toList();
        List<String> alarming = relevant.stream().filter(alarm -> alarm.state().equals("ALARM"))
                .map(alarm -> alarm.name() + (alarm.site().isEmpty() ? " (fleet-wide)" : "") + ": " + alarm.reason()).toList();
        if (!alarming.isEmpty()) {
            return GateResult.fail(name(), alarming.size() + " alarm" + (alarming.size() == 1 ? "" : "s") + " in ALARM: " + Listed.of(alarming, "; "), now);
        }
        List<String> unknown = new ArrayList<>();
        relevant.stream().filter(alarm -> alarm.state().equals("INSUFFICIENT_DATA"))
                .forEach(alarm -> unknown.add(alarm.name() + " is INSUFFICIENT_DATA"));
        Set<SiteId> covered = new HashSet<>();
        relevant.forEach(alarm -> alarm.site().ifPresent(covered::add));
        stage.sites().stream().filter(site -> !covered.contains(site))
                .forEach(site -> unknown.add("no alarm named " + spec.prefix() + "… belongs to " + site));
        if (!unknown.isEmpty()) {
            return tolerate(spec.insufficientData(), Listed.of(unknown, "; "), now);
        }
        long fleetWide = relevant.stream().filter(alarm -> alarm.site().isEmpty()).count();
        return GateResult.pass(name(), relevant.size() - fleetWide + " alarms of " + stage.sites().size() + " site"
                + (stage.sites().size() == 1 ? "" : "s") + " and " + fleetWide + " fleet-wide, all OK", now);
    }

    private GateResult tolerate(GateSpec.Tolerance tolerance, String reason, Instant now) {
        return switch (tolerance) {
            case FAIL -> GateResult.fail(name(), reason, now);
            case WAIT -> GateResult.waiting(name(), reason, now);
            case PASS -> GateResult.pass(name(), reason + " (tolerated by the gate's settings)", now);
        };
    }

    /** Every alarm under the prefix, metric and composite, over all pages (the SDK's paginator follows NextToken). */
    List<Alarm> alarms() {
        DescribeAlarmsRequest request = DescribeAlarmsRequest.builder().alarmNamePrefix(spec.prefix())
                .alarmTypes(AlarmType.METRIC_ALARM, AlarmType.COMPOSITE_ALARM).maxRecords(100).build();
        List<Alarm> alarms = new ArrayList<>();
        for (DescribeAlarmsResponse page : client.describeAlarmsPaginator(request)) {
            for (MetricAlarm alarm : page.metricAlarms()) {
                alarms.add(new Alarm(alarm.alarmName(), alarm.stateValueAsString(), String.valueOf(alarm.stateReason()), siteOf(alarm)));
            }
            for (CompositeAlarm alarm : page.compositeAlarms()) {
                alarms.add(new Alarm(alarm.alarmName(), alarm.stateValueAsString(), String.valueOf(alarm.stateReason()),
                        StandardAlarms.siteOf(alarm.alarmName())));
            }
        }
        return alarms;
    }

    private static Optional<SiteId> siteOf(MetricAlarm alarm) {
        Optional<SiteId> byName = StandardAlarms.siteOf(alarm.alarmName());
        if (byName.isPresent()) {
            return byName;
        }
        List<List<Dimension>> dimensions = new ArrayList<>();
        if (alarm.hasDimensions() && !alarm.dimensions().isEmpty()) {
            dimensions.add(alarm.dimensions());
        }
        if (alarm.hasMetrics()) {
            for (MetricDataQuery query : alarm.metrics()) {
                if (query.metricStat() != null && query.metricStat().metric() != null) {
                    dimensions.add(query.metricStat().metric().dimensions());
                }
            }
        }
        Set<String> values = new HashSet<>();
        for (List<Dimension> list : dimensions) {
            Optional<String> site = list.stream().filter(dimension -> dimension.name().equals(StandardAlarms.DIMENSION))
                    .map(Dimension::value).findFirst();
            if (site.isEmpty()) {
                return Optional.empty(); // one metric without a site: the alarm watches more than one site
            }
            values.add(site.get());
        }
        if (values.size() != 1) {
            return Optional.empty();
        }
        try {
            return Optional.of(new SiteId(values.iterator().next()));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }


    @Override
    public void close() {
        client.close();
    }
}
