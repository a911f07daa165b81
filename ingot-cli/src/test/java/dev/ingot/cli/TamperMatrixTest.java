package dev.ingot.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.testing.SparseImages;
import dev.ingot.testing.TestKeys;
import dev.ingot.testing.Tools;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.stream.Stream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.sig.RevocationReasonTags;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSecretKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureGenerator;
import org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator;
import org.bouncycastle.openpgp.PGPUtil;
import org.bouncycastle.openpgp.operator.bc.BcKeyFingerprintCalculator;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentSignerBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tamper matrix of docs/formats.md: every reader of a release (verify, pull, flash from a store, from a USB cache,
 * from a local .img.zst and from a raw .img, cache sync, rollback) against every way to tamper with one (a flipped
 * byte in each file, a file swapped in from another release, a truncated file, a re-made bmap, an untrusted key, a
 * revoked key, an older known-good list). Each case must be refused with a non-zero exit and a message that names the
 * bad file, and the target disk (or the pulled folder, or the cache) must be untouched.
 */
class TamperMatrixTest {
    private static final String V = "edge-golden-v1.4";

    @TempDir
    static Path pristine;

    @TempDir
    Path folder;

    /** v1.3 and v1.4 published (v1.4 with its raw image) and promoted; v1.4 synced into the USB cache; old list kept aside. */
    @BeforeAll
    static void publishTwoReleases() throws IOException {
        CommandRunner ingot = new CommandRunner(pristine);
        TestKeys.RELEASE.secretKey(pristine.resolve("keys"));
        TestKeys.RELEASE.publicKey(pristine.resolve("keys"));
        TestKeys.UNTRUSTED.secretKey(pristine.resolve("keys"));
        for (String version : new String[] {"v1.3", "v1.4"}) {
            SparseImages.create(pristine.resolve(version + ".img"), 12L << 20, version.hashCode(), new SparseImages.Region(0, 64 * 1024),
                    new SparseImages.Region(4L << 20, 3 << 20));
            succeed(ingot, "image", "publish", version + ".img", "--version", version, "--key", "keys/release.asc", "--raw");
            succeed(ingot, "image", "promote", version, "--known-good", "--key", "keys/release.asc", "--keyring", "keys/release.pub.asc");
            if (version.equals("v1.3")) {
                Files.copy(pristine.resolve("store/golden-images/edge-golden.known-good.json"), pristine.resolve("known-good-revision-1.json"));
            }
        }
        succeed(ingot, "cache", "sync", "--dir", "usb", "--keyring", "keys/release.pub.asc");
        Files.writeString(pristine.resolve("revoked.pub.asc"), revoked(pristine.resolve("keys/release.asc")));
    }

    private static void succeed(CommandRunner ingot, String... args) {
        CommandRunner.Run run = ingot.run(args);
        assertThat(run.exitCode()).as(run.toString()).isZero();
    }

    /** The release key's public half with a revocation (reason: compromised) made by the key itself. */
    private static String revoked(Path secretKey) throws IOException {
        try {
            PGPSecretKeyRing secret = new PGPSecretKeyRing(PGPUtil.getDecoderStream(new ByteArrayInputStream(Files.readAllBytes(secretKey))),
                    new BcKeyFingerprintCalculator());
            PGPPublicKey key = secret.getPublicKey();
            PGPSignatureGenerator generator = new PGPSignatureGenerator(
                    new BcPGPContentSignerBuilder(key.getAlgorithm(), HashAlgorithmTags.SHA512), key);
            generator.init(PGPSignature.KEY_REVOCATION, secret.getSecretKey().extractPrivateKey(null));
            PGPSignatureSubpacketGenerator hashed = new PGPSignatureSubpacketGenerator();
            hashed.setSignatureCreationTime(true, Date.from(CommandRunner.CLOCK.instant()));
            hashed.setRevocationReason(false, RevocationReasonTags.KEY_COMPROMISED, "test: compromised");
            generator.setHashedSubpackets(hashed.generate());
            PGPPublicKey revoked = PGPPublicKey.addCertification(key, generator.generateCertification(key));
            List<PGPPublicKey> keys = new ArrayList<>();
            secret.getPublicKeys().forEachRemaining(keys::add);
            PGPPublicKeyRing ring = PGPPublicKeyRing.insertPublicKey(new PGPPublicKeyRing(keys), revoked);
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            try (org.bouncycastle.bcpg.ArmoredOutputStream armored = new org.bouncycastle.bcpg.ArmoredOutputStream(bytes)) {
                ring.encode(armored, true);
            }
            return bytes.toString(java.nio.charset.StandardCharsets.US_ASCII);
        } catch (org.bouncycastle.openpgp.PGPException e) {
            throw new IOException(e);
        }
    }

