#!/usr/bin/env bash
# Core packages of the golden image: chrony, awscli, jq, iptables-persistent, logrotate, unattended-upgrades.
# Idempotent: apt-get install leaves installed packages alone. Firewall rules are site-specific (provisioning writes
# /etc/iptables/rules.v4 at first boot), so iptables-persistent must not save the build VM's rules.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

echo "iptables-persistent iptables-persistent/autosave_v4 boolean false" | debconf-set-selections
echo "iptables-persistent iptables-persistent/autosave_v6 boolean false" | debconf-set-selections

apt-get update -q
apt-get install -y -q --no-install-recommends \
  chrony awscli jq iptables-persistent logrotate unattended-upgrades ca-certificates curl gnupg

rm -f /etc/iptables/rules.v4 /etc/iptables/rules.v6
