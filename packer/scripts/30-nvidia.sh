#!/usr/bin/env bash
# NVIDIA driver 535 (CUDA 12.x, validated for T4) and nvidia-container-toolkit at the pinned versions, with the
# NVIDIA runtime as Docker's default (/etc/docker/daemon.json, dockerd(8) "daemon configuration file").
# Environment: NVIDIA_DRIVER_VERSION, CONTAINER_TOOLKIT_VERSION. Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
: "${NVIDIA_DRIVER_VERSION:?NVIDIA_DRIVER_VERSION is not set (versions.pkrvars.hcl)}"
: "${CONTAINER_TOOLKIT_VERSION:?CONTAINER_TOOLKIT_VERSION is not set (versions.pkrvars.hcl)}"

installed() {
  dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null | grep -qx "install ok installed $2"
}

keyring=/etc/apt/keyrings/nvidia-container-toolkit.gpg
if [ ! -s "$keyring" ]; then
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey | gpg --dearmor -o "$keyring"
  chmod 0644 "$keyring"
fi
source_line="deb [signed-by=$keyring] https://nvidia.github.io/libnvidia-container/stable/deb/\$(ARCH) /"
if [ "$(cat /etc/apt/sources.list.d/nvidia-container-toolkit.list 2>/dev/null)" != "$source_line" ]; then
  echo "$source_line" >/etc/apt/sources.list.d/nvidia-container-toolkit.list
  apt-get update -q
fi

if ! installed nvidia-driver-535 "$NVIDIA_DRIVER_VERSION"; then
  apt-mark unhold nvidia-driver-535 >/dev/null 2>&1 || true
  apt-get install -y -q --no-install-recommends --allow-downgrades "nvidia-driver-535=$NVIDIA_DRIVER_VERSION"
fi
if ! installed nvidia-container-toolkit "$CONTAINER_TOOLKIT_VERSION"; then
  apt-mark unhold nvidia-container-toolkit nvidia-container-toolkit-base >/dev/null 2>&1 || true
  apt-get install -y -q --allow-downgrades \
    "nvidia-container-toolkit=$CONTAINER_TOOLKIT_VERSION" "nvidia-container-toolkit-base=$CONTAINER_TOOLKIT_VERSION"
fi
apt-mark hold nvidia-driver-535 nvidia-container-toolkit nvidia-container-toolkit-base >/dev/null

# Written whole rather than by `nvidia-ctk runtime configure`, so that every image gets the same bytes.
daemon_json='{
  "default-runtime": "nvidia",
  "log-driver": "json-file",
  "log-opts": {
    "max-file": "5",
    "max-size": "50m"
  },
  "runtimes": {
    "nvidia": {
      "args": [],
      "path": "nvidia-container-runtime"
    }
  }
}'
if [ "$(cat /etc/docker/daemon.json 2>/dev/null)" != "$daemon_json" ]; then
  install -d -m 0755 /etc/docker
  printf '%s\n' "$daemon_json" >/etc/docker/daemon.json.new
  mv /etc/docker/daemon.json.new /etc/docker/daemon.json
fi
