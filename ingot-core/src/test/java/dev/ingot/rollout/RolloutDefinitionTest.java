package dev.ingot.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.site.SiteId;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The operator's words for a rollout: stages, durations, gates, failure limits and site filters, read and refused. */
class RolloutDefinitionTest {
    @Test
    void stagesReadAsACanaryCountThenShares() {
        Stages stages = Stages.parse("1,10%,50%,100%");

        assertThat(stages.sizes()).containsExactly(new Stages.Sites(1), new Stages.Percent(10), new Stages.Percent(50), new Stages.Percent(100));
        assertThat(stages.text()).isEqualTo("1,10%,50%,100%");
        assertThat(Stages.parse("2, 5, 100%").text()).isEqualTo("2,5,100%");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10%,100%", "1,50%,10%,100%", "1,10%", "1", "1,0%,100%", "1,150%", "0,100%", "1,x,100%", "1,10%,10%,100%"})
    void badStagesAreRefusedWithTheRule(String text) {
        assertThatThrownBy(() -> Stages.parse(text)).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT);
            assertThat(e.getMessage()).startsWith("Tried to read the stages '" + text + "' but failed because");
            assertThat(e.hint()).contains("write them like 1,10%,50%,100%: one canary site, then shares of the rest");
        });
    }

    @Test
    void durationsReadAsOperatorsTypeThem() {
        assertThat(DurationText.parse("30m", "the soak")).isEqualTo(Duration.ofMinutes(30));
        assertThat(DurationText.parse("2h", "the soak")).isEqualTo(Duration.ofHours(2));
        assertThat(DurationText.parse("1h30m", "the soak")).isEqualTo(Duration.ofMinutes(90));
        assertThat(DurationText.parse("1d", "the soak")).isEqualTo(Duration.ofDays(1));
        assertThat(DurationText.parse("45s", "the soak")).isEqualTo(Duration.ofSeconds(45));
        assertThat(DurationText.format(Duration.ofMinutes(90))).isEqualTo("1h30m");
        assertThat(DurationText.format(Duration.ofSeconds(86_461))).isEqualTo("1d1m1s");
        for (String bad : new String[] {"", "30", "m", "30x", "-5m", "0m", "30m2h", "PT30M"}) {
            assertThatThrownBy(() -> DurationText.parse(bad, "the soak")).as(bad).isInstanceOf(IngotException.class)
                    .hasMessageStartingWith("Tried to read the soak '" + bad + "' but failed because");
        }
    }

    @Test
    void gatesReadWithTheirSettings() {
        assertThat(GateSpec.parse("health")).isEqualTo(new GateSpec.Health());
        assertThat(GateSpec.parse("cloudwatch:edge-health-")).isEqualTo(new GateSpec.CloudWatch("edge-health-", GateSpec.Tolerance.FAIL,
                GateSpec.Tolerance.FAIL));
        GateSpec lenient = GateSpec.parse("cloudwatch:edge-health-?insufficient-data=pass&unreadable=wait");
        assertThat(lenient).isEqualTo(new GateSpec.CloudWatch("edge-health-", GateSpec.Tolerance.PASS, GateSpec.Tolerance.WAIT));
        assertThat(lenient.text()).isEqualTo("cloudwatch:edge-health-?insufficient-data=pass&unreadable=wait");
        for (String bad : new String[] {"cloudwatch", "cloudwatch:", "alarms:x", "cloudwatch:a b", "cloudwatch:x?insufficient-data=maybe",
                "cloudwatch:x?colour=pass", "cloudwatch:x?unreadable=pass&unreadable=fail"}) {
            assertThatThrownBy(() -> GateSpec.parse(bad)).as(bad).isInstanceOf(IngotException.class);
        }
    }

    @Test
    void maxFailuresIsACountOrAShareTrustedOnlyOnTheMinimumSample() {
        MaxFailures share = MaxFailures.parse("5%", 10);
        assertThat(share.allowed(9)).isZero();
        assertThat(share.allowed(10)).isZero();
        assertThat(share.allowed(40)).isEqualTo(2);
        assertThat(share.describe()).isEqualTo("5% (none below 10 devices)");
        assertThat(MaxFailures.parse("2", 10).allowed(1)).as("never every device of a stage").isZero();
        assertThat(MaxFailures.parse("2", 10).allowed(3)).isEqualTo(2);
        assertThat(MaxFailures.NONE.allowed(1000)).isZero();
        for (String bad : new String[] {"", "-1", "100%", "5.5%", "two"}) {
            assertThatThrownBy(() -> MaxFailures.parse(bad, 10)).as(bad).isInstanceOf(IngotException.class);
        }
        assertThatThrownBy(() -> MaxFailures.parse("5%", 0)).isInstanceOf(IngotException.class);
    }

    @Test
    void siteFiltersMatchIdsAndTagsWithExclusions() {
        SiteId eu = new SiteId("SITE-2847");
        SiteId us = new SiteId("SITE-1001");
        Set<String> euTags = Set.of("region:eu-west", "t4");
        Set<String> usTags = Set.of("region:us-east", "lab");

        assertThat(SiteFilter.parse("").matches(us, usTags)).isTrue();
        assertThat(SiteFilter.parse("SITE-28*").matches(eu, euTags)).isTrue();
        assertThat(SiteFilter.parse("SITE-28*").matches(us, usTags)).isFalse();
        assertThat(SiteFilter.parse("id:SITE-100?").matches(us, usTags)).isTrue();
        assertThat(SiteFilter.parse("tag:region:eu-*").matches(eu, euTags)).isTrue();
        assertThat(SiteFilter.parse("tag:region:eu-*,tag:lab").matches(us, usTags)).isTrue();
        assertThat(SiteFilter.parse("*,!tag:lab").matches(us, usTags)).isFalse();
        assertThat(SiteFilter.parse("!tag:lab").matches(eu, euTags)).isTrue();
        assertThat(SiteFilter.parse("tag:region:eu-*+tag:t4").matches(eu, euTags)).isTrue();
        assertThat(SiteFilter.parse("tag:region:eu-*+tag:lab").matches(eu, euTags)).isFalse();
        assertThat(SiteFilter.parse("SITE-2847").matches(new SiteId("SITE-28470"), euTags)).isFalse();
        for (String bad : new String[] {"tag:", "SITE 1", "a,,b", "tag:x y", "id:(.*)"}) {
            assertThatThrownBy(() -> SiteFilter.parse(bad)).as(bad).isInstanceOf(IngotException.class)
                    .hasMessageStartingWith("Tried to read the site filter");
        }
    }

    @Test
    void aSiteFilterOfManyWildcardsAnswersAtOnceInsteadOfBacktrackingForYears() {
        // As a regex (.*.*.*…b) eight '*' took 24 s against one 43-character site id, and each more multiplied it: an operator's
        // --sites held the planner's transaction for ever. The timeout guards against that hang; it measures nothing.
        SiteId longest = new SiteId("S" + "ITE-".repeat(15) + "xy");
        Set<String> tags = Set.of("region:" + "a".repeat(56));
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            assertThat(SiteFilter.parse("*".repeat(127) + "b").matches(longest, tags)).isFalse();
            assertThat(SiteFilter.parse("tag:" + "*a".repeat(61) + "*b").matches(longest, tags)).isFalse();
            assertThat(SiteFilter.parse("*".repeat(64) + "xy").matches(longest, tags)).isTrue();
            assertThat(SiteFilter.parse("tag:region:*" + "a*".repeat(50)).matches(longest, tags)).isTrue();
        });
        String huge = String.join(",", java.util.Collections.nCopies(SiteFilter.MAXIMUM_TERMS + 1, "SITE-1*+tag:a*"));
        assertThatThrownBy(() -> SiteFilter.parse(huge)).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT);
            assertThat(e.getMessage()).isEqualTo("Tried to read the site filter of 257 terms but failed because a filter has at most 256 terms");
        });
        assertThat(SiteFilter.parse(String.join(",", java.util.Collections.nCopies(SiteFilter.MAXIMUM_TERMS, "SITE-1*"))).terms()).hasSize(256);
        for (String[] globText : new String[][] {{"", ""}, {"*", ""}, {"?", ""}, {"a?c", "abc"}, {"a*c", "ac"}, {"a*c", "abbbc"}, {"*c", "abc"},
                {"a*", "a"}, {"a*b*c", "axxbyyc"}, {"a*b*c", "axxbyy"}, {"a**", "ab"}, {"*?", ""}, {"?*", "x"}, {"*a*a", "aa"}, {"*a*a", "a"}}) {
            boolean expected = java.util.regex.Pattern.matches(globText[0].replace("?", ".").replace("*", ".*"), globText[1]);
            assertThat(SiteFilter.globMatches(globText[0], globText[1])).as("'%s' against '%s'", globText[0], globText[1]).isEqualTo(expected);
        }
    }

    @Test
    void aDefinitionRefusesWhatCannotWork() {
        RolloutDefinition definition = Fixtures.definition();

        assertThatThrownBy(() -> definition.withSoak(Duration.ZERO)).isInstanceOf(IngotException.class).hasMessageContaining("is not positive");
        assertThatThrownBy(() -> definition.withGates(java.util.List.of(new GateSpec.Health(), new GateSpec.Health())))
                .isInstanceOf(IngotException.class).hasMessageContaining("a gate is named twice");
        assertThatThrownBy(() -> new RolloutId("R_1")).isInstanceOf(IngotException.class).hasMessageContaining("lowercase");
        assertThatThrownBy(() -> new Target.ContainerTag("latest")).isInstanceOf(IngotException.class).hasMessageContaining("'latest' moves");
        assertThatThrownBy(() -> new Target.Reboot(java.util.List.of(), false)).isInstanceOf(IngotException.class)
                .hasMessageContaining("it names no device");
    }
}
