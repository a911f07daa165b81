package dev.ingot.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.imagebuild.VersionsFile;
import dev.ingot.imagetest.BootDisk;
import dev.ingot.imagetest.CheckResult;
import dev.ingot.imagetest.DirectoryTree;
import dev.ingot.imagetest.Expectations;
import dev.ingot.imagetest.Ext4Partition;
import dev.ingot.imagetest.ImageChecks;
import dev.ingot.imagetest.ImageTestReport;
import dev.ingot.provision.UnifiedDiff;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ingot image build|test|bump}: making the golden image and proving it (packer/README.md, docs/image-test.md). */
final class ImageBuildCommands {
    private ImageBuildCommands() {}

    @Command(name = "test",
            description = {"Check a golden image offline: reads the ext4 root-a partition inside the raw disk image with",
                "debugfs (no root, no mount) and checks sshd hardening, accounts, pinned packages, Docker's nvidia runtime,",
                "/etc/edge/image-version, unattended-upgrades, that no site file is baked in, that its own units are installed",
                "and enabled and the ingot launcher's runtime is there, and scans every file for secrets. With --live, checks",
                "this host (or --ssh USER@HOST) instead, with Docker, the GPU, sshd, systemd and the launcher probed.",
                "Exits 1 when any check fails."},
            footer = {"", "Examples:", "  ingot image test packer/output/edge-golden-v1.5.img --version v1.5 --junit reports/image-test.xml",
                "  ingot image test --live --ssh edgeuser@10.20.0.5"})
    static final class Test extends BaseCommand {
        @Parameters(index = "0", arity = "0..1", paramLabel = "IMAGE", description = "The raw disk image (GPT: esp, root-a, root-b, data).")
        Path image;

        @Option(names = "--version", paramLabel = "VERSION", description = "The expected IMAGE_VERSION (else any valid version).")
        String version;

        @Option(names = "--build-date", paramLabel = "INSTANT", description = "The expected BUILD_DATE (else any ISO-8601 instant).")
        String buildDate;

        @Mixin
        ImageCommand.NameOption name = new ImageCommand.NameOption();

        @Option(names = "--versions", paramLabel = "FILE", description = "The pinned versions. Default: " + VersionsFile.DEFAULT_PATH + ".")
        Path versions;

        @Option(names = "--partition", paramLabel = "NAME", defaultValue = "root-a", description = "The GPT partition to check. Default: ${DEFAULT-VALUE}.")
        String partition;

        @Option(names = "--junit", paramLabel = "FILE", description = "Also write the results as JUnit XML, one testcase per check.")
        Path junit;

        @Option(names = "--live", description = "Check a running host instead of an image: this one, or --ssh's.")
        boolean live;

        @Option(names = "--ssh", paramLabel = "USER@HOST", description = "With --live: run the checks over ssh (sudo on the host).")
        String ssh;

