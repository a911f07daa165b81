package dev.ingot.boot;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The golden image's A/B boot menu: the {@code grub.cfg} that sits on the ESP beside {@code grubenv}
 * ({@link #config()}), and what it boots for a given environment ({@link #boot}), the same decision written once
 * more in Java so that the simulated fleet boots as GRUB does. The tests run the real file in {@code grub-emu}
 * against the same cases and hold the two to each other.
 */
public final class GrubMenu {
    /** Where the file and the environment sit on the ESP (Ubuntu's signed GRUB reads its grub.cfg from there). */
    public static final String ESP_FOLDER = "EFI/ubuntu";
    public static final String CONFIG_FILE = "grub.cfg";
    public static final String ENV_FILE = "grubenv";
    /** The ESP's mount point on a running device. */
    public static final String ESP_MOUNT = "/boot/efi";
    /** The environment on a running device. */
    public static final String ENV_PATH = ESP_MOUNT + "/" + ESP_FOLDER + "/" + ENV_FILE;
    /** The committed slot's entry: the default of every boot. */
    public static final String SAVED_ENTRY = "saved_entry";
    /** A one-shot boot: the boot that reads it clears it. */
    public static final String NEXT_ENTRY = "next_entry";

    private GrubMenu() {}

    /** The grub.cfg text, as installed on the ESP. */
    public static String config() {
        try (InputStream in = GrubMenu.class.getResourceAsStream(CONFIG_FILE)) {
            if (in == null) {
                throw new IllegalStateException("the grub.cfg resource is missing from the build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * One boot.
     *
     * @param tried the entry GRUB started first
     * @param booted the slot whose kernel loaded, if any did (none: GRUB stops at its menu)
     * @param env the environment after the boot (a one-shot entry is cleared)
     */
    public record Boot(Slot tried, Optional<Slot> booted, Map<String, String> env) {
        public Boot {
            requireNonNull(tried, "tried");
            requireNonNull(booted, "booted");
            env = Map.copyOf(env);
        }

        public boolean fellBack() {
            return booted.isPresent() && booted.get() != tried;
        }
    }

    /**
     * What grub.cfg boots: {@code next_entry} once if it names a slot (cleared as it is read), else the slot of
     * {@code saved_entry} (slot a unless it says ingot-b); an entry whose kernel does not load falls back to the
     * committed slot within the same boot.
     *
     * @param hasKernel whether a slot's kernel and initrd load (a half-written slot's do not)
     */
    public static Boot boot(Map<String, String> env, Predicate<Slot> hasKernel) {
        Map<String, String> after = new LinkedHashMap<>(env);
        Slot committed = Slot.B.grubEntry().equals(env.get(SAVED_ENTRY)) ? Slot.B : Slot.A;
        Optional<Slot> once = entry(env.get(NEXT_ENTRY));
        Slot tried = committed;
        if (once.isPresent()) {
            tried = once.get();
            after.put(NEXT_ENTRY, "");
        }
        if (hasKernel.test(tried)) {
            return new Boot(tried, Optional.of(tried), after);
        }
        boolean fallback = once.isPresent() && hasKernel.test(committed);
        return new Boot(tried, fallback ? Optional.of(committed) : Optional.empty(), after);
    }

    /** The slot a {@code saved_entry} or {@code next_entry} value names, if it names one. */
    public static Optional<Slot> entry(String value) {
        for (Slot slot : Slot.values()) {
            if (slot.grubEntry().equals(value)) {
                return Optional.of(slot);
            }
        }
        return Optional.empty();
    }
}
