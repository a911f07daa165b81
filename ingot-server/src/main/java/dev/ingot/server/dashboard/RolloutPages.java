package dev.ingot.server.dashboard;

import static java.util.Objects.requireNonNull;

import dev.ingot.fleet.Track;
import dev.ingot.rollout.GateResult;
import dev.ingot.rollout.Rollout;
import dev.ingot.rollout.RolloutDefinition;
import dev.ingot.rollout.RolloutId;
import dev.ingot.rollout.RolloutView;
import dev.ingot.rollout.SiteFilter;
import dev.ingot.rollout.TimelineEntry;
import dev.ingot.server.auth.Access;
import dev.ingot.server.fleet.Device;
import dev.ingot.server.fleet.DeviceFilter;
import dev.ingot.server.fleet.Devices;
import dev.ingot.server.operator.OperatorApi;
import dev.ingot.server.rollout.RolloutStore;
import dev.ingot.server.rollout.Rollouts;
import dev.ingot.error.IngotException;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The dashboard's rollouts: a list, and one rollout as {@code ingot rollout status} shows it — its stages with their
 * counts drawn as bars, gate results, failures and timeline — beside the fleet's versions on its track, charted. The
 * rollout's part of the page is re-read every few seconds (a fragment fetched by dashboard.js, so no inline script
 * is needed under the page's CSP) until the rollout is final.
 */
public final class RolloutPages {
    /** How often an open rollout page refreshes itself. */
    private static final int REFRESH_MILLIS = 2000;

    private final Dashboard dashboard;
    private final Access access;
    private final Rollouts rollouts;
    private final Devices devices;
    private final Clock clock;

    public RolloutPages(Dashboard dashboard, Access access, Rollouts rollouts, Devices devices, Clock clock) {
        this.dashboard = requireNonNull(dashboard, "dashboard");
        this.access = requireNonNull(access, "access");
        this.rollouts = requireNonNull(rollouts, "rollouts");
        this.devices = requireNonNull(devices, "devices");
        this.clock = requireNonNull(clock, "clock");
    }

    public void routes(RoutesConfig routes) {
        routes.get("/ui/rollouts", ctx -> dashboard.withSession(ctx, "Rollouts", operator -> list()));
        routes.get("/ui/rollouts/{id}", ctx -> {
            RolloutId id = new RolloutId(ctx.pathParam("id"));
            dashboard.withSession(ctx, "Rollout " + id, operator -> "<div id=\"rollout\" class=\"live\" data-live=\"/ui/rollouts/" + id
                    + "/live\" data-every=\"" + REFRESH_MILLIS + "\">" + liveOrWaiting(id) + "</div>");
        });
        routes.get("/ui/rollouts/{id}/live", this::fragment);
    }

    /** The live part alone, for the page's script; a signed-out browser gets 401 and the script stops. */
    private void fragment(Context ctx) {
        ctx.header("Cache-Control", "no-store");
        ctx.header("Content-Security-Policy", "default-src 'none'");
        if (access.session(ctx).isEmpty()) {
            ctx.status(401).contentType("text/plain; charset=utf-8").result("signed out");
            return;
        }
        String html;
        try {
            html = liveOrWaiting(new RolloutId(ctx.pathParam("id")));
        } catch (IngotException e) {
            ctx.status(e.code().httpStatus()).contentType("text/html; charset=utf-8").result("<p class=\"error\">" + Html.escape(e.oneLine()) + "</p>");
            return;
        }
        ctx.status(200).contentType("text/html; charset=utf-8").result(html);
    }

    private String list() {
        List<RolloutStore.Summary> list = rollouts.list(false, 200);
        StringBuilder html = new StringBuilder();
        if (list.isEmpty()) {
            return "<p class=\"muted\">No rollout yet. Start one with <code>ingot rollout start v1.5 --track reimage --dry-run</code>, "
                    + "then without <code>--dry-run</code>.</p>";
        }
        html.append("<div class=\"scroll\"><table id=\"rollouts\"><thead><tr><th>Rollout</th><th>Target</th><th>State</th><th>Stage</th>")
                .append("<th>Devices</th><th>Started</th><th>By</th></tr></thead><tbody>");
        Instant now = clock.instant();
        for (RolloutStore.Summary summary : list) {
            html.append("<tr><td><a href=\"/ui/rollouts/").append(summary.id()).append("\"><code>").append(summary.id()).append("</code></a></td><td>")
                    .append(Html.escape(summary.target())).append(" <span class=\"muted\">").append(summary.track()).append("</span></td><td>")
                    .append(Dashboard.badge(summary.state())).append("</td><td>")
                    .append(summary.currentStage().map(stage -> stage + " of " + summary.stages()).orElse("—")).append("</td><td>")
                    .append(summary.devices()).append("</td><td>").append(Dashboard.ago(Optional.of(summary.createdAt()), now)).append("</td><td>")
                    .append(Html.escape(summary.createdBy())).append("</td></tr>");
        }
        return html.append("</tbody></table></div>").toString();
    }

