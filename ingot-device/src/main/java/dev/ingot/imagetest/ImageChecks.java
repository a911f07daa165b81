package dev.ingot.imagetest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ingot.boot.GrubEnv;
import dev.ingot.boot.GrubMenu;
import dev.ingot.health.EdgeFiles;
import dev.ingot.image.ImageVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The checks {@code ingot image test} runs on a root file system (docs/image-test.md lists each with its findings).
 * Pure: they read the {@link ImageTree} and return one {@link CheckResult} each, in a fixed order.
 */
public final class ImageChecks {
    public static final String LOGIN_USER = "edgeuser";
    static final Set<String> NO_LOGIN_SHELLS = Set.of("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false", "/bin/sync",
            "/sbin/halt", "/sbin/shutdown", "/usr/bin/sync", "/usr/sbin/halt", "/usr/sbin/shutdown");
    /** Files provisioning writes at first boot (docs/site-parameters.md); none may be in an image. */
    static final List<String> SITE_FILES = List.of("/etc/edge/video-ingest.env", "/etc/edge/site-id", "/etc/edge/provision.env",
            "/etc/iptables/rules.v4", "/etc/iptables/rules.v6", "/etc/ingot/agent.json", "/etc/ingot/enrollment-token");
    static final List<String> UNIT_FOLDERS = List.of("/etc/systemd/system", "/etc/systemd/system/multi-user.target.wants",
            "/lib/systemd/system", "/usr/lib/systemd/system");
    /** The device's ingot command, written by packer/scripts/40-ingot-agent.sh; the units in deploy/ run it. */
    public static final String LAUNCHER = "/opt/edge/bin/ingot";
    /** Where the image installs its own units (packer/scripts/40-ingot-agent.sh), and where `systemctl enable` links them. */
    static final String LOCAL_UNITS = "/etc/systemd/system";

    /**
     * A unit the image must install and enable: {@code wantedBy} is the target whose {@code .wants/} folder links to it
     * (empty for a unit another unit starts, like a timer's service); {@code needs} are files it runs beyond its ExecStart=.
     */
    public record ExpectedUnit(String name, Optional<String> wantedBy, List<String> needs) {
        public ExpectedUnit {
            java.util.Objects.requireNonNull(name, "name");
            java.util.Objects.requireNonNull(wantedBy, "wantedBy");
            needs = List.copyOf(needs);
        }
    }

    /** The units of deploy/ and packer/files/ the image runs by itself; one line here per unit a new feature adds. */
    public static final List<ExpectedUnit> UNITS = List.of(
            new ExpectedUnit("ingot-provision-first-boot.service", Optional.of("multi-user.target"),
                    List.of("/opt/edge/provision_site.sh", LAUNCHER)),
            new ExpectedUnit("ingot-ssh-host-keys.service", Optional.of("multi-user.target"), List.of()),
            new ExpectedUnit("ingot-health.service", Optional.empty(), List.of()),
            new ExpectedUnit("ingot-health.timer", Optional.of("timers.target"), List.of()),
            new ExpectedUnit("ingot-agent.service", Optional.of("multi-user.target"), List.of()));
    /**
     * The boot-loader packages of Ubuntu's UEFI boot: held in the image (packer/scripts/45-ab-boot.sh), so that an upgrade
     * never reruns grub-install over the A/B menu; boot-loader changes come with a new image.
     */
    public static final List<String> BOOT_LOADER = List.of("grub-efi-amd64", "grub-efi-amd64-signed", "grub-efi-amd64-bin", "shim-signed");
    /** The GPT of the golden layout, by partition number: the A/B menu finds each slot's kernel by number (gpt2, gpt3). */
    public static final List<String> PARTITIONS = List.of("esp", "root-a", "root-b", "data");
    private static final ObjectMapper JSON = new ObjectMapper();

    private ImageChecks() {}

    /** Every offline check of a disk image: those of its root-a tree, and the A/B boot of the disk; the secret scan last. */
    public static List<CheckResult> run(ImageTree tree, BootDisk disk, Expectations expected) {
        List<CheckResult> results = new ArrayList<>(run(tree, expected));
        results.add(results.size() - 1, abBoot(tree, disk));
        return results;
    }

