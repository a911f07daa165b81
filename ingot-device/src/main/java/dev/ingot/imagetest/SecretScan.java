package dev.ingot.imagetest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Looks through every regular file of a tree for what must never be baked into an image: private keys (PEM and
 * OpenSSH armor), AWS access key ids and secret keys, AWS credentials files and token files. Findings name the file
 * and line and what was found, never the secret itself. Public material is skipped: documentation and test data
 * shipped by packages under /usr/share/doc, and files above 64 MiB (images, models, archives).
 */
public final class SecretScan {
    static final long MAXIMUM_SIZE = 64L << 20;
    private static final List<String> SKIPPED_PREFIXES = List.of("/usr/share/doc/", "/proc/", "/sys/", "/dev/");
    private static final Pattern PRIVATE_KEY = Pattern.compile("-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----");
    private static final Pattern ACCESS_KEY_ID = Pattern.compile("(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])");
    private static final Pattern SECRET_ACCESS_KEY = Pattern.compile("(?i)aws_secret_access_key\\s*[=:]\\s*\\S+");
    private static final Pattern SESSION_TOKEN = Pattern.compile("(?i)aws_session_token\\s*[=:]\\s*\\S+");

    private SecretScan() {}

    public static List<String> scan(ImageTree tree) throws IOException {
        List<String> findings = new ArrayList<>();
        tree.forEachFile((path, size, content) -> {
            if (SKIPPED_PREFIXES.stream().anyMatch(path::startsWith)) {
                return;
            }
            String name = path.substring(path.lastIndexOf('/') + 1);
            if (path.endsWith("/.aws/credentials")) {
                findings.add(path + ": an AWS credentials file");
            }
            if (name.equals("enrollment-token") || name.endsWith(".token")) {
                findings.add(path + ": a token file");
            }
            if (size > MAXIMUM_SIZE) {
                return;
            }
            scanContent(path, content, findings);
        });
        return findings;
    }

    /**
     * A PEM header alone is not a key: ssh, sshd and TLS libraries carry the header strings to recognise keys. A key is the
     * header on a line of its own, then (after optional RFC 1421 headers such as Proc-Type and DEK-Info) base64 lines.
     */
    private static boolean keyBodyFollows(String[] lines, int from) {
        for (int index = from; index < Math.min(lines.length, from + 4); index++) {
            String line = lines[index].strip();
            if (line.isEmpty() || line.startsWith("Proc-Type:") || line.startsWith("DEK-Info:")) {
                continue;
            }
            return BASE64_LINE.matcher(line).matches();
        }
        return false;
    }

    private static final Pattern BASE64_LINE = Pattern.compile("[A-Za-z0-9+/]{16,}={0,2}");

    private static void scanContent(String path, InputStream content, List<String> findings) throws IOException {
        // ISO-8859-1 maps every byte to one char, so binary files are scanned too, without decoding errors.
        String text = new String(content.readAllBytes(), StandardCharsets.ISO_8859_1);
        if (text.indexOf("PRIVATE KEY-----") < 0 && text.indexOf("AKIA") < 0 && text.indexOf("ASIA") < 0
                && text.toLowerCase(java.util.Locale.ROOT).indexOf("aws_s") < 0) {
            return;
        }
        String[] lines = text.split("\n", -1);
        for (int index = 0; index < lines.length; index++) {
            String line = lines[index];
            if (line.contains("EXAMPLE")) {
                continue; // AWS's documented sample keys (AKIAIOSFODNN7EXAMPLE), as awscli's own examples hold them
            }
            String where = path + " line " + (index + 1) + ": ";
            Matcher key = PRIVATE_KEY.matcher(line.strip());
            if (key.matches() && keyBodyFollows(lines, index + 1)) {
                findings.add(where + "a private key (" + key.group() + ")");
            }
            Matcher id = ACCESS_KEY_ID.matcher(line);
            if (id.find()) {
                findings.add(where + "an AWS access key id (" + id.group(1) + "…)");
            }
            if (SECRET_ACCESS_KEY.matcher(line).find()) {
                findings.add(where + "an AWS secret access key");
            }
            if (SESSION_TOKEN.matcher(line).find()) {
                findings.add(where + "an AWS session token");
            }
        }
    }
}
