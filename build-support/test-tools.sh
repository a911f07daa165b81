#!/usr/bin/env bash
# Installs what the tests need beside the JDK, so that `./mvnw verify` alone runs every test on a fresh Debian
# machine: the real tools our files must satisfy and that the tests run (docs/formats.md, docs/architecture.md
# "Testing"). Maven runs this once per build, in the validate phase of the parent POM (pom.xml, id test-tools);
# `-DskipTests` or `-Dingot.skipToolSetup` skips it, and it does nothing when everything is there already.
#
#   gnupg zstd coreutils bmap-tools      gpg, zstd, sha256sum and bmaptool read and write our release files
#   fdisk util-linux e2fsprogs           sfdisk, losetup, mkfs.ext4 and debugfs for GPT disk images and loop devices
#   chrony iptables systemd shellcheck   chronyd -p, iptables-restore --test, systemd-analyze verify, shellcheck
#   patch packer                         for provisioning's diffs, deploy/ and the Packer template
#   grub-common grub-emu dosfstools mtools   grub-editenv and grub-emu for the A/B boot tests on a FAT ESP
#   openssl chromium chromium-driver     the server's TLS test certificate; the dashboard's Selenium tests
#   nodejs npm (+ s3rver from npm)       a second S3 implementation besides S3Proxy
set -euo pipefail

case "${1:-}" in
  true) exit 0 ;; # -DskipTests: a build of the jar alone (./ingot) needs no test tools
esac
if [ "${INGOT_SKIP_TOOL_SETUP:-}" = true ]; then
  echo "test-tools: skipped (INGOT_SKIP_TOOL_SETUP=true)"; exit 0
fi

packages=(gnupg zstd coreutils bmap-tools fdisk util-linux e2fsprogs chrony iptables systemd shellcheck patch packer
  grub-common grub-emu dosfstools mtools openssl chromium chromium-driver)
# Node.js may come from elsewhere than Debian (nodesource, nvm): Debian's packages only where npm is missing.
command -v npm >/dev/null || packages+=(nodejs npm)
s3rver_version=3.7.1

if ! command -v dpkg-query >/dev/null; then
  echo "test-tools: not a Debian system (no dpkg-query): install the tools listed in build-support/test-tools.sh yourself;" \
       "tests whose tool is missing are skipped with the reason" >&2
  exit 0
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

# As root: run it; otherwise through sudo when that needs no password; otherwise say what to run and stop.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else return 99
  fi
}

if [ "${#missing[@]}" -gt 0 ]; then
  echo "test-tools: installing ${missing[*]}"
  status=0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || status=$?
  if [ "$status" -eq 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" || status=$?
  fi
  if [ "$status" -eq 99 ]; then
    echo "Tried to install the Debian packages the tests need but failed because this is not root and sudo asks for a" \
         "password. Hint: sudo apt-get install ${missing[*]} (or build with -Dingot.skipToolSetup: tests whose tool is" \
         "missing then skip or fail)" >&2
    exit 2
  elif [ "$status" -ne 0 ]; then
    echo "Tried to install ${missing[*]} but failed because apt-get exited $status. Hint: check the package sources," \
         "or build with -Dingot.skipToolSetup" >&2
    exit 3
  fi
fi

if ! command -v s3rver >/dev/null; then
  echo "test-tools: installing s3rver@$s3rver_version from npm"
  if [ "$(id -u)" -eq 0 ]; then
    npm install -g --no-fund --no-audit --loglevel=error "s3rver@$s3rver_version"
  else
    # Without root, into ~/.local (its bin folder is on a Debian user's PATH once it exists).
    npm install -g --prefix "$HOME/.local" --no-fund --no-audit --loglevel=error "s3rver@$s3rver_version"
  fi
fi
echo "test-tools: all present"