    /** A reader: the command and where its release files lie (the store, or the USB cache). */
    enum Reader {
        VERIFY("store/golden-images", "image", "verify", "v1.4", "--keyring", "KEYRING"),
        PULL("store/golden-images", "image", "pull", "v1.4", "--to", "pulled", "--keyring", "KEYRING"),
        FLASH_FROM_STORE("store/golden-images", "flash", "v1.4", "--target", "disk.img", "--keyring", "KEYRING", "--work-dir", "work"),
        FLASH_FROM_CACHE("usb", "flash", "v1.4", "--target", "disk.img", "--cache", "usb", "--keyring", "KEYRING", "--work-dir", "work"),
        FLASH_LOCAL_ZST("store/golden-images", "flash", "store/golden-images/" + V + ".img.zst", "--target", "disk.img", "--keyring", "KEYRING",
                "--work-dir", "work"),
        FLASH_RAW_IMG("store/golden-images", "flash", "store/golden-images/" + V + ".img", "--target", "disk.img", "--keyring", "KEYRING",
                "--work-dir", "work"),
        CACHE_SYNC("store/golden-images", "cache", "sync", "--dir", "usb", "--keyring", "KEYRING"),
        ROLLBACK("usb", "rollback", "--site", "SITE-2847", "--target", "disk.img", "--cache", "usb", "--store", "store", "--current", "v1.5",
                "--keyring", "KEYRING", "--work-dir", "work");

        final String files;
        final List<String> args;

        Reader(String files, String... args) {
            this.files = files;
            this.args = List.of(args);
        }

        /** Whether it streams a payload onto the target (and so may write checked ranges before a damaged one). */
        boolean flashesThePayload() {
            return this == FLASH_FROM_STORE || this == FLASH_FROM_CACHE || this == FLASH_LOCAL_ZST || this == ROLLBACK;
        }
    }

    /** A way to tamper, the file it concerns (what the message must name), and to which readers it applies. */
    enum Tamper {
        FLIP_MANIFEST(".manifest.json"),
        FLIP_SIGNATURE(".manifest.json.asc"),
        FLIP_PAYLOAD(".img.zst"),
        FLIP_BMAP(".img.bmap"),
        FLIP_CHECKSUMS(".sha256"),
        FLIP_RAW(".img"),
        SWAP_PAYLOAD_FROM_V13(".img.zst"),
        SWAP_MANIFEST_AND_SIGNATURE_FROM_V13(".manifest.json"),
        TRUNCATE_PAYLOAD(".img.zst"),
        REMADE_BMAP(".img.bmap"),
        UNTRUSTED_KEY(".manifest.json.asc"),
        REVOKED_KEY(".manifest.json.asc"),
        OLDER_KNOWN_GOOD_LIST("known-good");

        final String file;

        Tamper(String file) {
            this.file = file;
        }

        /** What the refusal names: a reader that chooses versions checks the known-good list's signature first. */
        String named(Reader reader) {
            boolean choosesVersions = reader == Reader.CACHE_SYNC || reader == Reader.ROLLBACK;
            return this == REVOKED_KEY && choosesVersions ? "known-good.json" : file;
        }

