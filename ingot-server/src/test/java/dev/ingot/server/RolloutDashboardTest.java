package dev.ingot.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.server.HttpFleet.Behaviour;
import dev.ingot.server.rollout.RolloutSettings;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.Rectangle;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard's rollout view in headless Chromium: a rollout of 50 sites in progress (the canary and the 10% stage
 * passed, the 50% stage half done with one failure within --max-failures), its stages, gates and timeline, the fleet's
 * versions charted, and the page following the rollout by itself as the engine moves it on. The screenshot lands in
 * target/screenshots (docs/dashboard-rollout.png and, at a phone's width, docs/dashboard-rollout-phone.png are copies).
 */
class RolloutDashboardTest {
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");

    @TempDir
    Path folder;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T08:00:00Z"));
    private TestServer server;
    private WebDriver browser;

    @BeforeEach
    void start() throws Exception {
        browser = HeadlessChromium.start(folder);
        server = TestServer.start(TestDatabases.fresh(TestDatabases.Kind.SQLITE, folder), folder, clock, UnaryOperator.identity(), RolloutSettings.manual());
        TestReleases.publish(server.store(), folder, "v1.4");
        TestReleases.publish(server.store(), folder, "v1.5");
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (server != null) {
            server.close();
        }
    }

    private void step(HttpFleet fleet) {
        server.server().rollouts().driver().tick();
        fleet.pollAll();
        server.server().rollouts().driver().tick();
        clock.advance(Duration.ofMinutes(1));
    }

    private JsonNode status(String id) {
        return TestServer.require(server.get("/api/v1/rollouts/" + id, TestServer.ADMIN_TOKEN), 200).json();
    }

    @Test
    void aViewerWatchesARolloutInProgressMoveOnWithoutReloadingThePage() throws Exception {
        HttpFleet fleet = new HttpFleet(server).sites(50, "v1.4", "2.8.1");
        String viewer = server.token("wall-screen", "viewer");
        String id = "r-watched";

        // The link comes before the rollout (ingot demo prints it first): signing in leads back to it, and it waits for the rollout.
        browser.manage().window().setSize(new Dimension(1280, 1100));
        browser.get(server.url() + "/ui/rollouts/" + id);
        assertThat(browser.getCurrentUrl()).contains("/ui/login?next=%2Fui%2Frollouts%2F" + id);
        browser.findElement(By.id("token")).sendKeys(viewer);
        browser.findElement(By.cssSelector("form.login button")).click();
        new WebDriverWait(browser, Duration.ofSeconds(10)).until(driver -> driver.getCurrentUrl().endsWith("/ui/rollouts/" + id));
        assertThat(browser.findElement(By.id("rollout")).getText()).contains("No rollout " + id + " yet");

        TestServer.require(server.post("/api/v1/rollouts", TestServer.ADMIN_TOKEN, Map.of("id", id, "track", "reimage", "version", "v1.5",
                "soak", "10m", "max_failures", "2", "gates", List.of("health"))), 201);
        new WebDriverWait(browser, Duration.ofSeconds(15)).until(driver -> !driver.findElements(By.cssSelector("#stages tbody tr[data-stage]")).isEmpty());
        List<String> third = new ArrayList<>();
        status(id).path("stages").get(2).path("sites").forEach(site -> third.add(site.asText()));
        fleet.device(third.get(3)).on("reimage", Behaviour.FAIL);
        for (int round = 0; round < 60 && status(id).path("current_stage").asInt() < 3; round++) {
            step(fleet);
        }
        server.server().rollouts().driver().tick();
        // Half of the 50% stage has done its work; the other half has not polled yet.
        for (String site : third.subList(0, third.size() / 2)) {
            fleet.device(site).poll();
        }
        server.server().rollouts().driver().tick();
        JsonNode inProgress = status(id);
        assertThat(inProgress.path("current_stage").asInt()).isEqualTo(3);
        assertThat(inProgress.path("stages").get(2).path("counts").path("in_progress").asInt()).isPositive();

        browser.findElement(By.linkText("Rollouts")).click();
        new WebDriverWait(browser, Duration.ofSeconds(10)).until(driver -> !driver.findElements(By.id("rollouts")).isEmpty());
        assertThat(browser.findElement(By.id("rollouts")).getText()).contains(id).contains("v1.5").contains("running").contains("3 of 4");
        browser.findElement(By.linkText(id)).click();
        new WebDriverWait(browser, Duration.ofSeconds(10)).until(driver -> driver.findElement(By.tagName("h1")).getText().equals("Rollout " + id));

        List<WebElement> stages = browser.findElements(By.cssSelector("#stages tbody tr[data-stage]"));
        assertThat(stages).hasSize(4);
        assertThat(stages.get(0).getText()).contains("passed").contains("1 succeeded").contains("pass");
        assertThat(stages.get(1).getText()).contains("passed").contains("5 succeeded");
        assertThat(stages.get(2).getText()).contains("waiting").contains("1 failed").contains("in progress");
        assertThat(stages.get(3).getText()).contains("pending");
        assertThat(browser.findElement(By.cssSelector("#stages tr.failure")).getText()).contains("the payload did not verify");
        assertThat(browser.findElements(By.cssSelector("#stages svg.bar rect.succeeded"))).hasSizeGreaterThanOrEqualTo(3);
        WebElement chart = browser.findElement(By.id("fleet-chart"));
        new WebDriverWait(browser, Duration.ofSeconds(10)).until(driver -> "true".equals(chart.getAttribute("data-rendered")));
        assertThat(browser.findElement(By.id("timeline")).getText()).contains("stage-passed").contains("device-failed").contains("stage-started");
        // The whole page in one picture: the window as tall as the page (plus the browser's own frame).
        JavascriptExecutor page = (JavascriptExecutor) browser;
        long height = ((Number) page.executeScript("return document.documentElement.scrollHeight")).longValue();
        long frame = ((Number) page.executeScript("return window.outerHeight - window.innerHeight")).longValue();
        browser.manage().window().setSize(new Dimension(1280, (int) Math.min(4000, height + frame)));
        screenshot("dashboard-rollout.png");

        // The engine moves on; the open page follows by itself.
        for (String site : third) {
            fleet.device(site).poll();
        }
        for (int round = 0; round < 12; round++) {
            step(fleet);
        }
        assertThat(status(id).path("stages").get(2).path("state").asText()).isEqualTo("passed");
        new WebDriverWait(browser, Duration.ofSeconds(15)).until(driver ->
                driver.findElement(By.cssSelector("#stages tbody tr[data-stage='3']")).getText().contains("passed"));
        assertThat(browser.findElement(By.id("timeline")).getText()).contains("within --max-failures 2").doesNotContain("halted");
        new WebDriverWait(browser, Duration.ofSeconds(10)).until(driver -> "true".equals(driver.findElement(By.id("fleet-chart")).getAttribute("data-rendered")));

        browser.manage().window().setSize(new Dimension(390, 844));
        JavascriptExecutor script = (JavascriptExecutor) browser;
        long pageWidth = ((Number) script.executeScript("return document.documentElement.scrollWidth")).longValue();
        long viewport = ((Number) script.executeScript("return window.innerWidth")).longValue();
        assertThat(pageWidth).as("the rollout page is no wider than a phone's screen").isLessThanOrEqualTo(viewport);
        for (String cell : List.of("#stages tbody tr[data-stage='1'] td[data-label='Gates']", "#stages tr.failure td:last-child",
                "#timeline tbody tr:first-child td:last-child")) {
            Rectangle box = browser.findElement(By.cssSelector(cell)).getRect();
            assertThat((long) box.getX() + box.getWidth()).as("%s is on the phone's screen, not scrolled off to the side", cell).isLessThanOrEqualTo(viewport);
        }
        long phoneHeight = ((Number) script.executeScript("return document.documentElement.scrollHeight")).longValue();
        long phoneFrame = ((Number) script.executeScript("return window.outerHeight - window.innerHeight")).longValue();
        browser.manage().window().setSize(new Dimension(390, (int) Math.min(4000, phoneHeight + phoneFrame)));
        screenshot("dashboard-rollout-phone.png");
        assertThat(browser.getPageSource()).doesNotContain(viewer);
    }

    private void screenshot(String name) throws Exception {
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
}
