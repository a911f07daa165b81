package dev.ingot.site;

import dev.ingot.site.ParameterSource.Parameter;
import dev.ingot.testing.SiteTrees;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/** Parameters and configurations for the site tests, built from {@link SiteTrees#typical()}. */
final class Sites {
    static final SiteId SITE = new SiteId("SITE-2847");

    private Sites() {}

    static SortedMap<String, Parameter> parameters(Map<String, String> values, Set<String> secure) {
        SortedMap<String, Parameter> parameters = new TreeMap<>();
        values.forEach((name, value) -> parameters.put(name, new Parameter(name, value, secure.contains(name))));
        return parameters;
    }

    static SortedMap<String, Parameter> typicalParameters() {
        return parameters(SiteTrees.typical(), SiteTrees.typicalSecure());
    }

    /** The typical site with some values replaced ({@code null} removes one). */
    static SortedMap<String, Parameter> typicalWith(Map<String, String> changes) {
        Map<String, String> values = new TreeMap<>(SiteTrees.typical());
        changes.forEach((name, value) -> {
            if (value == null) {
                values.remove(name);
            } else {
                values.put(name, value);
            }
        });
        return parameters(values, SiteTrees.typicalSecure());
    }

    static SiteConfig typical() {
        return SiteParameters.read(SITE, typicalParameters(), "test").config();
    }
}
