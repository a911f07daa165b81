package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.server.fleet.ReportText;
import dev.ingot.testing.HealthReports;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** A report's stored form: compressed to about half, read back to the very JSON the device sent, old plain rows read as they are. */
class ReportTextTest {
    @Test
    void aReportIsStoredAtAboutHalfItsSizeAndReadBackByteForByte() {
        String json = HealthReports.compact(HealthReports.report("SITE-2847", "3d1219c7c4c5404aaa1f6d2a48adfda4", "healthy", "v1.4", "2.8.1"));
        String stored = ReportText.store(json);
        assertThat(stored).startsWith("zstd1:");
        assertThat(stored.length()).isLessThan(json.length() * 2 / 3);
        assertThat(ReportText.read(stored)).isEqualTo(json);
        String unicode = "{\"reason\":\"caméra 3 ne répond pas — ✗\"}";
        assertThat(ReportText.read(ReportText.store(unicode))).isEqualTo(unicode);
    }

    @Test
    void aReportStoredAsPlainJsonBeforeThisFormatIsReadAsItIs() {
        assertThat(ReportText.read("{\"status\":\"healthy\"}")).isEqualTo("{\"status\":\"healthy\"}");
    }

    @Test
    void manyPollersCompressingAtOnceEachGetTheirOwnReportBack() throws Exception {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 2_000; i++) {
                String json = "{\"device\":" + i + ",\"padding\":\"" + "x".repeat(i % 500) + "\"}";
                results.add(pool.submit(() -> ReportText.read(ReportText.store(json)).equals(json)));
            }
            for (Future<Boolean> result : results) {
                assertThat(result.get()).isTrue();
            }
        }
    }

    @Test
    void aStoredTextThatIsNoFrameTheServerWroteIsRefusedNotMisread() {
        assertThatThrownBy(() -> ReportText.read("zstd1:bm90IGEgZnJhbWU=")).isInstanceOf(RuntimeException.class);
    }
}