    /** Every offline check of a root tree, the secret scan last (it reads every file). */
    public static List<CheckResult> run(ImageTree tree, Expectations expected) {
        List<CheckResult> results = new ArrayList<>();
        results.add(sshHardening(tree));
        results.add(accounts(tree));
        results.add(packages(tree, expected));
        results.add(dockerRuntime(tree));
        results.add(imageVersion(tree, expected));
        results.add(unattendedUpgrades(tree));
        results.add(noSiteConfig(tree));
        results.add(units(tree));
        results.add(launcher(tree));
        results.add(fstab(tree));
        results.add(bootLoaderHeld(tree));
        results.add(noSecrets(tree));
        return results;
    }

    public static CheckResult sshHardening(ImageTree tree) {
        String detail = "sshd_config and its drop-ins: PermitRootLogin, PasswordAuthentication, KbdInteractiveAuthentication no";
        Optional<SshdConfig> read = SshdConfig.read(tree);
        if (read.isEmpty()) {
            return new CheckResult("ssh-hardening", detail, List.of(SshdConfig.MAIN + " is missing (is openssh-server installed?)"));
        }
        SshdConfig config = read.get();
        List<String> findings = new ArrayList<>();
        // sshd's compiled-in defaults (sshd_config(5)) apply where nothing sets a keyword.
        Map<String, String> defaults = new LinkedHashMap<>();
        defaults.put("PermitRootLogin", "prohibit-password");
        defaults.put("PasswordAuthentication", "yes");
        defaults.put("KbdInteractiveAuthentication", "yes");
        defaults.forEach((keyword, fallback) -> {
            Optional<SshdConfig.Setting> setting = config.get(keyword);
            if (setting.isEmpty()) {
                findings.add(keyword + " is not set, so sshd's default " + fallback + " applies; it must be no");
            } else if (!setting.get().value().equalsIgnoreCase("no")) {
                findings.add(keyword + " is " + setting.get().value() + " (" + setting.get().where() + "); it must be no");
            }
        });
        for (SshdConfig.Setting setting : config.conditional()) {
            String keyword = setting.keyword().toLowerCase(Locale.ROOT);
            boolean weakening = (keyword.equals("permitrootlogin") || keyword.equals("passwordauthentication")
                    || keyword.equals("kbdinteractiveauthentication") || keyword.equals("challengeresponseauthentication"))
                    && !setting.value().equalsIgnoreCase("no");
            if (weakening) {
                findings.add(setting.keyword() + " is " + setting.value() + " inside a Match block (" + setting.where() + "); it must be no");
            }
        }
        return new CheckResult("ssh-hardening", detail, findings);
    }

    public static CheckResult accounts(ImageTree tree) {
        String detail = LOGIN_USER + " exists and is the only account with a login shell besides root; root is locked";
        List<String> findings = new ArrayList<>();
        Optional<String> passwd = tree.read("/etc/passwd");
        if (passwd.isEmpty()) {
            return new CheckResult("accounts", detail, List.of("/etc/passwd is missing"));
        }
        boolean loginUserFound = false;
        for (String line : passwd.get().lines().toList()) {
            String[] fields = line.split(":", -1);
            if (fields.length < 7 || line.isBlank()) {
                continue;
            }
            String name = fields[0];
            // An empty shell field means /bin/sh (passwd(5)).
            String shell = fields[6].isEmpty() ? "/bin/sh" : fields[6];
            boolean login = !NO_LOGIN_SHELLS.contains(shell);
            if (name.equals(LOGIN_USER)) {
                loginUserFound = true;
                if (!login) {
                    findings.add(LOGIN_USER + " has no login shell (" + shell + ")");
                }
            } else if (login && !name.equals("root")) {
                findings.add(name + " has the login shell " + shell + "; only " + LOGIN_USER + " may log in");
            }
        }
        if (!loginUserFound) {
            findings.add(LOGIN_USER + " does not exist in /etc/passwd");
        }
        Optional<String> rootShadow = tree.read("/etc/shadow").flatMap(shadow -> shadow.lines()
                .filter(line -> line.startsWith("root:")).findFirst());
        if (rootShadow.isEmpty()) {
            findings.add("root has no entry in /etc/shadow");
        } else {
            String password = rootShadow.get().split(":", -1)[1];
            if (!password.startsWith("!") && !password.startsWith("*")) {
                findings.add("root is not locked in /etc/shadow (its password field must start with ! or *)");
            }
        }
        return new CheckResult("accounts", detail, findings);
    }

