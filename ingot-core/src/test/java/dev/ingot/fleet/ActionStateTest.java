package dev.ingot.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.IngotException;
import org.junit.jupiter.api.Test;

class ActionStateTest {
    @Test
    void aReimageMovesForwardThroughEveryStep() {
        assertThat(ActionState.PENDING.mayMoveTo(ActionState.DOWNLOADING)).isTrue();
        assertThat(ActionState.DOWNLOADING.mayMoveTo(ActionState.WRITTEN)).isTrue();
        assertThat(ActionState.WRITTEN.mayMoveTo(ActionState.REBOOTING)).isTrue();
        assertThat(ActionState.REBOOTING.mayMoveTo(ActionState.COMMITTED)).isTrue();
    }

    @Test
    void shorterTracksMaySkipSteps() {
        assertThat(ActionState.DOWNLOADING.mayMoveTo(ActionState.COMMITTED)).isTrue();
        assertThat(ActionState.PENDING.mayMoveTo(ActionState.REBOOTING)).isTrue();
    }

    @Test
    void anActionNeverGoesBackwards() {
        assertThat(ActionState.WRITTEN.mayMoveTo(ActionState.DOWNLOADING)).isFalse();
        assertThat(ActionState.DOWNLOADING.mayMoveTo(ActionState.PENDING)).isFalse();
    }

    @Test
    void aCommittedActionIsNeverRolledBackAfterwards() {
        assertThat(ActionState.COMMITTED.mayMoveTo(ActionState.ROLLED_BACK)).isFalse();
        assertThat(ActionState.ROLLED_BACK.mayMoveTo(ActionState.COMMITTED)).isFalse();
        assertThat(ActionState.FAILED.mayMoveTo(ActionState.COMMITTED)).isFalse();
    }

    @Test
    void aRepeatedReportIsHarmless() {
        for (ActionState state : ActionState.values()) {
            assertThat(state.mayMoveTo(state)).isTrue();
        }
    }

    @Test
    void anyUnfinishedStepMayFailOrFallBack() {
        for (ActionState state : ActionState.values()) {
            if (!state.terminal()) {
                assertThat(state.mayMoveTo(ActionState.FAILED)).isTrue();
                assertThat(state.mayMoveTo(ActionState.ROLLED_BACK)).isTrue();
            }
        }
    }

    @Test
    void onlyACommitCountsAsSuccess() {
        assertThat(ActionState.terminalStates()).allMatch(ActionState::terminal);
        assertThat(ActionState.COMMITTED.succeeded()).isTrue();
        assertThat(ActionState.ROLLED_BACK.succeeded()).isFalse();
    }

    @Test
    void namesReadBackAsTheirStates() {
        for (ActionState state : ActionState.values()) {
            assertThat(ActionState.parse(state.json())).isEqualTo(state);
        }
        assertThatThrownBy(() -> ActionState.parse("done")).isInstanceOf(IngotException.class).hasMessageContaining("rolled_back");
    }
}
