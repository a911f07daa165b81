package dev.ingot.server.auth;

import static java.util.Objects.requireNonNull;

import dev.ingot.health.DeviceId;
import dev.ingot.site.SiteId;

/** Who made a request, as its credential proves it. */
public sealed interface Caller {
    /** How the audit log and the logs name the caller: a token's name or a device id, never a secret. */
    String name();

    /** An operator token (or the dashboard session that carries one). */
    record Operator(String tokenName, Role role) implements Caller {
        public Operator {
            requireNonNull(tokenName, "tokenName");
            requireNonNull(role, "role");
        }

        @Override
        public String name() {
            return tokenName;
        }
    }

    /** A device, by the credential it got at enrollment. */
    record Device(DeviceId device, SiteId site) implements Caller {
        public Device {
            requireNonNull(device, "device");
            requireNonNull(site, "site");
        }

        @Override
        public String name() {
            return "device:" + device.value();
        }
    }
}
