package dev.ingot.image;

import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Reads and writes the bmaptool block map format, version 2.0 (bmap-tools, docs/README: "the bmap
 * file format"), and reads version 1.4, which is the same format released under a wrong number (BmapCreate.py:
 * "bmap format 1.4 is identical to 2.0"). {@code BmapFileChecksum} is the SHA-256 of the whole file with that field's own
 * value replaced by 64 ASCII zeros, exactly as bmaptool computes it (BmapCreate.py, BmapCopy.py).
 * Hand-written because no Java library knows this format.
 */
public final class BmapXml {
    private static final Pattern FILE_CHECKSUM =
            Pattern.compile("<BmapFileChecksum>\\s*([0-9a-fA-F]+)\\s*</BmapFileChecksum>");
    private static final Pattern RANGE = Pattern.compile("\\s*(\\d+)\\s*(?:-\\s*(\\d+)\\s*)?");
    private static final String ZEROS = "0".repeat(64);

    private BmapXml() {}

    /** The bmap file for a block map, checksum included; the same bytes for the same map. */
    public static byte[] write(BlockMap map) {
        StringBuilder xml = new StringBuilder(256 + map.ranges().size() * 100);
        long mappedPercentTenths = map.imageSize() == 0 ? 0 : Math.round(map.mappedBytes() * 1000.0 / map.imageSize());
        xml.append("<?xml version=\"1.0\" ?>\n")
                .append("<!-- Block map of an image file, in the bmaptool format (version 2.0), written by Ingot.\n")
                .append("     Only the listed blocks hold data; the others read as zeros and need not be copied. -->\n\n")
                .append("<bmap version=\"2.0\">\n")
                .append("    <!-- Image size in bytes -->\n")
                .append("    <ImageSize> ").append(map.imageSize()).append(" </ImageSize>\n\n")
                .append("    <!-- Size of a block in bytes -->\n")
                .append("    <BlockSize> ").append(map.blockSize()).append(" </BlockSize>\n\n")
                .append("    <!-- Count of blocks in the image file -->\n")
                .append("    <BlocksCount> ").append(map.blocksCount()).append(" </BlocksCount>\n\n")
                .append("    <!-- Count of mapped blocks: ")
                .append(String.format(Locale.ROOT, "%d.%d%%", mappedPercentTenths / 10, mappedPercentTenths % 10))
                .append(" of the image -->\n")
                .append("    <MappedBlocksCount> ").append(map.mappedBlocksCount()).append(" </MappedBlocksCount>\n\n")
                .append("    <!-- Type of checksum used in this file -->\n")
                .append("    <ChecksumType> sha256 </ChecksumType>\n\n")
                .append("    <!-- The checksum of this bmap file, computed with this value set to all ASCII zeros -->\n")
                .append("    <BmapFileChecksum> ").append(ZEROS).append(" </BmapFileChecksum>\n\n")
                .append("    <BlockMap>\n");
        for (BlockMap.Range range : map.ranges()) {
            xml.append("        <Range chksum=\"").append(range.sha256().hex()).append("\"> ");
            xml.append(range.first());
            if (range.last() != range.first()) {
                xml.append('-').append(range.last());
            }
            xml.append(" </Range>\n");
        }
        xml.append("    </BlockMap>\n</bmap>\n");
        String unsigned = xml.toString();
        Sha256 checksum = Sha256.of(unsigned.getBytes(StandardCharsets.UTF_8));
        return unsigned.replace(ZEROS + " </BmapFileChecksum>", checksum.hex() + " </BmapFileChecksum>")
                .getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Parses a bmap file (ours or one made by {@code bmaptool create}) and checks its own
     * checksum. {@code source} names the file in error messages.
     */
    public static BlockMap parse(byte[] content, String source) {
        String text = new String(content, StandardCharsets.UTF_8);
        Document document = parseXml(content, source);
        Element root = document.getDocumentElement();
        if (!"bmap".equals(root.getTagName())) {
            throw invalid(source, "its root element is <" + root.getTagName() + ">, not <bmap>");
        }
        String version = root.getAttribute("version");
        // BmapCopy.py: 1.4 is 2.0 under a wrong number (ChecksumType, BmapFileChecksum); 1.3 has SHA-1 only, 1.0-1.2 none.
        if (!version.startsWith("2.") && !version.equals("1.4")) {
            throw invalid(source, "it has format version '" + version + "'; Ingot reads version 2.x (SHA-256 ranges)")
                    .withHint("recreate it with a current bmaptool: bmaptool create IMAGE > IMAGE.bmap");
        }
        String checksumType = text(root, "ChecksumType", source);
        if (!checksumType.equalsIgnoreCase("sha256")) {
            throw invalid(source, "its ChecksumType is '" + checksumType + "'; Ingot accepts sha256 only");
        }
        checkFileChecksum(content, text, source);

        long imageSize = number(root, "ImageSize", source);
        long blockSizeValue = number(root, "BlockSize", source);
        if (blockSizeValue <= 0 || blockSizeValue > (1 << 24) || Long.bitCount(blockSizeValue) != 1) {
            throw invalid(source, "its BlockSize " + blockSizeValue + " is not a power of two up to 16 MiB");
        }
        int blockSize = (int) blockSizeValue;
        long blocksCount = number(root, "BlocksCount", source);
        long mappedBlocksCount = number(root, "MappedBlocksCount", source);

        List<BlockMap.Range> ranges = new ArrayList<>();
        NodeList blockMaps = root.getElementsByTagName("BlockMap");
        if (blockMaps.getLength() != 1) {
            throw invalid(source, "it has " + blockMaps.getLength() + " <BlockMap> elements, not one");
        }
        NodeList rangeNodes = ((Element) blockMaps.item(0)).getElementsByTagName("Range");
        for (int i = 0; i < rangeNodes.getLength(); i++) {
            Element element = (Element) rangeNodes.item(i);
            Matcher matcher = RANGE.matcher(element.getTextContent());
            if (!matcher.matches()) {
                throw invalid(source, "range '" + element.getTextContent().strip() + "' is not 'FIRST' or 'FIRST-LAST'");
            }
            long first = Long.parseLong(matcher.group(1));
            long last = matcher.group(2) == null ? first : Long.parseLong(matcher.group(2));
            String checksum = element.getAttribute("chksum");
            if (checksum.isEmpty()) {
                throw invalid(source, "range " + first + "-" + last + " has no chksum attribute");
            }
            ranges.add(new BlockMap.Range(first, last, Sha256.fromHex(checksum)));
        }
        BlockMap map;
        try {
            map = new BlockMap(imageSize, blockSize, ranges);
        } catch (IllegalArgumentException e) {
            throw invalid(source, e.getMessage());
        }
        if (map.blocksCount() != blocksCount) {
            throw invalid(source, "BlocksCount is " + blocksCount + " but ImageSize " + imageSize + " makes "
                    + map.blocksCount() + " blocks of " + blockSize + " bytes");
        }
        if (map.mappedBlocksCount() != mappedBlocksCount) {
            throw invalid(source, "MappedBlocksCount is " + mappedBlocksCount + " but its ranges hold "
                    + map.mappedBlocksCount() + " blocks");
        }
        return map;
    }

    private static void checkFileChecksum(byte[] content, String text, String source) {
        Matcher matcher = FILE_CHECKSUM.matcher(text);
        if (!matcher.find()) {
            throw invalid(source, "it has no BmapFileChecksum");
        }
        String recorded = matcher.group(1);
        // Zero the value in place, byte for byte, as bmaptool does before hashing.
        String zeroed = text.substring(0, matcher.start(1)) + "0".repeat(recorded.length()) + text.substring(matcher.end(1));
        Sha256 actual = Sha256.of(zeroed.getBytes(StandardCharsets.UTF_8));
        if (recorded.length() != 64 || !actual.hex().equalsIgnoreCase(recorded)) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, "check the block map " + source,
                    "its BmapFileChecksum is " + recorded + " but the file hashes to " + actual.hex()
                            + " (the bmap was changed or damaged)");
        }
        if (content.length != zeroed.getBytes(StandardCharsets.UTF_8).length) {
            throw invalid(source, "it is not valid UTF-8");
        }
    }

    private static Document parseXml(byte[] content, String source) {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            // A bmap never needs a DTD or external entities; refuse them (XXE).
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setXIncludeAware(false);
            factory.setExpandEntityReferences(false);
            DocumentBuilder builder = factory.newDocumentBuilder();
            builder.setErrorHandler(null);
            return builder.parse(new ByteArrayInputStream(content));
        } catch (Exception e) {
            throw invalid(source, "it is not well-formed XML (" + e.getMessage() + ")");
        }
    }

    private static String text(Element root, String tag, String source) {
        NodeList nodes = root.getElementsByTagName(tag);
        if (nodes.getLength() != 1) {
            throw invalid(source, "it has " + nodes.getLength() + " <" + tag + "> elements, not one");
        }
        return nodes.item(0).getTextContent().strip();
    }

    private static long number(Element root, String tag, String source) {
        String value = text(root, tag, source);
        try {
            long number = Long.parseLong(value);
            if (number < 0) {
                throw new NumberFormatException();
            }
            return number;
        } catch (NumberFormatException e) {
            throw invalid(source, "<" + tag + "> holds '" + value + "', not a non-negative number");
        }
    }

    private static IngotException invalid(String source, String reason) {
        return IngotException.tried(ErrorCode.BAD_INPUT, "read the block map " + source, reason);
    }
}
