package dev.ingot.server.audit;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ingot.server.auth.Caller;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Who did what, when, before and after: one row per operator write, written in the same transaction as the
 * write itself, so that there is never a change without its entry or an entry without its change.
 */
public final class AuditLog {
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    public record Entry(String id, Instant at, String actor, String action, String subject, Optional<JsonNode> before,
            Optional<JsonNode> after) {}

    /** Orders entries of one process written in the same millisecond; across replicas such ties have no order. */
    private final AtomicLong sequence = new AtomicLong();
    private final Jdbi jdbi;
    private final Clock clock;

    public AuditLog(Jdbi jdbi, Clock clock) {
        this.jdbi = requireNonNull(jdbi, "jdbi");
        this.clock = requireNonNull(clock, "clock");
    }

    /** Records one write inside the caller's transaction; {@code before} and {@code after} become JSON (null: none). */
    public void record(Handle handle, Caller actor, String action, String subject, Object before, Object after) {
        record(handle, actor.name(), action, subject, before, after);
    }

    /** As above, for a writer that is no credential: the rollout engine ({@code engine}) or a rollout ({@code rollout:ID}). */
    public void record(Handle handle, String actor, String action, String subject, Object before, Object after) {
        long at = clock.millis();
        handle.createUpdate("INSERT INTO audit_log (id, at, actor, action, subject, before_json, after_json) "
                        + "VALUES (:id, :at, :actor, :action, :subject, :before, :after)")
                .bind("id", String.format(Locale.ROOT, "%012x-%012x-%08x", at, sequence.incrementAndGet(), RANDOM.nextInt()))
                .bind("at", at)
                .bind("actor", actor)
                .bind("action", action)
                .bind("subject", subject)
                .bind("before", json(before))
                .bind("after", json(after))
                .execute();
    }

    /** The newest entries first, optionally only those about one subject. */
    public List<Entry> recent(int limit, Optional<String> subject) {
        String where = subject.isPresent() ? " WHERE subject = :subject" : "";
        return jdbi.withHandle(handle -> {
            var query = handle.createQuery("SELECT id, at, actor, action, subject, before_json, after_json FROM audit_log" + where
                    + " ORDER BY at DESC, id DESC LIMIT :limit").bind("limit", limit);
            subject.ifPresent(value -> query.bind("subject", value));
            return query.map((rs, ctx) -> new Entry(rs.getString("id"), Instant.ofEpochMilli(rs.getLong("at")), rs.getString("actor"),
                    rs.getString("action"), rs.getString("subject"), tree(rs.getString("before_json")), tree(rs.getString("after_json"))))
                    .list();
        });
    }

    private static String json(Object value) {
        if (value == null) {
            return null;
        }
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("an audit value must serialize: " + value, e);
        }
    }

    private static Optional<JsonNode> tree(String text) {
        if (text == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readTree(text));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the audit log holds JSON it wrote itself", e);
        }
    }
}
