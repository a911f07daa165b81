# The golden image: Ubuntu 22.04 LTS server installed by autoinstall in QEMU, provisioned by scripts/, raw output.
# Build: packer build -var-file=versions.pkrvars.hcl -var version=v1.5 -var build_date=2026-11-25T10:00:00Z .
# (or `ingot image build --version v1.5`, which also tests and publishes). Packer 1.7+ adds a required_plugins
# block; see README.md.

variable "iso_url" {
  type = string
}

variable "iso_sha256" {
  type = string
}

variable "docker_ce_version" {
  type = string
}

variable "containerd_version" {
  type = string
}

variable "nvidia_driver_version" {
  type = string
}

variable "container_toolkit_version" {
  type = string
}

variable "jre_version" {
  type = string
}

variable "image_name" {
  type    = string
  default = "edge-golden"
}

variable "version" {
  type        = string
  description = "The release version written to /etc/edge/image-version, e.g. v1.5."
}

variable "build_date" {
  type        = string
  description = "ISO-8601 UTC instant, whole seconds; the same value goes into the manifest."
}

variable "output_directory" {
  type    = string
  default = "output"
}

variable "agent_bundle" {
  type        = string
  default     = "files/ingot-agent.tar.gz"
  description = "The Ingot agent with its jlink runtime (make-agent-bundle.sh)."
}

variable "release_keyring" {
  type        = string
  default     = "files/ingot-release-keyring.asc"
  description = "The public keys that sign releases (ingot keys export): installed as /etc/ingot/keyring, the only keys the agent trusts."
}

variable "build_password" {
  type        = string
  default     = "ingot-build-only"
  sensitive   = true
  description = "edgeuser's password for Packer's SSH session only; 90-cleanup.sh locks it and sshd refuses passwords."
}

variable "disk_size" {
  type    = string
  default = "32G"
}

variable "ovmf_firmware" {
  type    = string
  default = "/usr/share/ovmf/OVMF.fd"
}

variable "accelerator" {
  type    = string
  default = "kvm"
}

source "qemu" "edge-golden" {
  iso_url          = var.iso_url
  iso_checksum     = "sha256:${var.iso_sha256}"
  output_directory = var.output_directory
  vm_name          = "${var.image_name}-${var.version}.img"
  format           = "raw"
  disk_size        = var.disk_size
  disk_interface   = "virtio"
  net_device       = "virtio-net"
  accelerator      = var.accelerator
  cpus             = 4
  memory           = 4096
  headless         = true
  http_directory   = "http"
  boot_wait        = "5s"
  # UEFI, so that the esp partition boots (Packer 1.6 has no `firmware` option yet).
  qemuargs = [["-bios", var.ovmf_firmware]]
  boot_command = [
    "c<wait>",
    "linux /casper/vmlinuz --- autoinstall ds=\"nocloud-net;seedfrom=http://{{ .HTTPIP }}:{{ .HTTPPort }}/\"<enter><wait>",
    "initrd /casper/initrd<enter><wait>",
    "boot<enter>"
  ]
  ssh_username     = "edgeuser"
  ssh_password     = var.build_password
  ssh_timeout      = "45m"
  shutdown_command = "sudo shutdown -P now"
}

build {
  sources = ["source.qemu.edge-golden"]

  provisioner "file" {
    sources = ["../deploy/provision_site.sh", "../deploy/ingot-first-boot.sh", "../deploy/ingot-provision-first-boot.service",
      "../deploy/ingot-health.service", "../deploy/ingot-health.timer", "../deploy/ingot-agent.service",
      "files/ingot-ssh-host-keys.service", "files/edgeuser.authorized_keys", "files/fstab",
    "../ingot-core/src/main/resources/dev/ingot/boot/grub.cfg", var.agent_bundle]
    destination = "/tmp/"
  }

  provisioner "file" {
    source      = var.release_keyring
    destination = "/tmp/ingot-release-keyring.asc"
  }

  provisioner "shell" {
    execute_command = "sudo -E bash '{{ .Path }}'"
    environment_vars = [
      "DOCKER_CE_VERSION=${var.docker_ce_version}",
      "CONTAINERD_VERSION=${var.containerd_version}",
      "NVIDIA_DRIVER_VERSION=${var.nvidia_driver_version}",
      "CONTAINER_TOOLKIT_VERSION=${var.container_toolkit_version}",
      "JRE_VERSION=${var.jre_version}",
      "IMAGE_NAME=${var.image_name}",
      "IMAGE_VERSION=${var.version}",
      "BUILD_DATE=${var.build_date}",
      "UPLOADS=/tmp"
    ]
    scripts = [
      "scripts/10-base-packages.sh",
      "scripts/20-docker.sh",
      "scripts/30-nvidia.sh",
      "scripts/40-ingot-agent.sh",
      "scripts/45-ab-boot.sh",
      "scripts/50-hardening.sh",
      "scripts/60-image-version.sh",
      "scripts/90-cleanup.sh"
    ]
  }
}
