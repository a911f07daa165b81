#!/usr/bin/env bash
# The A/B boot of the golden image (docs/agent.md, "The GRUB scheme"): Ingot's menu as the ESP's /EFI/ubuntu/grub.cfg in
# place of Ubuntu's stub (which chains to root-a's /boot/grub/grub.cfg by file-system UUID), a GRUB environment beside it
# with slot a committed, /etc/fstab by partition label with no line for / (each slot's GRUB entry names its root), and the
# boot-loader packages that are installed held, so that an upgrade never reruns grub-install over the menu (boot-loader
# changes come with a new image). Environment: UPLOADS (grub.cfg and fstab from Packer's file provisioner), ROOT (the tree
# to install into; default /, tests use a scratch folder). Idempotent: files are replaced only when they differ, and an
# environment that already commits slot a with nothing else set is kept.
set -euo pipefail
uploads=${UPLOADS:-/tmp}
root=${ROOT:-}
root=${root%/}
esp=$root/boot/efi/EFI/ubuntu
packages=(grub-efi-amd64 grub-efi-amd64-signed grub-efi-amd64-bin shim-signed)

fail() {
  echo "error: Tried to set up the A/B boot but failed because $1. Hint: $2" >&2
  exit 1
}

for file in grub.cfg fstab; do
  [ -f "$uploads/$file" ] || fail "$uploads/$file is missing" "the template's file provisioner uploads it (packer/edge-golden.pkr.hcl)"
done
# The menu loads each slot's kernel and initrd by these names (Ubuntu's symlinks to the installed kernel).
for file in boot/vmlinuz boot/initrd.img; do
  [ -e "$root/$file" ] || fail "root-a has no /$file" "install a kernel (linux-image-generic) before this script"
done
command -v grub-editenv >/dev/null || fail "grub-editenv is not installed" "apt-get install grub-common"
[ -d "$root/boot/efi" ] || fail "the ESP is not mounted at $root/boot/efi" "the autoinstall storage config mounts it there"

install -d "$esp"
if ! cmp -s "$uploads/grub.cfg" "$esp/grub.cfg"; then
  # The ESP is FAT: no modes to keep, and a copy then a rename is as atomic as FAT gets.
  cp "$uploads/grub.cfg" "$esp/grub.cfg.new"
  mv "$esp/grub.cfg.new" "$esp/grub.cfg"
fi
if [ "$(grub-editenv "$esp/grubenv" list 2>/dev/null || true)" != "saved_entry=ingot-a" ]; then
  rm -f "$esp/grubenv.new"
  grub-editenv "$esp/grubenv.new" create
  grub-editenv "$esp/grubenv.new" set saved_entry=ingot-a
  mv "$esp/grubenv.new" "$esp/grubenv"
fi

if ! cmp -s "$uploads/fstab" "$root/etc/fstab"; then
  install -D -m 0644 "$uploads/fstab" "$root/etc/fstab"
fi

held=()
for package in "${packages[@]}"; do
  status=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status}' "$package" 2>/dev/null || true)
  case $status in
    *" ok installed") held+=("$package") ;;
  esac
done
[ "${#held[@]}" -gt 0 ] || fail "none of ${packages[*]} is installed" "install grub-efi-amd64-signed and shim-signed (Ubuntu's UEFI boot)"
# What apt-mark hold does, for a tree that is not the running system too (dpkg(1): --set-selections, --root).
printf '%s hold\n' "${held[@]}" | dpkg --root="${root:-/}" --set-selections
