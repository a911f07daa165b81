package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The stage sizes of a rollout, as {@code --stages 1,10%,50%,100%} spells them. The first is a count of sites: the
 * canary stage. Each later one is either a count of further sites ({@code 5}) or a cumulative share of the sites
 * that remain after the canary stage ({@code 10%}: after this stage at least a tenth of them have the change).
 * Shares rise strictly and the last stage is {@code 100%}, so that a rollout that runs to its end reaches every
 * target it planned.
 */
public record Stages(List<Size> sizes) {
    public static final int MAXIMUM_STAGES = 20;
    public static final Stages DEFAULT = parse("1,10%,50%,100%");

    public sealed interface Size {
        /** How the size is written: {@code 3} or {@code 10%}. */
        String text();
    }

    /** That many more sites. */
    public record Sites(int count) implements Size {
        @Override
        public String text() {
            return Integer.toString(count);
        }
    }

    /** Up to this share of the sites remaining after the canary stage, counted from the start (rounded up). */
    public record Percent(int percent) implements Size {
        @Override
        public String text() {
            return percent + "%";
        }
    }

    public Stages {
        sizes = List.copyOf(requireNonNull(sizes, "sizes"));
    }

    public static Stages parse(String text) {
        requireNonNull(text, "text");
        String[] parts = text.split(",", -1);
        if (parts.length > MAXIMUM_STAGES) {
            throw invalid(text, "it has " + parts.length + " stages; at most " + MAXIMUM_STAGES + " are allowed");
        }
        List<Size> sizes = new ArrayList<>();
        int lastPercent = 0;
        for (int index = 0; index < parts.length; index++) {
            String part = parts[index].strip();
            if (part.matches("[1-9][0-9]{0,5}")) {
                sizes.add(new Sites(Integer.parseInt(part)));
            } else if (part.matches("[1-9][0-9]{0,2}%")) {
                int percent = Integer.parseInt(part.substring(0, part.length() - 1));
                if (index == 0) {
                    throw invalid(text, "the first stage is the canary stage, a count of sites, not a share");
                }
                if (percent > 100 || percent <= lastPercent) {
                    throw invalid(text, "'" + part + "' is not above the share before it and at most 100%");
                }
                lastPercent = percent;
                sizes.add(new Percent(percent));
            } else {
                throw invalid(text, "'" + part + "' is neither a count of sites (1) nor a share of the remaining sites (10%)");
            }
        }
        if (!(sizes.getLast() instanceof Percent last && last.percent() == 100)) {
            throw invalid(text, "the last stage is not 100%, so the rollout would never reach every target");
        }
        return new Stages(sizes);
    }

    private static IngotException invalid(String text, String reason) {
        return IngotException.tried(ErrorCode.BAD_INPUT, "read the stages '" + text + "'", reason)
                .withHint("write them like 1,10%,50%,100%: one canary site, then shares of the rest");
    }

    /** The sizes as {@link #parse} reads them. */
    public String text() {
        return sizes.stream().map(Size::text).collect(Collectors.joining(","));
    }
}
