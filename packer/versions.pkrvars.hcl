# Every pinned version of the golden image, in one place. Change it with
#   ingot image bump --docker-ce 5:27.3.1-1~ubuntu.22.04~jammy --iso-sha256 …
# so that an upgrade is one reviewable diff. `ingot image test` checks the built image against these values.

# Ubuntu 22.04 LTS live server ISO and its SHA-256 (from the release's SHA256SUMS).
iso_url    = "https://releases.ubuntu.com/22.04.5/ubuntu-22.04.5-live-server-amd64.iso"
iso_sha256 = "9bc6028870aef3f74f4e16b900008179e78b130e6b0b9a140635434a46aa98b0"

# Docker CE and containerd from download.docker.com (apt version strings).
docker_ce_version  = "5:27.3.1-1~ubuntu.22.04~jammy"
containerd_version = "1.7.22-1"

# NVIDIA driver 535 (CUDA 12.x, validated for T4) and the container toolkit (nvidia.github.io/libnvidia-container).
nvidia_driver_version     = "535.183.01-0ubuntu0.22.04.1"
container_toolkit_version = "1.16.2-1"

# The Java runtime the Ingot agent runs on: a jlink image of this JDK (packer/make-agent-bundle.sh checks it).
jre_version = "25.0.1+8"
