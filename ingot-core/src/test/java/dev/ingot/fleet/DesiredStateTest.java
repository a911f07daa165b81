package dev.ingot.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.IngotException;
import dev.ingot.image.ImageVersion;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DesiredStateTest {
    @Test
    void everyChangeRaisesTheGeneration() {
        DesiredState state = DesiredState.initial()
                .withImage(ImageVersion.parse("v1.5"))
                .withContainerTag("2026.11.3")
                .withRebootRequest("reboot-1")
                .withKnownGood(List.of(ImageVersion.parse("v1.5"), ImageVersion.parse("v1.4")));
        assertThat(state.generation()).isEqualTo(4);
        assertThat(state.image()).contains(ImageVersion.parse("v1.5"));
        assertThat(state.containerTag()).contains("2026.11.3");
        assertThat(state.rebootRequest()).contains("reboot-1");
    }

    @Test
    void aMovingTagIsRefused() {
        assertThatThrownBy(() -> DesiredState.initial().withContainerTag("latest"))
                .isInstanceOf(IngotException.class).hasMessageContaining("'latest' moves");
        assertThatThrownBy(() -> DesiredState.checkTag("-x")).isInstanceOf(IngotException.class);
    }

    @Test
    void aRebootRequestIdMustBeSafeToLog() {
        assertThatThrownBy(() -> DesiredState.initial().withRebootRequest("../etc/passwd"))
                .isInstanceOf(IngotException.class);
    }

    @Test
    void aNegativeGenerationIsRefused() {
        assertThatThrownBy(() -> new DesiredState(-1, Optional.empty(), Optional.empty(), Optional.empty(), List.of()))
                .isInstanceOf(IngotException.class);
    }

    @Test
    void tracksReadBackByName() {
        for (Track track : Track.values()) {
            assertThat(Track.parse(track.json())).isEqualTo(track);
        }
        assertThatThrownBy(() -> Track.parse("patch")).isInstanceOf(IngotException.class);
    }
}
