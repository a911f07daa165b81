package dev.ingot.imagetest;

import static java.util.Objects.requireNonNull;

import java.util.List;

/** One named check and its findings; no findings means it passed. {@code detail} says what was checked. */
public record CheckResult(String name, String detail, List<String> findings) {
    public CheckResult {
        requireNonNull(name, "name");
        requireNonNull(detail, "detail");
        findings = List.copyOf(findings);
    }

    public boolean ok() {
        return findings.isEmpty();
    }
}
