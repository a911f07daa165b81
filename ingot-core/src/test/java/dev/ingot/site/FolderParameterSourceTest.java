package dev.ingot.site;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.site.ParameterSource.Parameter;
import dev.ingot.testing.SiteTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderParameterSourceTest {
    @TempDir
    Path root;

    @Test
    void everyFileUnderTheSitesFolderIsAParameterNamedByItsPath() {
        SiteTrees.write(root, "SITE-2847", SiteTrees.typical(), SiteTrees.typicalSecure());
        SiteTrees.write(root, "SITE-1000", Map.of("ntp_server", "another.example"), Set.of());

        SortedMap<String, Parameter> parameters = new FolderParameterSource(root).readAll("/edge/SITE-2847/");

        assertThat(parameters).containsOnlyKeys(SiteTrees.typical().keySet());
        assertThat(parameters.get("ntp_server")).isEqualTo(new Parameter("ntp_server", "ntp.site-2847.example.net", false));
        assertThat(parameters.get("video_ingest_env/LOG_LEVEL").value()).isEqualTo("info");
    }

    @Test
    void aFileOthersMayNotReadHoldsASecureString() {
        SiteTrees.write(root, "SITE-2847", SiteTrees.typical(), SiteTrees.typicalSecure());

        SortedMap<String, Parameter> parameters = new FolderParameterSource(root).readAll("/edge/SITE-2847/");

        assertThat(parameters.values()).filteredOn(Parameter::secure).extracting(Parameter::name)
                .containsExactlyInAnyOrder("enrollment_token", "video_ingest_env/API_KEY");
        assertThat(parameters.get("video_ingest_env/API_KEY").value()).isEqualTo(SiteTrees.API_KEY);
        assertThat(parameters.toString()).doesNotContain(SiteTrees.API_KEY, SiteTrees.ENROLLMENT_TOKEN);
    }

    @Test
    void oneFinalLineBreakIsNotPartOfTheValueButOtherWhitespaceIs() throws IOException {
        Path folder = Files.createDirectories(root.resolve("edge/S"));
        Files.writeString(folder.resolve("echoed"), "value\n");
        Files.writeString(folder.resolve("windows"), "value\r\n");
        Files.writeString(folder.resolve("bare"), "value");
        Files.writeString(folder.resolve("two"), "value\n\n");
        Files.writeString(folder.resolve("spaced"), " value ");

        SortedMap<String, Parameter> parameters = new FolderParameterSource(root).readAll("/edge/S/");

        assertThat(parameters.values()).extracting(Parameter::value).containsExactly("value", "value", " value ", "value\n", "value");
    }

    @Test
    void hiddenFilesAndEditorBackupsAreNotParameters() throws IOException {
        Path folder = Files.createDirectories(root.resolve("edge/S/.git"));
        Files.writeString(folder.resolve("config"), "x");
        Files.writeString(root.resolve("edge/S/.ntp_server.swp"), "x");
        Files.writeString(root.resolve("edge/S/ntp_server~"), "x");
        Files.writeString(root.resolve("edge/S/ntp_server"), "ntp.example");

        assertThat(new FolderParameterSource(root).readAll("/edge/S/")).containsOnlyKeys("ntp_server");
    }

    @Test
    void aSiteWithoutAFolderHasNoParameters() {
        assertThat(new FolderParameterSource(root).readAll("/edge/SITE-9999/")).isEmpty();
    }

    @Test
    void aMissingRootIsUnavailable() {
        assertThatThrownBy(() -> new FolderParameterSource(root.resolve("nowhere")).readAll("/edge/S/"))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                    assertThat(e.getMessage()).contains("does not exist");
                });
    }

    @Test
    void aValueThatIsNotUtf8IsBadInput() throws IOException {
        Files.createDirectories(root.resolve("edge/S"));
        Files.write(root.resolve("edge/S/site_name"), new byte[] {'a', (byte) 0xff, 'b'});

        assertThatThrownBy(() -> new FolderParameterSource(root).readAll("/edge/S/")).isInstanceOfSatisfying(IngotException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT));
    }
}
