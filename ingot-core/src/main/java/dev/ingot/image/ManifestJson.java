package dev.ingot.image;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.digest.Sha256;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.sign.Fingerprint;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The manifest's wire format: JSON with sorted keys, two-space indent and a final newline, so the
 * same release always gives the same bytes (and the same signature input).
 */
public final class ManifestJson {
    static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            // "\n" everywhere, not the platform's line separator: the same release gives the same bytes on any OS.
            .setDefaultPrettyPrinter(new com.fasterxml.jackson.core.util.DefaultPrettyPrinter()
                    .withObjectIndenter(new com.fasterxml.jackson.core.util.DefaultIndenter("  ", "\n"))
                    .withArrayIndenter(new com.fasterxml.jackson.core.util.DefaultIndenter("  ", "\n")));

    private ManifestJson() {}

    public static byte[] write(Manifest manifest) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("schema_version", Manifest.SCHEMA_VERSION);
        root.put("name", manifest.name().value());
        root.put("version", manifest.version().toString());
        root.put("build_date", manifest.buildDate().toString());
        root.put("image_version_file", manifest.imageVersionFile());
        Manifest.Image image = manifest.image();
        writeImage(root.putObject("image"), image);
        writeFiles(root.putArray("files"), manifest.files());
        if (!manifest.slots().isEmpty()) {
            // Written only when there are slots: a release without them has the same bytes as before slots existed.
            ArrayNode slots = root.putArray("slots");
            for (Manifest.Slot slot : manifest.slots()) {
                ObjectNode slotNode = slots.addObject();
                Manifest.Partition partition = slot.partition();
                ObjectNode partitionNode = slotNode.putObject("partition");
                partitionNode.put("name", partition.name());
                partitionNode.put("number", partition.number());
                partitionNode.put("first_lba", partition.firstLba());
                partitionNode.put("last_lba", partition.lastLba());
                partitionNode.put("sector_size", partition.sectorSize());
                partitionNode.put("type_guid", partition.typeGuid());
                partitionNode.put("unique_guid", partition.uniqueGuid());
                writeImage(slotNode.putObject("image"), slot.image());
                writeFiles(slotNode.putArray("files"), slot.files());
                slot.diskPayloadBytes().ifPresent(range -> {
                    ObjectNode rangeNode = slotNode.putObject("disk_payload_bytes");
                    rangeNode.put("offset", range.offset());
                    rangeNode.put("length", range.length());
                });
            }
        }
        ObjectNode compression = root.putObject("compression");
        compression.put("algorithm", manifest.compression().algorithm());
        compression.put("level", manifest.compression().level());
        manifest.source().ifPresent(source -> {
            ObjectNode sourceNode = root.putObject("source");
            source.templateCommit().ifPresent(commit -> sourceNode.put("template_commit", commit));
            ObjectNode packages = sourceNode.putObject("packages");
            new TreeMap<>(source.packages()).forEach(packages::put);
            source.notes().ifPresent(notes -> sourceNode.put("notes", notes));
        });
        ObjectNode signer = root.putObject("signer");
        signer.put("fingerprint", manifest.signer().fingerprint().hex());
        signer.put("user_id", manifest.signer().userId());
        return serialize(root);
    }

    private static void writeImage(ObjectNode imageNode, Manifest.Image image) {
        imageNode.put("file", image.file());
        imageNode.put("size", image.size());
        imageNode.put("sha256", image.sha256().hex());
        imageNode.put("block_size", image.blockSize());
        imageNode.put("blocks_count", image.blocksCount());
        imageNode.put("mapped_blocks_count", image.mappedBlocksCount());
        imageNode.put("mapped_bytes", image.mappedBytes());
    }

    private static void writeFiles(ArrayNode files, List<Manifest.FileEntry> entries) {
        for (Manifest.FileEntry entry : entries) {
            ObjectNode fileNode = files.addObject();
            fileNode.put("name", entry.name());
            fileNode.put("role", entry.role().json());
            fileNode.put("size", entry.size());
            fileNode.put("sha256", entry.sha256().hex());
        }
    }

    private static Manifest.Image image(JsonNode image, String source) {
        return new Manifest.Image(text(image, "file", source), number(image, "size", source),
                Sha256.fromHex(text(image, "sha256", source)), (int) number(image, "block_size", source),
                number(image, "blocks_count", source), number(image, "mapped_blocks_count", source),
                number(image, "mapped_bytes", source));
    }

    private static List<Manifest.FileEntry> files(JsonNode node, String source) {
        List<Manifest.FileEntry> files = new ArrayList<>();
        if (!node.isArray()) {
            throw invalid(source, "'files' is not a list");
        }
        for (JsonNode file : node) {
            String role = text(file, "role", source);
            files.add(new Manifest.FileEntry(text(file, "name", source),
                    Manifest.Role.fromJson(role).orElseThrow(() -> invalid(source, "a file has the unknown role '" + role + "'")),
                    number(file, "size", source), Sha256.fromHex(text(file, "sha256", source))));
        }
        return files;
    }

    private static List<Manifest.Slot> slots(JsonNode root, String source) {
        List<Manifest.Slot> slots = new ArrayList<>();
        JsonNode node = root.get("slots");
        if (node == null || node.isNull()) {
            return slots;
        }
        if (!node.isArray()) {
            throw invalid(source, "'slots' is not a list");
        }
        for (JsonNode slot : node) {
            JsonNode partition = required(slot, "partition", source);
            Optional<Manifest.ByteRange> range = Optional.empty();
            if (slot.has("disk_payload_bytes")) {
                JsonNode rangeNode = slot.get("disk_payload_bytes");
                range = Optional.of(new Manifest.ByteRange(number(rangeNode, "offset", source), number(rangeNode, "length", source)));
            }
            slots.add(new Manifest.Slot(new Manifest.Partition(text(partition, "name", source), (int) number(partition, "number", source),
                    number(partition, "first_lba", source), number(partition, "last_lba", source),
                    (int) number(partition, "sector_size", source), text(partition, "type_guid", source),
                    text(partition, "unique_guid", source)), image(required(slot, "image", source), source),
                    files(required(slot, "files", source), source), range));
        }
        return slots;
    }

    static byte[] serialize(JsonNode node) {
        try {
            // Through plain maps, so ORDER_MAP_ENTRIES_BY_KEYS sorts every level.
            Object plain = MAPPER.treeToValue(node, Object.class);
            String text = MAPPER.writeValueAsString(plain) + "\n";
            return text.getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }

    public static Manifest parse(byte[] content, String source) {
        JsonNode root;
        try {
            root = MAPPER.readTree(content);
        } catch (JsonProcessingException e) {
            throw invalid(source, "it is not JSON (" + e.getOriginalMessage() + ")");
        } catch (java.io.IOException e) {
            throw invalid(source, "it could not be read (" + e.getMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw invalid(source, "it is not a JSON object");
        }
        JsonNode schemaNode = root.path("schema_version");
        if (!schemaNode.isIntegralNumber() || schemaNode.asInt() != Manifest.SCHEMA_VERSION) {
            throw invalid(source, "its schema_version is " + root.path("schema_version") + "; this Ingot reads "
                    + Manifest.SCHEMA_VERSION).withHint("upgrade Ingot if the release is newer");
        }
        try {
            JsonNode image = required(root, "image", source);
            List<Manifest.FileEntry> files = files(required(root, "files", source), source);
            JsonNode compression = required(root, "compression", source);
            Optional<Manifest.Source> sourceInfo = Optional.empty();
            if (root.has("source")) {
                JsonNode node = root.get("source");
                Map<String, String> packages = new TreeMap<>();
                node.path("packages").properties().forEach(entry -> packages.put(entry.getKey(), entry.getValue().asText()));
                sourceInfo = Optional.of(new Manifest.Source(optionalText(node, "template_commit"), packages,
                        optionalText(node, "notes")));
            }
            JsonNode signer = required(root, "signer", source);
            return new Manifest(
                    new ImageName(text(root, "name", source)),
                    ImageVersion.parse(text(root, "version", source)),
                    Instant.parse(text(root, "build_date", source)),
                    text(root, "image_version_file", source),
                    image(image, source),
                    files,
                    new Manifest.Compression(text(compression, "algorithm", source), (int) number(compression, "level", source)),
                    sourceInfo,
                    new Manifest.Signer(Fingerprint.parse(text(signer, "fingerprint", source)), signer.path("user_id").asText("")),
                    slots(root, source));
        } catch (DateTimeParseException e) {
            throw invalid(source, "its build_date is not an ISO-8601 instant");
        } catch (IngotException e) {
            if (e.getMessage().startsWith("Tried to read the manifest")) {
                throw e;
            }
            throw invalid(source, e.getMessage());
        }
    }

    private static JsonNode required(JsonNode node, String field, String source) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw invalid(source, "it has no '" + field + "'");
        }
        return value;
    }

    private static String text(JsonNode node, String field, String source) {
        JsonNode value = required(node, field, source);
        if (!value.isTextual()) {
            throw invalid(source, "'" + field + "' is not a string");
        }
        return value.asText();
    }

    private static Optional<String> optionalText(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? Optional.empty() : Optional.of(value.asText());
    }

    private static long number(JsonNode node, String field, String source) {
        JsonNode value = required(node, field, source);
        if (!value.canConvertToLong() || !value.isIntegralNumber() || value.asLong() < 0) {
            throw invalid(source, "'" + field + "' is not a non-negative whole number");
        }
        return value.asLong();
    }

    private static IngotException invalid(String source, String reason) {
        return IngotException.tried(ErrorCode.CHECK_FAILED, "read the manifest " + source, reason);
    }
}
