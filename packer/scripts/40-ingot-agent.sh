#!/usr/bin/env bash
# The Ingot agent with its Java runtime (a jlink image, make-agent-bundle.sh), the runbook's provision_site.sh and
# the first-boot provisioning unit (deploy/). Environment: UPLOADS (where Packer's file provisioner put them),
# JRE_VERSION (checked against the bundle). Idempotent: files are replaced only when they differ.
set -euo pipefail
uploads=${UPLOADS:-/tmp}
: "${JRE_VERSION:?JRE_VERSION is not set (versions.pkrvars.hcl)}"

# install_file SOURCE TARGET MODE: copy only when the content or mode differs.
install_file() {
  if ! cmp -s "$1" "$2" || [ "$(stat -c %a "$2")" != "$3" ]; then
    install -D -m "$3" "$1" "$2"
  fi
}

bundle="$uploads/ingot-agent.tar.gz"
if [ -f "$bundle" ]; then
  staging=$(mktemp -d)
  tar -xzf "$bundle" -C "$staging"
  bundled_jre=$(cat "$staging/JRE_VERSION")
  if [ "$bundled_jre" != "$JRE_VERSION" ]; then
    echo "error: the agent bundle's runtime is $bundled_jre but versions.pkrvars.hcl pins $JRE_VERSION" >&2
    exit 1
  fi
  if ! diff -rq "$staging" /opt/edge/agent >/dev/null 2>&1; then
    rm -rf /opt/edge/agent.new
    mkdir -p /opt/edge
    mv "$staging" /opt/edge/agent.new
    rm -rf /opt/edge/agent
    mv /opt/edge/agent.new /opt/edge/agent
    chmod -R go-w /opt/edge/agent
  else
    rm -rf "$staging"
  fi
fi

launcher='#!/bin/sh
exec /opt/edge/agent/runtime/bin/java -jar /opt/edge/agent/ingot.jar "$@"'
if [ "$(cat /opt/edge/bin/ingot 2>/dev/null)" != "$launcher" ]; then
  install -d -m 0755 /opt/edge/bin
  printf '%s\n' "$launcher" >/opt/edge/bin/ingot
fi
chmod 0755 /opt/edge/bin/ingot

install_file "$uploads/provision_site.sh" /opt/edge/provision_site.sh 755
install_file "$uploads/ingot-provision-first-boot.service" /etc/systemd/system/ingot-provision-first-boot.service 644
install_file "$uploads/ingot-ssh-host-keys.service" /etc/systemd/system/ingot-ssh-host-keys.service 644
install -d -m 0755 /etc/edge

if command -v systemctl >/dev/null; then
  systemctl enable ingot-provision-first-boot.service ingot-ssh-host-keys.service >/dev/null 2>&1 || true
fi
