package dev.ingot.cli;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.ToolRunner;
import dev.ingot.imagetest.CheckResult;
import dev.ingot.imagetest.DirectoryTree;
import dev.ingot.imagetest.Expectations;
import dev.ingot.imagetest.ImageChecks;
import dev.ingot.imagetest.ImageTestReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code ingot image test --live}: the file checks on a running host's root (the secret scan is left to the offline
 * test, where the image is still the build's), plus what only a booted device shows: Docker answers, nvidia-smi sees
 * the GPU, a container sees it through the default runtime, {@code sshd -T} (the settings sshd really uses), systemd
 * has the image's own units enabled, and the ingot launcher runs.
 * With {@code --ssh USER@HOST} the commands run there through ssh and sudo, and the files are read with sudo cat.
 */
final class LiveImageTest {
    /** A docker run may pull an image first; nothing else takes more than seconds. */
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(5);
    /** What ssh(1) exits with when it fails itself (cannot connect, authentication refused), as opposed to the remote command. */
    private static final int SSH_FAILED = 255;

    private LiveImageTest() {}

    static ImageTestReport run(CliContext context, Expectations expected, Optional<String> ssh) throws IOException {
        List<CheckResult> results = new ArrayList<>();
        String subject = ssh.orElse("this host");
        DirectoryTree tree;
        Path work = null;
        if (ssh.isPresent()) {
            Outcome reached = command(context, ssh, List.of("true"));
            if (reached.exit() == SSH_FAILED || reached.exit() == 127) {
                throw IngotException.tried(ErrorCode.UNAVAILABLE, "test " + ssh.get() + " live", "ssh could not reach it: "
                        + firstLine(reached.output())).withHint("check that ssh -o BatchMode=yes " + ssh.get() + " true works (keys, host, network)");
            }
            // Copies the few files the checks read; the host needs passwordless sudo for edgeuser (the image grants it).
            work = Files.createTempDirectory("ingot-live");
            for (String file : List.of("/etc/passwd", "/etc/shadow", "/etc/ssh/sshd_config", "/var/lib/dpkg/status", "/etc/docker/daemon.json",
                    "/etc/edge/image-version")) {
                Outcome outcome = command(context, ssh, List.of("sudo", "cat", file));
                if (outcome.exit() == 0) {
                    Path target = work.resolve(file.substring(1));
                    Files.createDirectories(target.getParent());
                    Files.writeString(target, outcome.stdout());
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
                results.add(ImageChecks.units(tree));
                results.add(ImageChecks.launcher(tree));
                results.add(ImageChecks.fstab(tree));
                results.add(ImageChecks.bootLoaderHeld(tree));
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
        results.add(unitsEnabled(context, ssh));
        results.add(probe(context, ssh, "launcher-runs", ImageChecks.LAUNCHER + " --version runs the bundled Java and jar",
                List.of("sudo", ImageChecks.LAUNCHER, "--version"), "ingot "));
        return new ImageTestReport(subject, results);
    }

    /** systemctl is-enabled prints one state per unit, in the order asked; every one of the image's enabled units must say enabled. */
    private static CheckResult unitsEnabled(CliContext context, Optional<String> ssh) {
        List<String> units = ImageChecks.UNITS.stream().filter(unit -> unit.wantedBy().isPresent()).map(ImageChecks.ExpectedUnit::name).toList();
        List<String> command = new ArrayList<>(List.of("systemctl", "is-enabled"));
        command.addAll(units);
        Outcome outcome = command(context, ssh, command);
        List<String> states = outcome.output().strip().lines().map(String::strip).toList();
        List<String> findings = new ArrayList<>();
        if (states.size() != units.size()) {
            findings.add(String.join(" ", command) + " failed (exit " + outcome.exit() + "): " + firstLine(outcome.output()));
        } else {
            for (int i = 0; i < units.size(); i++) {
                if (!states.get(i).equals("enabled")) {
                    findings.add(units.get(i) + " is " + states.get(i) + ", not enabled");
                }
            }
        }
        return new CheckResult("units-enabled", "systemctl is-enabled " + String.join(" ", units) + ": enabled", findings);
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

    /** How a command ended: its exit code (127 not found, 124 timed out, 126 could not start), what it printed. */
    record Outcome(int exit, String stdout, String stderr) {
        String output() {
            return stdout + stderr;
        }
    }

    /** A command on this host, or on the --ssh host through ssh (the remote shell parses the quoted words back). */
    private static Outcome command(CliContext context, Optional<String> ssh, List<String> command) {
        List<String> full = new ArrayList<>();
        if (ssh.isPresent()) {
            full.addAll(List.of("ssh", "-o", "BatchMode=yes", ssh.get(), "--"));
            full.addAll(command.stream().map(part -> "'" + part.replace("'", "'\\''") + "'").toList());
        } else {
            full.addAll(command);
        }
        ToolRunner.Outcome outcome = new ToolRunner(ImageBuildCommands.toolEnvironment(context))
                .run(COMMAND_TIMEOUT, full.getFirst(), full.subList(1, full.size()));
        return switch (outcome) {
            case ToolRunner.Outcome.Exited exited -> new Outcome(exited.exitCode(), exited.stdout(), exited.stderr());
            case ToolRunner.Outcome.NotFound notFound -> new Outcome(127, "", notFound.tool() + " is not installed (not on PATH "
                    + notFound.path() + ")");
            case ToolRunner.Outcome.TimedOut timedOut -> new Outcome(124, timedOut.stdout(), "it did not finish in "
                    + timedOut.timeout().toMinutes() + " minutes and was killed");
            case ToolRunner.Outcome.FailedToStart failed -> new Outcome(126, "", failed.reason());
        };
    }

    private static String firstLine(String output) {
        return output.strip().lines().findFirst().orElse("(no output)");
    }
}
