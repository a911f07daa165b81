package dev.ingot.server.operator;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.DeviceId;
import dev.ingot.image.Catalog;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.server.audit.AuditLog;
import dev.ingot.server.auth.Access;
import dev.ingot.server.auth.Caller;
import dev.ingot.server.auth.OperatorTokens;
import dev.ingot.server.auth.Role;
import dev.ingot.server.fleet.Actions;
import dev.ingot.server.fleet.DesiredStates;
import dev.ingot.server.fleet.Device;
import dev.ingot.server.fleet.DeviceFilter;
import dev.ingot.server.fleet.DeviceLifecycle;
import dev.ingot.server.fleet.Devices;
import dev.ingot.server.fleet.Site;
import dev.ingot.server.fleet.Sites;
import dev.ingot.server.http.ApiJson;
import dev.ingot.server.http.Durations;
import dev.ingot.sign.Keyring;
import dev.ingot.site.SiteId;
import dev.ingot.store.ArtifactStore;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The operator API under {@code /api/v1/} (docs/api.md): sites, devices, desired state, images, tokens, the audit log. */
public final class OperatorApi {
    private static final Logger LOG = LoggerFactory.getLogger(OperatorApi.class);
    private static final int MAX_BODY = 64 * 1024;
    public static final int MAX_LIST = 10_000;

    private final Access access;
    private final Sites sites;
    private final Devices devices;
    private final DeviceLifecycle lifecycle;
    private final DesiredStates desired;
    private final Actions actions;
    private final OperatorTokens tokens;
    private final AuditLog audit;
    private final ArtifactStore store;
    private final Optional<Keyring> keyring;

    public OperatorApi(Access access, Sites sites, Devices devices, DeviceLifecycle lifecycle, DesiredStates desired, Actions actions,
            OperatorTokens tokens, AuditLog audit, ArtifactStore store, Optional<Keyring> keyring) {
        this.access = requireNonNull(access, "access");
        this.sites = requireNonNull(sites, "sites");
        this.devices = requireNonNull(devices, "devices");
        this.lifecycle = requireNonNull(lifecycle, "lifecycle");
        this.desired = requireNonNull(desired, "desired");
        this.actions = requireNonNull(actions, "actions");
        this.tokens = requireNonNull(tokens, "tokens");
        this.audit = requireNonNull(audit, "audit");
        this.store = requireNonNull(store, "store");
        this.keyring = requireNonNull(keyring, "keyring");
    }

    public void routes(RoutesConfig routes) {
        routes.get("/api/v1/sites", this::listSites);
        routes.post("/api/v1/sites", this::addSite);
        routes.get("/api/v1/sites/{id}", this::showSite);
        routes.post("/api/v1/sites/{id}/enrollment-tokens", this::enroll);
        routes.get("/api/v1/devices", this::listDevices);
        routes.get("/api/v1/devices/{id}", this::showDevice);
        routes.get("/api/v1/devices/{id}/reports", this::reports);
        routes.post("/api/v1/devices/{id}/revoke", this::revoke);
        routes.delete("/api/v1/devices/{id}", this::remove);
        routes.post("/api/v1/devices/{id}/enrollment-tokens", this::reenroll);
        routes.post("/api/v1/devices/{id}/desired", this::setDevice);
        routes.post("/api/v1/desired", this::setMany);
        routes.get("/api/v1/images", this::images);
        routes.get("/api/v1/audit", this::auditLog);
        routes.get("/api/v1/tokens", this::listTokens);
        routes.post("/api/v1/tokens", this::createToken);
        routes.delete("/api/v1/tokens/{name}", this::revokeToken);
    }

    private void listSites(Context ctx) {
        access.require(ctx, Role.VIEWER);
        Optional<String> tag = Optional.ofNullable(ctx.queryParam("tag"));
        ApiJson.write(ctx, 200, sites.list(tag).stream().map(site -> OperatorWire.SiteDocument.of(site, null)).toList());
    }

