package dev.ingot.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ImageVersionTest {

    @Test
    void versionsSortByNumberNotText() {
        List<ImageVersion> sorted = Stream.of("v1.10", "v1.9", "v2.0", "v1.9.1", "v1.10-rc.2", "v1.10-rc.10", "v0.1")
                .map(ImageVersion::parse).sorted().toList();

        assertThat(sorted).extracting(ImageVersion::toString)
                .containsExactly("v0.1", "v1.9", "v1.9.1", "v1.10-rc.2", "v1.10-rc.10", "v1.10", "v2.0");
    }

    @Test
    void aVersionWithoutPatchEqualsOnlyItself() {
        assertThat(ImageVersion.parse("v1.4")).isEqualTo(ImageVersion.parse("v1.4"));
        assertThat(ImageVersion.parse("v1.4")).isNotEqualTo(ImageVersion.parse("v1.4.0"));
        assertThat(ImageVersion.parse("v1.4").compareTo(ImageVersion.parse("v1.4.0"))).isNotZero();
    }

    @Test
    void twoSpellingsOfOneReleaseNumberAreRecognised() {
        assertThat(ImageVersion.parse("v1.4").sameReleaseAs(ImageVersion.parse("v1.4.0"))).isTrue();
        assertThat(ImageVersion.parse("v1.4").sameReleaseAs(ImageVersion.parse("v1.4.1"))).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1.4", "v1", "V1.4", "v1.4.", "v01.4", "v1.4-", "v1.4-RC1", "v1.4/../x", "v1.4 ", "latest",
        "v1.4-rc.01", "v1.4-rc.1234567890123456789"})
    void malformedVersionsAreBadInputWithAHint(String text) {
        assertThatThrownBy(() -> ImageVersion.parse(text))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT);
                    assertThat(e.getMessage()).startsWith("Tried to read the version");
                    assertThat(e.hint()).hasValueSatisfying(hint -> assertThat(hint).contains("v1.4"));
                });
    }
}
