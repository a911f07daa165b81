package dev.ingot.flash;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * CPU time and bytes per stage of a flash, summed over the threads that run the stage: what the bench's phase table
 * prints, so a missed target can be explained by where the CPU went (on 2 cores everything competes).
 */
final class Stages {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final Map<String, Stage> stages = new LinkedHashMap<>();

    /** One stage's counters; safe to add to from any thread. */
    static final class Stage {
        private final String name;
        private final LongAdder cpuNanos = new LongAdder();
        private final LongAdder bytes = new LongAdder();

        private Stage(String name) {
            this.name = name;
        }

        long cpuNanos() {
            return cpuNanos.sum();
        }

        void add(long cpu, long count) {
            if (cpu > 0) {
                cpuNanos.add(cpu);
            }
            bytes.add(count);
        }
    }

    synchronized Stage stage(String name) {
        return stages.computeIfAbsent(name, Stage::new);
    }

    /** The calling thread's CPU time in nanoseconds (0 where the JVM cannot tell). */
    static long threadCpu() {
        long cpu = THREADS.isCurrentThreadCpuTimeSupported() ? THREADS.getCurrentThreadCpuTime() : 0;
        return Math.max(0, cpu);
    }

    synchronized List<Flasher.Stage> report() {
        List<Flasher.Stage> report = new ArrayList<>();
        for (Stage stage : stages.values()) {
            report.add(new Flasher.Stage(stage.name, stage.cpuNanos.sum() / 1_000_000, stage.bytes.sum()));
        }
        return report;
    }
}