    private void addSite(Context ctx) {
        Caller.Operator operator = access.require(ctx, Role.OPERATOR);
        String attempt = "add a site";
        OperatorWire.SiteRequest request = ApiJson.read(ctx, OperatorWire.SiteRequest.class, MAX_BODY, attempt);
        SiteId id = new SiteId(ApiJson.required(request.id(), "id", attempt));
        Site site = sites.add(id, request.name(), Boolean.TRUE.equals(request.canary()),
                request.tags() == null ? List.of() : request.tags(), operator);
        LOG.atInfo().addKeyValue("actor", operator.name()).addKeyValue("site", id).log("site added");
        ApiJson.write(ctx, 201, OperatorWire.SiteDocument.of(site, List.of()));
    }

    private void showSite(Context ctx) {
        access.require(ctx, Role.VIEWER);
        SiteId id = new SiteId(ctx.pathParam("id"));
        Site site = sites.get(id);
        List<OperatorWire.DeviceDocument> documents = devices.list(siteFilter(id), MAX_LIST).stream().map(OperatorWire.DeviceDocument::of).toList();
        ApiJson.write(ctx, 200, OperatorWire.SiteDocument.of(site, documents));
    }

    private void enroll(Context ctx) {
        Caller.Operator operator = access.require(ctx, Role.OPERATOR);
        SiteId id = new SiteId(ctx.pathParam("id"));
        String attempt = "make an enrollment token for " + id;
        OperatorWire.EnrollmentRequest request = ApiJson.read(ctx, OperatorWire.EnrollmentRequest.class, MAX_BODY, attempt);
        long seconds = request.expiresInSeconds() == null ? 86_400 : request.expiresInSeconds();
        Optional<DeviceId> device = Optional.ofNullable(request.deviceId()).map(OperatorApi::deviceId);
        Sites.EnrollmentToken token = sites.createEnrollmentToken(id, device, Duration.ofSeconds(seconds), operator);
        LOG.atInfo().addKeyValue("actor", operator.name()).addKeyValue("site", id).addKeyValue("token_id", token.id())
                .addKeyValue("device", device.orElse(null)).addKeyValue("expires_at", token.expiresAt()).log("enrollment token made");
        ApiJson.write(ctx, 201, new OperatorWire.EnrollmentDocument(id.value(), device.map(DeviceId::value).orElse(null), token.id(), token.token(),
                token.expiresAt().toString()));
    }

    /** A token that re-enrolls this known device alone (ingot device reenroll). */
    private void reenroll(Context ctx) {
        Caller.Operator operator = access.require(ctx, Role.OPERATOR);
        DeviceId id = deviceId(ctx.pathParam("id"));
        String attempt = "make a re-enrollment token for " + id;
        OperatorWire.ReenrollRequest request = ApiJson.read(ctx, OperatorWire.ReenrollRequest.class, MAX_BODY, attempt);
        long seconds = request.expiresInSeconds() == null ? 86_400 : request.expiresInSeconds();
        Sites.EnrollmentToken token = lifecycle.reenroll(id, Duration.ofSeconds(seconds), operator);
        LOG.atInfo().addKeyValue("actor", operator.name()).addKeyValue("device", id).addKeyValue("token_id", token.id())
                .addKeyValue("expires_at", token.expiresAt()).log("re-enrollment token made");
        ApiJson.write(ctx, 201, new OperatorWire.EnrollmentDocument(token.site().value(), id.value(), token.id(), token.token(),
                token.expiresAt().toString()));
    }

    private void revoke(Context ctx) {
        Caller.Operator operator = access.require(ctx, Role.OPERATOR);
        DeviceId id = deviceId(ctx.pathParam("id"));
        ApiJson.read(ctx, OperatorWire.RevokeRequest.class, MAX_BODY, "revoke the device " + id);
        DeviceLifecycle.Outcome outcome = lifecycle.revoke(id, operator);
        LOG.atInfo().addKeyValue("actor", operator.name()).addKeyValue("device", id).addKeyValue("changed", outcome.changed()).log("device revoked");
        ApiJson.write(ctx, 200, new OperatorWire.LifecycleDocument(outcome.changed(), OperatorWire.DeviceDocument.of(outcome.device())));
    }

