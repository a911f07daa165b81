package dev.ingot.health;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class HealthConfigTest {
    private static HealthConfig parse(String json) {
        return HealthConfig.parse(json.getBytes(UTF_8), "health.json");
    }

    @Test
    void anEmptyObjectIsTheDefaults() {
        assertThat(parse("{}")).isEqualTo(HealthConfig.DEFAULTS);
    }

    @Test
    void aKeyGivenReplacesItsDefaultAndTheRestStay() {
        HealthConfig config = parse("""
                {"schema_version": 1, "probe_timeout_ms": 800, "gpu": {"temperature_warn_c": 75},
                 "cameras": {"addresses": ["10.0.0.5", "10.0.0.6:8554"], "parallelism": 4}, "usb_cache": {"dir": "/mnt/usb/ingot"}}
                """);

        assertThat(config.probeTimeout()).isEqualTo(Duration.ofMillis(800));
        assertThat(config.gpu()).isEqualTo(new HealthConfig.Gpu(1, 75, 90, 95));
        assertThat(config.cameras().addresses()).isEqualTo(List.of("10.0.0.5", "10.0.0.6:8554"));
        assertThat(config.cameras().parallelism()).isEqualTo(4);
        assertThat(config.cameras().connectTimeout()).isEqualTo(HealthConfig.DEFAULTS.cameras().connectTimeout());
        assertThat(config.usbCache()).isEqualTo(new HealthConfig.UsbCache("/mnt/usb/ingot", 1));
        assertThat(config.clock()).isEqualTo(HealthConfig.DEFAULTS.clock());
    }

    @Test
    void anUnknownKeyIsRefusedSoATypoNeverKeepsADefaultSilently() {
        assertThatThrownBy(() -> parse("{\"gpu\": {\"temprature_warn_c\": 70}, \"colour\": 1}"))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT);
                    assertThat(e.getMessage()).isEqualTo("Tried to read the health config health.json but failed because it has unknown keys: "
                            + "colour, gpu.temprature_warn_c");
                    assertThat(e.hint()).hasValue("see docs/health-report.md for its keys; leave a key out to keep its default");
                });
    }

    @Test
    void valuesOutOfRangeOrInTheWrongOrderAreRefused() {
        assertThatThrownBy(() -> parse("{\"disk\": {\"used_warn_percent\": 120}}")).hasMessageEndingWith(
                "disk.used_warn_percent is 120, not a whole number from 0 to 100");
        assertThatThrownBy(() -> parse("{\"gpu\": {\"temperature_warn_c\": 95}}")).hasMessageEndingWith(
                "gpu.temperature_warn_c is above gpu.temperature_fail_c");
        assertThatThrownBy(() -> parse("{\"probe_timeout_ms\": \"fast\"}")).hasMessageEndingWith(
                "probe_timeout_ms is \"fast\", not a whole number from 100 to 60000");
        assertThatThrownBy(() -> parse("[]")).hasMessageEndingWith("it is not a JSON object");
        assertThatThrownBy(() -> parse("{\"schema_version\": 2}")).hasMessageEndingWith("its schema_version is 2; this Ingot reads 1");
    }
}