        Test(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() throws IOException {
            if (ssh != null && !live) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "test " + (image == null ? "an image" : image), "--ssh applies to --live only")
                        .withHint("ingot image test --live --ssh edgeuser@10.20.0.5");
            }
            if (live && image != null) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "test " + image + " and a live host", "--live checks a running host, not an image")
                        .withHint("leave out IMAGE with --live, or --live without IMAGE");
            }
            Expectations expected = expectations(context, name.value(), Optional.ofNullable(version).map(ImageVersion::parse),
                    Optional.ofNullable(buildDate).map(ImageCommand::parseInstant), versions);
            ImageTestReport report;
            if (live) {
                report = LiveImageTest.run(context, expected, Optional.ofNullable(ssh));
            } else {
                if (image == null) {
                    throw IngotException.tried(ErrorCode.BAD_INPUT, "test an image", "no IMAGE was given")
                            .withHint("ingot image test edge-golden.img, or --live for a running host");
                }
                report = testImage(context, context.resolve(image), partition, expected);
            }
            return finish(this, report, junit);
        }
    }

    static ImageTestReport testImage(CliContext context, Path image, String partition, Expectations expected) throws IOException {
        if (!Files.isRegularFile(image)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "test " + image, "it is not a file").withHint("pass the raw .img Packer wrote");
        }
        Path work = Files.createTempDirectory("ingot-image-test");
        try {
            DirectoryTree tree = Ext4Partition.dump(image, partition, work.resolve("root"), toolEnvironment(context));
            return new ImageTestReport(tree.describe(), ImageChecks.run(tree, BootDisk.read(image, toolEnvironment(context)), expected));
        } finally {
            deleteTree(work);
        }
    }

    static int finish(BaseCommand command, ImageTestReport report, Path junit) throws IOException {
        if (junit != null) {
            Path target = command.context.resolve(junit);
            if (target.getParent() != null) {
                Files.createDirectories(target.getParent());
            }
            Files.writeString(target, report.junitXml(), StandardCharsets.UTF_8);
        }
        command.emit(report.table(), reportJson(report));
        return report.ok() ? 0 : ErrorCode.CHECK_FAILED.exitCode();
    }

    static ObjectNode reportJson(ImageTestReport report) {
        ObjectNode json = Ingot.JSON.createObjectNode();
        json.put("subject", report.subject());
        json.put("ok", report.ok());
        ArrayNode checks = json.putArray("checks");
        for (CheckResult result : report.results()) {
            ObjectNode node = checks.addObject();
            node.put("name", result.name());
            node.put("ok", result.ok());
            node.put("detail", result.detail());
            ArrayNode findings = node.putArray("findings");
            result.findings().forEach(findings::add);
        }
        return json;
    }

    static Expectations expectations(CliContext context, ImageName name, Optional<ImageVersion> version, Optional<Instant> buildDate,
            Path versionsOption) {
        Path file = context.resolve(versionsOption != null ? versionsOption : Path.of(VersionsFile.DEFAULT_PATH));
        VersionsFile pinned = readVersions(file);
        return new Expectations(name, version, buildDate, pinned.packages(), file.getFileName().toString());
    }

    static VersionsFile readVersions(Path file) {
        try {
            return VersionsFile.parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the pinned versions " + file, "it cannot be read (" + e.getMessage() + ")")
                    .withHint("run from the checkout's top folder or pass --versions packer/versions.pkrvars.hcl");
        }
    }

    /** PATH with the sbin folders, where debugfs and mkfs live on Debian, for users whose PATH lacks them. */
    static Map<String, String> toolEnvironment(CliContext context) {
        return Map.of("PATH", context.environment().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin");
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    @Command(name = "bump",
            description = {"Change pinned versions in packer/versions.pkrvars.hcl: only the named values, in place (comments",
                "and order kept), each checked first; prints the diff. Nothing changes when any value is invalid."},
            footer = {"", "Example:", "  ingot image bump --docker-ce 5:27.4.0-1~ubuntu.22.04~jammy --containerd 1.7.24-1 \\",
                "      --iso-sha256 9bc6028870aef3f74f4e16b900008179e78b130e6b0b9a140635434a46aa98b0"})
    static final class Bump extends BaseCommand {
        @Option(names = "--file", paramLabel = "FILE", description = "The vars file. Default: " + VersionsFile.DEFAULT_PATH + ".")
        Path file;

        @Option(names = "--iso-url", paramLabel = "URL", description = "The Ubuntu 22.04 live server ISO.")
        String isoUrl;

        @Option(names = "--iso-sha256", paramLabel = "HEX", description = "Its SHA-256 (from the release's SHA256SUMS).")
        String isoSha256;

        @Option(names = "--docker-ce", paramLabel = "VERSION", description = "docker-ce and docker-ce-cli apt version.")
        String dockerCe;

        @Option(names = "--containerd", paramLabel = "VERSION", description = "containerd.io apt version.")
        String containerd;

        @Option(names = "--nvidia-driver", paramLabel = "VERSION", description = "nvidia-driver-535 apt version.")
        String nvidiaDriver;

        @Option(names = "--container-toolkit", paramLabel = "VERSION", description = "nvidia-container-toolkit apt version.")
        String containerToolkit;

        @Option(names = "--jre", paramLabel = "VERSION", description = "The agent's Java runtime (JDK version for jlink), e.g. 25.0.1+8.")
        String jre;

        Bump(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() throws IOException {
            Map<VersionsFile.Key, String> changes = new EnumMap<>(VersionsFile.Key.class);
            putIfGiven(changes, VersionsFile.Key.ISO_URL, isoUrl);
            putIfGiven(changes, VersionsFile.Key.ISO_SHA256, isoSha256);
            putIfGiven(changes, VersionsFile.Key.DOCKER_CE, dockerCe);
            putIfGiven(changes, VersionsFile.Key.CONTAINERD, containerd);
            putIfGiven(changes, VersionsFile.Key.NVIDIA_DRIVER, nvidiaDriver);
            putIfGiven(changes, VersionsFile.Key.CONTAINER_TOOLKIT, containerToolkit);
            putIfGiven(changes, VersionsFile.Key.JRE, jre);
            if (changes.isEmpty()) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "bump the pinned versions", "no value was given")
                        .withHint("name at least one, e.g. --docker-ce 5:27.4.0-1~ubuntu.22.04~jammy");
            }
            Path target = context.resolve(file != null ? file : Path.of(VersionsFile.DEFAULT_PATH));
            VersionsFile current = readVersions(target);
            VersionsFile bumped = current.with(changes);
            String diff = UnifiedDiff.of(new UnifiedDiff.Side("a/" + target.getFileName(), current.text(), UnaryOperator.identity()),
                    new UnifiedDiff.Side("b/" + target.getFileName(), bumped.text(), UnaryOperator.identity()));
            if (!diff.isEmpty()) {
                Path temporary = target.resolveSibling("." + target.getFileName() + ".ingot-new~");
                Files.writeString(temporary, bumped.text(), StandardCharsets.UTF_8);
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            ObjectNode json = Ingot.JSON.createObjectNode();
            json.put("file", target.toString());
            json.put("changed", !diff.isEmpty());
            json.put("diff", diff);
            ObjectNode values = json.putObject("values");
            for (VersionsFile.Key key : VersionsFile.Key.values()) {
                values.put(key.variable(), bumped.value(key));
            }
            emit(diff.isEmpty() ? "No change: " + target + " already pins these values." : diff, json);
            return 0;
        }

        private static void putIfGiven(Map<VersionsFile.Key, String> changes, VersionsFile.Key key, String value) {
            if (value != null) {
                changes.put(key, value);
            }
        }
    }

    @Command(name = "build",
            description = {"Build the golden image with Packer (packer build on packer/edge-golden.pkr.hcl with the pinned",
                "versions), then test it (as ingot image test), then, with --publish, publish it recording the",
                "template's git commit and the pinned versions in the manifest."},
            footer = {"", "Example:", "  ingot image build --version v1.5 --publish --store s3://artifacts/prod --key keys/signing-key.asc"})
    static final class Build extends BaseCommand {
        @Option(names = "--version", required = true, paramLabel = "VERSION", description = "The release version, e.g. v1.5.")
        String version;

        @Option(names = "--template", paramLabel = "DIR", defaultValue = "packer", description = "The Packer folder. Default: ${DEFAULT-VALUE}.")
        Path template;

        @Option(names = "--output", paramLabel = "DIR", description = "Packer's output folder. Default: TEMPLATE/output/VERSION.")
        Path output;

        @Option(names = "--publish", description = "Publish the tested image (needs --key).")
        boolean publish;

        @Mixin
        StoreOptions store = new StoreOptions();

        @Mixin
        ImageCommand.NameOption name = new ImageCommand.NameOption();

        @Option(names = "--key", paramLabel = "FILE", description = "With --publish: the armored secret signing key.")
        Path key;

        @Option(names = "--passphrase-file", paramLabel = "FILE",
                description = "With --publish: the key's passphrase is the first line of FILE (else INGOT_KEY_PASSPHRASE).")
        Path passphraseFile;

        @Option(names = "--junit", paramLabel = "FILE", description = "Also write the image test's results as JUnit XML.")
        Path junit;

        Build(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() throws IOException {
            ImageVersion imageVersion = ImageVersion.parse(version);
            if (publish && key == null) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "build and publish " + imageVersion, "--publish needs --key")
                        .withHint("add --key keys/signing-key.asc");
            }
            Path templateDir = context.resolve(template);
            Path versionsPath = templateDir.resolve("versions.pkrvars.hcl");
            VersionsFile pinned = readVersions(versionsPath);
            Path packer = findOnPath(context, "packer").orElseThrow(() -> IngotException.tried(ErrorCode.UNAVAILABLE,
                    "build " + name.value() + " " + imageVersion, "packer is not installed (not on PATH)")
                    .withHint("apt-get install packer (Debian's 1.6.6 works), or download Packer from hashicorp.com"));
            Instant buildDate = context.clock().instant().truncatedTo(ChronoUnit.SECONDS);
            Path outputDir = output != null ? context.resolve(output) : templateDir.resolve("output").resolve(imageVersion.toString());
            List<String> command = new ArrayList<>(List.of(packer.toString(), "build", "-var-file=versions.pkrvars.hcl",
                    "-var", "version=" + imageVersion, "-var", "build_date=" + buildDate, "-var", "image_name=" + name.value(),
                    "-var", "output_directory=" + outputDir, "."));
            int exit = run(command, templateDir, context);
            if (exit != 0) {
                throw IngotException.tried(ErrorCode.CHECK_FAILED, "build " + name.value() + " " + imageVersion, "packer build exited " + exit)
                        .withHint("its output above names the failing step");
            }
            Path image = outputDir.resolve(name.value() + "-" + imageVersion + ".img");
            Expectations expected = new Expectations(name.value(), Optional.of(imageVersion), Optional.of(buildDate), pinned.packages(),
                    versionsPath.getFileName().toString());
            ImageTestReport report = testImage(context, image, "root-a", expected);
            if (!report.ok() || !publish) {
                return finish(this, report, junit);
            }
            if (junit != null) {
                Files.writeString(context.resolve(junit), report.junitXml(), StandardCharsets.UTF_8);
            }
            List<String> publishArgs = new ArrayList<>(List.of("image", "publish", image.toString(), "--version", imageVersion.toString(),
                    "--name", name.value().value(), "--key", context.resolve(key).toString(), "--build-date", buildDate.toString(),
                    "--store", store.store));
            if (store.endpoint != null) {
                publishArgs.addAll(List.of("--endpoint-url", store.endpoint.toString()));
            }
            if (passphraseFile != null) {
                publishArgs.addAll(List.of("--passphrase-file", context.resolve(passphraseFile).toString()));
            }
            gitCommit(templateDir, context).ifPresent(commit -> publishArgs.addAll(List.of("--source-commit", commit)));
            pinned.manifestPackages().forEach((pkg, pinnedVersion) -> publishArgs.addAll(List.of("--package", pkg + "=" + pinnedVersion)));
            if (json()) {
                publishArgs.add("--json");
            } else {
                context.out().print(report.table());
            }
            return Ingot.newCommandLine(context).execute(publishArgs.toArray(String[]::new));
        }
    }

    static Optional<Path> findOnPath(CliContext context, String tool) {
        for (String folder : context.environment().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path candidate = Path.of(folder.isEmpty() ? "." : folder, tool);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** Runs a tool with its output passed through to ours (Packer's progress is for people to read). */
    static int run(List<String> command, Path directory, CliContext context) {
        try {
            ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true);
            builder.environment().putAll(context.environment());
            Process process = builder.start();
            process.getOutputStream().close();
            try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    context.err().println(line);
                }
            }
            context.err().flush();
            process.waitFor(12, TimeUnit.HOURS);
            return process.exitValue();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.getFirst(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "run " + command.getFirst(), "it was interrupted");
        }
    }

    /** The template's commit, or empty when it is not in a git checkout (the manifest then records none). */
    static Optional<String> gitCommit(Path directory, CliContext context) {
        Optional<Path> git = findOnPath(context, "git");
        if (git.isEmpty()) {
            return Optional.empty();
        }
        try {
            Process process = new ProcessBuilder(git.get().toString(), "-C", directory.toString(), "rev-parse", "HEAD")
                    .redirectErrorStream(false).start();
            process.getOutputStream().close();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            process.getErrorStream().readAllBytes();
            return process.waitFor() == 0 && out.matches("[0-9a-f]{40}") ? Optional.of(out) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
