#!/usr/bin/env bash
# Opt-in end-to-end check of the provisioner scripts (not in ./mvnw verify: it downloads a Debian base system and
# takes minutes). Needs root (debootstrap, chroot), debootstrap, sfdisk, mkfs.ext4 and a built ingot (./mvnw package).
#   sudo packer/e2e/debootstrap-test.sh [MIRROR]
# Builds a Debian root file system, runs the hardening, image-version and cleanup scripts in it (chroot), adds the
# pinned packages' dpkg records and Docker's config as stand-ins (no NVIDIA packages for Debian here), packs it into a
# GPT disk image with the golden layout, runs `ingot image test` on it, then runs the scripts a second time to show
# they are idempotent (the image must not change).
set -euo pipefail
cd "$(dirname "$0")/../.."
mirror=${1:-http://deb.debian.org/debian}
work=packer/e2e/work
rm -rf "$work"
mkdir -p "$work"
root="$work/root"

debootstrap --variant=minbase --include=openssh-server,passwd,unattended-upgrades bookworm "$root" "$mirror"
mkdir -p "$root/tmp/scripts"
cp packer/scripts/*.sh "$root/tmp/scripts/"
run_scripts() {
  for script in 50-hardening.sh 60-image-version.sh 90-cleanup.sh; do
    chroot "$root" env UPLOADS=/tmp IMAGE_NAME=edge-golden IMAGE_VERSION=v0.0.1-e2e BUILD_DATE=2026-01-01T00:00:00Z \
      bash "/tmp/scripts/$script"
  done
}
run_scripts

# Stand-ins for what 20-docker.sh and 30-nvidia.sh install from the network on Ubuntu: their dpkg records at the pins.
versions=packer/versions.pkrvars.hcl
pin() { sed -n "s/^$1 *= *\"\(.*\)\"$/\1/p" "$versions"; }
for entry in "docker-ce:$(pin docker_ce_version)" "docker-ce-cli:$(pin docker_ce_version)" "containerd.io:$(pin containerd_version)" \
  "nvidia-driver-535:$(pin nvidia_driver_version)" "nvidia-container-toolkit:$(pin container_toolkit_version)"; do
  printf 'Package: %s\nStatus: install ok installed\nArchitecture: amd64\nVersion: %s\n\n' "${entry%%:*}" "${entry#*:}" \
    >>"$root/var/lib/dpkg/status"
done
mkdir -p "$root/etc/docker"
printf '{"default-runtime": "nvidia", "runtimes": {"nvidia": {"args": [], "path": "nvidia-container-runtime"}}}\n' \
  >"$root/etc/docker/daemon.json"
rm -rf "$root/tmp/scripts"

pack() {
  truncate -s 0 "$1"
  truncate -s 2G "$1"
  printf 'label: gpt\nsize=64MiB, name=esp\nsize=900MiB, name=root-a\nsize=900MiB, name=root-b\nname=data\n' | sfdisk -q "$1"
  mkfs.ext4 -q -F -E offset=$((65 * 1024 * 1024)) -d "$root" "$1" 900M
}
pack "$work/edge-golden-e2e.img"
ingot=${INGOT:-./ingot}
"$ingot" image test "$work/edge-golden-e2e.img" --version v0.0.1-e2e --junit "$work/image-test.xml"

# Idempotence: a second run of the scripts changes nothing in the tree.
before=$(cd "$root" && find . -xdev -type f ! -path './proc/*' -exec sha256sum {} + | sort)
mkdir -p "$root/tmp/scripts" && cp packer/scripts/*.sh "$root/tmp/scripts/"
run_scripts
rm -rf "$root/tmp/scripts"
after=$(cd "$root" && find . -xdev -type f ! -path './proc/*' -exec sha256sum {} + | sort)
if [ "$before" != "$after" ]; then
  echo "error: the scripts changed the tree on their second run:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi
echo "e2e: passed, and the scripts are idempotent"
