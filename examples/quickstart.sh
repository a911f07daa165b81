#!/usr/bin/env bash
# The main job on embedded defaults, no cloud account: make a signing key and a small sparse
# disk image in the golden layout, publish it to a local store, verify it, promote it, list the catalog,
# pull it back and check it with the stock tools, flash it, cache it, roll back from the cache (which
# leaves the site's identity on the disk), and let a simulated first boot provision the site from the
# example parameter tree.
# Everything lands in ./demo (or the folder given).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
ingot="$root/ingot"
demo=${1:-demo}
mkdir -p "$demo"
cd "$demo"

if [ ! -f keys/signing-key.asc ]; then
  "$ingot" keys generate --name "Edge Release Demo <release@example.com>" --out keys
fi

# A 512 MiB sparse disk in the golden image's layout (GPT: esp, root-a, root-b, data; packer/http/user-data): a root
# file system's worth of files in root-a, an empty ext4 data partition. sfdisk and mkfs.ext4 live in /sbin.
PATH=$PATH:/usr/sbin:/sbin
image=edge-golden.img
rm -rf "$image" rootfs
truncate -s 512M "$image"
printf 'label: gpt\nsize=32MiB, name=esp\nsize=200MiB, name=root-a\nsize=200MiB, name=root-b\nname=data\n' | sfdisk -q "$image"
offset() { sfdisk -d "$image" | awk -v n="$1" -F'[=,]' '$0 ~ "name=\"" n "\"" {gsub(/ /, "", $2); print $2 * 512}'; }
size() { sfdisk -d "$image" | awk -v n="$1" -F'[=,]' '$0 ~ "name=\"" n "\"" {gsub(/ /, "", $4); print $4 / 2 "K"}'; }
mkdir -p rootfs/etc/edge rootfs/usr/share/doc
printf 'IMAGE_NAME=edge-golden\nIMAGE_VERSION=v0\nBUILD_DATE=2026-01-01T00:00:00Z\n' >rootfs/etc/edge/image-version
find /usr/share/doc -maxdepth 1 -mindepth 1 -type d 2>/dev/null | head -n 200 | xargs -r cp -r -t rootfs/usr/share/doc 2>/dev/null || true
mkfs.ext4 -q -F -E offset="$(offset root-a)" -d rootfs "$image" "$(size root-a)"
mkfs.ext4 -q -F -E offset="$(offset data)" -L data "$image" "$(size data)"

version=v1.$(date +%Y%m%d).$((10#$(date +%H%M%S)))   # fresh each run: published versions are immutable
"$ingot" image publish "$image" --version "$version" --store store --key keys/signing-key.asc \
  --source-commit "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" --notes "quickstart demo"
"$ingot" image verify "$version" --store store --keyring keys/signing-key.pub.asc
"$ingot" image promote "$version" --known-good --store store --key keys/signing-key.asc --keyring keys/signing-key.pub.asc
"$ingot" image list --store store --keyring keys/signing-key.pub.asc
"$ingot" image pull "$version" --store store --to pulled --keyring keys/signing-key.pub.asc

# The old runbook still works on what Ingot published: stock zstd and sha256sum.
( cd pulled && zstd -d -q -f "edge-golden-$version.img.zst" && sha256sum -c "edge-golden-$version.sha256" )

# Flash it onto a disk (here a file standing in for /dev/nvme0n1), verified and read back.
"$ingot" flash "$version" --store store --keyring keys/signing-key.pub.asc --target disk.img --work-dir work --yes
cmp disk.img "$image" && echo "disk.img is identical to $image"

# Keep a USB cache of the known-good images and roll the "site" back from it, offline: flashed, the site's identity
# written into the data partition, and its provisioning checked and timed from the example parameters.
"$ingot" cache sync --dir usb --store store --keyring keys/signing-key.pub.asc
"$ingot" rollback --site SITE-2847 --target disk.img --cache usb --keyring keys/signing-key.pub.asc --to "$version" --yes \
  --params "dir:$root/deploy/examples/params"
debugfs -R "cat /ingot/provision.env" "disk.img?offset=$(offset data)" 2>/dev/null | grep SITE_ID

# First boot, simulated: the device finds its identity on the data partition and provisions itself (here from the
# example parameter tree into a scratch root; on a device: ssm:, and the root is /).
rm -rf root identity && mkdir -p root identity
debugfs -R "dump /ingot/provision.env identity/provision.env" "disk.img?offset=$(offset data)" 2>/dev/null
# (The machine ids are the scratch root's too: a first boot keeps the device's on the data partition.)
INGOT="$ingot" INGOT_PARAMS="dir:$root/deploy/examples/params" INGOT_IDENTITY_FILES="$(pwd)/identity/provision.env" \
  INGOT_MACHINE_ID="$(pwd)/root/etc/machine-id" INGOT_KEPT_MACHINE_ID="$(pwd)/identity/machine-id" \
  INGOT_PROVISION_SCRIPT="$root/deploy/provision_site.sh" bash "$root/deploy/ingot-first-boot.sh" --root root
echo
echo "Done: the store is $(pwd)/store, the pulled copy $(pwd)/pulled, the flashed disk $(pwd)/disk.img,"
echo "the provisioned configuration under $(pwd)/root/etc."
