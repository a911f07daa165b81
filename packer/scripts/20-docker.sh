#!/usr/bin/env bash
# Docker CE and containerd.io at the versions pinned in versions.pkrvars.hcl, held so that apt never moves them
# (unattended-upgrades is security-only, and a new Docker comes with a new image).
# Environment: DOCKER_CE_VERSION, CONTAINERD_VERSION. Idempotent: the key, the source and the packages are only
# changed when they differ.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
: "${DOCKER_CE_VERSION:?DOCKER_CE_VERSION is not set (versions.pkrvars.hcl)}"
: "${CONTAINERD_VERSION:?CONTAINERD_VERSION is not set (versions.pkrvars.hcl)}"

keyring=/etc/apt/keyrings/docker.asc
if [ ! -s "$keyring" ]; then
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o "$keyring"
  chmod 0644 "$keyring"
fi

# shellcheck source=/dev/null
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
source_line="deb [arch=$(dpkg --print-architecture) signed-by=$keyring] https://download.docker.com/linux/ubuntu $codename stable"
if [ "$(cat /etc/apt/sources.list.d/docker.list 2>/dev/null)" != "$source_line" ]; then
  echo "$source_line" >/etc/apt/sources.list.d/docker.list
  apt-get update -q
fi

installed() {
  dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null | grep -qx "install ok installed $2"
}

if ! installed docker-ce "$DOCKER_CE_VERSION" || ! installed docker-ce-cli "$DOCKER_CE_VERSION" \
  || ! installed containerd.io "$CONTAINERD_VERSION"; then
  apt-mark unhold docker-ce docker-ce-cli containerd.io >/dev/null 2>&1 || true
  apt-get install -y -q --allow-downgrades \
    "docker-ce=$DOCKER_CE_VERSION" "docker-ce-cli=$DOCKER_CE_VERSION" "containerd.io=$CONTAINERD_VERSION" \
    docker-buildx-plugin docker-compose-plugin
fi
apt-mark hold docker-ce docker-ce-cli containerd.io >/dev/null
systemctl enable docker.service containerd.service >/dev/null 2>&1 || true
