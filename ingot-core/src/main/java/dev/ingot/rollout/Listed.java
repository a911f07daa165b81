package dev.ingot.rollout;

import java.util.List;

/** A long list in a one-line reason, cut after the first few: "a, b, c, d, e and 12 more". */
public final class Listed {
    public static final int SHOWN = 5;

    private Listed() {}

    public static String of(List<String> items, String separator) {
        return items.size() <= SHOWN ? String.join(separator, items)
                : String.join(separator, items.subList(0, SHOWN)) + separator + "and " + (items.size() - SHOWN) + " more";
    }
}
