package dev.ingot.server.operator;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.image.Catalog;
import dev.ingot.image.ImageVersion;
import dev.ingot.server.audit.AuditLog;
import dev.ingot.server.auth.OperatorTokens;
import dev.ingot.server.fleet.Action;
import dev.ingot.server.fleet.DesiredStates;
import dev.ingot.server.fleet.Device;
import dev.ingot.server.fleet.Site;
import dev.ingot.fleet.DesiredState;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** The operator API's JSON documents (docs/api.md), kept apart from the domain records. */
public final class OperatorWire {
    private OperatorWire() {}

    public record SiteRequest(String id, String name, Boolean canary, List<String> tags) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record SiteDocument(String id, String name, boolean canary, List<String> tags, String createdAt, List<DeviceDocument> devices) {
        static SiteDocument of(Site site, List<DeviceDocument> devices) {
            return new SiteDocument(site.id().value(), site.name(), site.canary(), site.tags(), site.createdAt().toString(), devices);
        }
    }

    /** {@code device_id}: a token for that machine id only (it enrolls it new, or re-enrolls it). */
    public record EnrollmentRequest(Long expiresInSeconds, String deviceId) {}

    public record ReenrollRequest(Long expiresInSeconds) {}

    /** A revoke takes no fields: its body is {@code {}}. */
    public record RevokeRequest() {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record EnrollmentDocument(String siteId, String deviceId, String tokenId, String token, String expiresAt) {}

    /** A revoke or a remove: {@code changed} false when the device was so already. */
    public record LifecycleDocument(boolean changed, DeviceDocument device) {}

    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Reported(String status, String imageVersion, String containerTag, String slotBooted, Boolean rebootRequired,
            Long securityUpdates, String checkedAt) {
        static Reported of(Device.Reported reported) {
            return new Reported(reported.status().map(status -> status.json()).orElse(null), reported.imageVersion().orElse(null),
                    reported.containerTag().orElse(null), reported.slotBooted().orElse(null), reported.rebootRequired().orElse(null),
                    reported.securityUpdates().isPresent() ? reported.securityUpdates().getAsLong() : null,
                    reported.checkedAt().map(Instant::toString).orElse(null));
        }
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Desired(long generation, String image, String containerTag, String rebootRequest, List<String> knownGood, String updatedAt,
            String updatedBy) {
        static Desired of(DesiredState state, Instant updatedAt, String updatedBy) {
            return new Desired(state.generation(), state.image().map(ImageVersion::toString).orElse(null), state.containerTag().orElse(null),
                    state.rebootRequest().orElse(null), state.knownGood().stream().map(ImageVersion::toString).toList(),
                    updatedAt == null ? null : updatedAt.toString(), updatedBy);
        }
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record DeviceDocument(String id, String siteId, String enrolledAt, String lastSeenAt, Reported reported, Desired desired,
            String revokedAt, String removedAt) {
        static DeviceDocument of(Device device) {
            return new DeviceDocument(device.id().value(), device.site().value(), device.enrolledAt().toString(),
                    device.lastSeen().map(Instant::toString).orElse(null), Reported.of(device.reported()),
                    Desired.of(device.desired(), device.desiredUpdatedAt(), device.desiredUpdatedBy()),
                    device.revokedAt().map(Instant::toString).orElse(null), device.removedAt().map(Instant::toString).orElse(null));
        }
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record ActionDocument(String id, String track, long generation, String target, String state, String reason, String createdAt,
            String updatedAt, String createdBy, List<EventDocument> events) {
        static ActionDocument of(Action action, List<Action.Event> events) {
            return new ActionDocument(action.id(), action.track().json(), action.generation(), action.target(), action.state().json(),
                    action.reason().orElse(null), action.createdAt().toString(), action.updatedAt().toString(), action.createdBy(),
                    events.stream().map(EventDocument::of).toList());
        }
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record EventDocument(long seq, String state, String reason, String at) {
        static EventDocument of(Action.Event event) {
            return new EventDocument(event.seq(), event.state().json(), event.reason().orElse(null), event.at().toString());
        }
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record DeviceDetail(DeviceDocument device, List<ActionDocument> actions, String reportReceivedAt, JsonNode latestReport) {}

    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record ReportDocument(long seq, String receivedAt, JsonNode report) {}

    public record DesiredRequest(String image, String containerTag, String rebootRequest, List<String> knownGood) {}

    public record FilterRequest(String device, String site, String version, String status, String tag, String seenWithin,
            String notSeenWithin) {}

    public record BulkDesiredRequest(FilterRequest filter, DesiredRequest change) {}

    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record ChangeDocument(String deviceId, boolean changed, Desired before, Desired after, List<String> actions) {
        static ChangeDocument of(DesiredStates.Outcome outcome) {
            return new ChangeDocument(outcome.device().id().value(), outcome.changed(), Desired.of(outcome.before(), null, null),
                    Desired.of(outcome.after(), null, null), outcome.opened().stream().map(Action::id).toList());
        }
    }

    public record ChangesDocument(int matched, int changed, List<ChangeDocument> devices) {}

    public record TokenRequest(String name, String role) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TokenDocument(String id, String name, String role, String createdAt, String createdBy, String revokedAt, String token) {
        static TokenDocument of(OperatorTokens.Info info, Optional<String> token) {
            return new TokenDocument(info.id(), info.name(), info.role().json(), info.createdAt().toString(), info.createdBy(),
                    info.revokedAt().map(Instant::toString).orElse(null), token.orElse(null));
        }
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record AuditDocument(String id, String at, String actor, String action, String subject, JsonNode before, JsonNode after) {
        static AuditDocument of(AuditLog.Entry entry) {
            return new AuditDocument(entry.id(), entry.at().toString(), entry.actor(), entry.action(), entry.subject(),
                    entry.before().orElse(null), entry.after().orElse(null));
        }
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record ImageDocument(String name, String version, String buildDate, long imageSize, long payloadSize, String signature,
            String problem, boolean knownGood, String signer) {
        static ImageDocument of(Catalog.Entry entry) {
            var manifest = entry.manifest();
            long payload = manifest.files().stream().filter(file -> file.name().endsWith(".zst")).mapToLong(file -> file.size()).sum();
            return new ImageDocument(manifest.name().value(), manifest.version().toString(), manifest.buildDate().toString(),
                    manifest.image().size(), payload, entry.signature().name().toLowerCase(java.util.Locale.ROOT), entry.problem().orElse(null),
                    entry.knownGood(), manifest.signer().userId());
        }
    }
}
