package dev.ingot.imagetest;

import static java.util.Objects.requireNonNull;

import java.util.List;

/** The results of one {@code ingot image test} run on one subject (an image's partition, or a host). */
public record ImageTestReport(String subject, List<CheckResult> results) {
    public ImageTestReport {
        requireNonNull(subject, "subject");
        results = List.copyOf(results);
    }

    public boolean ok() {
        return results.stream().allMatch(CheckResult::ok);
    }

    public long failures() {
        return results.stream().filter(result -> !result.ok()).count();
    }

    /** A table for people: one row per check, each finding on its own line under it. */
    public String table() {
        int width = Math.max(5, results.stream().mapToInt(result -> result.name().length()).max().orElse(0));
        StringBuilder text = new StringBuilder();
        text.append(String.format("%-" + width + "s  %-6s %s%n", "CHECK", "RESULT", "WHAT"));
        for (CheckResult result : results) {
            text.append(String.format("%-" + width + "s  %-6s %s%n", result.name(), result.ok() ? "ok" : "FAIL", result.detail()));
            for (String finding : result.findings()) {
                text.append(" ".repeat(width + 2)).append("- ").append(finding).append('\n');
            }
        }
        text.append(ok() ? "PASSED: " : "FAILED: ").append(subject).append(": ").append(results.size() - failures()).append(" of ")
                .append(results.size()).append(" checks passed\n");
        return text.toString();
    }

    /**
     * JUnit XML as CI systems read it (the Ant junit task's format, as Jenkins, GitLab and GitHub reporters take it): one
     * testsuite, one testcase per check, a failure per failed check whose message is its first finding and whose text
     * lists them all.
     */
    public String junitXml() {
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.append("<testsuite name=\"ingot image test\" tests=\"").append(results.size()).append("\" failures=\"").append(failures())
                .append("\" errors=\"0\" skipped=\"0\">\n");
        xml.append("  <properties>\n    <property name=\"subject\" value=\"").append(escape(subject)).append("\"/>\n  </properties>\n");
        for (CheckResult result : results) {
            xml.append("  <testcase classname=\"ingot.image.test\" name=\"").append(escape(result.name())).append("\"");
            if (result.ok()) {
                xml.append("/>\n");
            } else {
                xml.append(">\n    <failure type=\"finding\" message=\"").append(escape(result.findings().getFirst())).append("\">")
                        .append(escape(String.join("\n", result.findings()))).append("</failure>\n  </testcase>\n");
            }
        }
        return xml.append("</testsuite>\n").toString();
    }

    private static String escape(String text) {
        StringBuilder out = new StringBuilder();
        for (char c : text.toCharArray()) {
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\n' -> out.append("&#10;");
                default -> {
                    if (c < 0x20 && c != '\t') {
                        out.append('?');
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