    public static CheckResult packages(ImageTree tree, Expectations expected) {
        String detail = "installed at the versions pinned in " + expected.packagesSource() + ": "
                + String.join(", ", expected.packages().keySet().stream().sorted().toList());
        Map<String, String[]> installed = dpkgStatus(tree.read("/var/lib/dpkg/status").orElse(""));
        List<String> findings = new ArrayList<>();
        for (Map.Entry<String, String> pinned : new java.util.TreeMap<>(expected.packages()).entrySet()) {
            String[] state = installed.get(pinned.getKey());
            if (state == null || !state[0].equals("install ok installed")) {
                findings.add(pinned.getKey() + " is not installed (pinned " + pinned.getValue() + ")");
            } else if (!state[1].equals(pinned.getValue())) {
                findings.add(pinned.getKey() + " is " + state[1] + " but " + expected.packagesSource() + " pins " + pinned.getValue());
            }
        }
        return new CheckResult("packages", detail, findings);
    }

    /** Package → {Status, Version} from a dpkg status file (deb-control(5) paragraphs). */
    static Map<String, String[]> dpkgStatus(String text) {
        Map<String, String[]> packages = new HashMap<>();
        for (String paragraph : text.split("\n\\s*\n")) {
            String name = null;
            String status = "";
            String version = "";
            for (String line : paragraph.lines().toList()) {
                if (line.startsWith("Package:")) {
                    name = line.substring(8).strip();
                } else if (line.startsWith("Status:")) {
                    status = line.substring(7).strip();
                } else if (line.startsWith("Version:")) {
                    version = line.substring(8).strip();
                }
            }
            if (name != null) {
                packages.put(name, new String[] {status, version});
            }
        }
        return packages;
    }

    public static CheckResult dockerRuntime(ImageTree tree) {
        String detail = "/etc/docker/daemon.json: default-runtime nvidia, with an nvidia runtime defined";
        Optional<String> text = tree.read("/etc/docker/daemon.json");
        if (text.isEmpty()) {
            return new CheckResult("docker-runtime", detail, List.of("/etc/docker/daemon.json is missing"));
        }
        JsonNode daemon;
        try {
            daemon = JSON.readTree(text.get());
        } catch (IOException e) {
            return new CheckResult("docker-runtime", detail, List.of("/etc/docker/daemon.json is not JSON: " + e.getMessage().lines().findFirst().orElse("")));
        }
        List<String> findings = new ArrayList<>();
        String runtime = daemon.path("default-runtime").asText("");
        if (!runtime.equals("nvidia")) {
            findings.add("Docker's default runtime is " + (runtime.isEmpty() ? "not set (runc)" : runtime) + "; it must be nvidia");
        }
        if (daemon.path("runtimes").path("nvidia").path("path").asText("").isEmpty()) {
            findings.add("/etc/docker/daemon.json defines no nvidia runtime (runtimes.nvidia.path)");
        }
        return new CheckResult("docker-runtime", detail, findings);
    }

