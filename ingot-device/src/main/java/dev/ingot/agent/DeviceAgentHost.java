package dev.ingot.agent;

import dev.ingot.boot.GrubBootControl;
import dev.ingot.boot.Slot;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.flash.Flasher;
import dev.ingot.flash.SystemView;
import dev.ingot.health.DeviceHealth;
import dev.ingot.health.HealthConfig;
import dev.ingot.health.ToolRunner;
import dev.ingot.image.ImageName;
import dev.ingot.progress.Progress;
import dev.ingot.provision.SystemHostCommands;
import dev.ingot.sign.Keyring;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The parts of a real device as {@code ingot agent} acts on them, under a root ({@code /} on the device; a scratch tree
 * in tests, with fake tools on PATH): GRUB's environment on the ESP, systemctl and docker, the health report of
 * {@code ingot health}, the agent's state and the rolled-out tag on the data partition (docs/agent.md, "Where state
 * lives"), the streaming flash engine writing the inactive root slot, and the USB cache filled through the control
 * plane's downloads. Releases are trusted only against the keyring baked into the image ({@link #KEYRING_PATH}).
 */
public final class DeviceAgentHost {
    /** The agent's state on the data partition, which both root slots mount at /data. */
    public static final String STATE_PATH = FileStateStore.PATH;
    /** The public keys releases must be signed with: one key file or a folder of them, put there by the image build. */
    public static final String KEYRING_PATH = "/etc/ingot/keyring";
    /** Where a slot payload's download is kept while it is written, so that a cut one resumes (data partition). */
    public static final String DOWNLOAD_PATH = "/data/ingot/agent/download";

    private DeviceAgentHost() {}

    /** A device whose root slots are its GPT partitions by label, as udev links them. */
    public static AgentHost under(Path root, HealthConfig health, ToolRunner tools, Clock clock, HttpControlPlane controlPlane, Progress progress,
            Consumer<String> log) {
        return under(root, health, tools, clock, controlPlane, EngineSlotWriter.byPartitionLabel(), SystemView.live(), progress, log);
    }

    /**
     * @param partitions where each slot's partition is: a by-partlabel link on a device; a disk image file in tests
     */
    public static AgentHost under(Path root, HealthConfig health, ToolRunner tools, Clock clock, HttpControlPlane controlPlane,
            Function<Slot, Path> partitions, SystemView system, Progress progress, Consumer<String> log) {
        DeviceHealth probes = new DeviceHealth(root, health, tools, clock);
        FileStateStore state = new FileStateStore(under(root, STATE_PATH));
        ControlPlaneReleases releases = new ControlPlaneReleases(controlPlane,
                () -> state.load().enrollment().map(AgentState.Enrolled::credential));
        Supplier<Keyring> keyring = () -> keyring(under(root, KEYRING_PATH));
        Path usbCache = under(root, health.usbCache().dir());
        return new AgentHost(new GrubBootControl(root, tools), new SystemHostCommands(tools), probes::check,
                new EngineSlotFetcher(keyring, usbCache, ImageName.DEFAULT, releases::store, log),
                new EngineSlotWriter(partitions, under(root, DOWNLOAD_PATH), clock, system, Flasher.Options.defaults(), log),
                FileTagOverride.under(root), new UsbCacheKeeper(usbCache, ImageName.DEFAULT, keyring, releases::store, progress), state);
    }

    private static Path under(Path root, String absolute) {
        return root.resolve(absolute.startsWith("/") ? absolute.substring(1) : absolute);
    }

    /** The image's keyring; a device built without one cannot trust any release, which fails the re-image and the cache. */
    private static Keyring keyring(Path path) {
        if (!Files.exists(path)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "trust a release on this device", "there is no keyring at " + path)
                    .withHint("the image build puts the release signing keys there (packer variable release_keyring); rebuild the image");
        }
        return Keyring.load(path);
    }
}
