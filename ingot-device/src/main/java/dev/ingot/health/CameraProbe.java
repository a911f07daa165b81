package dev.ingot.health;

import dev.ingot.health.EdgeFiles.CameraAddress;
import dev.ingot.health.HealthReport.Camera;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Whether each camera accepts a TCP connection on its RTSP port: connects in parallel, at most
 * {@code parallelism} at once, each bounded by the connect timeout, all of them by the probe's budget (a
 * camera not tried in time is reported as such). A connect says the camera's RTSP server listens; it
 * does not authenticate or play a stream. Addresses must be IP literals: no DNS lookup can hang a probe.
 */
final class CameraProbe {
    private CameraProbe() {}

    static List<Camera> probe(List<CameraAddress> cameras, Duration connectTimeout, int parallelism, Duration budget) {
        long deadline = System.nanoTime() + budget.toNanos();
        Semaphore slots = new Semaphore(parallelism);
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        try {
            List<Future<Camera>> pending = new ArrayList<>();
            for (CameraAddress camera : cameras) {
                Callable<Camera> attempt = () -> attempt(camera, connectTimeout, slots, deadline);
                pending.add(executor.submit(attempt));
            }
            List<Camera> results = new ArrayList<>();
            for (int index = 0; index < cameras.size(); index++) {
                results.add(result(pending.get(index), cameras.get(index), deadline));
            }
            return results;
        } finally {
            executor.shutdownNow();
        }
    }

    private static Camera result(Future<Camera> future, CameraAddress camera, long deadline) {
        try {
            return future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | CancellationException e) {
            future.cancel(true);
            return unreachable(camera, "not tried within the probe's time limit");
        } catch (ExecutionException e) {
            return unreachable(camera, String.valueOf(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return unreachable(camera, "interrupted");
        }
    }

    private static Camera attempt(CameraAddress camera, Duration connectTimeout, Semaphore slots, long deadline)
            throws InterruptedException {
        InetAddress address;
        try {
            address = InetAddress.ofLiteral(camera.address());
        } catch (IllegalArgumentException e) {
            return unreachable(camera, "'" + camera.address() + "' is not an IP address");
        }
        if (!slots.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            return unreachable(camera, "not tried within the probe's time limit");
        }
        try {
            long remainingMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (remainingMillis <= 0) {
                return unreachable(camera, "not tried within the probe's time limit");
            }
            int timeout = (int) Math.min(connectTimeout.toMillis(), remainingMillis);
            long started = System.nanoTime();
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(address, camera.port()), timeout);
                return new Camera(camera.address(), camera.port(), true,
                        OptionalLong.of(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)), Optional.empty());
            } catch (SocketTimeoutException e) {
                return unreachable(camera, "no answer within " + timeout + " ms");
            } catch (ConnectException e) {
                return unreachable(camera, "connection refused");
            } catch (NoRouteToHostException e) {
                return unreachable(camera, "no route to host");
            } catch (IOException e) {
                return unreachable(camera, String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT));
            }
        } finally {
            slots.release();
        }
    }

    private static Camera unreachable(CameraAddress camera, String reason) {
        return new Camera(camera.address(), camera.port(), false, OptionalLong.empty(), Optional.of(reason));
    }

    /** A configured address, "IP" (the default port) or "IP:PORT" ("[IPv6]:PORT"). */
    static CameraAddress parse(String text, int defaultPort) {
        String value = text.strip();
        if (value.startsWith("[") && value.contains("]")) {
            String host = value.substring(1, value.indexOf(']'));
            String rest = value.substring(value.indexOf(']') + 1);
            return new CameraAddress(host, rest.matches(":[0-9]{1,5}") ? Integer.parseInt(rest.substring(1)) : defaultPort);
        }
        int colon = value.lastIndexOf(':');
        if (colon > 0 && value.indexOf(':') == colon && value.substring(colon + 1).matches("[0-9]{1,5}")) {
            return new CameraAddress(value.substring(0, colon), Integer.parseInt(value.substring(colon + 1)));
        }
        return new CameraAddress(value, defaultPort);
    }
}
