package dev.ingot.health;

/** A tool's output quoted in a reason: its first line, cut at 60 characters, so a report never carries pages of garbage. */
final class Excerpt {
    private static final int LENGTH = 60;

    private Excerpt() {}

    static String of(String text) {
        String line = text.lines().findFirst().orElse("");
        return line.length() > LENGTH ? line.substring(0, LENGTH) + "…" : line;
    }
}
