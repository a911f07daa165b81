package dev.ingot.server.dashboard;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.error.IngotException;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthStatus;
import dev.ingot.image.Catalog;
import dev.ingot.image.ImageName;
import dev.ingot.server.audit.AuditLog;
import dev.ingot.server.auth.Access;
import dev.ingot.server.auth.Caller;
import dev.ingot.server.auth.OperatorTokens;
import dev.ingot.server.fleet.Action;
import dev.ingot.server.fleet.Actions;
import dev.ingot.server.fleet.Device;
import dev.ingot.server.fleet.DeviceFilter;
import dev.ingot.server.fleet.Devices;
import dev.ingot.server.fleet.Site;
import dev.ingot.server.fleet.Sites;
import dev.ingot.server.http.ApiJson;
import dev.ingot.server.operator.OperatorApi;
import dev.ingot.sign.Keyring;
import dev.ingot.site.SiteId;
import dev.ingot.store.ArtifactStore;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.SameSite;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The dashboard: server-rendered pages (no build step, no Node toolchain), a stylesheet and one small script in
 * the jar, and ECharts from its WebJar for the chart. Read-only: every change goes through the API and the CLI,
 * where it is audited. Pages need a session: an operator token given once on the login page, kept in an
 * HttpOnly, SameSite=Strict cookie.
 */
