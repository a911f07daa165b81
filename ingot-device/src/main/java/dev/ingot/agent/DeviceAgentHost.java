package dev.ingot.agent;

import dev.ingot.boot.GrubBootControl;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.DeviceHealth;
import dev.ingot.health.HealthConfig;
import dev.ingot.health.ToolRunner;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.provision.SystemHostCommands;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/**
 * The parts of a real device as {@code ingot agent} acts on them, under a root ({@code /} on the device; a scratch tree
 * in tests, with fake tools on PATH): GRUB's environment on the ESP, systemctl and docker, the health report of
 * {@code ingot health}, the agent's state and the rolled-out tag on the data partition (docs/agent.md, "Where state
 * lives").
 *
 * <p>Two parts wait for the streaming flash engine (issue 11) and the USB cache over the control plane's downloads: a
 * re-image ends at once as {@code failed} with a reason that says so (the agent then blocks that version, as for any
 * failure, and the device keeps running its slot), and the USB cache is read but not filled by the agent
 * ({@code ingot cache sync} fills it).
 */
public final class DeviceAgentHost {
    /** The agent's state on the data partition, which both root slots mount at /data. */
    public static final String STATE_PATH = FileStateStore.PATH;

    private DeviceAgentHost() {}

    public static AgentHost under(Path root, HealthConfig health, ToolRunner tools, Clock clock) {
        DeviceHealth probes = new DeviceHealth(root, health, tools, clock);
        return new AgentHost(new GrubBootControl(root, tools), new SystemHostCommands(tools), probes::check, NO_FLASH_ENGINE,
                FileSlotWriter.byPartitionLabel(), FileTagOverride.under(root), new UnfilledUsbCache(root.resolve(health.usbCache().dir().substring(1))),
                new FileStateStore(root.resolve(STATE_PATH.substring(1))));
    }

    /** Refuses every re-image, in words the operator reads in the action's reason. */
    static final SlotPayloadFetcher NO_FLASH_ENGINE = (download, progress) -> {
        throw IngotException.tried(ErrorCode.BAD_INPUT, "fetch the root-slot payload of " + download.version(),
                "this build of the agent has no slot payload fetcher yet (the streaming flash engine, issue 11)")
                .withHint("re-image the device with ingot flash until then; the container and reboot tracks work");
    };

    /** The USB cache as it is: read for the agent, filled by {@code ingot cache sync} (which holds store credentials). */
    static final class UnfilledUsbCache implements CacheKeeper {
        private final Path folder;

        UnfilledUsbCache(Path folder) {
            this.folder = folder;
        }

        @Override
        public List<ImageVersion> cached() {
            return UsbCacheKeeper.cachedIn(folder, ImageName.DEFAULT);
        }

        @Override
        public void keep(List<ImageVersion> versions) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "keep " + versions + " in the USB cache " + folder,
                    "this build of the agent does not fetch releases into it yet")
                    .withHint("run ingot cache sync on the device, or from a laptop with the USB drive");
        }
    }
}
