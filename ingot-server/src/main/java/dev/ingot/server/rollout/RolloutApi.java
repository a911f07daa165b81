package dev.ingot.server.rollout;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.rollout.OperatorCommand;
import dev.ingot.rollout.RolloutId;
import dev.ingot.server.auth.Access;
import dev.ingot.server.auth.Caller;
import dev.ingot.server.auth.Role;
import dev.ingot.server.http.ApiJson;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator API's rollouts (docs/api.md): a viewer lists and reads them, an operator starts them (or plans them
 * with {@code dry_run}) and pauses, resumes, aborts and rolls them back. Every write is in the audit log.
 */
public final class RolloutApi {
    private static final Logger LOG = LoggerFactory.getLogger(RolloutApi.class);
    private static final int MAX_BODY = 64 * 1024;
    private static final int MAX_LIST = 1000;

    /** The body of pause, resume, abort and rollback: optional, with an optional note for the timeline. */
    public record CommandRequest(String note) {}

    private final Access access;
    private final Rollouts rollouts;

    public RolloutApi(Access access, Rollouts rollouts) {
        this.access = requireNonNull(access, "access");
        this.rollouts = requireNonNull(rollouts, "rollouts");
    }

    public void routes(RoutesConfig routes) {
        routes.get("/api/v1/rollouts", this::list);
        routes.post("/api/v1/rollouts", this::start);
        routes.get("/api/v1/rollouts/{id}", this::show);
        routes.post("/api/v1/rollouts/{id}/pause", ctx -> command(ctx, OperatorCommand.Kind.PAUSE));
        routes.post("/api/v1/rollouts/{id}/resume", ctx -> command(ctx, OperatorCommand.Kind.RESUME));
        routes.post("/api/v1/rollouts/{id}/abort", ctx -> command(ctx, OperatorCommand.Kind.ABORT));
        routes.post("/api/v1/rollouts/{id}/rollback", ctx -> command(ctx, OperatorCommand.Kind.ROLLBACK));
    }

    private void list(Context ctx) {
        access.require(ctx, Role.VIEWER);
        String state = Optional.ofNullable(ctx.queryParam("state")).orElse("all");
        if (!state.equals("all") && !state.equals("active")) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "list the rollouts", "state is 'active' or 'all', not '" + state + "'");
        }
        int limit = limit(ctx.queryParam("limit"));
        ArrayNode list = ApiJson.MAPPER.createArrayNode();
        for (RolloutStore.Summary summary : rollouts.list(state.equals("active"), limit)) {
            ObjectNode node = list.addObject();
            node.put("id", summary.id().value());
            node.put("track", summary.track());
            node.put("target", summary.target());
            node.put("state", summary.state());
            node.put("active", summary.active());
            node.put("summary", summary.summary());
            if (summary.currentStage().isPresent()) {
                node.put("current_stage", summary.currentStage().get());
            } else {
                node.putNull("current_stage");
            }
            node.put("stages", summary.stages());
            node.put("devices", summary.devices());
            node.put("created_at", summary.createdAt().toString());
            node.put("created_by", summary.createdBy());
            node.put("updated_at", summary.updatedAt().toString());
            node.put("revision", summary.revision());
        }
        ApiJson.write(ctx, 200, list);
    }

    private void start(Context ctx) {
        Caller.Operator operator = access.require(ctx, Role.OPERATOR);
        Rollouts.StartRequest request = ApiJson.read(ctx, Rollouts.StartRequest.class, MAX_BODY, "start a rollout");
        ObjectNode document = rollouts.start(request, operator);
        boolean dryRun = Boolean.TRUE.equals(request.dryRun());
        if (!dryRun) {
            LOG.atInfo().addKeyValue("actor", operator.name()).addKeyValue("rollout", document.path("id").asText())
                    .addKeyValue("target", document.path("target").asText()).log("rollout started");
        }
        ApiJson.write(ctx, dryRun ? 200 : 201, document);
    }

    private void show(Context ctx) {
        access.require(ctx, Role.VIEWER);
        ApiJson.write(ctx, 200, rollouts.document(id(ctx)));
    }

    private void command(Context ctx, OperatorCommand.Kind kind) {
        Caller.Operator operator = access.require(ctx, Role.OPERATOR);
        RolloutId id = id(ctx);
        String attempt = kind.json() + " the rollout " + id;
        Optional<String> note = Optional.empty();
        if (ctx.req().getContentLengthLong() > 0) {
            note = Optional.ofNullable(ApiJson.read(ctx, CommandRequest.class, MAX_BODY, attempt).note()).map(String::strip)
                    .filter(text -> !text.isEmpty());
        }
        ObjectNode document = rollouts.command(id, kind, operator, note);
        LOG.atInfo().addKeyValue("actor", operator.name()).addKeyValue("rollout", id).addKeyValue("command", kind.json())
                .addKeyValue("queued", document.path("queued").asBoolean()).log("rollout command");
        ApiJson.write(ctx, document.path("queued").asBoolean() ? 202 : 200, document);
    }

    private static RolloutId id(Context ctx) {
        return new RolloutId(ctx.pathParam("id"));
    }

    private static int limit(String text) {
        if (text == null) {
            return 100;
        }
        try {
            int value = Integer.parseInt(text);
            if (value < 1 || value > MAX_LIST) {
                throw new NumberFormatException();
            }
            return value;
        } catch (NumberFormatException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read limit '" + text + "'", "it is not a number from 1 to " + MAX_LIST);
        }
    }
}