    private void remove(Context ctx) {
        Caller.Operator operator = access.require(ctx, Role.OPERATOR);
        DeviceId id = deviceId(ctx.pathParam("id"));
        DeviceLifecycle.Outcome outcome = lifecycle.remove(id, operator);
        LOG.atInfo().addKeyValue("actor", operator.name()).addKeyValue("device", id).addKeyValue("changed", outcome.changed()).log("device removed");
        ApiJson.write(ctx, 200, new OperatorWire.LifecycleDocument(outcome.changed(), OperatorWire.DeviceDocument.of(outcome.device())));
    }

    private void listDevices(Context ctx) {
        access.require(ctx, Role.VIEWER);
        DeviceFilter filter = filter(new OperatorWire.FilterRequest(ctx.queryParam("device"), ctx.queryParam("site"), ctx.queryParam("version"),
                ctx.queryParam("status"), ctx.queryParam("tag"), ctx.queryParam("seen_within"), ctx.queryParam("not_seen_within")));
        int limit = limit(ctx, MAX_LIST);
        ApiJson.write(ctx, 200, devices.list(filter, limit).stream().map(OperatorWire.DeviceDocument::of).toList());
    }

    private void showDevice(Context ctx) {
        access.require(ctx, Role.VIEWER);
        DeviceId id = deviceId(ctx.pathParam("id"));
        Device device = devices.get(id);
        List<OperatorWire.ActionDocument> documents = actions.all(id, 50).stream()
                .map(action -> OperatorWire.ActionDocument.of(action, actions.events(action.id()))).toList();
        Optional<Devices.StoredReport> latest = devices.latestReport(id);
        ApiJson.write(ctx, 200, new OperatorWire.DeviceDetail(OperatorWire.DeviceDocument.of(device), documents,
                latest.map(report -> report.receivedAt().toString()).orElse(null), latest.map(report -> tree(report.report())).orElse(null)));
    }

    private void reports(Context ctx) {
        access.require(ctx, Role.VIEWER);
        DeviceId id = deviceId(ctx.pathParam("id"));
        devices.get(id);
        ApiJson.write(ctx, 200, devices.history(id, limit(ctx, 1000)).stream()
                .map(report -> new OperatorWire.ReportDocument(report.seq(), report.receivedAt().toString(), tree(report.report()))).toList());
    }

    private void setDevice(Context ctx) {
        Caller.Operator operator = access.require(ctx, Role.OPERATOR);
        DeviceId id = deviceId(ctx.pathParam("id"));
        String attempt = "change the desired state of " + id;
        OperatorWire.DesiredRequest request = ApiJson.read(ctx, OperatorWire.DesiredRequest.class, MAX_BODY, attempt);
        respond(ctx, operator, desired.change(DeviceFilter.of(id), change(request), operator));
    }