    public static CheckResult imageVersion(ImageTree tree, Expectations expected) {
        String detail = "/etc/edge/image-version: IMAGE_NAME " + expected.name()
                + expected.version().map(version -> ", IMAGE_VERSION " + version).orElse(", a valid IMAGE_VERSION")
                + expected.buildDate().map(date -> ", BUILD_DATE " + date).orElse(", a valid BUILD_DATE");
        Optional<String> text = tree.read("/etc/edge/image-version");
        if (text.isEmpty()) {
            return new CheckResult("image-version", detail, List.of("/etc/edge/image-version is missing"));
        }
        // The health report also reads the old runbook's one-line form; an image Ingot builds must hold the KEY=VALUE lines.
        Map<String, String> values = EdgeFiles.environment(text.get());
        List<String> findings = new ArrayList<>();
        String name = values.getOrDefault("IMAGE_NAME", "");
        if (!name.equals(expected.name().value())) {
            findings.add("IMAGE_NAME is " + (name.isEmpty() ? "missing" : name) + ", expected " + expected.name());
        }
        String version = values.getOrDefault("IMAGE_VERSION", "");
        if (expected.version().isPresent()) {
            if (!version.equals(expected.version().get().toString())) {
                findings.add("IMAGE_VERSION is " + (version.isEmpty() ? "missing" : version) + ", expected " + expected.version().get());
            }
        } else {
            try {
                ImageVersion.parse(version);
            } catch (RuntimeException e) {
                findings.add("IMAGE_VERSION '" + version + "' is not a release version like v1.4");
            }
        }
        String buildDate = values.getOrDefault("BUILD_DATE", "");
        if (expected.buildDate().isPresent()) {
            if (!buildDate.equals(expected.buildDate().get().toString())) {
                findings.add("BUILD_DATE is " + (buildDate.isEmpty() ? "missing" : buildDate) + ", expected " + expected.buildDate().get());
            }
        } else {
            try {
                Instant.parse(buildDate);
            } catch (DateTimeParseException e) {
                findings.add("BUILD_DATE '" + buildDate + "' is not an ISO-8601 instant");
            }
        }
        return new CheckResult("image-version", detail, findings);
    }

    public static CheckResult unattendedUpgrades(ImageTree tree) {
        String detail = "apt.conf.d: unattended upgrades from security origins only, Automatic-Reboot \"false\"";
        AptConfig config = AptConfig.read(tree);
        List<String> findings = new ArrayList<>();
        Optional<AptConfig.Value> reboot = config.scalar("Unattended-Upgrade::Automatic-Reboot");
        if (reboot.isEmpty()) {
            findings.add("Unattended-Upgrade::Automatic-Reboot is not set; it must be \"false\"");
        } else if (!reboot.get().text().equalsIgnoreCase("false")) {
            findings.add("Unattended-Upgrade::Automatic-Reboot is \"" + reboot.get().text() + "\" (" + reboot.get().file()
                    + "); it must be \"false\"");
        }
        List<AptConfig.Value> origins = new ArrayList<>(config.list("Unattended-Upgrade::Allowed-Origins"));
        origins.addAll(config.list("Unattended-Upgrade::Origins-Pattern"));
        if (origins.isEmpty()) {
            findings.add("no origin is allowed (Unattended-Upgrade::Origins-Pattern is empty), so no security update is installed");
        }
        for (AptConfig.Value origin : origins) {
            if (!origin.text().contains("-security")) {
                findings.add("the origin \"" + origin.text() + "\" (" + origin.file() + ") is not a security pocket");
            }
        }
        return new CheckResult("unattended-upgrades", detail, findings);
    }

    public static CheckResult noSiteConfig(ImageTree tree) {
        String detail = "no site files (they are written at first boot), no firewall rules, no video-ingest unit";
        List<String> findings = new ArrayList<>();
        for (String file : SITE_FILES) {
            if (tree.exists(file)) {
                findings.add(file + " is present; provisioning writes it at first boot");
            }
        }
        for (String folder : UNIT_FOLDERS) {
            for (String name : tree.list(folder)) {
                if (name.startsWith("video-ingest")) {
                    findings.add(folder + "/" + name + " is present; the video-ingest unit is site configuration");
                }
            }
        }
        return new CheckResult("no-site-config", detail, findings);
    }

