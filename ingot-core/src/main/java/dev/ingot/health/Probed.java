package dev.ingot.health;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.function.Function;

/**
 * What one probe found: a value, or why there is none ("nvidia-smi is not on PATH"). A failed probe
 * is part of the report, never an exception: the report is written whatever the host is like.
 */
public sealed interface Probed<T> {
    record Found<T>(T value) implements Probed<T> {
        public Found {
            requireNonNull(value, "value");
        }
    }

    record Failed<T>(String reason) implements Probed<T> {
        public Failed {
            requireNonNull(reason, "reason");
        }
    }

    static <T> Probed<T> found(T value) {
        return new Found<>(value);
    }

    static <T> Probed<T> failed(String reason) {
        return new Failed<>(reason);
    }

    default Optional<T> found() {
        return switch (this) {
            case Found<T> found -> Optional.of(found.value());
            case Failed<T> failed -> Optional.empty();
        };
    }

    default Optional<String> failure() {
        return switch (this) {
            case Found<T> found -> Optional.empty();
            case Failed<T> failed -> Optional.of(failed.reason());
        };
    }

    default <R> Probed<R> map(Function<? super T, ? extends R> mapper) {
        return switch (this) {
            case Found<T> found -> new Found<>(mapper.apply(found.value()));
            case Failed<T> failed -> new Failed<>(failed.reason());
        };
    }

    default <R> Probed<R> flatMap(Function<? super T, Probed<R>> mapper) {
        return switch (this) {
            case Found<T> found -> mapper.apply(found.value());
            case Failed<T> failed -> new Failed<>(failed.reason());
        };
    }
}
