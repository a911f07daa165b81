package dev.ingot.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Where a caller's work folder is, from the environment it is given: never relative to the current directory, which may
 * be a shared folder (a {@code cd /tmp} before running Ingot must not put a user's downloads there).
 */
class WorkFolderRootTest {
    private static final int USER = 1000;

    @Test
    void anEmptyHomeFallsBackToTheAccountsHomeNotToTheCurrentDirectory() {
        assertThat(WorkFolder.defaultRoot(Map.of("HOME", ""), USER, "/home/op")).isEqualTo(Path.of("/home/op/.cache/ingot"));
    }

    @Test
    void aRelativeHomeIsIgnoredAsARelativeXdgCacheHomeIs() {
        assertThat(WorkFolder.defaultRoot(Map.of("HOME", "tmp/elsewhere", "XDG_CACHE_HOME", "relative/cache"), USER, "/home/op"))
                .isEqualTo(Path.of("/home/op/.cache/ingot"));
    }

    @Test
    void withNoAbsoluteHomeAnywhereTheCallerIsAskedForAWorkFolder() {
        assertThatThrownBy(() -> WorkFolder.defaultRoot(Map.of(), USER, "?")).hasMessageContaining("HOME");
    }

    @Test
    void anAbsoluteXdgCacheHomeIsUsedForAUserAndRootAlwaysUsesVarCache() {
        Map<String, String> environment = Map.of("HOME", "/home/op", "XDG_CACHE_HOME", "/home/op/.cache-elsewhere");

        assertThat(WorkFolder.defaultRoot(environment, USER, "/home/op")).isEqualTo(Path.of("/home/op/.cache-elsewhere/ingot"));
        assertThat(WorkFolder.defaultRoot(environment, 0, "/root")).isEqualTo(Path.of("/var/cache/ingot"));
    }
}