    /**
     * Each of {@link #UNITS} installed in /etc/systemd/system, enabled as {@code systemctl enable} leaves it (a link in
     * TARGET.wants/ that resolves to the unit), and the programs its ExecStart= lines name (absolute paths) and the files it
     * needs present and executable in the image.
     */
    public static CheckResult units(ImageTree tree) {
        String detail = "installed and enabled: " + String.join(", ", UNITS.stream().map(ExpectedUnit::name).toList())
                + "; what their ExecStart= runs is in the image";
        List<String> findings = new ArrayList<>();
        for (ExpectedUnit unit : UNITS) {
            String path = LOCAL_UNITS + "/" + unit.name();
            Optional<String> text = tree.read(path);
            if (text.isEmpty()) {
                findings.add(path + " is missing (packer/scripts/40-ingot-agent.sh installs it)");
                continue;
            }
            if (unit.wantedBy().isPresent()) {
                String link = LOCAL_UNITS + "/" + unit.wantedBy().get() + ".wants/" + unit.name();
                if (!tree.exists(link)) {
                    findings.add(unit.name() + " is not enabled: " + link + " is missing (systemctl enable " + unit.name() + ")");
                } else if (!tree.read(link).equals(text)) {
                    findings.add(unit.name() + " is enabled through " + link + ", which does not lead to " + path);
                }
            }
            List<String> programs = new ArrayList<>(execStartPaths(text.get()));
            programs.addAll(unit.needs());
            for (String program : programs) {
                if (!tree.isExecutable(program)) {
                    findings.add(unit.name() + " runs " + program + ", which " + (tree.exists(program) ? "is not an executable file" : "is not in the image"));
                }
            }
        }
        return new CheckResult("units", detail, findings);
    }

    /** The absolute paths on a unit's ExecStart= lines (systemd.service(5): the program, then arguments; prefixes like - @ + !). */
    static List<String> execStartPaths(String unitText) {
        List<String> paths = new ArrayList<>();
        for (String line : unitText.lines().map(String::strip).toList()) {
            if (!line.startsWith("ExecStart=")) {
                continue;
            }
            String[] words = line.substring("ExecStart=".length()).strip().split("\\s+");
            for (int i = 0; i < words.length; i++) {
                String word = i == 0 ? words[i].replaceFirst("^[-@:+!|]+", "") : words[i];
                if (word.startsWith("/") && !paths.contains(word)) {
                    paths.add(word);
                }
            }
        }
        return paths;
    }

    /**
     * {@link #LAUNCHER} is the script 40-ingot-agent.sh writes: its {@code exec} line runs a Java runtime and a jar that are
     * both in the image (a build without the agent bundle must not ship a launcher that points at nothing), with
     * {@code --enable-native-access} (the jar calls Linux through the FFM API).
     */
    public static CheckResult launcher(ImageTree tree) {
        String detail = LAUNCHER + ": exec JAVA --enable-native-access=ALL-UNNAMED -jar JAR, both in the image";
        if (!tree.isExecutable(LAUNCHER)) {
            return new CheckResult("launcher", detail, List.of(LAUNCHER + (tree.exists(LAUNCHER) ? " is not an executable file" : " is missing")));
        }
        List<String> findings = new ArrayList<>();
        Optional<String> exec = tree.read(LAUNCHER).orElse("").lines().map(String::strip).filter(line -> line.startsWith("exec ")).findFirst();
        if (exec.isEmpty()) {
            return new CheckResult("launcher", detail, List.of(LAUNCHER + " has no exec line (is it the launcher 40-ingot-agent.sh writes?)"));
        }
        List<String> words = List.of(exec.get().split("\\s+"));
        String java = words.size() > 1 ? words.get(1) : "";
        if (!tree.isExecutable(java)) {
            findings.add(LAUNCHER + " runs " + java + ", which is not in the image (the agent bundle is missing)");
        }
        int jar = words.indexOf("-jar");
        if (jar < 0 || jar + 1 >= words.size()) {
            findings.add(LAUNCHER + " names no -jar JAR");
        } else if (tree.fileMode(words.get(jar + 1)).isEmpty()) {
            findings.add(LAUNCHER + " runs " + words.get(jar + 1) + ", which is not in the image (the agent bundle is missing)");
        }
        if (words.stream().noneMatch(word -> word.startsWith("--enable-native-access="))) {
            findings.add(LAUNCHER + " starts Java without --enable-native-access=ALL-UNNAMED (the JDK warns when the jar first calls "
                    + "Linux through FFM, and later JDKs refuse the call)");
        }
        return new CheckResult("launcher", detail, findings);
    }

