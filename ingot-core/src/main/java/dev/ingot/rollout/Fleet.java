package dev.ingot.rollout;

import static java.util.Objects.requireNonNull;

import dev.ingot.fleet.DesiredState;
import dev.ingot.health.DeviceId;
import dev.ingot.site.SiteId;
import java.time.Instant;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What the planner sees of the fleet at one moment: the sites and their devices as the server's inventory holds
 * them. Sites and devices are kept sorted by id, so that the plan never depends on the order the server read them in.
 */
public record Fleet(List<Site> sites, List<Device> devices) {
    /** A site: its canary flag (an operator's choice of first site) and its tags, which {@link SiteFilter} matches. */
    public record Site(SiteId id, boolean canary, SortedSet<String> tags) {
        public Site {
            requireNonNull(id, "id");
            tags = Collections.unmodifiableSortedSet(new TreeSet<>(requireNonNull(tags, "tags")));
        }
    }

    /**
     * A device: where it is, when the server last heard from it, its latest report (none before its first), and its
     * desired state, whose generation and fields tell whether a change is already on its way to it.
     */
    public record Device(DeviceId id, SiteId site, Optional<Instant> lastSeen, Optional<DeviceReport> report, DesiredState desired) {
        public Device {
            requireNonNull(id, "id");
            requireNonNull(site, "site");
            requireNonNull(lastSeen, "lastSeen");
            requireNonNull(report, "report");
            requireNonNull(desired, "desired");
        }
    }

    public Fleet {
        sites = requireNonNull(sites, "sites").stream().sorted(Comparator.comparing(site -> site.id().value())).toList();
        devices = requireNonNull(devices, "devices").stream().sorted(Comparator.comparing(device -> device.id().value())).toList();
        Map<SiteId, Site> byId = new HashMap<>();
        for (Site site : sites) {
            if (byId.put(site.id(), site) != null) {
                throw new IllegalArgumentException("the fleet lists the site " + site.id() + " twice");
            }
        }
        Map<DeviceId, Device> seen = new HashMap<>();
        for (Device device : devices) {
            if (!byId.containsKey(device.site())) {
                throw new IllegalArgumentException("the device " + device.id() + " is at the site " + device.site() + ", which the fleet does not list");
            }
            if (seen.put(device.id(), device) != null) {
                throw new IllegalArgumentException("the fleet lists the device " + device.id() + " twice");
            }
        }
    }

    public Optional<Site> site(SiteId id) {
        return sites.stream().filter(site -> site.id().equals(id)).findFirst();
    }
}
