package dev.ingot.rollout;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.Arrays;
import java.util.Locale;

/** What happens when a stage fails. Either way the rollout halts first: no further device gets the change. */
public enum FailurePolicy {
    /** Stop and wait for an operator: resume (accepting the failures so far), roll back, or abort. */
    HALT,
    /** Set the failed stage's devices back to what they ran before (their previous version or tag), then stop. */
    ROLLBACK;

    public String json() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static FailurePolicy parse(String text) {
        return Arrays.stream(values()).filter(policy -> policy.json().equals(text)).findFirst()
                .orElseThrow(() -> IngotException.tried(ErrorCode.BAD_INPUT, "read the failure policy '" + text + "'",
                        "a failure policy is halt or rollback"));
    }
}
