package dev.ingot.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Small real golden images for the image tests: a root tree that passes every check of {@code ingot image test}
 * ({@link #goodTree}), and a GPT disk image with the golden layout (esp, root-a, root-b, data) whose root-a is an ext4
 * file system filled from a tree ({@link #diskImage}: {@code sfdisk} and {@code mkfs.ext4 -d -E offset=}, no root).
 */
public final class GoldenImages {
    public static final String VERSION = "v1.5";
    public static final String BUILD_DATE = "2026-11-26T00:20:00Z";
    /** The pinned versions the good tree holds, as packer/versions.pkrvars.hcl writes them. */
    public static final String VERSIONS_FILE = """
            # Pinned versions (test fixture).
            iso_url    = "https://releases.ubuntu.com/22.04.5/ubuntu-22.04.5-live-server-amd64.iso"
            iso_sha256 = "9bc6028870aef3f74f4e16b900008179e78b130e6b0b9a140635434a46aa98b0"

            docker_ce_version  = "5:27.3.1-1~ubuntu.22.04~jammy"
            containerd_version = "1.7.22-1"

            nvidia_driver_version     = "535.183.01-0ubuntu0.22.04.1"
            container_toolkit_version = "1.16.2-1"

            jre_version = "25.0.1+8"
            """;
    public static final List<String> TOOLS = List.of("sfdisk", "mkfs.ext4", "debugfs", "mkfs.vfat", "mmd", "mcopy", "grub-editenv");
    /** The golden layout's GPT partition names, in partition-number order (packer/http/user-data). */
    public static final List<String> PARTITIONS = List.of("esp", "root-a", "root-b", "data");
    /** The boot-loader packages the image holds (packer/scripts/45-ab-boot.sh), with their Ubuntu 22.04 versions. */
    public static final Map<String, String> BOOT_LOADER = Map.of("grub-efi-amd64-signed", "1.187.6+2.06-2ubuntu14.4",
            "grub-efi-amd64-bin", "2.06-2ubuntu14.4", "shim-signed", "1.51.3+15.7-0ubuntu1");

    private GoldenImages() {}

    /** Why images cannot be built here (a missing tool), or null when they can. */
    public static String unavailableBecause() {
        for (String tool : TOOLS) {
            if (!Tools.available(tool) && !Files.isExecutable(Path.of("/usr/sbin", tool)) && !Files.isExecutable(Path.of("/sbin", tool))) {
                return tool + " is not installed (apt-get install fdisk e2fsprogs dosfstools mtools grub-common)";
            }
        }
        return null;
    }

    /** The files of a good root tree, path → content. */
    public static Map<String, String> goodFiles() {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("/etc/passwd", """
                root:x:0:0:root:/root:/bin/bash
                daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
                sync:x:4:65534:sync:/bin:/bin/sync
                sshd:x:105:65534::/run/sshd:/usr/sbin/nologin
                edgeuser:x:1000:1000:Edge operator:/home/edgeuser:/bin/bash
                """);
        files.put("/etc/shadow", """
                root:!:19700:0:99999:7:::
                daemon:*:19700:0:99999:7:::
                sync:*:19700:0:99999:7:::
                sshd:*:19700:0:99999:7:::
                edgeuser:!$6$ingotbuild$locked:19700:0:99999:7:::
                """);
        files.put("/etc/ssh/sshd_config", """
                # Ubuntu 22.04's sshd_config, shortened.
                Include /etc/ssh/sshd_config.d/*.conf
                KbdInteractiveAuthentication no
                UsePAM yes
                X11Forwarding yes
                Subsystem sftp /usr/lib/openssh/sftp-server
                """);
        files.put("/etc/ssh/sshd_config.d/00-ingot-hardening.conf", """
                PermitRootLogin no
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                ChallengeResponseAuthentication no
                AllowUsers edgeuser
                """);
        files.put("/etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJustAPublicKeyForTheFixture root@edge\n");
        Map<String, String> installed = new java.util.HashMap<>(Map.of("docker-ce", "5:27.3.1-1~ubuntu.22.04~jammy", "docker-ce-cli",
                "5:27.3.1-1~ubuntu.22.04~jammy", "containerd.io", "1.7.22-1", "nvidia-driver-535", "535.183.01-0ubuntu0.22.04.1",
                "nvidia-container-toolkit", "1.16.2-1", "chrony", "4.2-2ubuntu2"));
        installed.putAll(BOOT_LOADER);
        files.put("/var/lib/dpkg/status", dpkgStatus(installed, BOOT_LOADER.keySet()));
        files.put("/etc/docker/daemon.json", """
                {
                  "default-runtime": "nvidia",
                  "runtimes": {
                    "nvidia": {
                      "args": [],
                      "path": "nvidia-container-runtime"
                    }
                  }
                }
                """);
        files.put("/etc/edge/image-version", "IMAGE_NAME=edge-golden\nIMAGE_VERSION=" + VERSION + "\nBUILD_DATE=" + BUILD_DATE + "\n");
        files.put("/etc/apt/apt.conf.d/50unattended-upgrades", """
                // The package's own file, shortened.
                Unattended-Upgrade::Allowed-Origins {
                        "${distro_id}:${distro_codename}";
                        "${distro_id}:${distro_codename}-security";
                //      "${distro_id}:${distro_codename}-updates";
                };
                //Unattended-Upgrade::Automatic-Reboot "false";
                """);
        files.put("/etc/apt/apt.conf.d/51ingot-image-unattended-upgrades", """
                #clear Unattended-Upgrade::Allowed-Origins;
                #clear Unattended-Upgrade::Origins-Pattern;
                Unattended-Upgrade::Origins-Pattern {
                        "origin=Ubuntu,archive=${distro_codename}-security,label=Ubuntu";
                };
                Unattended-Upgrade::Automatic-Reboot "false";
                """);
        // What packer/scripts/40-ingot-agent.sh installs: the real units of deploy/, enabled, and the agent with its launcher.
        for (String unit : List.of("ingot-provision-first-boot.service", "ingot-health.service", "ingot-health.timer", "ingot-agent.service")) {
            files.put("/etc/systemd/system/" + unit, repositoryFile("deploy/" + unit));
        }
        files.put("/etc/systemd/system/multi-user.target.wants/ingot-agent.service", link("/etc/systemd/system/ingot-agent.service"));
        // What packer/scripts/45-ab-boot.sh leaves in root-a: the fstab, and the kernel and initrd the A/B menu loads.
        files.put("/etc/fstab", repositoryFile("packer/files/fstab"));
        files.put("/boot/vmlinuz-5.15.0-126-generic", "a kernel (test fixture)\n");
        files.put("/boot/initrd.img-5.15.0-126-generic", "an initrd (test fixture)\n");
        files.put("/boot/vmlinuz", link("vmlinuz-5.15.0-126-generic"));
        files.put("/boot/initrd.img", link("initrd.img-5.15.0-126-generic"));
        files.put("/etc/systemd/system/ingot-ssh-host-keys.service", repositoryFile("packer/files/ingot-ssh-host-keys.service"));
        files.put("/etc/systemd/system/multi-user.target.wants/ingot-provision-first-boot.service",
                link("/etc/systemd/system/ingot-provision-first-boot.service"));
        files.put("/etc/systemd/system/multi-user.target.wants/ingot-ssh-host-keys.service", link("/etc/systemd/system/ingot-ssh-host-keys.service"));
        files.put("/etc/systemd/system/timers.target.wants/ingot-health.timer", link("/etc/systemd/system/ingot-health.timer"));
        files.put("/opt/edge/bin/ingot", LAUNCHER);
        files.put("/opt/edge/agent/runtime/bin/java", STAND_IN);
        files.put("/opt/edge/agent/ingot.jar", "PK\u0003\u0004 (a stand-in for the jar)\n");
        files.put("/opt/edge/provision_site.sh", repositoryFile("deploy/provision_site.sh"));
        files.put("/opt/edge/ingot-first-boot.sh", repositoryFile("deploy/ingot-first-boot.sh"));
        // Ubuntu 22.04 merges /usr: /bin is a link to usr/bin, which the units' /bin/bash goes through.
        files.put("/bin", link("usr/bin"));
        files.put("/usr/bin/bash", STAND_IN);
        files.put("/usr/bin/ssh-keygen", STAND_IN);
        files.put("/usr/share/doc/awscli/examples/credentials", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n");
        return files;
    }

    /** The launcher packer/scripts/40-ingot-agent.sh writes, byte for byte. */
    public static final String LAUNCHER = "#!/bin/sh\n"
            + "exec /opt/edge/agent/runtime/bin/java --enable-native-access=ALL-UNNAMED -jar /opt/edge/agent/ingot.jar \"$@\"\n";
    /** A program the image test needs to find, not to run. */
    private static final String STAND_IN = "#!/bin/sh\n# A stand-in for the real program: the image test checks that it is there and executable.\n";
    /** Marks a value of {@link #goodFiles()} as a symbolic link to what follows. */
    private static final String LINK = "\u0000symbolic link to ";

    /** A value for {@link #writeTree}: a symbolic link to {@code target} rather than a file. */
    public static String link(String target) {
        return LINK + target;
    }

    /** A file of this repository (deploy/, packer/), found from the module folder a test runs in. */
    public static String repositoryFile(String path) {
        Path folder = Path.of("").toAbsolutePath();
        while (folder != null && !Files.isDirectory(folder.resolve("deploy"))) {
            folder = folder.getParent();
        }
        if (folder == null) {
            throw new IllegalStateException("no folder above " + Path.of("").toAbsolutePath() + " holds deploy/ (the repository)");
        }
        try {
            return Files.readString(folder.resolve(path));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A dpkg status file with these packages installed. */
    public static String dpkgStatus(Map<String, String> packages) {
        return dpkgStatus(packages, java.util.Set.of());
    }

    /** A dpkg status file with these packages installed, {@code held} among them on hold (what apt-mark hold leaves). */
    public static String dpkgStatus(Map<String, String> packages, java.util.Set<String> held) {
        StringBuilder text = new StringBuilder();
        packages.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(entry -> text.append("Package: ").append(entry.getKey())
                .append("\nStatus: ").append(held.contains(entry.getKey()) ? "hold" : "install").append(" ok installed")
                .append("\nMaintainer: Test Fixture <fixture@example.net>\nArchitecture: amd64\nVersion: ").append(entry.getValue())
                .append("\nDescription: a package of the test fixture\n\n"));
        return text.toString();
    }

    /**
     * Writes {@code files} (path → content) under {@code root}: a file that starts with {@code #!} is made executable, a
     * {@link #link} value becomes a symbolic link. Returns root.
     */
    public static Path writeTree(Path root, Map<String, String> files) {
        try {
            for (Map.Entry<String, String> file : new java.util.TreeMap<>(files).entrySet()) {
                Path target = root.resolve(file.getKey().substring(1));
                Files.createDirectories(target.getParent());
                if (file.getValue().startsWith(LINK)) {
                    Files.createSymbolicLink(target, Path.of(file.getValue().substring(LINK.length())));
                    continue;
                }
                Files.writeString(target, file.getValue());
                if (file.getValue().startsWith("#!")) {
                    Files.setPosixFilePermissions(target, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }
            Files.createDirectories(root.resolve("home/edgeuser"));
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where {@link #diskImage} puts the data partition, and its size: what sfdisk makes of the rest of 40 MiB, aligned. */
    public static final long DATA_OFFSET = 34L << 20;
    public static final long DATA_SIZE = 5L << 20;
    /** Where the ESP's GRUB files are, as packer/scripts/45-ab-boot.sh installs them. */
    public static final String ESP_CONFIG = "/EFI/ubuntu/grub.cfg";
    public static final String ESP_ENV = "/EFI/ubuntu/grubenv";

    /**
     * A 40 MiB GPT disk image at {@code image}: esp (1 MiB, FAT with the A/B grub.cfg and a grubenv committing slot a),
     * root-a (16 MiB, ext4 from {@code tree}), root-b (16 MiB, empty ext4), data (the rest, 5 MiB at {@link #DATA_OFFSET},
     * empty ext4). Sparse, built without root.
     */
    public static Path diskImage(Path tree, Path image) {
        return diskImage(tree, image, goodEsp(image.getParent()), PARTITIONS);
    }

    /**
     * As {@link #diskImage(Path, Path)}, with these files on the ESP (path → content) and these partition names in
     * partition-number order (sizes by position: 1 MiB, 16 MiB, 16 MiB, the rest; root-a gets the tree wherever it is).
     */
    public static Path diskImage(Path tree, Path image, Map<String, byte[]> espFiles, List<String> names) {
        try {
            Files.deleteIfExists(image);
            try (var file = new java.io.RandomAccessFile(image.toFile(), "rw")) {
                file.setLength(40L << 20);
            }
            Path empty = Files.createTempDirectory(image.getParent(), "empty");
            Path layout = image.resolveSibling(image.getFileName() + ".sfdisk");
            String[] sizes = {"size=1MiB, ", "size=16MiB, ", "size=16MiB, ", ""};
            StringBuilder table = new StringBuilder("label: gpt\n");
            for (int index = 0; index < names.size(); index++) {
                table.append(sizes[index]).append("name=").append(names.get(index))
                        .append(names.get(index).equals("esp") ? ", type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B" : "").append('\n');
            }
            Files.writeString(layout, table.toString());
            run(image.getParent(), "sh", "-c", "sfdisk -q '" + image + "' < '" + layout + "'");
            long[] offsets = {1L << 20, 2L << 20, 18L << 20, DATA_OFFSET};
            long[] lengths = {1L << 20, 16L << 20, 16L << 20, DATA_SIZE};
            for (int index = 0; index < names.size(); index++) {
                String offset = String.valueOf(offsets[index]);
                String kib = (lengths[index] >> 10) + "K";
                switch (names.get(index)) {
                    case "esp" -> {
                        run(image.getParent(), "mkfs.vfat", "-n", "ESP", "--offset", String.valueOf(offsets[index] / 512), image.toString(),
                                String.valueOf(lengths[index] >> 10));
                        putEspFiles(image, offsets[index], espFiles);
                    }
                    case "root-a" -> run(image.getParent(), "mkfs.ext4", "-q", "-F", "-E", "offset=" + offset, "-d", tree.toString(),
                            image.toString(), kib);
                    case "data" -> run(image.getParent(), "mkfs.ext4", "-q", "-F", "-E", "offset=" + offset, "-L", "data", image.toString(), kib);
                    default -> run(image.getParent(), "mkfs.ext4", "-q", "-F", "-E", "offset=" + offset, "-d", empty.toString(),
                            image.toString(), kib);
                }
            }
            Files.delete(layout);
            Files.delete(empty);
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The ESP as packer/scripts/45-ab-boot.sh leaves it: the repository's A/B grub.cfg, and grubenv with saved_entry=ingot-a. */
    public static Map<String, byte[]> goodEsp(Path scratch) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(ESP_CONFIG, repositoryFile("ingot-core/src/main/resources/dev/ingot/boot/grub.cfg").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        files.put(ESP_ENV, grubEnv(scratch, "saved_entry=ingot-a"));
        return files;
    }

    /** A GRUB environment block made by the real grub-editenv: created, then each {@code name=value} set. */
    public static byte[] grubEnv(Path scratch, String... assignments) {
        try {
            Path env = Files.createTempFile(scratch, "grubenv", ".new");
            Files.delete(env);
            run(scratch, "grub-editenv", env.toString(), "create");
            for (String assignment : assignments) {
                run(scratch, "grub-editenv", env.toString(), "set", assignment);
            }
            byte[] bytes = Files.readAllBytes(env);
            Files.delete(env);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies files onto the FAT file system at {@code offset} of {@code image} with mtools, folders made first. */
    private static void putEspFiles(Path image, long offset, Map<String, byte[]> files) throws IOException {
        String device = image + "@@" + offset;
        java.util.Set<String> folders = new java.util.TreeSet<>();
        for (String path : files.keySet()) {
            for (int slash = path.indexOf('/', 1); slash > 0; slash = path.indexOf('/', slash + 1)) {
                folders.add(path.substring(0, slash));
            }
        }
        for (String folder : folders) {
            run(image.getParent(), "mmd", "-i", device, "::" + folder);
        }
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            Path content = Files.createTempFile(image.getParent(), "esp", ".file");
            Files.write(content, file.getValue());
            run(image.getParent(), "mcopy", "-o", "-i", device, content.toString(), "::" + file.getKey());
            Files.delete(content);
        }
    }

    /** Runs a tool (sfdisk, mkfs.ext4, debugfs, e2fsck) with /usr/sbin and /sbin on PATH; fails the test when it fails. */
    public static void run(Path folder, String... command) {
        // mtools checks a FAT's geometry against the disk's and refuses odd sizes unless told not to (mtools(1)).
        Map<String, String> environment = Map.of("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin",
                "MTOOLS_SKIP_CHECK", "1");
        Tools.run(folder, environment, List.of(command)).assertSuccess(List.of(command));
    }
}
