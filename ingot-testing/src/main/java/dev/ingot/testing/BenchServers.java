package dev.ingot.testing;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The servers {@code bench/flash.sh} streams from: S3Proxy over a folder (its sub-folders are buckets; anonymous), and
 * optionally a TCP relay in front of it that throttles answers to a site link's rate. Prints one line per server
 * ({@code s3 URL}, {@code throttled URL}) and runs until its standard input closes.
 *
 * <p>Usage: {@code java -cp … dev.ingot.testing.BenchServers --root DIR [--rate BYTES_PER_SECOND]}
 */
public final class BenchServers {
    private BenchServers() {}

    public static void main(String[] args) throws IOException {
        Path root = null;
        long rate = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--root" -> root = Path.of(args[++i]);
                case "--rate" -> rate = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--root DIR [--rate BYTES_PER_SECOND])");
            }
        }
        if (root == null) {
            throw new IllegalArgumentException("--root DIR is required");
        }
        try (S3Server s3 = S3Server.serving(root); TcpProxy link = TcpProxy.to(s3.endpoint())) {
            System.out.println("s3 " + s3.endpoint());
            if (rate > 0) {
                link.throttle(rate);
                System.out.println("throttled " + link.uri());
            }
            System.out.flush();
            while (System.in.read() >= 0) {
                // runs until stdin closes
            }
        }
    }
}
