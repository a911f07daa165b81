package dev.ingot.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.agent.AgentState.Container;
import dev.ingot.agent.AgentState.ContainerStep;
import dev.ingot.agent.AgentState.Enrolled;
import dev.ingot.agent.AgentState.Outcome;
import dev.ingot.agent.AgentState.Reboot;
import dev.ingot.agent.AgentState.RebootStep;
import dev.ingot.agent.AgentState.Reimage;
import dev.ingot.agent.AgentState.ReimageStep;
import dev.ingot.boot.Slot;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.ActionState;
import dev.ingot.fleet.Track;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's state file on the data partition: every step survives a write and a read, and a damaged file is refused. */
class AgentStateFileTest {
    private static final Instant AT = Instant.parse("2026-11-26T08:00:00Z");

    @TempDir
    Path folder;

    private static AgentState with(AgentState.Action action) {
        return AgentState.initial().withEnrollment(new Enrolled("device-7", Secret.of("cred-7f3a"), AT)).withAction(action)
                .finished(new Outcome(Track.CONTAINER, 3, "2.5.0", ActionState.ROLLED_BACK, Optional.of("crash-looped"), AT))
                .withAction(action).withRebootRequest("r-1")
                .queued(new ControlPlane.ActionReport(Track.REIMAGE, 4, "v1.5", ActionState.WRITTEN, Optional.empty(), AT));
    }

    @Test
    void everyStepOfEveryTrackIsReadBackAsItWasWritten() {
        ImageVersion version = ImageVersion.parse("v1.5");
        List<AgentState.Action> actions = List.of(
                new Reimage(4, version, Slot.A, Slot.B, AT, new ReimageStep.Fetch(2, Optional.of(AT.plusSeconds(120)))),
                new Reimage(4, version, Slot.A, Slot.B, AT, new ReimageStep.Write(8L << 20)),
                new Reimage(4, version, Slot.A, Slot.B, AT, new ReimageStep.Written()),
                new Reimage(4, version, Slot.B, Slot.A, AT, new ReimageStep.Restart("boot-1", true, 2)),
                new Reimage(4, version, Slot.A, Slot.B, AT, new ReimageStep.Trial("boot-2", AT.plusSeconds(600))),
                new Reimage(4, version, Slot.A, Slot.B, AT, new ReimageStep.Commit("boot-2")),
                new Reimage(4, version, Slot.A, Slot.B, AT, new ReimageStep.FallBack("boot-2", "gpu: nvidia-smi failed")),
                new Container(5, "2.6.0", Optional.of("2.4.0"), AT, new ContainerStep.Pull(0, Optional.empty())),
                new Container(5, "2.6.0", Optional.empty(), AT, new ContainerStep.Switch()),
                new Container(5, "2.6.0", Optional.empty(), AT, new ContainerStep.Verify(AT.plusSeconds(300))),
                new Container(5, "2.6.0", Optional.empty(), AT, new ContainerStep.Revert("crash-looped")),
                new Reboot(6, "r-2", AT, new RebootStep.Restart("boot-9")),
                new Reboot(6, "r-2", AT, new RebootStep.Confirm(AT.plusSeconds(600))));
        for (AgentState.Action action : actions) {
            AgentState state = with(action);

            AgentState read = AgentStateJson.parse(AgentStateJson.write(state), "state.json");

            assertThat(read.action()).contains(action);
            assertThat(read.outcomes()).isEqualTo(state.outcomes());
            assertThat(read.blocked()).isEqualTo(Map.of(Track.CONTAINER, "2.5.0"));
            assertThat(read.rebootRequests()).containsExactly("r-1");
            assertThat(read.outbox()).isEqualTo(state.outbox());
            assertThat(read.enrollment().orElseThrow().credential()).isEqualTo(Secret.of("cred-7f3a"));
            assertThat(AgentStateJson.write(read)).isEqualTo(AgentStateJson.write(state));
        }
    }

    @Test
    void theFileIsReplacedWholeAndOnlyRootMayReadIt() throws IOException {
        FileStateStore store = new FileStateStore(folder.resolve("data/ingot/agent/state.json"));
        assertThat(store.load()).isEqualTo(AgentState.initial());

        AgentState state = with(new Reboot(6, "r-2", AT, new RebootStep.Restart("boot-9")));
        store.save(state);
        store.save(state.sent(1));

        assertThat(new FileStateStore(folder.resolve("data/ingot/agent/state.json")).load().outbox()).isEmpty();
        assertThat(Files.getPosixFilePermissions(folder.resolve("data/ingot/agent/state.json")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        try (Stream<Path> files = Files.list(folder.resolve("data/ingot/agent"))) {
            assertThat(files.map(path -> path.getFileName().toString())).containsExactly("state.json");
        }
    }

    @Test
    void aDamagedOrForeignStateFileStopsTheAgentInsteadOfLettingItGuess() throws IOException {
        Path file = folder.resolve("state.json");
        byte[] good = AgentStateJson.write(with(new Reimage(4, ImageVersion.parse("v1.5"), Slot.A, Slot.B, AT, new ReimageStep.Written())));
        FileStateStore store = new FileStateStore(file);

        for (String damaged : List.of(new String(good, StandardCharsets.UTF_8).substring(0, good.length / 2),
                new String(good, StandardCharsets.UTF_8).replace("\"schema_version\" : 1", "\"schema_version\" : 2"),
                new String(good, StandardCharsets.UTF_8).replace("\"name\" : \"written\"", "\"name\" : \"flying\""),
                new String(good, StandardCharsets.UTF_8).replace("\"to\" : \"b\"", "\"to\" : \"a\""))) {
            Files.writeString(file, damaged);

            assertThatThrownBy(store::load).as(damaged).isInstanceOfSatisfying(IngotException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED);
                assertThat(e.oneLine()).contains("read the agent state " + file, "rather than guess");
            });
        }
    }

    @Test
    void aStateFileReplacedByALinkIsNeverFollowedAndStopsTheAgentTheSameWay() throws IOException {
        Path file = folder.resolve("state.json");
        Path elsewhere = folder.resolve("elsewhere.json");
        FileStateStore store = new FileStateStore(file);
        store.save(with(new Reimage(4, ImageVersion.parse("v1.5"), Slot.A, Slot.B, AT, new ReimageStep.Written())));
        Files.move(file, elsewhere);

        for (Path target : List.of(elsewhere, Path.of("/dev/zero"))) {
            Files.deleteIfExists(file);
            Files.createSymbolicLink(file, target);

            assertThatThrownBy(store::load).as(target.toString()).isInstanceOfSatisfying(IngotException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED);
                assertThat(e.oneLine()).contains("it is a link or not a regular file", "rather than guess");
            });
        }
    }
}
