package dev.ingot.cli;

import dev.ingot.imagetest.CheckResult;
import dev.ingot.imagetest.DirectoryTree;
import dev.ingot.imagetest.Expectations;
import dev.ingot.imagetest.ImageChecks;
import dev.ingot.imagetest.ImageTestReport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * {@code ingot image test --live}: the file checks on a running host's root (the secret scan is left to the offline
 * test, where the image is still the build's), plus what only a booted device shows: Docker answers, nvidia-smi sees
 * the GPU, a container sees it through the default runtime, and {@code sshd -T} (the settings sshd really uses).
 * With {@code --ssh USER@HOST} the commands run there through ssh and sudo, and the files are read with sudo cat.
 */
final class LiveImageTest {
    private LiveImageTest() {}

    static ImageTestReport run(CliContext context, Expectations expected, Optional<String> ssh) throws IOException {
        List<CheckResult> results = new ArrayList<>();
        String subject = ssh.orElse("this host");
        DirectoryTree tree;
        Path work = null;
        if (ssh.isPresent()) {
            // Copies the few files the checks read; the host needs passwordless sudo for edgeuser (the image grants it).
            work = Files.createTempDirectory("ingot-live");
            for (String file : List.of("/etc/passwd", "/etc/shadow", "/etc/ssh/sshd_config", "/var/lib/dpkg/status", "/etc/docker/daemon.json",
                    "/etc/edge/image-version")) {
                Outcome outcome = command(context, ssh, List.of("sudo", "cat", file));
                if (outcome.exit() == 0) {
                    Path target = work.resolve(file.substring(1));
                    Files.createDirectories(target.getParent());
                    Files.writeString(target, outcome.output());
                }
            }
            tree = new DirectoryTree(work, subject);
        } else {
            tree = new DirectoryTree(Path.of("/"), subject);
        }
        try {
            results.add(ImageChecks.accounts(tree));
            results.add(ImageChecks.packages(tree, expected));
            results.add(ImageChecks.dockerRuntime(tree));
            results.add(ImageChecks.imageVersion(tree, expected));
            if (ssh.isEmpty()) {
                results.add(ImageChecks.sshHardening(tree));
                results.add(ImageChecks.unattendedUpgrades(tree));
                results.add(ImageChecks.noSiteConfig(tree));
            }
        } finally {
            if (work != null) {
                ImageBuildCommands.deleteTree(work);
            }
        }
        results.add(probe(context, ssh, "docker-starts", "docker info answers", List.of("sudo", "docker", "info", "--format",
                "{{.DefaultRuntime}}"), "nvidia"));
        results.add(probe(context, ssh, "nvidia-smi", "nvidia-smi lists the GPU", List.of("nvidia-smi", "-L"), "GPU 0"));
        results.add(probe(context, ssh, "container-gpu", "a docker run --rm container sees the GPU", List.of("sudo", "docker", "run",
                "--rm", "--gpus", "all", "ubuntu:22.04", "nvidia-smi", "-L"), "GPU 0"));
        Outcome sshd = command(context, ssh, List.of("sudo", "sshd", "-T"));
        List<String> findings = new ArrayList<>();
        if (sshd.exit() != 0) {
            findings.add("sshd -T failed (exit " + sshd.exit() + "): " + firstLine(sshd.output()));
        } else {
            for (String wanted : List.of("permitrootlogin no", "passwordauthentication no", "kbdinteractiveauthentication no")) {
                if (sshd.output().lines().noneMatch(line -> line.strip().equalsIgnoreCase(wanted))) {
                    findings.add("sshd -T does not show '" + wanted + "'");
                }
            }
        }
        results.add(new CheckResult("sshd-effective", "sshd -T: permitrootlogin, passwordauthentication, kbdinteractiveauthentication no",
                findings));
        return new ImageTestReport(subject, results);
    }

    private static CheckResult probe(CliContext context, Optional<String> ssh, String name, String detail, List<String> command,
            String expected) {
        Outcome outcome = command(context, ssh, command);
        if (outcome.exit() != 0) {
            return new CheckResult(name, detail, List.of(String.join(" ", command) + " failed (exit " + outcome.exit() + "): "
                    + firstLine(outcome.output())));
        }
        if (!outcome.output().contains(expected)) {
            return new CheckResult(name, detail, List.of(String.join(" ", command) + " printed no '" + expected + "': "
                    + firstLine(outcome.output())));
        }
        return new CheckResult(name, detail, List.of());
    }

    record Outcome(int exit, String output) {}

    private static Outcome command(CliContext context, Optional<String> ssh, List<String> command) {
        List<String> full = new ArrayList<>();
        if (ssh.isPresent()) {
            full.addAll(List.of("ssh", "-o", "BatchMode=yes", ssh.get(), "--"));
            full.addAll(command.stream().map(part -> "'" + part.replace("'", "'\\''") + "'").toList());
        } else {
            full.addAll(command);
        }
        try {
            ProcessBuilder builder = new ProcessBuilder(full).redirectErrorStream(true);
            builder.environment().putAll(ImageBuildCommands.toolEnvironment(context));
            Process process = builder.start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(5, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                return new Outcome(124, "timed out after 5 minutes");
            }
            return new Outcome(process.exitValue(), output);
        } catch (IOException e) {
            return new Outcome(127, full.getFirst() + " could not be started: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(130, "interrupted");
        }
    }

    private static String firstLine(String output) {
        return output.strip().lines().findFirst().orElse("(no output)");
    }
}
