package dev.ingot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.Catalog;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageScanner;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.KnownGood;
import dev.ingot.image.Manifest;
import dev.ingot.image.ManifestJson;
import dev.ingot.image.Publisher;
import dev.ingot.image.ReleaseFiles;
import dev.ingot.image.ReleaseVerifier;
import dev.ingot.image.Pull;
import dev.ingot.sign.Keyring;
import dev.ingot.sign.Passphrase;
import dev.ingot.sign.SigningKey;
import dev.ingot.store.ArtifactStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "image", mixinStandardHelpOptions = true,
        description = "Golden images: build, test, bump pinned versions; releases: publish, verify, list, promote, pull.",
        subcommands = {ImageBuildCommands.Build.class, ImageBuildCommands.Test.class, ImageBuildCommands.Bump.class,
            ImageCommand.Publish.class, ImageCommand.Verify.class, ImageCommand.ListReleases.class,
            ImageCommand.Promote.class, ImageCommand.PullRelease.class})
final class ImageCommand {

    /** --name, shared by every image command. */
    static final class NameOption {
        @Option(names = "--name", paramLabel = "NAME", defaultValue = "edge-golden",
                description = "The image line; file names start with it. Default: ${DEFAULT-VALUE}.")
        String name;

        ImageName value() {
            return new ImageName(name);
        }
    }

    /** --key and its passphrase. */
    static final class KeyOptions {
        @Option(names = "--key", required = true, paramLabel = "FILE", description = "The armored secret signing key (from 'ingot keys generate').")
        Path key;

        @Option(names = "--passphrase-file", paramLabel = "FILE",
                description = "The key's passphrase is the first line of FILE (else INGOT_KEY_PASSPHRASE).")
        Path passphraseFile;

        SigningKey load(CliContext context) {
            return SigningKey.load(context.resolve(key),
                    Passphrase.resolve(Optional.ofNullable(passphraseFile).map(context::resolve), context.environment()));
        }
    }

    @Command(name = "publish",
            description = {"Publish a raw disk image as an immutable, signed release.",
                "Reads the image once: SHA-256, a bmaptool block map (holes are never read) and zstd",
                "compression on all cores in the same pass. Then stores NAME-VERSION.img.zst, .img.bmap,",
                ".sha256 (sha256sum -c format), .manifest.json.asc and, last, .manifest.json, under",
                "golden-images/. A GPT disk image's root-a partition (checked: both headers, both entry arrays)",
                "also becomes a slot payload, NAME-VERSION.root-a.img.zst with its own .img.bmap and .sha256, in the",
                "same pass (the disk payload's own frames of that partition), for A/B updates (ingot flash --partition).",
                "A version once published is never overwritten; a failed publish can be rerun."},
            footer = {"", "Examples:",
                "  ingot image publish edge-golden.img --version v1.4 --key keys/signing-key.asc",
                "  ingot image publish out/edge.img --version v1.5 --store s3://artifacts/prod --key keys/signing-key.asc \\",
                "      --source-commit 3f2c1e9 --package docker-ce=5:27.3.1-1 --package nvidia-driver=535.216.03 --raw"})
    static final class Publish extends BaseCommand {
        @Parameters(index = "0", paramLabel = "IMAGE", description = "The raw disk image file (sparse files publish fastest).")
        Path image;

        @Option(names = "--version", required = true, paramLabel = "VERSION", description = "The release version: v1.4, v1.10, v2.0.1-rc.1.")
        String version;

        @Mixin
        StoreOptions store = new StoreOptions();

        @Mixin
        NameOption name = new NameOption();

        @Mixin
        KeyOptions key = new KeyOptions();

        @Option(names = "--build-date", paramLabel = "INSTANT",
                description = "The build date recorded in the manifest (ISO-8601, e.g. 2026-11-25T10:00:00Z). Default: now.")
        String buildDate;

        @Option(names = "--raw", description = "Also store the uncompressed NAME-VERSION.img, for the old dd runbook.")
        boolean raw;

        @Option(names = "--source-commit", paramLabel = "COMMIT", description = "The Packer template's git commit.")
        String sourceCommit;

