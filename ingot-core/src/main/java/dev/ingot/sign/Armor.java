package dev.ingot.sign;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.bouncycastle.bcpg.ArmoredOutputStream;

/** ASCII armor (RFC 4880 §6.2) without a Version header, so the same packets give the same text. */
final class Armor {
    interface Encoder {
        void encode(OutputStream out) throws IOException;
    }

    private Armor() {}

    static String encode(Encoder encoder) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ArmoredOutputStream armored = ArmoredOutputStream.builder().clearHeaders().build(bytes)) {
            encoder.encode(armored);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toString(StandardCharsets.US_ASCII);
    }
}