public final class Dashboard {
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);
    private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

    private final Access access;
    private final Sites sites;
    private final Devices devices;
    private final Actions actions;
    private final AuditLog audit;
    private final ArtifactStore store;
    private final Optional<Keyring> keyring;
    private final Duration offlineAfter;
    private final boolean secureCookie;
    private final Clock clock;

    public Dashboard(Access access, Sites sites, Devices devices, Actions actions, AuditLog audit, ArtifactStore store, Optional<Keyring> keyring,
            Duration offlineAfter, boolean secureCookie, Clock clock) {
        this.access = requireNonNull(access, "access");
        this.sites = requireNonNull(sites, "sites");
        this.devices = requireNonNull(devices, "devices");
        this.actions = requireNonNull(actions, "actions");
        this.audit = requireNonNull(audit, "audit");
        this.store = requireNonNull(store, "store");
        this.keyring = requireNonNull(keyring, "keyring");
        this.offlineAfter = requireNonNull(offlineAfter, "offlineAfter");
        this.secureCookie = secureCookie;
        this.clock = requireNonNull(clock, "clock");
    }

    public void routes(RoutesConfig routes) {
        routes.get("/", ctx -> ctx.redirect("/ui/"));
        routes.get("/ui/login", ctx -> page(ctx, 200, "Sign in", null, loginForm(Optional.empty(), next(ctx.queryParam("next")))));
        routes.post("/ui/login", this::login);
        routes.post("/ui/logout", ctx -> {
            ctx.removeCookie(Access.SESSION_COOKIE, "/");
            ctx.redirect("/ui/login");
        });
        routes.get("/ui/", ctx -> withSession(ctx, "Fleet", operator -> overview()));
        routes.get("/ui/sites/{id}", ctx -> withSession(ctx, "Site " + ctx.pathParam("id"), operator -> site(new SiteId(ctx.pathParam("id")))));
        routes.get("/ui/devices/{id}", ctx -> withSession(ctx, "Device " + ctx.pathParam("id"),
                operator -> device(OperatorApi.deviceId(ctx.pathParam("id")))));
        routes.get("/ui/images", ctx -> withSession(ctx, "Images", operator -> images()));
        routes.get("/ui/audit", ctx -> withSession(ctx, "Audit log", operator -> auditLog()));
    }

    private void login(Context ctx) {
        String token = ctx.formParam("token");
        Optional<String> session = token == null || token.isBlank() || token.length() > 200 ? Optional.empty()
                : access.openSession(token.strip());
        if (session.isEmpty()) {
            page(ctx, 401, "Sign in", null, loginForm(Optional.of("That is not a valid operator token (unknown or revoked)."),
                    next(ctx.formParam("next"))));
            return;
        }
        Cookie cookie = new Cookie(Access.SESSION_COOKIE, session.get());
        cookie.setPath("/");
        cookie.setHttpOnly(true);
        cookie.setSecure(secureCookie);
        cookie.setSameSite(SameSite.STRICT);
        cookie.setMaxAge((int) OperatorTokens.SESSION_LIFETIME.toSeconds());
        ctx.cookie(cookie);
        ctx.redirect(next(ctx.formParam("next")).orElse("/ui/"));
    }

    void withSession(Context ctx, String title, Function<Caller.Operator, String> body) {
        Optional<Caller.Operator> operator = access.session(ctx);
        if (operator.isEmpty()) {
            // Back to this page after signing in (a link to a rollout, as ingot demo prints it); the overview needs no note.
            ctx.redirect(ctx.path().equals("/ui/") || next(ctx.path()).isEmpty() ? "/ui/login"
                    : "/ui/login?next=" + java.net.URLEncoder.encode(ctx.path(), java.nio.charset.StandardCharsets.UTF_8));
            return;
        }
        try {
            page(ctx, 200, title, operator.get(), body.apply(operator.get()));
        } catch (IngotException e) {
            page(ctx, e.code().httpStatus(), title, operator.get(), "<p class=\"error\">" + Html.escape(e.oneLine()) + "</p>");
        }
    }

    private void page(Context ctx, int status, String title, Caller.Operator operator, String body) {
        ctx.header("Content-Security-Policy", CSP);
        ctx.header("Cache-Control", "no-store");
        StringBuilder html = new StringBuilder(8192);
        html.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .append("<title>").append(Html.escape(title)).append(" · Ingot</title>")
                .append("<link rel=\"stylesheet\" href=\"/static/dashboard.css\">")
                .append("</head><body><header><a class=\"brand\" href=\"/ui/\">Ingot</a>");
        if (operator != null) {
            html.append("<nav><a href=\"/ui/\">Fleet</a><a href=\"/ui/rollouts\">Rollouts</a><a href=\"/ui/images\">Images</a><a href=\"/ui/audit\">Audit</a></nav>")
                    .append("<form method=\"post\" action=\"/ui/logout\" class=\"who\"><span>").append(Html.escape(operator.tokenName()))
                    .append(" · ").append(operator.role().json()).append("</span><button type=\"submit\">Sign out</button></form>");
        }
        html.append("</header><main><h1>").append(Html.escape(title)).append("</h1>").append(body).append("</main>")
                .append("<script src=\"/webjars/echarts/5.3.1/dist/echarts.min.js\"></script>")
                .append("<script src=\"/static/dashboard.js\"></script></body></html>\n");
        ctx.status(status).contentType("text/html; charset=utf-8").result(html.toString());
    }

    /** A dashboard page to go back to after signing in: a path under /ui/ only, so the login never sends a browser elsewhere. */
    private static Optional<String> next(String path) {
        return Optional.ofNullable(path).filter(text -> NEXT.matcher(text).matches() && !text.contains("..") && !text.contains("//"));
    }

    private static final java.util.regex.Pattern NEXT = java.util.regex.Pattern.compile("/ui/[A-Za-z0-9/._-]{1,200}");

    private static String loginForm(Optional<String> error, Optional<String> next) {
        return error.map(text -> "<p class=\"error\">" + Html.escape(text) + "</p>").orElse("")
                + "<form method=\"post\" action=\"/ui/login\" class=\"login\"><label for=\"token\">Operator token</label>"
                + next.map(path -> "<input type=\"hidden\" name=\"next\" value=\"" + Html.escape(path) + "\">").orElse("")
                + "<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required placeholder=\"ingot_op_…\">"
                + "<button type=\"submit\">Sign in</button></form>"
                + "<p class=\"muted\">A viewer token is enough to look. Ask an admin for one: <code>ingot token create --name NAME --role viewer</code>.</p>";
    }

    /** Where a device stands, as the dashboard groups them: its reported status, or offline, or never reported. */
    String condition(Device device, Instant now) {
        if (device.lastSeen().isEmpty()) {
            return "unknown";
        }
        if (device.lastSeen().get().isBefore(now.minus(offlineAfter))) {
            return "offline";
        }
        return device.reported().status().map(HealthStatus::json).orElse("unknown");
    }

    private static final List<String> CONDITIONS = List.of("healthy", "degraded", "unhealthy", "offline", "unknown");

    private String overview() {
        Instant now = clock.instant();
        List<Device> all = devices.list(DeviceFilter.all(), OperatorApi.MAX_LIST);
        List<Site> siteList = sites.list(Optional.empty());
        Map<String, Long> byCondition = all.stream().collect(Collectors.groupingBy(device -> condition(device, now), Collectors.counting()));
        StringBuilder html = new StringBuilder();
        html.append("<section class=\"cards\">");
        card(html, "devices", all.size(), "total");
        for (String condition : CONDITIONS) {
            card(html, condition, byCondition.getOrDefault(condition, 0L), condition);
        }
        card(html, "sites", siteList.size(), "total");
        html.append("</section>");

        html.append("<section><h2>Image versions</h2><div id=\"versions-chart\" class=\"chart\" role=\"img\" aria-label=\"Devices by image version and health\" data-chart=\"")
                .append(Html.escape(json(versionChart(all, now, device -> device.reported().imageVersion().orElse("none"))))).append("\"></div></section>");

        // Sites needing attention: any device not healthy (unhealthy first), or no device yet.
        Map<SiteId, List<Device>> bySite = all.stream().collect(Collectors.groupingBy(Device::site));
        record SiteRow(Site site, String worst, int rank, int devices, Optional<Instant> lastSeen) {}
        List<SiteRow> rows = new ArrayList<>();
        for (Site site : siteList) {
            List<Device> siteDevices = bySite.getOrDefault(site.id(), List.of());
            String worst = siteDevices.isEmpty() ? "no device" : siteDevices.stream().map(device -> condition(device, now))
                    .max(Comparator.comparingInt(Dashboard::severity)).orElseThrow();
            Optional<Instant> lastSeen = siteDevices.stream().flatMap(device -> device.lastSeen().stream()).max(Comparator.naturalOrder());
            rows.add(new SiteRow(site, worst, worst.equals("no device") ? 1 : severity(worst), siteDevices.size(), lastSeen));
        }
        List<SiteRow> attention = rows.stream().filter(row -> row.rank() > 0)
                .sorted(Comparator.comparingInt(SiteRow::rank).reversed().thenComparing(row -> row.site().id().value())).toList();
        html.append("<section><h2>Sites needing attention <span class=\"count\">").append(attention.size()).append("</span></h2>");
        if (attention.isEmpty()) {
            html.append("<p class=\"muted\">Every site reports healthy.</p>");
        } else {
            html.append("<div class=\"scroll\"><table id=\"attention\"><thead><tr><th>Site</th><th>Condition</th><th>Devices</th><th>Last seen</th></tr></thead><tbody>");
            for (SiteRow row : attention.stream().limit(200).toList()) {
                html.append("<tr><td><a href=\"/ui/sites/").append(Html.escape(row.site().id())).append("\">").append(Html.escape(row.site().id()))
                        .append("</a> <span class=\"muted\">").append(Html.escape(row.site().name().equals(row.site().id().value()) ? "" : row.site().name()))
                        .append("</span></td><td>").append(badge(row.worst())).append("</td><td>").append(row.devices()).append("</td><td>")
                        .append(ago(row.lastSeen(), now)).append("</td></tr>");
            }
            html.append("</tbody></table></div>");
        }
        html.append("</section>");

        html.append("<section><h2>All sites</h2><div class=\"scroll\"><table id=\"sites\"><thead><tr><th>Site</th><th>Condition</th><th>Image</th>")
                .append("<th>Last seen</th></tr></thead><tbody>");
        for (SiteRow row : rows.stream().limit(1000).toList()) {
            String versions = bySite.getOrDefault(row.site().id(), List.of()).stream().map(device -> device.reported().imageVersion().orElse("—"))
                    .distinct().sorted().collect(Collectors.joining(", "));
            html.append("<tr><td><a href=\"/ui/sites/").append(Html.escape(row.site().id())).append("\">").append(Html.escape(row.site().id()))
                    .append("</a>").append(row.site().canary() ? " <span class=\"tag\">canary</span>" : "").append("</td><td>")
                    .append(badge(row.worst())).append("</td><td>").append(Html.escape(versions.isEmpty() ? "—" : versions)).append("</td><td>")
                    .append(ago(row.lastSeen(), now)).append("</td></tr>");
        }
        html.append("</tbody></table></div></section>");
        return html.toString();
    }

    /** The chart's data: devices per version (as {@code version} reads it from a device), newest first, stacked by condition. */
    Map<String, Object> versionChart(List<Device> all, Instant now, Function<Device, String> version) {
        Map<String, Map<String, Long>> byVersion = new TreeMap<>(Comparator.reverseOrder());
        for (Device device : all) {
            byVersion.computeIfAbsent(version.apply(device), key -> new LinkedHashMap<>()).merge(condition(device, now), 1L, Long::sum);
        }
        Map<String, Object> chart = new LinkedHashMap<>();
        chart.put("versions", List.copyOf(byVersion.keySet()));
        List<Map<String, Object>> series = new ArrayList<>();
        for (String condition : CONDITIONS) {
            series.add(Map.of("name", condition, "data", byVersion.values().stream().map(counts -> counts.getOrDefault(condition, 0L)).toList()));
        }
        chart.put("series", series);
        return chart;
    }

    private String site(SiteId id) {
        Instant now = clock.instant();
        Site site = sites.get(id);
        List<Device> list = devices.list(new DeviceFilter(Optional.empty(), Optional.of(id), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty()), OperatorApi.MAX_LIST);
        StringBuilder html = new StringBuilder();
        html.append("<dl class=\"facts\">");
        fact(html, "Name", Html.escape(site.name()));
        fact(html, "Canary", site.canary() ? "yes" : "no");
        fact(html, "Tags", site.tags().isEmpty() ? "—" : site.tags().stream().map(tag -> "<span class=\"tag\">" + Html.escape(tag) + "</span>")
                .collect(Collectors.joining(" ")));
        fact(html, "Added", TIME.format(site.createdAt()));
        html.append("</dl><h2>Devices</h2>");
        if (list.isEmpty()) {
            html.append("<p class=\"muted\">No device has enrolled yet. Make a token with <code>ingot site enroll ").append(Html.escape(id))
                    .append("</code> and provision the device with it.</p>");
            return html.toString();
        }
        html.append("<div class=\"scroll\"><table id=\"devices\"><thead><tr><th>Device</th><th>Condition</th><th>Image</th><th>Container</th>")
                .append("<th>Desired</th><th>Last seen</th></tr></thead><tbody>");
        for (Device device : list) {
            html.append("<tr><td><a href=\"/ui/devices/").append(device.id()).append("\"><code>").append(device.id().value(), 0, 12)
                    .append("…</code></a></td><td>").append(badge(condition(device, now))).append("</td><td>")
                    .append(Html.escape(device.reported().imageVersion().orElse("—"))).append("</td><td>")
                    .append(Html.escape(device.reported().containerTag().orElse("—"))).append("</td><td>").append(Html.escape(desired(device)))
                    .append("</td><td>").append(ago(device.lastSeen(), now)).append("</td></tr>");
        }
        html.append("</tbody></table></div>");
        return html.toString();
    }

    private String device(DeviceId id) {
        Instant now = clock.instant();
        Device device = devices.get(id);
        StringBuilder html = new StringBuilder();
        html.append("<p>").append(badge(condition(device, now))).append(" at <a href=\"/ui/sites/").append(Html.escape(device.site()))
                .append("\">").append(Html.escape(device.site())).append("</a></p><dl class=\"facts\">");
        Device.Reported reported = device.reported();
        fact(html, "Device id", "<code>" + device.id() + "</code>");
        fact(html, "Image", Html.escape(reported.imageVersion().orElse("—")) + desiredNote(device.desired().image().map(Object::toString), reported.imageVersion()));
        fact(html, "Container tag", Html.escape(reported.containerTag().orElse("—")) + desiredNote(device.desired().containerTag(), reported.containerTag()));
        fact(html, "Slot", Html.escape(reported.slotBooted().orElse("—")));
        fact(html, "Reboot required", reported.rebootRequired().map(value -> value ? "yes" : "no").orElse("—"));
        fact(html, "Security updates", reported.securityUpdates().isPresent() ? String.valueOf(reported.securityUpdates().getAsLong()) : "—");
        fact(html, "Last seen", ago(device.lastSeen(), now));
        fact(html, "Report checked", reported.checkedAt().map(TIME::format).orElse("—"));
        fact(html, "Desired generation", device.desired().generation() + " <span class=\"muted\">by " + Html.escape(device.desiredUpdatedBy()) + "</span>");
        fact(html, "Known-good", device.desired().knownGood().isEmpty() ? "—"
                : Html.escape(device.desired().knownGood().stream().map(Object::toString).collect(Collectors.joining(", "))));
        fact(html, "Enrolled", TIME.format(device.enrolledAt()));
        device.revokedAt().ifPresent(at -> fact(html, "Credential", "revoked " + TIME.format(at)));
        device.removedAt().ifPresent(at -> fact(html, "Removed", TIME.format(at) + " <span class=\"muted\">(not in the fleet's lists and counts)</span>"));
        html.append("</dl>");

        List<Action> list = actions.all(id, 20);
        html.append("<h2>Actions</h2>");
        if (list.isEmpty()) {
            html.append("<p class=\"muted\">Nothing asked of this device yet.</p>");
        } else {
            html.append("<div class=\"scroll\"><table id=\"actions\"><thead><tr><th>Track</th><th>Target</th><th>State</th><th>Reason</th><th>Updated</th></tr></thead><tbody>");
            for (Action action : list) {
                html.append("<tr><td>").append(action.track().json()).append("</td><td>").append(Html.escape(action.target())).append("</td><td>")
                        .append(badge(action.state().json())).append("</td><td>").append(Html.escape(action.reason().orElse(""))).append("</td><td>")
                        .append(TIME.format(action.updatedAt())).append("</td></tr>");
            }
            html.append("</tbody></table></div>");
        }

        Optional<Devices.StoredReport> latest = devices.latestReport(id);
        html.append("<h2>Latest report</h2>");
        if (latest.isEmpty()) {
            html.append("<p class=\"muted\">No report yet.</p>");
            return html.toString();
        }
        JsonNode report = tree(latest.get().report());
        html.append("<p class=\"muted\">Received ").append(TIME.format(latest.get().receivedAt())).append("</p>");
        html.append("<div class=\"scroll\"><table id=\"checks\"><thead><tr><th>Check</th><th>Status</th><th>Finding</th></tr></thead><tbody>");
        // Failures first, then warnings: the reason a device is not healthy is the first thing on the page.
        List<JsonNode> checks = new ArrayList<>();
        report.path("checks").forEach(checks::add);
        checks.sort(Comparator.comparingInt(check -> switch (check.path("status").asText()) {
            case "fail" -> 0;
            case "warn" -> 1;
            case "ok" -> 2;
            default -> 3;
        }));
        for (JsonNode check : checks) {
            html.append("<tr><td>").append(Html.escape(check.path("name").asText())).append(check.path("critical").asBoolean() ? " <span class=\"tag\">critical</span>" : "")
                    .append("</td><td>").append(badge(check.path("status").asText())).append("</td><td>").append(Html.escape(check.path("reason").asText()))
                    .append("</td></tr>");
        }
        html.append("</tbody></table></div>");
        html.append("<details><summary>The whole report (JSON)</summary><pre>").append(Html.escape(pretty(report))).append("</pre></details>");
        return html.toString();
    }

    private String images() {
        List<Catalog.Entry> entries = Catalog.list(store, keyring, Optional.of(ImageName.DEFAULT));
        StringBuilder html = new StringBuilder();
        html.append("<p class=\"muted\">").append(Html.escape(store.describe())).append(keyring.isPresent() ? " · signatures checked against the server's keyring"
                : " · no keyring given to the server: signatures not checked").append("</p>");
        if (entries.isEmpty()) {
            html.append("<p class=\"muted\">Nothing is published yet: <code>ingot image publish</code>.</p>");
            return html.toString();
        }
        html.append("<div class=\"scroll\"><table id=\"images\"><thead><tr><th>Version</th><th>Built</th><th>Image</th><th>Signature</th><th>Known-good</th></tr></thead><tbody>");
        for (Catalog.Entry entry : entries) {
            html.append("<tr><td>").append(Html.escape(entry.manifest().version())).append("</td><td>").append(TIME.format(entry.manifest().buildDate()))
                    .append("</td><td>").append(mib(entry.manifest().image().size())).append("</td><td>")
                    .append(badge(entry.signature().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')))
                    .append(entry.problem().map(problem -> " <span class=\"muted\">" + Html.escape(problem) + "</span>").orElse(""))
                    .append("</td><td>").append(entry.knownGood() ? badge("known-good") : "").append("</td></tr>");
        }
        html.append("</tbody></table></div>");
        return html.toString();
    }

    private String auditLog() {
        List<AuditLog.Entry> entries = audit.recent(200, Optional.empty());
        StringBuilder html = new StringBuilder("<div class=\"scroll\"><table id=\"audit\"><thead><tr><th>When</th><th>Who</th><th>What</th><th>Subject</th>"
                + "<th>Before → after</th></tr></thead><tbody>");
        for (AuditLog.Entry entry : entries) {
            html.append("<tr><td>").append(TIME.format(entry.at())).append("</td><td>").append(Html.escape(entry.actor())).append("</td><td>")
                    .append(Html.escape(entry.action())).append("</td><td>").append(Html.escape(entry.subject())).append("</td><td><code>")
                    .append(Html.escape(entry.before().map(Dashboard::json).orElse("—"))).append("</code> → <code>")
                    .append(Html.escape(entry.after().map(Dashboard::json).orElse("—"))).append("</code></td></tr>");
        }
        return html.append("</tbody></table></div>").toString();
    }

    private static int severity(String condition) {
        return switch (condition) {
            case "unhealthy" -> 4;
            case "offline" -> 3;
            case "degraded" -> 2;
            case "unknown" -> 1;
            default -> 0;
        };
    }

    private static void card(StringBuilder html, String label, long value, String kind) {
        html.append("<div class=\"card ").append(kind).append("\" data-kind=\"").append(label).append("\"><span class=\"value\">").append(value)
                .append("</span><span class=\"label\">").append(label).append("</span></div>");
    }

    private static void fact(StringBuilder html, String name, String valueHtml) {
        html.append("<dt>").append(name).append("</dt><dd>").append(valueHtml).append("</dd>");
    }

    static String badge(String text) {
        return "<span class=\"badge " + Html.escape(text.replace(' ', '-')) + "\">" + Html.escape(text) + "</span>";
    }

    private static String desired(Device device) {
        List<String> parts = new ArrayList<>();
        device.desired().image().ifPresent(version -> parts.add(version.toString()));
        device.desired().containerTag().ifPresent(tag -> parts.add("tag " + tag));
        return parts.isEmpty() ? "—" : String.join(" · ", parts);
    }

    private static String desiredNote(Optional<String> desired, Optional<String> reported) {
        if (desired.isEmpty()) {
            return "";
        }
        return desired.equals(reported) ? " <span class=\"muted\">(as desired)</span>"
                : " <span class=\"wanted\">→ " + Html.escape(desired.get()) + " desired</span>";
    }

    static String ago(Optional<Instant> when, Instant now) {
        if (when.isEmpty()) {
            return "<span class=\"muted\">never</span>";
        }
        Duration age = Duration.between(when.get(), now);
        String text = age.toSeconds() < 60 ? Math.max(0, age.toSeconds()) + " s ago" : age.toMinutes() < 60 ? age.toMinutes() + " min ago"
                : age.toHours() < 48 ? age.toHours() + " h ago" : age.toDays() + " days ago";
        return "<time datetime=\"" + when.get() + "\" title=\"" + TIME.format(when.get()) + "\">" + text + "</time>";
    }

    private static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    }

    static String json(Object value) {
        try {
            return ApiJson.MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pretty(JsonNode node) {
        try {
            return ApiJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode tree(String text) {
        try {
            return ApiJson.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored reports are JSON the server wrote", e);
        }
    }
}
