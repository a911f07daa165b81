package dev.ingot.aws;

import static java.util.Objects.requireNonNull;

import dev.ingot.health.StandardAlarms;
import dev.ingot.health.StandardAlarms.Alarm;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.cloudwatch.model.Dimension;
import software.amazon.awssdk.services.cloudwatch.model.PutMetricAlarmRequest;

/**
 * Creates or updates a site's standard alarms ({@link StandardAlarms}) with PutMetricAlarm, which replaces an
 * alarm of the same name: applying twice is the same as applying once.
 */
public final class CloudWatchAlarms implements AutoCloseable {
    private final CloudWatchClient client;
    private final Optional<URI> endpoint;

    private CloudWatchAlarms(CloudWatchClient client, Optional<URI> endpoint) {
        this.client = requireNonNull(client, "client");
        this.endpoint = requireNonNull(endpoint, "endpoint");
    }

    public static CloudWatchAlarms fromDefaultChain(Optional<URI> endpoint) {
        return new CloudWatchAlarms(CloudWatchClients.fromDefaultChain(endpoint), endpoint);
    }

    public static CloudWatchAlarms with(Optional<URI> endpoint, AwsCredentialsProvider credentials, Region region) {
        return new CloudWatchAlarms(CloudWatchClients.with(endpoint, credentials, region), endpoint);
    }

    /** Puts each alarm, in order; {@code action} (an SNS topic ARN) is notified on alarm and on recovery. Returns the names put. */
    public List<String> apply(List<Alarm> alarms, Optional<String> action) {
        requireNonNull(action, "action");
        List<String> applied = new ArrayList<>();
        for (Alarm alarm : alarms) {
            try {
                client.putMetricAlarm(request(alarm, action));
            } catch (SdkException e) {
                throw CloudWatchClients.unavailable("put the alarm " + alarm.name() + (applied.isEmpty() ? ""
                        : " (" + applied.size() + " of " + alarms.size() + " were put; applying again finishes the rest)"), e, endpoint);
            }
            applied.add(alarm.name());
        }
        return applied;
    }

    static PutMetricAlarmRequest request(Alarm alarm, Optional<String> action) {
        PutMetricAlarmRequest.Builder request = PutMetricAlarmRequest.builder()
                .alarmName(alarm.name())
                .alarmDescription(alarm.description())
                .namespace(StandardAlarms.NAMESPACE)
                .metricName(alarm.metric())
                .dimensions(Dimension.builder().name(StandardAlarms.DIMENSION).value(alarm.site().value()).build())
                .statistic(alarm.statistic())
                .period(alarm.periodSeconds())
                .evaluationPeriods(alarm.evaluationPeriods())
                .datapointsToAlarm(alarm.datapointsToAlarm())
                .threshold(alarm.threshold())
                .comparisonOperator(alarm.comparison().cloudWatchName())
                .treatMissingData(alarm.missingData().cloudWatchName())
                .actionsEnabled(true);
        action.ifPresent(arn -> request.alarmActions(arn).okActions(arn));
        return request.build();
    }

    @Override
    public void close() {
        client.close();
    }
}
