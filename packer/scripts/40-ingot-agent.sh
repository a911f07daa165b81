#!/usr/bin/env bash
# The Ingot agent with its Java runtime (a jlink image, make-agent-bundle.sh), its launcher /opt/edge/bin/ingot, the
# runbook's provision_site.sh, and the units from deploy/: first-boot provisioning (with its script), the health report
# and its timer, the device agent (ingot agent) with the release keyring it trusts (/etc/ingot/keyring); plus the SSH host key unit. Enables the units as `systemctl enable` does, offline (`systemctl --root`:
# nothing is started during the build). Environment: UPLOADS (where Packer's file provisioner put them), JRE_VERSION
# (checked against the bundle), ROOT (the tree to install into; default /, tests use a scratch folder). Idempotent:
# files are replaced only when they differ. A build without the agent bundle fails: a launcher must never point at nothing.
set -euo pipefail
uploads=${UPLOADS:-/tmp}
root=${ROOT:-}
root=${root%/}
: "${JRE_VERSION:?JRE_VERSION is not set (versions.pkrvars.hcl)}"

# install_file SOURCE TARGET MODE: copy only when the content or mode differs.
install_file() {
  if ! cmp -s "$1" "$2" || [ "$(stat -c %a "$2")" != "$3" ]; then
    install -D -m "$3" "$1" "$2"
  fi
}

# The agent trusts only releases signed by these keys (DeviceAgentHost.KEYRING_PATH): an image without them could never
# take an update, so the build fails before anything is installed.
release_keyring="$uploads/ingot-release-keyring.asc"
if [ ! -s "$release_keyring" ]; then
  echo "error: Tried to install the release keyring but failed because $release_keyring is missing or empty." \
    "Hint: export the public key that signs releases (ingot keys export --key KEY --out packer/files/ingot-release-keyring.asc; the template's release_keyring variable names it)." >&2
  exit 1
fi

bundle="$uploads/ingot-agent.tar.gz"
if [ ! -f "$bundle" ]; then
  echo "error: Tried to install the Ingot agent but failed because $bundle is missing." \
    "Hint: run packer/make-agent-bundle.sh after ./mvnw package (the template's agent_bundle variable names it)." >&2
  exit 1
fi
staging=$(mktemp -d)
tar -xzf "$bundle" -C "$staging"
bundled_jre=$(cat "$staging/JRE_VERSION" 2>/dev/null || echo "(no JRE_VERSION file)")
if [ "$bundled_jre" != "$JRE_VERSION" ]; then
  echo "error: the agent bundle's runtime is $bundled_jre but versions.pkrvars.hcl pins $JRE_VERSION" >&2
  rm -rf "$staging"
  exit 1
fi
for part in runtime/bin/java ingot.jar; do
  if [ ! -f "$staging/$part" ]; then
    echo "error: the agent bundle $bundle holds no $part (make it with packer/make-agent-bundle.sh)" >&2
    rm -rf "$staging"
    exit 1
  fi
done
if ! diff -rq "$staging" "$root/opt/edge/agent" >/dev/null 2>&1; then
  rm -rf "$root/opt/edge/agent.new"
  mkdir -p "$root/opt/edge"
  mv "$staging" "$root/opt/edge/agent.new"
  chmod 0755 "$root/opt/edge/agent.new"
  rm -rf "$root/opt/edge/agent"
  mv "$root/opt/edge/agent.new" "$root/opt/edge/agent"
  chmod -R go-w "$root/opt/edge/agent"
else
  rm -rf "$staging"
fi

# The jar calls Linux through the FFM API (lseek, ioctl, fallocate): without the flag the JDK warns on every run.
launcher='#!/bin/sh
exec /opt/edge/agent/runtime/bin/java --enable-native-access=ALL-UNNAMED -jar /opt/edge/agent/ingot.jar "$@"'
if [ "$(cat "$root/opt/edge/bin/ingot" 2>/dev/null)" != "$launcher" ]; then
  install -d -m 0755 "$root/opt/edge/bin"
  printf '%s\n' "$launcher" >"$root/opt/edge/bin/ingot"
fi
chmod 0755 "$root/opt/edge/bin/ingot"

install_file "$release_keyring" "$root/etc/ingot/keyring" 644
install_file "$uploads/provision_site.sh" "$root/opt/edge/provision_site.sh" 755
install_file "$uploads/ingot-first-boot.sh" "$root/opt/edge/ingot-first-boot.sh" 755
units="ingot-provision-first-boot.service ingot-ssh-host-keys.service ingot-health.service ingot-health.timer ingot-agent.service"
for unit in $units; do
  install_file "$uploads/$unit" "$root/etc/systemd/system/$unit" 644
done
install -d -m 0755 "$root/etc/edge"

# The health service has no [Install] section: its timer starts it. Into another tree, `systemctl --root` only makes the
# wants/ links (systemctl(1)), as plain `systemctl enable` does in the build VM.
enable=(enable ingot-provision-first-boot.service ingot-ssh-host-keys.service ingot-health.timer ingot-agent.service)
if [ -n "$root" ]; then
  systemctl --root="$root" "${enable[@]}"
else
  systemctl "${enable[@]}"
fi