    /** The rollout, or, until one of that id exists (ingot demo prints its link before it starts it), a note that the page waits for it. */
    private String liveOrWaiting(RolloutId id) {
        if (rollouts.store().find(id).isEmpty()) {
            return "<div class=\"rollout-head\" data-final=\"false\"><p class=\"muted\">No rollout " + id + " yet: this page shows it as soon as "
                    + "it starts. <a href=\"/ui/rollouts\">All rollouts</a></p></div>";
        }
        return live(id);
    }

    private String live(RolloutId id) {
        Rollout rollout = rollouts.store().get(id);
        RolloutView view = RolloutView.of(rollout);
        RolloutDefinition definition = rollout.definition();
        Instant now = clock.instant();
        StringBuilder html = new StringBuilder();
        html.append("<div class=\"rollout-head\" data-state=\"").append(view.state()).append("\" data-final=\"").append(!rollout.active()).append("\">")
                .append(Dashboard.badge(view.state())).append(" <span id=\"summary\">").append(Html.escape(view.summary())).append("</span></div>");
        html.append("<dl class=\"facts\">");
        fact(html, "Target", Html.escape(view.target()) + " <span class=\"muted\">(" + view.track() + " track)</span>");
        fact(html, "Stages", Html.escape(definition.stages().text()) + " · soak " + Html.escape(dev.ingot.rollout.DurationText.format(definition.soak())));
        fact(html, "Gates", Html.escape(definition.gates().stream().map(gate -> gate.text()).collect(Collectors.joining(", "))) + " · max failures "
                + Html.escape(definition.maxFailures().describe()) + " · on failure " + definition.failurePolicy().json());
        fact(html, "Sites", definition.sites().text().equals(SiteFilter.ALL.text()) ? "every site" : "<code>" + Html.escape(definition.sites().text()) + "</code>");
        fact(html, "Started", Html.escape(definition.createdBy()) + ", " + Dashboard.ago(Optional.of(definition.createdAt()), now));
        if (!view.excluded().isEmpty()) {
            fact(html, "Left out", Html.escape(view.excluded().entrySet().stream().map(entry -> entry.getValue() + " " + entry.getKey().replace('_', ' '))
                    .collect(Collectors.joining(", "))));
        }
        html.append("</dl>");

        html.append("<h2>Stages</h2><div class=\"scroll\"><table id=\"stages\"><thead><tr><th>Stage</th><th>Size</th><th>Devices</th><th>State</th>")
                .append("<th class=\"progress-cell\">Progress</th><th>Gates</th><th>Soak</th></tr></thead><tbody>");
        for (RolloutView.StageView stage : view.stages()) {
            RolloutView.Counts counts = stage.counts();
            // data-label: a phone shows each stage as a card, its cells stacked and named (dashboard.css).
            html.append("<tr data-stage=\"").append(stage.number()).append("\"><td data-label=\"Stage\">").append(stage.number())
                    .append("</td><td data-label=\"Size\">").append(Html.escape(stage.size())).append("</td><td>").append(stage.devices()).append(" <span class=\"muted\">at ")
                    .append(stage.sites().size()).append(stage.sites().size() == 1 ? " site" : " sites").append("</span></td><td>")
                    .append(Dashboard.badge(stage.state())).append("</td><td class=\"progress-cell\">").append(bar(stage))
                    .append("<div class=\"counts\">").append(counts.succeeded()).append(" succeeded · ").append(counts.failed()).append(" failed · ")
                    .append(counts.inProgress()).append(" in progress").append(counts.reverted() + counts.notReverted() > 0
                            ? " · " + counts.reverted() + " reverted" : "").append("</div></td><td data-label=\"Gates\">");
            for (GateResult gate : stage.gates()) {
                html.append("<div class=\"gate\">").append(Dashboard.badge(gate.verdict().json())).append(" <code>").append(Html.escape(gate.gate()))
                        .append("</code> <span class=\"muted\">").append(Html.escape(gate.reason())).append("</span></div>");
            }
            html.append("</td><td data-label=\"Soak\">").append(soak(stage, now)).append("</td></tr>");
            for (String failure : stage.failures()) {
                html.append("<tr class=\"failure\"><td></td><td colspan=\"6\">").append(Dashboard.badge("failed")).append(" ")
                        .append(Html.escape(failure)).append("</td></tr>");
            }
        }
        html.append("</tbody></table></div>");

        Track track = definition.track();
        List<Device> all = devices.list(DeviceFilter.all(), OperatorApi.MAX_LIST);
        String what = track == Track.CONTAINER ? "video-ingest tags" : "image versions";
        html.append("<h2>The fleet's ").append(what).append("</h2><div id=\"fleet-chart\" class=\"chart\" role=\"img\" aria-label=\"Devices by ")
                .append(what).append(" and health\" data-chart=\"").append(Html.escape(Dashboard.json(dashboard.versionChart(all, now,
                        device -> (track == Track.CONTAINER ? device.reported().containerTag() : device.reported().imageVersion()).orElse("none")))))
                .append("\"></div>");

        html.append("<h2>Timeline</h2><div class=\"scroll\"><table id=\"timeline\"><thead><tr><th>When</th><th>Who</th><th>Event</th><th>Detail</th>")
                .append("</tr></thead><tbody>");
        List<TimelineEntry> timeline = view.timeline();
        for (int index = timeline.size() - 1; index >= 0 && index >= timeline.size() - 100; index--) {
            TimelineEntry entry = timeline.get(index);
            html.append("<tr><td><time datetime=\"").append(entry.at()).append("\">").append(Dashboard.TIME.format(entry.at())).append("</time></td><td>")
                    .append(Html.escape(entry.actor())).append("</td><td>").append(Html.escape(entry.event())).append("</td><td>")
                    .append(Html.escape(entry.detail())).append("</td></tr>");
        }
        html.append("</tbody></table></div>");
        return html.toString();
    }