    private void setMany(Context ctx) {
        Caller.Operator operator = access.require(ctx, Role.OPERATOR);
        String attempt = "change the desired state of a set of devices";
        OperatorWire.BulkDesiredRequest request = ApiJson.read(ctx, OperatorWire.BulkDesiredRequest.class, MAX_BODY, attempt);
        DeviceFilter filter = filter(ApiJson.required(request.filter(), "filter", attempt));
        if (filter.matchesEverything()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, attempt, "the filter is empty and would change every device")
                    .withHint("name a site, version, status, tag or last-seen window; the whole fleet changes through a staged rollout");
        }
        respond(ctx, operator, desired.change(filter, change(ApiJson.required(request.change(), "change", attempt)), operator));
    }

    private void respond(Context ctx, Caller.Operator operator, List<DesiredStates.Outcome> outcomes) {
        List<OperatorWire.ChangeDocument> documents = outcomes.stream().map(OperatorWire.ChangeDocument::of).toList();
        int changed = (int) outcomes.stream().filter(DesiredStates.Outcome::changed).count();
        LOG.atInfo().addKeyValue("actor", operator.name()).addKeyValue("matched", outcomes.size()).addKeyValue("changed", changed)
                .log("desired state changed");
        ApiJson.write(ctx, 200, new OperatorWire.ChangesDocument(outcomes.size(), changed, documents));
    }

    private void images(Context ctx) {
        access.require(ctx, Role.VIEWER);
        ApiJson.write(ctx, 200, Catalog.list(store, keyring, Optional.of(ImageName.DEFAULT)).stream().map(OperatorWire.ImageDocument::of).toList());
    }

    private void auditLog(Context ctx) {
        access.require(ctx, Role.VIEWER);
        ApiJson.write(ctx, 200, audit.recent(limit(ctx, 1000), Optional.ofNullable(ctx.queryParam("subject"))).stream()
                .map(OperatorWire.AuditDocument::of).toList());
    }

    private void listTokens(Context ctx) {
        access.require(ctx, Role.ADMIN);
        ApiJson.write(ctx, 200, tokens.list().stream().map(info -> OperatorWire.TokenDocument.of(info, Optional.empty())).toList());
    }

    private void createToken(Context ctx) {
        Caller.Operator operator = access.require(ctx, Role.ADMIN);
        String attempt = "create an operator token";
        OperatorWire.TokenRequest request = ApiJson.read(ctx, OperatorWire.TokenRequest.class, MAX_BODY, attempt);
        OperatorTokens.Created created = tokens.create(ApiJson.required(request.name(), "name", attempt),
                Role.parse(ApiJson.required(request.role(), "role", attempt)), operator);
        LOG.atInfo().addKeyValue("actor", operator.name()).addKeyValue("token", created.info().name())
                .addKeyValue("role", created.info().role().json()).log("token created");
        ApiJson.write(ctx, 201, OperatorWire.TokenDocument.of(created.info(), Optional.of(created.token())));
    }

    private void revokeToken(Context ctx) {
        Caller.Operator operator = access.require(ctx, Role.ADMIN);
        OperatorTokens.Info info = tokens.revoke(ctx.pathParam("name"), operator);
        LOG.atInfo().addKeyValue("actor", operator.name()).addKeyValue("token", info.name()).log("token revoked");
        ApiJson.write(ctx, 200, OperatorWire.TokenDocument.of(info, Optional.empty()));
    }

    static DesiredStates.Change change(OperatorWire.DesiredRequest request) {
        return new DesiredStates.Change(Optional.ofNullable(request.image()).map(ImageVersion::parse), Optional.ofNullable(request.containerTag()),
                Optional.ofNullable(request.rebootRequest()).map(OperatorApi::checkRequest),
                Optional.ofNullable(request.knownGood()).map(list -> list.stream().map(ImageVersion::parse).toList()));
    }

    private static String checkRequest(String id) {
        new dev.ingot.fleet.DesiredState(0, Optional.empty(), Optional.empty(), Optional.of(id), List.of());
        return id;
    }

    public static DeviceFilter filter(OperatorWire.FilterRequest request) {
        return new DeviceFilter(Optional.ofNullable(request.device()).map(OperatorApi::deviceId), Optional.ofNullable(request.site()).map(SiteId::new),
                Optional.ofNullable(request.version()).map(version -> ImageVersion.parse(version).toString()), Optional.ofNullable(request.status()),
                Optional.ofNullable(request.tag()), Optional.ofNullable(request.seenWithin()).map(text -> Durations.parse(text, "seen_within")),
                Optional.ofNullable(request.notSeenWithin()).map(text -> Durations.parse(text, "not_seen_within")));
    }

    static DeviceFilter siteFilter(SiteId site) {
        return new DeviceFilter(Optional.empty(), Optional.of(site), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty());
    }

    public static DeviceId deviceId(String text) {
        try {
            return new DeviceId(text);
        } catch (IllegalArgumentException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the device id '" + text + "'", "it is not 32 lowercase hex digits (a machine id)");
        }
    }

    private static int limit(Context ctx, int max) {
        String text = ctx.queryParam("limit");
        if (text == null) {
            return max;
        }
        try {
            int value = Integer.parseInt(text);
            if (value < 1 || value > max) {
                throw new NumberFormatException();
            }
            return value;
        } catch (NumberFormatException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read limit '" + text + "'", "it is not a number from 1 to " + max);
        }
    }

    private static JsonNode tree(String json) {
        try {
            return ApiJson.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored reports are JSON the server wrote", e);
        }
    }
}
