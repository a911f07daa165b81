package dev.ingot.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.testing.SparseImages;
import dev.ingot.testing.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BmapXmlTest {
    @TempDir
    Path folder;

    private static final BlockMap MAP = new BlockMap(10_485_763, 4096, List.of(
            new BlockMap.Range(3, 7, Sha256.fromHex("f4d5885da21e76c03e44c79b1f00966963ea692ae17be97eaf4fac13f4b0a7b2")),
            new BlockMap.Range(100, 100, Sha256.fromHex("9bc4f1c567a7e92a6e70d5e0d73ab8dea1da73e77922d0b1d9ff8edbcac6ce53")),
            new BlockMap.Range(2560, 2560, Sha256.fromHex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))));

    @Test
    void writtenMapsReadBackUnchanged() {
        byte[] written = BmapXml.write(MAP);

        assertThat(BmapXml.parse(written, "test.bmap")).isEqualTo(MAP);
        assertThat(BmapXml.write(MAP)).isEqualTo(written);
    }

    @Test
    void aMapMadeByBmaptoolIsRead() throws IOException {
        // Kept as a golden file: the output of `bmaptool create` 3.6 for a 10 MiB + 3 byte image.
        byte[] content = getClass().getResourceAsStream("bmaptool-3.6.bmap").readAllBytes();

        BlockMap map = BmapXml.parse(content, "bmaptool-3.6.bmap");

        assertThat(map).isEqualTo(MAP);
        assertThat(map.mappedBytes()).isEqualTo(5 * 4096 + 4096 + 3);
    }

    @Test
    void aMapMadeByTheInstalledBmaptoolMatchesOursForTheSameImage() throws IOException {
        assumeTrue(Tools.available("bmaptool"), "bmaptool is not installed (apt-get install bmap-tools)");
        Path image = SparseImages.typical(folder.resolve("typical.img"));
        Path bmaptoolMap = folder.resolve("typical.bmap");
        Tools.succeed(folder, "bmaptool", "create", "-o", bmaptoolMap.toString(), image.toString());
        ImageScanner.Result ours = ImageScanner.scan(image, 4096, folder.resolve("p.zst"), java.util.Optional.empty(),
                new ImageScanner.Compression(3, 1), dev.ingot.progress.Progress.NONE);

        assertThat(BmapXml.parse(Files.readAllBytes(bmaptoolMap), "typical.bmap")).isEqualTo(ours.blockMap());
    }

    @Test
    void aChangedRangeBreaksTheFileChecksum() {
        String text = new String(BmapXml.write(MAP), StandardCharsets.UTF_8).replace("> 100 <", "> 101 <");

        assertThatThrownBy(() -> BmapXml.parse(text.getBytes(StandardCharsets.UTF_8), "tampered.bmap"))
                .isInstanceOfSatisfying(IngotException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CHECK_FAILED);
                    assertThat(e.getMessage()).contains("tampered.bmap").contains("BmapFileChecksum");
                });
    }

    @Test
    void aFormat14MapIsReadLikeFormat20() throws IOException {
        // Hand-written from the format's docs: bmaptool 3.6's map of the same image, numbered 1.4 (BmapCreate.py: "bmap format 1.4
        // is identical to 2.0"), its BmapFileChecksum recomputed.
        byte[] content = getClass().getResourceAsStream("bmap-format-1.4.bmap").readAllBytes();

        assertThat(BmapXml.parse(content, "bmap-format-1.4.bmap")).isEqualTo(MAP);
    }

    @Test
    void theInstalledBmaptoolCopiesWithAFormat14MapAndIngotReadsTheSameMap() throws IOException {
        assumeTrue(Tools.available("bmaptool"), "bmaptool is not installed (apt-get install bmap-tools)");
        Path image = SparseImages.typical(folder.resolve("typical.img"));
        Path created = folder.resolve("typical.bmap");
        Tools.succeed(folder, "bmaptool", "create", "-o", created.toString(), image.toString());
        Path format14 = Files.write(folder.resolve("typical-1.4.bmap"), asFormat14(Files.readString(created)));

        Tools.succeed(folder, "bmaptool", "copy", "--bmap", format14.toString(), image.toString(), folder.resolve("copy.img").toString());

        assertThat(BmapXml.parse(Files.readAllBytes(format14), "typical-1.4.bmap")).isEqualTo(BmapXml.parse(Files.readAllBytes(created), "typical.bmap"));
        assertThat(Files.mismatch(image, folder.resolve("copy.img"))).isEqualTo(-1);
    }

    /** A format 2.0 map renumbered 1.4, with its BmapFileChecksum recomputed as bmaptool does (the value zeroed, then hashed). */
    static byte[] asFormat14(String format20) {
        String renumbered = format20.replace("<bmap version=\"2.0\">", "<bmap version=\"1.4\">");
        java.util.regex.Matcher checksum = java.util.regex.Pattern.compile("<BmapFileChecksum>\\s*([0-9a-f]{64})").matcher(renumbered);
        assertThat(checksum.find()).isTrue();
        String zeroed = renumbered.substring(0, checksum.start(1)) + "0".repeat(64) + renumbered.substring(checksum.end(1));
        return (renumbered.substring(0, checksum.start(1)) + Sha256.of(zeroed.getBytes(StandardCharsets.UTF_8)).hex()
                + renumbered.substring(checksum.end(1))).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shaOneMapsOfFormat13AndOlderAreRefusedWithAHintToRecreateThem() throws IOException {
        byte[] format13 = getClass().getResourceAsStream("bmap-format-1.3.bmap").readAllBytes();
        String text = new String(BmapXml.write(MAP), StandardCharsets.UTF_8);

        assertThatThrownBy(() -> BmapXml.parse(format13, "old.bmap")).isInstanceOfSatisfying(IngotException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT);
            assertThat(e.getMessage()).isEqualTo("Tried to read the block map old.bmap but failed because it has format version '1.3'; "
                    + "Ingot reads version 2.x (SHA-256 ranges)");
            assertThat(e.hint()).hasValue("recreate it with a current bmaptool: bmaptool create IMAGE > IMAGE.bmap");
        });
        assertThatThrownBy(() -> BmapXml.parse(text.replace("version=\"2.0\"", "version=\"1.2\"").getBytes(StandardCharsets.UTF_8), "older.bmap"))
                .hasMessageContaining("format version '1.2'");
        assertThatThrownBy(() -> BmapXml.parse(text.replace("<ChecksumType> sha256 <", "<ChecksumType> sha1 <").getBytes(StandardCharsets.UTF_8),
                "sha1.bmap")).hasMessageContaining("its ChecksumType is 'sha1'; Ingot accepts sha256 only");
    }

    @Test
    void brokenXmlAndExternalEntitiesAreRefusedClearly() {
        assertThatThrownBy(() -> BmapXml.parse("<bmap version=\"2.0\"><oops".getBytes(StandardCharsets.UTF_8), "broken.bmap"))
                .hasMessageContaining("not well-formed XML");
        assertThatThrownBy(() -> BmapXml.parse("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><bmap version=\"2.0\">&e;</bmap>"
                        .getBytes(StandardCharsets.UTF_8), "xxe.bmap"))
                .isInstanceOf(IngotException.class);
    }
}
