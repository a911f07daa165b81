#!/usr/bin/env bash
# /etc/edge/image-version: IMAGE_NAME=, IMAGE_VERSION=, BUILD_DATE= lines (docs/formats.md), the same text the
# release manifest records as image_version_file. Environment: IMAGE_NAME, IMAGE_VERSION, BUILD_DATE. Idempotent.
set -euo pipefail
: "${IMAGE_NAME:?IMAGE_NAME is not set}"
: "${IMAGE_VERSION:?IMAGE_VERSION is not set}"
: "${BUILD_DATE:?BUILD_DATE is not set}"

content=$(printf 'IMAGE_NAME=%s\nIMAGE_VERSION=%s\nBUILD_DATE=%s' "$IMAGE_NAME" "$IMAGE_VERSION" "$BUILD_DATE")
if [ "$(cat /etc/edge/image-version 2>/dev/null)" != "$content" ]; then
  install -d -m 0755 /etc/edge
  printf '%s\n' "$content" >/etc/edge/image-version.new
  chmod 0644 /etc/edge/image-version.new
  mv /etc/edge/image-version.new /etc/edge/image-version
fi
