package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.site.SiteId;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which sites a rollout may touch ({@code --sites}). The grammar:
 * <pre>
 * filter := term ( ',' term )*          a site is in when it matches any term without '!' (or there is none)
 * term   := [ '!' ] atom ( '+' atom )*  '!' takes sites out; '+' means "and"
 * atom   := GLOB | 'id:' GLOB | 'tag:' GLOB
 * </pre>
 * A bare glob or {@code id:} matches the site id, {@code tag:} any of the site's tags; {@code *} matches any run of
 * characters and {@code ?} one. Examples: {@code SITE-28*}, {@code tag:region:eu-*,tag:pilot}, {@code *,!tag:lab},
 * {@code tag:eu+tag:t4}. An empty filter or {@code *} is every site.
 */
public record SiteFilter(String text, List<Term> terms) {
    public static final SiteFilter ALL = new SiteFilter("*", List.of());
    public static final int MAXIMUM_TERMS = 256;
    private static final Pattern GLOB = Pattern.compile("[A-Za-z0-9_.=:/*?-]{1,128}");

    public record Term(boolean excluding, List<Atom> atoms) {
        public Term {
            atoms = List.copyOf(atoms);
        }

        boolean matches(SiteId site, Set<String> tags) {
            return atoms.stream().allMatch(atom -> atom.matches(site, tags));
        }
    }

    public record Atom(boolean tag, String glob) {
        public Atom {
            requireNonNull(glob, "glob");
        }

        boolean matches(SiteId site, Set<String> tags) {
            return tag ? tags.stream().anyMatch(value -> globMatches(glob, value)) : globMatches(glob, site.value());
        }
    }

    public SiteFilter {
        requireNonNull(text, "text");
        terms = List.copyOf(requireNonNull(terms, "terms"));
    }

    public static SiteFilter parse(String text) {
        requireNonNull(text, "text");
        if (text.isBlank() || text.equals("*")) {
            return ALL;
        }
        String[] termTexts = text.split(",", -1);
        if (termTexts.length > MAXIMUM_TERMS) {
            // Every site is matched against every term inside the planner's transaction: a filter is a few patterns, not a list of every site.
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the site filter of " + termTexts.length + " terms", "a filter has at most "
                    + MAXIMUM_TERMS + " terms").withHint("match sites by a pattern or a tag (tag:wave:3) instead of naming each");
        }
        List<Term> terms = new ArrayList<>();
        for (String termText : termTexts) {
            String body = termText.strip();
            boolean excluding = body.startsWith("!");
            if (excluding) {
                body = body.substring(1);
            }
            List<Atom> atoms = new ArrayList<>();
            for (String atomText : body.split("\\+", -1)) {
                boolean tag = atomText.startsWith("tag:");
                String glob = tag ? atomText.substring(4) : atomText.startsWith("id:") ? atomText.substring(3) : atomText;
                if (!GLOB.matcher(glob).matches()) {
                    throw IngotException.tried(ErrorCode.BAD_INPUT, "read the site filter '" + text + "'",
                            "'" + atomText + "' is not id:GLOB, tag:GLOB or a site-id glob of letters, digits, '_.=:/-' and the wildcards '*' '?'")
                            .withHint("write it like SITE-28*, tag:region:eu-* or *,!tag:lab");
                }
                atoms.add(new Atom(tag, glob));
            }
            terms.add(new Term(excluding, atoms));
        }
        return new SiteFilter(text, terms);
    }

    public boolean matches(SiteId site, Set<String> tags) {
        requireNonNull(site, "site");
        requireNonNull(tags, "tags");
        boolean anyIncluding = terms.stream().anyMatch(term -> !term.excluding());
        boolean included = !anyIncluding || terms.stream().anyMatch(term -> !term.excluding() && term.matches(site, tags));
        return included && terms.stream().noneMatch(term -> term.excluding() && term.matches(site, tags));
    }

    /**
     * Whether {@code text} matches {@code glob} ('*' any run, '?' one character), by the greedy two-pointer walk that
     * goes back only to the last '*': at most length(glob) × length(text) steps. Written by hand because a glob turned
     * into a regex ({@code .*.*.*…b}) backtracks polynomially in the number of '*' — a 128-character filter from the
     * operator API against a 63-character site id would hold the planner, and the database transaction it runs in,
     * for longer than anyone waits — and neither the JDK's glob PathMatcher (a regex too) nor a library we use does better.
     */
    static boolean globMatches(String glob, String text) {
        int g = 0;
        int t = 0;
        int star = -1;
        int resume = 0;
        while (t < text.length()) {
            if (g < glob.length() && (glob.charAt(g) == '?' || glob.charAt(g) == text.charAt(t))) {
                g++;
                t++;
            } else if (g < glob.length() && glob.charAt(g) == '*') {
                star = g++;
                resume = t;
            } else if (star >= 0) {
                g = star + 1;
                t = ++resume;
            } else {
                return false;
            }
        }
        while (g < glob.length() && glob.charAt(g) == '*') {
            g++;
        }
        return g == glob.length();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof SiteFilter that && text.equals(that.text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }
}