    /**
     * A stage's devices as one bar: succeeded, failed, in progress and not started, left to right. SVG rectangles sized
     * by attributes, since the page's CSP allows no inline style.
     */
    private static String bar(RolloutView.StageView stage) {
        RolloutView.Counts counts = stage.counts();
        double total = Math.max(1, stage.devices());
        StringBuilder svg = new StringBuilder("<svg class=\"bar\" viewBox=\"0 0 100 8\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"")
                .append(counts.succeeded()).append(" of ").append(stage.devices()).append(" succeeded\">");
        double x = 0;
        int[] parts = {counts.succeeded(), counts.failed(), counts.inProgress(), counts.notStarted()};
        String[] classes = {"succeeded", "failed", "in-progress", "not-started"};
        for (int index = 0; index < parts.length; index++) {
            double width = 100 * parts[index] / total;
            if (width > 0) {
                svg.append(String.format(java.util.Locale.ROOT, "<rect class=\"%s\" x=\"%.2f\" y=\"0\" width=\"%.2f\" height=\"8\"/>", classes[index], x, width));
                x += width;
            }
        }
        return svg.append("</svg>").toString();
    }

    /** Where the stage's soak stands: not begun, its time left, over (the gates still deciding), or when the stage ended. */
    private static String soak(RolloutView.StageView stage, Instant now) {
        if (stage.endedAt().isPresent()) {
            return "ended " + Dashboard.ago(stage.endedAt(), now);
        }
        if (stage.soakEndsAt().isEmpty()) {
            return "<span class=\"muted\">not begun</span>";
        }
        java.time.Duration left = java.time.Duration.between(now, stage.soakEndsAt().get());
        return left.isNegative() || left.isZero() ? "over; the gates decide" : Html.escape(dev.ingot.rollout.DurationText.format(left)) + " left";
    }

    private static void fact(StringBuilder html, String name, String valueHtml) {
        html.append("<dt>").append(name).append("</dt><dd>").append(valueHtml).append("</dd>");
    }
}
