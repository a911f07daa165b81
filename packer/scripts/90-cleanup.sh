#!/usr/bin/env bash
# Leaves nothing in the image that belongs to one machine or one site: SSH host keys (ingot-ssh-host-keys.service
# makes them at first boot), the snakeoil TLS key, the machine id (also the one a first boot keeps on /data), the
# agent's state, cloud-init's instance state, site files, shell history, apt lists; and locks edgeuser's build password.
# Runs last. Idempotent: removing what is gone is a no-op.
set -euo pipefail

rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub
rm -f /etc/ssl/private/ssl-cert-snakeoil.key /etc/ssl/certs/ssl-cert-snakeoil.pem
# Site files come from provisioning at first boot (docs/site-parameters.md); none may be baked in.
rm -f /etc/edge/video-ingest.env /etc/edge/site-id /etc/edge/provision.env /etc/iptables/rules.v4 \
  /etc/iptables/rules.v6 /etc/systemd/system/video-ingest.service \
  /etc/systemd/system/multi-user.target.wants/video-ingest.service /etc/ingot/enrollment-token /etc/ingot/agent.json \
  /data/ingot/provision.env
# The data partition is flashed with the image: a machine id kept there would be taken back by every device's first
# boot (one identity for the whole fleet), and agent state would be another device's credential.
rm -rf /data/ingot/machine-id /data/ingot/agent
rm -rf /root/.aws /home/edgeuser/.aws
rm -f /root/.bash_history /home/edgeuser/.bash_history
if [ -s /etc/machine-id ]; then
  : >/etc/machine-id
fi
rm -f /var/lib/dbus/machine-id
if command -v cloud-init >/dev/null; then
  cloud-init clean --logs >/dev/null 2>&1 || true
fi
rm -rf /var/lib/apt/lists/*
if ! passwd --status edgeuser | grep -q ' L '; then
  passwd --lock edgeuser >/dev/null
fi