    /**
     * {@code /etc/fstab} as both root slots need it (a slot payload is a copy of root-a, fstab included): no line for
     * {@code /} (each slot's GRUB entry names its root on the kernel command line), nothing named by file-system UUID or
     * label (a copy carries root-a's into root-b), and the data partition and the ESP mounted by GPT partition name.
     */
    public static CheckResult fstab(ImageTree tree) {
        String detail = "/etc/fstab: no line for /, /data and /boot/efi by PARTLABEL=data and PARTLABEL=esp, nothing by UUID= or LABEL=";
        Optional<String> text = tree.read("/etc/fstab");
        if (text.isEmpty()) {
            return new CheckResult("fstab", detail, List.of("/etc/fstab is missing (packer/scripts/45-ab-boot.sh writes it)"));
        }
        List<String> findings = new ArrayList<>();
        Map<String, String> mounts = new LinkedHashMap<>();
        List<String> lines = text.get().lines().toList();
        for (int number = 1; number <= lines.size(); number++) {
            String line = lines.get(number - 1).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            // fstab(5): the device, the mount point, then type, options, dump and pass, separated by blanks.
            String[] fields = line.split("\\s+");
            if (fields.length < 2) {
                findings.add("/etc/fstab line " + number + " has no mount point: " + line);
                continue;
            }
            String device = fields[0];
            String mountPoint = fields[1];
            mounts.put(mountPoint, device);
            if (mountPoint.equals("/")) {
                findings.add("/etc/fstab mounts / (line " + number + ": " + device + "); each slot's root comes from its GRUB entry, and a line "
                        + "here would mount the same partition in both slots");
            } else if (device.startsWith("UUID=") || device.startsWith("LABEL=") || device.startsWith("/dev/disk/by-uuid/")
                    || device.startsWith("/dev/disk/by-label/")) {
                findings.add("/etc/fstab mounts " + mountPoint + " by " + device + " (line " + number + "); a slot payload carries root-a's "
                        + "file-system UUIDs and labels into root-b: name partitions by PARTLABEL=");
            }
        }
        for (Map.Entry<String, String> expected : List.of(Map.entry("/data", "PARTLABEL=data"), Map.entry("/boot/efi", "PARTLABEL=esp"))) {
            String device = mounts.get(expected.getKey());
            if (device == null) {
                findings.add("/etc/fstab does not mount " + expected.getKey() + " (" + expected.getValue() + "); the agent's state and GRUB's "
                        + "environment live there");
            } else if (!device.equals(expected.getValue())) {
                findings.add("/etc/fstab mounts " + expected.getKey() + " from " + device + ", not " + expected.getValue());
            }
        }
        return new CheckResult("fstab", detail, findings);
    }

    /** Each of {@link #BOOT_LOADER} that is installed is held ({@code Status: hold ok installed} in dpkg's status file). */
    public static CheckResult bootLoaderHeld(ImageTree tree) {
        String detail = "the boot-loader packages that are installed are held (apt-mark hold): " + String.join(", ", BOOT_LOADER);
        Map<String, String[]> installed = dpkgStatus(tree.read("/var/lib/dpkg/status").orElse(""));
        List<String> findings = new ArrayList<>();
        int present = 0;
        for (String name : BOOT_LOADER) {
            String[] state = installed.get(name);
            if (state == null || !state[0].endsWith(" ok installed")) {
                continue;
            }
            present++;
            if (!state[0].startsWith("hold ")) {
                findings.add(name + " is not held (Status: " + state[0] + "); an upgrade would rerun grub-install over the A/B menu: "
                        + "apt-mark hold " + name);
            }
        }
        if (present == 0) {
            findings.add("no boot-loader package is installed (" + String.join(", ", BOOT_LOADER) + ")");
        }
        return new CheckResult("boot-loader-held", detail, findings);
    }

