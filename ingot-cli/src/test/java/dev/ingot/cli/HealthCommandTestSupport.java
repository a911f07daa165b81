package dev.ingot.cli;

import com.fasterxml.jackson.databind.JsonNode;

/** Prints a report's checks for a person reading the test output. */
final class HealthCommandTestSupport {
    private HealthCommandTestSupport() {}

    static String table(JsonNode report) {
        StringBuilder text = new StringBuilder();
        for (JsonNode check : report.get("checks")) {
            text.append(String.format("  %-5s %-24s %s%n", check.get("status").asText(), check.get("name").asText(), check.get("reason").asText()));
        }
        return text.toString();
    }
}
