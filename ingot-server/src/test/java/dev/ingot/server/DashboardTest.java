package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ingot.server.TestServer.EnrolledDevice;
import dev.ingot.testing.HealthReports;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in headless Chromium (Debian's chromium and chromium-driver), driven by Selenium: sign-in, the
 * fleet overview with its chart, sites needing attention, a site, a device with its latest report, the image
 * catalog and the audit log, on a laptop's and a phone's screen. Screenshots land in target/screenshots.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardTest {
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");

    @TempDir
    static Path folder;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T10:00:00Z"));
    private TestServer server;
    private WebDriver browser;
    private String viewer;
    private EnrolledDevice unhealthy;

    @BeforeAll
    void start() throws Exception {
        browser = HeadlessChromium.start(folder);
        server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock);
        TestReleases.publish(server.store(), folder, "v1.4");
        TestReleases.publish(server.store(), folder, "v1.5");
        viewer = server.token("wall-screen", "viewer");
        java.util.List<Object[]> polls = new java.util.ArrayList<>();
        String[] statuses = {"healthy", "healthy", "healthy", "degraded", "healthy", "unhealthy", "healthy", "healthy", "healthy", "healthy"};
        for (int i = 0; i < statuses.length; i++) {
            String site = String.format("SITE-%04d", 2840 + i);
            EnrolledDevice device = server.enroll(site);
            String version = i < 3 ? "v1.5" : "v1.4";
            var report = HealthReports.report(site, device.id(), statuses[i], version, i < 3 ? "2.9.0" : "2.8.1");
            if (statuses[i].equals("unhealthy")) {
                // A device controls its report's text: the dashboard must show it as text, never run it.
                ((com.fasterxml.jackson.databind.node.ObjectNode) report.get("checks").get(0)).put("reason", "<script>document.title='pwned'</script><img src=x onerror=alert(1)>");
            }
            TestServer.require(server.poll(device, null, report), 200);
            polls.add(new Object[] {device, report});
            if (statuses[i].equals("unhealthy")) {
                unhealthy = device;
            }
        }
        EnrolledDevice quiet = server.enroll("SITE-2850");
        TestServer.require(server.poll(quiet, null, "v1.4"), 200);
        clock.advance(Duration.ofMinutes(20));
        for (Object[] poll : polls) {
            // Everyone but SITE-2850 polled again just now; it went quiet 20 minutes ago.
            TestServer.require(server.poll((EnrolledDevice) poll[0], 0L, (com.fasterxml.jackson.databind.node.ObjectNode) poll[1]), 200);
        }
        server.enroll("SITE-2851");
        server.addSite("SITE-2852");
        TestServer.require(server.post("/api/v1/sites/SITE-2840/enrollment-tokens", TestServer.ADMIN_TOKEN, Map.of()), 201);
        TestServer.require(server.post("/api/v1/devices/" + unhealthy.id() + "/desired", TestServer.ADMIN_TOKEN, Map.of("image", "v1.5")), 200);
        Files.createDirectories(SCREENSHOTS);

    }

    @AfterAll
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aViewerSignsInAndSeesTheFleetTheSitesNeedingAttentionADeviceAndTheLogs() throws Exception {
        browser.manage().window().setSize(new Dimension(1280, 900));
        browser.get(server.url() + "/ui/login");
        browser.manage().deleteAllCookies();
        browser.get(server.url() + "/ui/");
        assertThat(browser.getCurrentUrl()).endsWith("/ui/login");
        signIn("ingot_op_not-a-real-token-000000000000000000000000");
        new WebDriverWait(browser, Duration.ofSeconds(10)).until(driver -> !driver.findElements(By.cssSelector("p.error")).isEmpty());
        assertThat(browser.findElement(By.cssSelector("p.error")).getText()).contains("not a valid operator token");
        signIn(viewer);
        new WebDriverWait(browser, Duration.ofSeconds(10)).until(driver -> driver.getCurrentUrl().endsWith("/ui/"));

        assertThat(card("devices")).isEqualTo("12");
        assertThat(card("healthy")).isEqualTo("8");
        assertThat(card("degraded")).isEqualTo("1");
        assertThat(card("unhealthy")).isEqualTo("1");
        assertThat(card("offline")).isEqualTo("1");
        assertThat(card("unknown")).isEqualTo("1");
        WebElement chart = browser.findElement(By.id("versions-chart"));
        new WebDriverWait(browser, Duration.ofSeconds(10)).until(driver -> "true".equals(chart.getAttribute("data-rendered")));
        assertThat(chart.findElements(By.tagName("canvas"))).isNotEmpty();
        List<String> attention = browser.findElements(By.cssSelector("#attention tbody tr td:first-child a")).stream().map(WebElement::getText).toList();
        assertThat(attention).containsExactly("SITE-2845", "SITE-2850", "SITE-2843", "SITE-2851", "SITE-2852");
        screenshot("dashboard-fleet.png");

        browser.findElement(By.linkText("SITE-2845")).click();
        new WebDriverWait(browser, Duration.ofSeconds(10)).until(driver -> driver.findElement(By.tagName("h1")).getText().equals("Site SITE-2845"));
        browser.findElement(By.cssSelector("#devices tbody a")).click();
        new WebDriverWait(browser, Duration.ofSeconds(10))
                .until(driver -> driver.findElement(By.tagName("h1")).getText().equals("Device " + unhealthy.id()));
        String facts = browser.findElement(By.cssSelector("dl.facts")).getText();
        assertThat(facts).contains("v1.4").contains("→ v1.5 desired");
        assertThat(browser.findElements(By.cssSelector("#checks tbody tr"))).hasSizeGreaterThan(10);
        assertThat(browser.findElement(By.cssSelector("#actions")).getText()).contains("reimage").contains("pending");
        assertThat(browser.findElement(By.id("checks")).getText()).contains("<script>document.title='pwned'</script>");
        assertThat(browser.findElements(By.tagName("script"))).hasSize(2);
        assertThat(browser.findElements(By.cssSelector("#checks img"))).isEmpty();
        assertThat(browser.getTitle()).doesNotContain("pwned");
        screenshot("dashboard-device.png");

        browser.findElement(By.linkText("Images")).click();
        new WebDriverWait(browser, Duration.ofSeconds(10)).until(driver -> !driver.findElements(By.id("images")).isEmpty());
        assertThat(browser.findElement(By.id("images")).getText()).contains("v1.5").contains("v1.4");
        browser.findElement(By.linkText("Audit")).click();
        new WebDriverWait(browser, Duration.ofSeconds(10)).until(driver -> !driver.findElements(By.id("audit")).isEmpty());
        assertThat(browser.findElement(By.id("audit")).getText()).contains("device.set").contains("site.enroll").contains("admin");
        assertThat(browser.getPageSource()).doesNotContain("ingot_enr_").doesNotContain(viewer);
    }

    @Test
    void theOverviewFitsAPhoneScreenWithoutSidewaysScrolling() throws Exception {
        browser.manage().window().setSize(new Dimension(1280, 900));
        browser.get(server.url() + "/ui/login");
        browser.manage().deleteAllCookies();
        signIn(viewer);
        new WebDriverWait(browser, Duration.ofSeconds(10)).until(driver -> driver.getCurrentUrl().endsWith("/ui/"));
        browser.manage().window().setSize(new Dimension(390, 844));
        browser.get(server.url() + "/ui/");
        new WebDriverWait(browser, Duration.ofSeconds(10))
                .until(driver -> "true".equals(driver.findElement(By.id("versions-chart")).getAttribute("data-rendered")));
        JavascriptExecutor script = (JavascriptExecutor) browser;
        long pageWidth = ((Number) script.executeScript("return document.documentElement.scrollWidth")).longValue();
        long viewport = ((Number) script.executeScript("return window.innerWidth")).longValue();
        assertThat(pageWidth).as("the page is no wider than the phone's screen").isLessThanOrEqualTo(viewport);
        screenshot("dashboard-phone.png");
    }

    private void signIn(String token) {
        if (!browser.getCurrentUrl().endsWith("/ui/login")) {
            browser.get(server.url() + "/ui/login");
        }
        WebElement field = browser.findElement(By.id("token"));
        field.clear();
        field.sendKeys(token);
        browser.findElement(By.cssSelector("form.login button")).click();
    }

    private String card(String kind) {
        return browser.findElement(By.cssSelector(".card[data-kind='" + kind + "'] .value")).getText();
    }

    private void screenshot(String name) throws Exception {
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
}