        /** The readers to which this tampering applies; the table in docs/formats.md says why the others are not. */
        boolean appliesTo(Reader reader) {
            return switch (this) {
                // Only readers of the raw image read it; the others never touch its bytes.
                case FLIP_RAW -> reader == Reader.VERIFY || reader == Reader.PULL || reader == Reader.FLASH_RAW_IMG;
                // Only readers that choose versions read the known-good list.
                case OLDER_KNOWN_GOOD_LIST -> reader == Reader.CACHE_SYNC || reader == Reader.ROLLBACK;
                // A raw-image flash reads no payload.
                case FLIP_PAYLOAD, SWAP_PAYLOAD_FROM_V13, TRUNCATE_PAYLOAD -> reader != Reader.FLASH_RAW_IMG;
                case FLIP_MANIFEST, FLIP_SIGNATURE, FLIP_BMAP, FLIP_CHECKSUMS, SWAP_MANIFEST_AND_SIGNATURE_FROM_V13, REMADE_BMAP,
                        UNTRUSTED_KEY, REVOKED_KEY -> true;
            };
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (Reader reader : Reader.values()) {
            for (Tamper tamper : Tamper.values()) {
                if (tamper.appliesTo(reader)) {
                    cases.add(Arguments.of(reader, tamper));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} refuses {1}")
    @MethodSource("cases")
    void everyReaderRefusesEveryTamperingBeforeAByteReachesTheTarget(Reader reader, Tamper tamper) throws IOException {
        copy(pristine, folder);
        Path files = folder.resolve(reader.files);
        String keyring = "keys/release.pub.asc";
        if (reader == Reader.CACHE_SYNC) {
            // A cache that has not got v1.4 yet, but has seen the newest list: what a site's drive looks like before a sync.
            for (String suffix : List.of(".manifest.json", ".manifest.json.asc", ".img.zst", ".img.bmap", ".sha256")) {
                Files.delete(folder.resolve("usb/" + V + suffix));
            }
        }
        switch (tamper) {
            case FLIP_MANIFEST, FLIP_SIGNATURE, FLIP_PAYLOAD, FLIP_BMAP, FLIP_CHECKSUMS, FLIP_RAW -> flipByte(files.resolve(V + tamper.file));
            case SWAP_PAYLOAD_FROM_V13 -> Files.copy(files.resolve("edge-golden-v1.3.img.zst"), files.resolve(V + ".img.zst"),
                    StandardCopyOption.REPLACE_EXISTING);
            case SWAP_MANIFEST_AND_SIGNATURE_FROM_V13 -> {
                for (String suffix : List.of(".manifest.json", ".manifest.json.asc")) {
                    Files.copy(files.resolve("edge-golden-v1.3" + suffix), files.resolve(V + suffix), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            case TRUNCATE_PAYLOAD -> {
                try (FileChannel channel = FileChannel.open(files.resolve(V + ".img.zst"), StandardOpenOption.WRITE)) {
                    channel.truncate(channel.size() / 2);
                }
            }
            case REMADE_BMAP -> remadeBmap(files);
            case UNTRUSTED_KEY -> {
                Files.writeString(files.resolve(V + ".manifest.json.asc"),
                        dev.ingot.sign.SigningKey.load(folder.resolve("keys/untrusted.asc"), java.util.Optional.empty())
                                .sign(Files.readAllBytes(files.resolve(V + ".manifest.json")), CommandRunner.CLOCK.instant()));
            }
            case REVOKED_KEY -> keyring = "revoked.pub.asc";
            case OLDER_KNOWN_GOOD_LIST -> Files.copy(folder.resolve("known-good-revision-1.json"),
                    folder.resolve("store/golden-images/edge-golden.known-good.json"), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.writeString(folder.resolve("disk.img"), "the old disk");
        List<String> before = snapshot(folder.resolve("usb"));

        String trusted = keyring;
        List<String> args = new ArrayList<>(reader.args);
        args.replaceAll(arg -> arg.equals("KEYRING") ? trusted : arg);
        CommandRunner.Run run = new CommandRunner(folder).run(args.toArray(String[]::new));

        assertThat(run.exitCode()).as(run.toString()).isIn(1, 3);
        assertThat(run.out() + run.err()).as(run.toString()).contains(tamper.named(reader));
        if (tamper == Tamper.FLIP_PAYLOAD && reader.flashesThePayload()) {
            // One pass over the payload (issue 11): the damaged range and all after it are not written; ranges before it
            // may be, each checked against the signed bmap. So the target holds the old bytes or the image's, nothing else.
            assertThat(run.err()).contains("not written");
            assertOnlyImageBytes(folder.resolve("disk.img"), folder.resolve("v1.4.img"));
        } else {
            assertThat(Files.readString(folder.resolve("disk.img"))).as("the target").isEqualTo("the old disk");
        }
        assertThat(folder.resolve("pulled/" + V + ".manifest.json")).as("a pulled release").doesNotExist();
        if (reader != Reader.FLASH_FROM_CACHE && reader != Reader.ROLLBACK) {
            assertThat(snapshot(folder.resolve("usb"))).as("the cache").isEqualTo(before);
        }
    }

    /** Every 4 KiB block of the target is the image's, or still the old disk's (its 12 bytes, or the zeros a file grows with). */
    private static void assertOnlyImageBytes(Path target, Path image) throws IOException {
        byte[] disk = Files.readAllBytes(target);
        byte[] expected = Files.readAllBytes(image);
        byte[] old = java.util.Arrays.copyOf("the old disk".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 4096);
        for (int block = 0; block * 4096 < disk.length; block++) {
            int from = block * 4096;
            int to = Math.min(disk.length, from + 4096);
            byte[] actual = java.util.Arrays.copyOfRange(disk, from, to);
            boolean imageBytes = to <= expected.length && java.util.Arrays.equals(actual, java.util.Arrays.copyOfRange(expected, from, to));
            boolean oldBytes = java.util.Arrays.equals(actual, block == 0 ? java.util.Arrays.copyOf(old, to - from) : new byte[to - from]);
            assertThat(imageBytes || oldBytes).as("block %d of the target holds only the image's or the old bytes", block).isTrue();
        }
    }

    /** The v1.4 image edited, its bmap re-made with bmaptool (as someone forging a release would), both put in place. */
    private void remadeBmap(Path files) throws IOException {
        assumeTrue(Tools.available("bmaptool"), "bmaptool is not installed (apt-get install bmap-tools)");
        Path edited = folder.resolve("edited.img");
        Files.copy(folder.resolve("v1.4.img"), edited, StandardCopyOption.REPLACE_EXISTING);
        try (RandomAccessFile file = new RandomAccessFile(edited.toFile(), "rw")) {
            file.seek(100);
            file.write("a backdoor".getBytes());
        }
        Tools.succeed(folder, "bmaptool", "create", "-o", files.resolve(V + ".img.bmap").toString(), edited.toString());
        if (Files.exists(files.resolve(V + ".img"))) {
            Files.copy(edited, files.resolve(V + ".img"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void flipByte(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long position = channel.size() / 2;
            java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
            channel.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x01)).rewind();
            channel.write(one, position);
        }
    }

    private static List<String> snapshot(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        List<String> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path path : walk.filter(Files::isRegularFile).sorted().toList()) {
                files.add(folder.relativize(path) + " " + dev.ingot.digest.Sha256.of(Files.readAllBytes(path)));
            }
        }
        return files;
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path path : walk.sorted(Comparator.naturalOrder()).toList()) {
                Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(path, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
