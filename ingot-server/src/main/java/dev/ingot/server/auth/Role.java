package dev.ingot.server.auth;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.Arrays;
import java.util.Locale;

/** What an operator token may do; each role may do everything the ones before it may. */
public enum Role {
    /** Reads everything: inventory, reports, images, the audit log. */
    VIEWER,
    /** Also changes the fleet: sites, enrollment tokens, desired state. */
    OPERATOR,
    /** Also manages operator tokens. */
    ADMIN;

    public String json() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean allows(Role needed) {
        return ordinal() >= needed.ordinal();
    }

    public static Role parse(String text) {
        return Arrays.stream(values()).filter(role -> role.json().equals(text)).findFirst()
                .orElseThrow(() -> IngotException.tried(ErrorCode.BAD_INPUT, "read the role '" + text + "'",
                        "a role is one of viewer, operator, admin"));
    }
}