    /**
     * The A/B boot of a disk image (docs/agent.md, "The GRUB scheme"): the GPT holds {@link #PARTITIONS} as partitions 1 to
     * 4; the ESP holds Ingot's menu ({@link GrubMenu#config()}, byte for byte) as {@code /EFI/ubuntu/grub.cfg} and a valid
     * environment block beside it with slot a committed and no one-shot boot; root-a holds the kernel and initrd the menu
     * loads ({@code /boot/vmlinuz}, {@code /boot/initrd.img}).
     */
    public static CheckResult abBoot(ImageTree tree, BootDisk disk) {
        String detail = "GPT " + String.join(", ", PARTITIONS) + " as partitions 1-4; the ESP's " + BootDisk.CONFIG_PATH + " is the A/B menu "
                + "and " + BootDisk.ENV_PATH + " a GRUB environment with saved_entry=ingot-a; root-a has /boot/vmlinuz and /boot/initrd.img";
        List<String> findings = new ArrayList<>();
        List<String> layout = disk.table().partitions().stream().map(partition -> partition.number() + " " + partition.name()).toList();
        for (int index = 0; index < PARTITIONS.size(); index++) {
            String wanted = (index + 1) + " " + PARTITIONS.get(index);
            if (!layout.contains(wanted)) {
                findings.add("the GPT's partitions are " + String.join(", ", layout) + "; the A/B menu needs " + String.join(", ",
                        java.util.stream.IntStream.range(0, PARTITIONS.size()).mapToObj(n -> (n + 1) + " " + PARTITIONS.get(n)).toList()));
                break;
            }
        }
        if (disk.unreadable().isPresent()) {
            findings.add("the ESP cannot be read: " + disk.unreadable().get());
        } else {
            if (disk.grubConfig().isEmpty()) {
                findings.add(BootDisk.CONFIG_PATH + " is missing on the ESP (packer/scripts/45-ab-boot.sh installs it)");
            } else if (!disk.grubConfig().get().equals(GrubMenu.config())) {
                findings.add(BootDisk.CONFIG_PATH + " on the ESP is not Ingot's A/B menu: " + firstDifference(disk.grubConfig().get(), GrubMenu.config()));
            }
            if (disk.grubEnv().isEmpty()) {
                findings.add(BootDisk.ENV_PATH + " is missing on the ESP; GRUB's save_env cannot clear a one-shot boot without it "
                        + "(grub-editenv " + GrubMenu.ENV_FILE + " create; set saved_entry=ingot-a)");
            } else {
                try {
                    GrubEnv env = GrubEnv.parse(disk.grubEnv().get(), "the ESP's " + BootDisk.ENV_PATH);
                    if (!env.get(GrubMenu.SAVED_ENTRY).equals(Optional.of(dev.ingot.boot.Slot.A.grubEntry()))) {
                        findings.add(BootDisk.ENV_PATH + " has saved_entry=" + env.get(GrubMenu.SAVED_ENTRY).orElse("(none)")
                                + "; a new image commits slot a (saved_entry=ingot-a)");
                    }
                    env.get(GrubMenu.NEXT_ENTRY).ifPresent(next -> findings.add(BootDisk.ENV_PATH + " has a one-shot boot next_entry=" + next
                            + "; a new image has none"));
                } catch (dev.ingot.error.IngotException e) {
                    findings.add(e.getMessage());
                }
            }
        }
        for (String file : List.of("/boot/vmlinuz", "/boot/initrd.img")) {
            if (tree.fileMode(file).isEmpty()) {
                findings.add("root-a has no " + file + "; the A/B menu loads each slot's kernel and initrd from there");
            }
        }
        return new CheckResult("ab-boot", detail, findings);
    }

    /** The first line where two texts differ, for a finding that says what to look at. */
    private static String firstDifference(String actual, String expected) {
        List<String> a = actual.lines().toList();
        List<String> b = expected.lines().toList();
        for (int index = 0; index < Math.max(a.size(), b.size()); index++) {
            String left = index < a.size() ? a.get(index) : "(end of file)";
            String right = index < b.size() ? b.get(index) : "(end of file)";
            if (!left.equals(right)) {
                return "line " + (index + 1) + " is '" + excerpt(left) + "', expected '" + excerpt(right) + "'";
            }
        }
        return "the line ends differ";
    }

    private static String excerpt(String line) {
        return line.length() <= 80 ? line : line.substring(0, 77) + "...";
    }

    public static CheckResult noSecrets(ImageTree tree) {
        String detail = "no private keys, AWS keys or credentials files, or tokens in any file";
        try {
            return new CheckResult("no-secrets", detail, SecretScan.scan(tree));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot scan " + tree.describe() + " for secrets", e);
        }
    }
}
