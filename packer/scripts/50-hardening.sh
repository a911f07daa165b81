#!/usr/bin/env bash
# Hardening: no root SSH login, no password or keyboard-interactive authentication, edgeuser the only login user,
# root locked, unused services removed, unattended-upgrades security-only without automatic reboot.
# Runs in the Packer VM and in a chroot (e2e/debootstrap-test.sh). Idempotent: every step checks before it changes.
# Nothing here restarts sshd: Packer's session stays up, and the settings apply from the device's first boot.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
uploads=${UPLOADS:-/tmp}

# write_if_changed TARGET MODE: stdin becomes TARGET only when the content differs.
write_if_changed() {
  local content
  content=$(cat)
  if [ "$(cat "$1" 2>/dev/null)" != "$content" ]; then
    install -d -m 0755 "$(dirname "$1")"
    printf '%s\n' "$content" >"$1.new"
    chmod "$2" "$1.new"
    mv "$1.new" "$1"
  fi
}

# sshd: the first value of a keyword wins (sshd_config(5)), so the drop-in is included first and named 00-.
main_config=/etc/ssh/sshd_config
include_line='Include /etc/ssh/sshd_config.d/*.conf'
if [ -f "$main_config" ] && ! grep -qxF "$include_line" "$main_config"; then
  sed -i "1i $include_line" "$main_config"
fi
write_if_changed /etc/ssh/sshd_config.d/00-ingot-hardening.conf 0644 <<'CONF'
# Ingot golden image hardening (packer/scripts/50-hardening.sh). Checked by `ingot image test`.
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
ChallengeResponseAuthentication no
PermitEmptyPasswords no
AllowUsers edgeuser
CONF

# Accounts: edgeuser exists and is the only one with a login shell besides root; root's password is locked.
if ! id edgeuser >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash edgeuser
fi
for group in sudo docker; do
  if getent group "$group" >/dev/null && ! id -nG edgeuser | tr ' ' '\n' | grep -qx "$group"; then
    usermod -aG "$group" edgeuser
  fi
done
if [ -s "$uploads/edgeuser.authorized_keys" ]; then
  install -d -m 0700 -o edgeuser -g edgeuser /home/edgeuser/.ssh
  write_if_changed /home/edgeuser/.ssh/authorized_keys 0600 <"$uploads/edgeuser.authorized_keys"
  chown edgeuser:edgeuser /home/edgeuser/.ssh/authorized_keys
fi
while IFS=: read -r name _ uid _ _ _ shell; do
  case "$shell" in
    /usr/sbin/nologin | /sbin/nologin | /bin/false | /usr/bin/false | /bin/sync | /sbin/halt | /sbin/shutdown) ;;
    *)
      if [ "$uid" != 0 ] && [ "$name" != edgeuser ]; then
        usermod --shell /usr/sbin/nologin "$name"
      fi
      ;;
  esac
done </etc/passwd
if ! passwd --status root | grep -q ' L '; then
  passwd --lock root >/dev/null
fi

# Services a camera gateway does not use.
for package in snapd modemmanager open-iscsi multipath-tools lxd-agent-loader pollinate telnet; do
  if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    apt-get purge -y -q "$package"
  fi
done

# Security updates only and never an automatic reboot, before provisioning writes the site's own policy
# (52ingot-unattended-upgrades, the same rules). Format: apt.conf(5).
write_if_changed /etc/apt/apt.conf.d/20auto-upgrades 0644 <<'CONF'
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
CONF
write_if_changed /etc/apt/apt.conf.d/51ingot-image-unattended-upgrades 0644 <<'CONF'
// Ingot golden image (packer/scripts/50-hardening.sh): security updates only, never an automatic reboot.
#clear Unattended-Upgrade::Allowed-Origins;
#clear Unattended-Upgrade::Origins-Pattern;
Unattended-Upgrade::Origins-Pattern {
        "origin=Ubuntu,archive=${distro_codename}-security,label=Ubuntu";
        "origin=UbuntuESMApps,archive=${distro_codename}-apps-security";
        "origin=UbuntuESM,archive=${distro_codename}-infra-security";
};
Unattended-Upgrade::Package-Blacklist {
        "nvidia-";
        "libnvidia-";
        "linux-modules-nvidia-";
};
Unattended-Upgrade::Automatic-Reboot "false";
CONF
