package dev.ingot.provision;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A unified diff of two texts, in the format {@code diff -u} writes and {@code patch} reads (GNU diffutils manual,
 * "Unified Format"): {@code ---}/{@code +++} headers, {@code @@ -l,s +l,s @@} hunks with 3 lines of context,
 * {@code \ No newline at end of file} where a text lacks its last line break. Lines are compared as they are and
 * shown through a masking function per side, so a changed secret shows as a changed, masked line.
 */
public final class UnifiedDiff {
    static final int CONTEXT = 3;
    /** Above this many line pairs the comparison would be slow; such texts are shown as replaced whole. */
    private static final long MAXIMUM_CELLS = 25_000_000L;

    private UnifiedDiff() {}

    /** One side of the comparison: a label for its header ({@code a/etc/x} or {@code /dev/null}), its text, how to show a line. */
    public record Side(String label, String text, UnaryOperator<String> show) {}

    private enum Kind { SAME, REMOVED, ADDED }

    private record Edit(Kind kind, int oldIndex, int newIndex) {}

    /** The diff from {@code old} to {@code updated}; empty when the texts are equal. */
    public static String of(Side old, Side updated) {
        if (old.text().equals(updated.text())) {
            return "";
        }
        List<String> oldLines = lines(old.text());
        List<String> newLines = lines(updated.text());
        boolean oldEndsOpen = !old.text().isEmpty() && !old.text().endsWith("\n");
        boolean newEndsOpen = !updated.text().isEmpty() && !updated.text().endsWith("\n");
        // A last line without its line break differs from the same text with one, as it does for diff(1).
        List<Edit> edits = edits(comparable(oldLines, oldEndsOpen), comparable(newLines, newEndsOpen));
        StringBuilder out = new StringBuilder();
        out.append("--- ").append(old.label()).append('\n');
        out.append("+++ ").append(updated.label()).append('\n');
        int index = 0;
        while (index < edits.size()) {
            // Find the next change, then extend the hunk while changes are within 2 * CONTEXT lines of each other.
            while (index < edits.size() && edits.get(index).kind() == Kind.SAME) {
                index++;
            }
            if (index == edits.size()) {
                break;
            }
            int start = Math.max(0, index - CONTEXT);
            int end = index;
            int lastChange = index;
            while (end < edits.size()) {
                if (edits.get(end).kind() != Kind.SAME) {
                    lastChange = end;
                } else if (end - lastChange > 2 * CONTEXT) {
                    break;
                }
                end++;
            }
            end = Math.min(edits.size(), lastChange + CONTEXT + 1);
            appendHunk(out, edits.subList(start, end), oldLines, newLines, old, updated, oldEndsOpen, newEndsOpen);
            index = end;
        }
        return out.toString();
    }

    private static void appendHunk(StringBuilder out, List<Edit> hunk, List<String> oldLines, List<String> newLines, Side old,
            Side updated, boolean oldEndsOpen, boolean newEndsOpen) {
        int oldCount = 0;
        int newCount = 0;
        int oldStart = -1;
        int newStart = -1;
        for (Edit edit : hunk) {
            if (edit.kind() != Kind.ADDED) {
                oldCount++;
                oldStart = oldStart < 0 ? edit.oldIndex() : oldStart;
            }
            if (edit.kind() != Kind.REMOVED) {
                newCount++;
                newStart = newStart < 0 ? edit.newIndex() : newStart;
            }
        }
        // An empty range names the line before it (0 at the very start), as GNU diff does.
        Edit first = hunk.getFirst();
        out.append("@@ -").append(range(oldStart < 0 ? first.oldIndex() : oldStart + 1, oldCount))
                .append(" +").append(range(newStart < 0 ? first.newIndex() : newStart + 1, newCount)).append(" @@\n");
        for (Edit edit : hunk) {
            switch (edit.kind()) {
                case SAME -> {
                    out.append(' ').append(updated.show().apply(newLines.get(edit.newIndex()))).append('\n');
                    boolean lastOld = edit.oldIndex() == oldLines.size() - 1 && oldEndsOpen;
                    boolean lastNew = edit.newIndex() == newLines.size() - 1 && newEndsOpen;
                    if (lastOld || lastNew) {
                        out.append("\\ No newline at end of file\n");
                    }
                }
                case REMOVED -> {
                    out.append('-').append(old.show().apply(oldLines.get(edit.oldIndex()))).append('\n');
                    if (edit.oldIndex() == oldLines.size() - 1 && oldEndsOpen) {
                        out.append("\\ No newline at end of file\n");
                    }
                }
                case ADDED -> {
                    out.append('+').append(updated.show().apply(newLines.get(edit.newIndex()))).append('\n');
                    if (edit.newIndex() == newLines.size() - 1 && newEndsOpen) {
                        out.append("\\ No newline at end of file\n");
                    }
                }
            }
        }
    }

    private static String range(int start, int count) {
        return count == 1 ? Integer.toString(start) : start + "," + count;
    }

    private static List<String> comparable(List<String> lines, boolean endsOpen) {
        if (!endsOpen) {
            return lines;
        }
        List<String> marked = new ArrayList<>(lines);
        marked.set(marked.size() - 1, marked.getLast() + "\u0000no line break");
        return marked;
    }

    static List<String> lines(String text) {
        if (text.isEmpty()) {
            return List.of();
        }
        String body = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        return List.of(body.split("\n", -1));
    }

    /** The shortest edit script from a longest common subsequence of lines; removals before additions in each change. */
    private static List<Edit> edits(List<String> oldLines, List<String> newLines) {
        int n = oldLines.size();
        int m = newLines.size();
        List<Edit> edits = new ArrayList<>();
        if ((long) n * m > MAXIMUM_CELLS) {
            for (int i = 0; i < n; i++) {
                edits.add(new Edit(Kind.REMOVED, i, 0));
            }
            for (int j = 0; j < m; j++) {
                edits.add(new Edit(Kind.ADDED, n, j));
            }
            return edits;
        }
        // common[i][j]: length of the longest common subsequence of oldLines[i..] and newLines[j..].
        int[][] common = new int[n + 1][m + 1];
        for (int i = n - 1; i >= 0; i--) {
            for (int j = m - 1; j >= 0; j--) {
                common[i][j] = oldLines.get(i).equals(newLines.get(j)) ? common[i + 1][j + 1] + 1
                        : Math.max(common[i + 1][j], common[i][j + 1]);
            }
        }
        int i = 0;
        int j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && oldLines.get(i).equals(newLines.get(j))) {
                edits.add(new Edit(Kind.SAME, i++, j++));
            } else if (j == m || (i < n && common[i + 1][j] >= common[i][j + 1])) {
                edits.add(new Edit(Kind.REMOVED, i++, j));
            } else {
                edits.add(new Edit(Kind.ADDED, i, j++));
            }
        }
        return edits;
    }
}