        @Option(names = "--package", paramLabel = "NAME=VERSION", description = "A pinned package version baked in (repeatable).")
        Map<String, String> packages = new LinkedHashMap<>();

        @Option(names = "--notes", paramLabel = "TEXT", description = "Free-form release notes for the manifest.")
        String notes;

        @Option(names = "--level", paramLabel = "N", defaultValue = "3", description = "zstd level, 1-19. Default: ${DEFAULT-VALUE}.")
        int level;

        @Option(names = "--threads", paramLabel = "N", description = "Compression threads (the payload's bytes do not depend on it). Default: the number of cores.")
        Integer threads;

        @Option(names = "--slot", paramLabel = "PARTITION", description = "A GPT partition to publish as its own slot payload (repeatable). "
                + "Default: root-a, when the image has it.")
        List<String> slots;

        @Option(names = "--no-slots", description = "Publish no slot payload, only the disk's.")
        boolean noSlots;

        Publish(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            ImageVersion imageVersion = ImageVersion.parse(version);
            ImageName imageName = name.value();
            if (level < 1 || level > 19) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "publish " + imageName + "-" + version, "--level " + level + " is not in 1-19");
            }
            Optional<Instant> fixedDate = Optional.ofNullable(buildDate).map(ImageCommand::parseInstant);
            Optional<Manifest.Source> source = sourceCommit == null && packages.isEmpty() && notes == null ? Optional.empty()
                    : Optional.of(new Manifest.Source(Optional.ofNullable(sourceCommit), packages, Optional.ofNullable(notes)));
            SigningKey signingKey = key.load(context);
            if (threads != null && (threads < 1 || threads > 256)) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "publish " + imageName + "-" + version, "--threads " + threads + " is not in 1-256");
            }
            // The payload is the same for any worker count: each frame is compressed on its own (ImageScanner).
            int workers = threads != null ? threads : Runtime.getRuntime().availableProcessors();
            if (noSlots && slots != null) {
                throw IngotException.tried(ErrorCode.BAD_INPUT, "publish " + imageName + "-" + version, "--slot and --no-slots contradict each other");
            }
            Optional<List<String>> slotNames = noSlots ? Optional.of(List.of()) : Optional.ofNullable(slots);
            try (ArtifactStore artifactStore = store.open(context, false)) {
                Publisher publisher = new Publisher(artifactStore, signingKey, context.clock(), progress());
                Publisher.Result result = publisher.publish(new Publisher.Request(context.resolve(image), imageName, imageVersion,
                        fixedDate, raw, source, new ImageScanner.Compression(level, workers), ImageScanner.DEFAULT_BLOCK_SIZE, slotNames));
                Manifest manifest = result.manifest();
                ObjectNode json = Ingot.JSON.createObjectNode();
                json.put("name", imageName.value());
                json.put("version", imageVersion.toString());
                json.put("store", artifactStore.describe());
                json.put("manifest_sha256", result.manifestSha256().hex());
                ArrayNode keys = json.putArray("keys");
                result.keys().forEach(keys::add);
                ObjectNode timings = json.putObject("timings_ms");
                timings.put("scan", result.scanTime().toMillis());
                timings.put("upload", result.uploadTime().toMillis());
                json.set("manifest", manifestTree(manifest));
                Manifest.FileEntry payload = manifest.file(Manifest.Role.PAYLOAD).orElseThrow();
                StringBuilder human = new StringBuilder();
                human.append("Published ").append(imageName).append(' ').append(imageVersion).append(" to ")
                        .append(artifactStore.describe()).append('\n');
                human.append(String.format("  image    %s  %s, %.1f%% mapped, sha256 %s%n", manifest.image().file(),
                        Sizes.bytes(manifest.image().size()), manifest.image().mappedPercent(), manifest.image().sha256()));
                human.append(String.format("  payload  %s  %s (zstd -%d)%n", payload.name(), Sizes.bytes(payload.size()), level));
                for (Manifest.Slot slot : manifest.slots()) {
                    Manifest.FileEntry slotPayload = slot.file(Manifest.Role.PAYLOAD).orElseThrow();
                    human.append(String.format("  slot     %s  %s of the %s partition (%s)%n", slotPayload.name(), Sizes.bytes(slotPayload.size()),
                            Sizes.bytes(slot.image().size()), slot.partition().name()));
                }
                human.append("  signed   by ").append(signingKey.fingerprint()).append(" (").append(signingKey.userId()).append(")\n");
                human.append("  scan     ").append(Sizes.seconds(result.scanTime())).append(" (")
                        .append(Sizes.rate(manifest.image().size(), result.scanTime())).append("), store ")
                        .append(Sizes.seconds(result.uploadTime())).append('\n');
                emit(human.toString(), json);
                return 0;
            }
        }
    }

    @Command(name = "verify",
            description = {"Check a published release end to end: the manifest's OpenPGP signature against the",
                "keyring, every file's size and SHA-256, the bmap's own checksum, and the payload",
                "decompressed (the image's SHA-256 and every bmap range). Exits 1 naming each bad file."},
            footer = {"", "Example:", "  ingot image verify v1.4 --keyring keys/signing-key.pub.asc"})
    static final class Verify extends BaseCommand {
        @Parameters(index = "0", paramLabel = "VERSION", description = "The version to check.")
        String version;

        @Mixin
        StoreOptions store = new StoreOptions();

        @Mixin
        NameOption name = new NameOption();

        @Mixin
        KeyringOption keyring = new KeyringOption();

        Verify(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            ImageVersion imageVersion = ImageVersion.parse(version);
            Keyring ring = keyring.load(context);
            try (ArtifactStore artifactStore = store.open(context, true)) {
                ReleaseVerifier.Report report = new ReleaseVerifier(ring, progress())
                        .verify(artifactStore, ReleaseFiles.STORE_FOLDER, name.value(), imageVersion);
                emit(humanReport(report, artifactStore.describe()), reportJson(report, artifactStore.describe()));
                return report.ok() ? 0 : ErrorCode.CHECK_FAILED.exitCode();
            }
        }
    }

    @Command(name = "list",
            description = {"List the published releases, newest first: size, mapped share, signer, known-good.",
                "With --keyring each manifest's signature is checked too."},
            footer = {"", "Example:", "  ingot image list --keyring keys/signing-key.pub.asc"})
    static final class ListReleases extends BaseCommand {
        @Mixin
        StoreOptions store = new StoreOptions();

        @Option(names = "--name", paramLabel = "NAME", description = "Only this image line.")
        String name;

        @Option(names = "--keyring", paramLabel = "FILE|DIR", description = "Check each manifest's signature against these keys.")
        Path keyring;

        ListReleases(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            Optional<Keyring> ring = Optional.ofNullable(keyring).map(path -> Keyring.load(context.resolve(path)));
            try (ArtifactStore artifactStore = store.open(context, true)) {
                List<Catalog.Entry> entries = Catalog.list(artifactStore, ring, Optional.ofNullable(name).map(ImageName::new));
                ArrayNode releases = Ingot.JSON.createArrayNode();
                StringBuilder human = new StringBuilder();
                int nameWidth = Math.max(4, entries.stream().mapToInt(entry -> entry.manifest().name().value().length()).max().orElse(0));
                int versionWidth = Math.max(7, entries.stream().mapToInt(entry -> entry.manifest().version().toString().length()).max().orElse(0));
                String row = "%-" + nameWidth + "s  %-" + versionWidth + "s  %-20s %10s %10s %7s  %-10s %-16s %s%n";
                if (entries.isEmpty()) {
                    human.append("No releases in ").append(artifactStore.describe()).append(".\n");
                } else {
                    human.append(String.format(row, "NAME", "VERSION", "BUILT", "IMAGE", "PAYLOAD", "MAPPED", "KNOWN-GOOD", "SIGNER",
                            "SIGNATURE"));
                }
                for (Catalog.Entry entry : entries) {
                    Manifest manifest = entry.manifest();
                    long payloadSize = manifest.file(Manifest.Role.PAYLOAD).map(Manifest.FileEntry::size).orElse(0L);
                    human.append(String.format(row, manifest.name(),
                            manifest.version(), manifest.buildDate(), Sizes.bytes(manifest.image().size()), Sizes.bytes(payloadSize),
                            String.format(java.util.Locale.ROOT, "%.1f%%", manifest.image().mappedPercent()),
                            entry.knownGood() ? (entry.knownGoodVerified() ? "yes" : "yes?") : "-",
                            manifest.signer().fingerprint().keyId(), signatureText(entry)));
                    ObjectNode node = releases.addObject();
                    node.put("name", manifest.name().value());
                    node.put("version", manifest.version().toString());
                    node.put("build_date", manifest.buildDate().toString());
                    node.put("image_size", manifest.image().size());
                    node.put("payload_size", payloadSize);
                    node.put("mapped_bytes", manifest.image().mappedBytes());
                    node.put("signer", manifest.signer().fingerprint().hex());
                    node.put("known_good", entry.knownGood());
                    node.put("known_good_verified", entry.knownGoodVerified());
                    node.put("signature", entry.signature().name().toLowerCase(java.util.Locale.ROOT));
                    entry.problem().ifPresent(problem -> node.put("problem", problem));
                }
                if (ring.isEmpty() && entries.stream().anyMatch(Catalog.Entry::knownGood)) {
                    // Without keys the list is only what an unsigned file says: say so instead of trusting it.
                    human.append("yes? = known-good per an UNVERIFIED list and unchecked signatures (pass --keyring to check them)\n");
                }
                ObjectNode json = Ingot.JSON.createObjectNode();
                json.put("store", artifactStore.describe());
                json.put("verified", ring.isPresent());
                json.set("releases", releases);
                emit(human.toString(), json);
                boolean anyInvalid = entries.stream().anyMatch(entry -> entry.signature() == Catalog.SignatureStatus.INVALID);
                return anyInvalid ? ErrorCode.CHECK_FAILED.exitCode() : 0;
            }
        }

        private static String signatureText(Catalog.Entry entry) {
            return switch (entry.signature()) {
                case VERIFIED -> "verified";
                case NOT_CHECKED -> "not checked";
                case INVALID -> "INVALID: " + entry.problem().orElse("");
            };
        }
    }

    @Command(name = "promote",
            description = {"Mark a release known-good (or, with --revoke, no longer known-good).",
                "The release is verified in full first. The known-good list is a signed document in the store,",
                "updated with a compare-and-swap, so concurrent promotions never lose each other's change."},
            footer = {"", "Example:", "  ingot image promote v1.4 --known-good --key keys/signing-key.asc --keyring keys/signing-key.pub.asc"})
    static final class Promote extends BaseCommand {
        @Parameters(index = "0", paramLabel = "VERSION", description = "The version to mark.")
        String version;

        @Option(names = "--known-good", required = true, description = "Mark the version known-good (required: says what promote means).")
        boolean knownGood;

        @Option(names = "--revoke", description = "Remove the known-good mark instead.")
        boolean revoke;

        @Mixin
        StoreOptions store = new StoreOptions();

        @Mixin
        NameOption name = new NameOption();

        @Mixin
        KeyOptions key = new KeyOptions();

        @Mixin
        KeyringOption keyring = new KeyringOption();

        Promote(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            ImageVersion imageVersion = ImageVersion.parse(version);
            Keyring ring = keyring.load(context);
            SigningKey signingKey = key.load(context);
            try (ArtifactStore artifactStore = store.open(context, true)) {
                if (!revoke) {
                    ReleaseVerifier.Report report = new ReleaseVerifier(ring, progress())
                            .verify(artifactStore, ReleaseFiles.STORE_FOLDER, name.value(), imageVersion);
                    if (!report.ok()) {
                        ReleaseVerifier.Finding first = report.failures().getFirst();
                        throw IngotException.tried(ErrorCode.CHECK_FAILED, "promote " + imageVersion,
                                "it does not verify: " + first.file() + ": " + first.detail())
                                .withHint("run `ingot image verify " + imageVersion + "` for every finding");
                    }
                }
                Instant now = context.clock().instant();
                KnownGood.Document document = KnownGood.update(artifactStore, name.value(), signingKey, ring, context.clock(), current -> {
                    List<KnownGood.Entry> entries = new ArrayList<>(current.entries());
                    if (revoke) {
                        entries.removeIf(entry -> entry.version().equals(imageVersion));
                    } else if (!current.contains(imageVersion)) {
                        entries.add(new KnownGood.Entry(imageVersion, now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS),
                                signingKey.fingerprint()));
                    }
                    return new KnownGood.Document(current.name(), current.revision(), current.updatedAt(), entries);
                });
                ObjectNode json = Ingot.JSON.createObjectNode();
                json.put("name", name.value().value());
                json.put("version", imageVersion.toString());
                json.put("known_good", !revoke);
                json.put("revision", document.revision());
                ArrayNode list = json.putArray("known_good_versions");
                document.entries().forEach(entry -> list.add(entry.version().toString()));
                emit((revoke ? "Revoked known-good from " : "Marked known-good: ") + name.value() + " " + imageVersion
                        + "\nKnown-good now: " + (document.entries().isEmpty() ? "(none)"
                        : String.join(", ", document.entries().stream().map(entry -> entry.version().toString()).toList()))
                        + " (revision " + document.revision() + ")", json);
                return 0;
            }
        }
    }

    @Command(name = "pull",
            description = {"Download a release into a folder and verify it there. Files appear under their final",
                "names only once everything checked out; on any failure nothing is left behind."},
            footer = {"", "Example:", "  ingot image pull v1.4 --to /tmp/images --keyring keys/signing-key.pub.asc",
                "  cd /tmp/images && zstd -d edge-golden-v1.4.img.zst && sha256sum -c edge-golden-v1.4.sha256"})
    static final class PullRelease extends BaseCommand {
        @Parameters(index = "0", paramLabel = "VERSION", description = "The version to download.")
        String version;

        @Option(names = "--to", required = true, paramLabel = "DIR", description = "Destination folder (created when missing).")
        Path to;

        @Mixin
        StoreOptions store = new StoreOptions();

        @Mixin
        NameOption name = new NameOption();

        @Mixin
        KeyringOption keyring = new KeyringOption();

        PullRelease(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() throws IOException {
            ImageVersion imageVersion = ImageVersion.parse(version);
            Keyring ring = keyring.load(context);
            try (ArtifactStore artifactStore = store.open(context, true)) {
                Pull.Result result = new Pull(artifactStore, ring, progress()).pull(name.value(), imageVersion, context.resolve(to));
                ObjectNode json = reportJson(result.report(), artifactStore.describe());
                ArrayNode files = json.putArray("files");
                result.files().forEach(path -> files.add(path.toString()));
                emit("Pulled " + name.value() + " " + imageVersion + " into " + context.resolve(to) + "\n"
                        + humanReport(result.report(), artifactStore.describe()), json);
                return 0;
            }
        }
    }

    static Instant parseInstant(String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the build date '" + text + "'",
                    "it is not an ISO-8601 instant").withHint("write it like 2026-11-25T10:00:00Z");
        }
    }

    static JsonNode manifestTree(Manifest manifest) {
        try {
            return Ingot.JSON.readTree(ManifestJson.write(manifest));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static String humanReport(ReleaseVerifier.Report report, String store) {
        StringBuilder text = new StringBuilder();
        for (ReleaseVerifier.Finding finding : report.findings()) {
            text.append(finding.ok() ? "  ok    " : "  FAIL  ").append(finding.file()).append(": ").append(finding.detail()).append('\n');
        }
        text.append(report.ok() ? "Verified " : "FAILED: ").append(report.name()).append(' ').append(report.version())
                .append(" in ").append(store).append(report.ok() ? "" : " (" + report.failures().size() + " problem"
                        + (report.failures().size() == 1 ? "" : "s") + ")").append('\n');
        return text.toString();
    }

    static ObjectNode reportJson(ReleaseVerifier.Report report, String store) {
        ObjectNode json = Ingot.JSON.createObjectNode();
        json.put("name", report.name().value());
        json.put("version", report.version().toString());
        json.put("store", store);
        json.put("ok", report.ok());
        report.signature().ifPresent(signature -> {
            json.put("signer", signature.signer().hex());
            json.put("signer_user_id", signature.userId());
        });
        ArrayNode findings = json.putArray("findings");
        for (ReleaseVerifier.Finding finding : report.findings()) {
            ObjectNode node = findings.addObject();
            node.put("file", finding.file());
            node.put("ok", finding.ok());
            node.put("detail", finding.detail());
        }
        return json;
    }
}
