#!/usr/bin/env bash
# The main job on embedded defaults, no cloud account: make a signing key and a small sparse
# disk image, publish it to a local store, verify it, promote it, list the catalog, pull it back
# and check it with the stock tools, flash it, cache it, roll back from the cache, and provision
# a site's configuration from the example parameter tree.
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

# A 512 MiB sparse "disk": a head (partition table, boot), a root filesystem's worth of data, a tail.
image=edge-golden.img
rm -f "$image"
truncate -s 512M "$image"
head -c 4M /dev/urandom | dd of="$image" conv=notrunc status=none
find /usr/share/doc -type f -name '*.gz' -print0 2>/dev/null | head -z -n 400 | xargs -0 cat 2>/dev/null |
  head -c 48M | dd of="$image" bs=1M seek=64 conv=notrunc status=none || true
head -c 8M /dev/urandom | dd of="$image" bs=1M seek=500 conv=notrunc status=none

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
"$ingot" flash "$version" --store store --keyring keys/signing-key.pub.asc --target disk.img --work-dir work
cmp disk.img "$image" && echo "disk.img is identical to $image"

# Keep a USB cache of the known-good images and roll the "site" back from it, offline.
"$ingot" cache sync --dir usb --store store --keyring keys/signing-key.pub.asc
"$ingot" rollback --site SITE-2847 --target disk.img --cache usb --keyring keys/signing-key.pub.asc --to "$version"

# Provision the "site" from the example parameter tree into a scratch root (on a device: --params ssm:, no --root).
mkdir -p root
"$ingot" provision --site SITE-2847 --params "dir:$root/deploy/examples/params" --root root
echo
echo "Done: the store is $(pwd)/store, the pulled copy $(pwd)/pulled, the flashed disk $(pwd)/disk.img,"
echo "the provisioned configuration under $(pwd)/root/etc."
