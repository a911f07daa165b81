package dev.ingot.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay on loopback in front of a server (S3Proxy, an HTTP server), so that a real client library sees what a
 * real link does to it: the connection dropped once after N bytes have come back from the server ({@link #cutOnceAfter}),
 * or every answer slowed to a site link's rate ({@link #throttle}, a token bucket shared by all connections). Bytes are
 * relayed unchanged.
 */
public final class TcpProxy implements AutoCloseable {
    private final InetSocketAddress target;
    private final ServerSocket listener;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicLong fromServer = new AtomicLong();
    private final AtomicLong cutAfter = new AtomicLong(-1);
    private volatile long bytesPerSecond;
    private final Object bucket = new Object();
    private long tokens;
    private long refilled = System.nanoTime();
    private volatile boolean closed;

    private TcpProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "tcp-proxy");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Relays to {@code server}'s host and port (an http:// URI). */
    public static TcpProxy to(URI server) {
        try {
            return new TcpProxy(new InetSocketAddress(server.getHost(), server.getPort()));
        } catch (IOException e) {
            throw new IllegalStateException("the proxy did not start: " + e.getMessage(), e);
        }
    }

    /** {@code http://127.0.0.1:PORT}. */
    public URI uri() {
        return URI.create("http://127.0.0.1:" + listener.getLocalPort());
    }

    /** Once the server has sent {@code bytes} more bytes (all connections together), the connection sending drops; once. */
    public TcpProxy cutOnceAfter(long bytes) {
        cutAfter.set(fromServer.get() + bytes);
        return this;
    }

    /** Limits what comes back from the server to {@code rate} bytes per second, all connections together. */
    public TcpProxy throttle(long rate) {
        bytesPerSecond = rate;
        return this;
    }

    /** Bytes the server has sent so far. */
    public long bytesFromServer() {
        return fromServer.get();
    }

    private void accept() {
        while (!closed) {
            Socket client = null;
            try {
                client = listener.accept();
                Socket server = new Socket(target.getAddress(), target.getPort());
                sockets.add(client);
                sockets.add(server);
                Socket accepted = client;
                Thread.ofVirtual().start(() -> pump(accepted, server, false));
                Thread.ofVirtual().start(() -> pump(server, accepted, true));
            } catch (IOException e) {
                if (client != null) {
                    closeQuietly(client); // the server could not be reached: the client hears it at once, not after a timeout
                }
                if (!closed) {
                    continue;
                }
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, boolean answer) {
        byte[] buffer = new byte[16 << 10];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (answer) {
                    take(n);
                    long total = fromServer.addAndGet(n);
                    long cut = cutAfter.get();
                    if (cut >= 0 && total >= cut && cutAfter.compareAndSet(cut, -1)) {
                        int keep = (int) (n - (total - cut));
                        out.write(buffer, 0, Math.max(0, keep));
                        out.flush();
                        from.setSoLinger(true, 0);
                        to.setSoLinger(true, 0);
                        from.close();
                        to.close();
                        return;
                    }
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // one side went away: the other follows
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    /** Waits until {@code n} bytes may pass (a token bucket of one second's worth). */
    private void take(int n) {
        long rate = bytesPerSecond;
        if (rate <= 0) {
            return;
        }
        synchronized (bucket) {
            while (true) {
                long now = System.nanoTime();
                // At most a second's worth: a bucket idle for minutes must not overflow (elapsed nanos × rate).
                long elapsed = Math.min(now - refilled, 1_000_000_000L);
                tokens = Math.min(Math.max(rate, n), tokens + elapsed * rate / 1_000_000_000L);
                refilled = now;
                if (tokens >= n) {
                    tokens -= n;
                    return;
                }
                long waitNanos = (n - tokens) * 1_000_000_000L / rate;
                try {
                    Thread.sleep(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(listener);
        sockets.forEach(TcpProxy::closeQuietly);
    }

    private static void closeQuietly(ServerSocket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already gone
        }
    }
}
