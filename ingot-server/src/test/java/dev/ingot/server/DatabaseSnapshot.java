package dev.ingot.server;

import dev.ingot.server.db.Database;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every row of every fleet table, as text, so a test can say "nothing changed". */
final class DatabaseSnapshot {
    static final List<String> TABLES = List.of("sites", "site_tags", "enrollment_tokens", "devices", "desired_states", "latest_reports",
            "report_history", "actions", "action_events", "operator_tokens", "audit_log", "leases");

    private DatabaseSnapshot() {}

    static Map<String, List<String>> of(Database database) {
        Map<String, List<String>> rows = new LinkedHashMap<>();
        database.jdbi().useHandle(handle -> {
            for (String table : TABLES) {
                rows.put(table, handle.createQuery("SELECT * FROM " + table).mapToMap().list().stream()
                        .map(row -> new java.util.TreeMap<>(row).toString()).sorted().toList());
            }
        });
        return rows;
    }
}
