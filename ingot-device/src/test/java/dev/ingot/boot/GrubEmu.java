package dev.ingot.boot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Boots an {@link AbDisk} in grub-emu, GRUB itself running in a process: it reads the ESP's grub.cfg and grubenv from
 * the image (FAT, GPT) and runs them. grub-emu cannot load a kernel, so a test configuration on the ESP stands in
 * for the {@code linux} and {@code initrd} commands with functions that print what they were given (and whether the
 * kernel file exists in the slot's ext4) and then halt, before it sources the real grub.cfg.
 */
final class GrubEmu {
    private static final String HARNESS = """
            function linux {
              if [ -f "$1" ]; then
                echo "ingot-test: kernel $1"
                for argument in "$@"; do echo "ingot-test: argument ${argument}"; done
              else
                echo "ingot-test: no kernel at $1"
              fi
            }
            function initrd {
              if [ -f "$1" ]; then echo "ingot-test: initrd $1"; echo "ingot-test: end"; halt; fi
            }
            set prefix=(hd0,gpt1)/EFI/ubuntu
            source "${prefix}/grub.cfg"
            """;
    private static final Pattern ESCAPES = Pattern.compile("\u001b\\[[0-9;?]*[A-Za-z]");
    private static final Pattern KERNEL = Pattern.compile("ingot-test: kernel \\(hd0,gpt([0-9])\\)/boot/vmlinuz");

    /**
     * One boot: the entries started, the slot whose kernel loaded, and its kernel command line.
     *
     * @param started the entries GRUB started, in order ("ingot: booting slot X" lines)
     */
    record Boot(List<String> started, Optional<Slot> loaded, List<String> commandLine, String output) {}

    private GrubEmu() {}

    static Boot boot(AbDisk disk) throws IOException {
        Path harness = disk.folder.resolve("harness.cfg");
        Files.writeString(harness, HARNESS);
        disk.mtools("mcopy", "-o", harness.toString(), "::/ingot-test/grub.cfg");
        Path map = disk.folder.resolve("device.map");
        Files.writeString(map, "(hd0) " + disk.image + "\n");
        String output = ESCAPES.matcher(run(disk.folder, List.of("grub-emu", "-m", map.toString(), "-r", "hd0,gpt1", "-d", "/ingot-test"))
                .replace("\r", "")).replaceAll("");
        List<String> lines = output.lines().map(String::strip).toList();
        if (!lines.contains("ingot-test: end")) {
            return new Boot(started(lines), Optional.empty(), List.of(), output);
        }
        Optional<Slot> loaded = Optional.empty();
        for (String line : lines) {
            Matcher matcher = KERNEL.matcher(line);
            if (matcher.matches()) {
                int partition = Integer.parseInt(matcher.group(1));
                loaded = java.util.Arrays.stream(Slot.values()).filter(slot -> slot.partitionNumber() == partition).findFirst();
            }
        }
        List<String> arguments = lines.stream().filter(line -> line.startsWith("ingot-test: argument "))
                .map(line -> line.substring("ingot-test: argument ".length())).toList();
        return new Boot(started(lines), loaded, arguments.isEmpty() ? List.of() : arguments.subList(1, arguments.size()), output);
    }

    /**
     * Runs grub-emu until the harness halts it after a kernel loaded, or until GRUB gives up and waits for a key at its
     * menu (no slot could load): then it is stopped, as a person would find the device.
     */
    private static String run(Path folder, List<String> command) throws IOException {
        Process process = new ProcessBuilder(command).directory(folder.toFile()).redirectErrorStream(true).start();
        process.getOutputStream().close();
        StringBuilder output = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            byte[] buffer = new byte[8192];
            try (var in = process.getInputStream()) {
                int read;
                while ((read = in.read(buffer)) >= 0) {
                    synchronized (output) {
                        output.append(new String(buffer, 0, read, java.nio.charset.StandardCharsets.UTF_8));
                        if (output.indexOf("Press any key to continue") >= 0) {
                            process.destroyForcibly();
                        }
                    }
                }
            } catch (IOException e) {
                // the process was stopped
            }
        });
        try {
            if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("grub-emu neither booted nor stopped at its menu within 60 s:\n" + output);
            }
            reader.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new AssertionError(e);
        }
        synchronized (output) {
            return output.toString();
        }
    }

    private static List<String> started(List<String> lines) {
        return lines.stream().filter(line -> line.startsWith("ingot: booting slot ")).map(line -> line.substring("ingot: booting slot ".length()))
                .toList();
    }
}
