#!/usr/bin/env bash
# Provisions a freshly flashed device at its first boot (run by ingot-provision-first-boot.service): finds which site
# this device is, then runs provision_site.sh until it succeeds, waiting out a network or parameter store that is not
# there yet. Extra arguments are passed on to provision_site.sh (and so to `ingot provision`).
#
# The site identity, KEY=VALUE lines (SITE_ID=SITE-2847; optional INGOT_PARAMS, AWS_REGION), from, by precedence:
#   1. the environment (SITE_ID=SITE-2847 bash ingot-first-boot.sh),
#   2. /etc/edge/provision.env, written by a technician on the mounted root,
#   3. /data/ingot/provision.env, written onto the data partition by `ingot flash|rollback --site SITE` (no mount needed).
# Exit codes: 0 provisioned; 2 bad input (no or malformed identity, bad parameters): retrying cannot help, so the unit does
# not; anything else from provision_site.sh but 3 is passed on (the unit restarts after a minute). Exit 3 (network or
# parameter store unreachable) and an attempt that runs past INGOT_ATTEMPT_TIMEOUT are retried here, after 10 s, 20 s,
# 40 s, ... at most every 5 minutes, for as long as it takes.
#
# First of all it keeps the device's machine id on the data partition, or takes it back from there: the control plane
# knows the device by it (the agent enrolls with it and every health report names it), and each root slot makes its own
# at its first boot (the image ships /etc/machine-id empty), so a slot an A/B update wrote would otherwise be a stranger.
#
# Environment (defaults for a device; tests change them):
#   INGOT_MACHINE_ID           the slot's machine id (/etc/machine-id)
#   INGOT_KEPT_MACHINE_ID      the device's, on the data partition (/data/ingot/machine-id)
#   INGOT_IDENTITY_FILES       colon-separated, highest precedence first (/etc/edge/provision.env:/data/ingot/provision.env)
#   INGOT_PROVISION_SCRIPT     the runbook's wrapper (/opt/edge/provision_site.sh)
#   INGOT_RETRY_FIRST_SECONDS  the first wait (10); INGOT_RETRY_MAX_SECONDS the longest (300)
#   INGOT_ATTEMPT_TIMEOUT      seconds one attempt may take before it is stopped and retried (600)
set -euo pipefail

machine_id=${INGOT_MACHINE_ID:-/etc/machine-id}
kept_machine_id=${INGOT_KEPT_MACHINE_ID:-/data/ingot/machine-id}
identity_files=${INGOT_IDENTITY_FILES:-/etc/edge/provision.env:/data/ingot/provision.env}
script=${INGOT_PROVISION_SCRIPT:-/opt/edge/provision_site.sh}
delay=${INGOT_RETRY_FIRST_SECONDS:-10}
max_delay=${INGOT_RETRY_MAX_SECONDS:-300}
attempt_timeout=${INGOT_ATTEMPT_TIMEOUT:-600}

# replace FILE ID: FILE holds ID and a newline, swapped in by a rename (a power cut leaves the old or the new, whole).
replace() {
  printf '%s\n' "$2" >"$1.ingot-new" && mv -f "$1.ingot-new" "$1"
}

# machine-id(5): 32 lowercase hex digits; an empty or "uninitialized" file is no id yet.
current_id=$(tr -d '[:space:]' <"$machine_id" 2>/dev/null || true)
kept_id=$(tr -d '[:space:]' <"$kept_machine_id" 2>/dev/null || true)
if [[ $kept_id =~ ^[0-9a-f]{32}$ ]]; then
  if [ "$current_id" != "$kept_id" ]; then
    if replace "$machine_id" "$kept_id"; then
      echo "Took the device's machine id $kept_id back from $kept_machine_id (this root slot had made ${current_id:-none})"
    else
      echo "warning: could not write $machine_id: this slot reports as ${current_id:-no machine id}, a device the control plane" \
        "does not know. Hint: write $kept_id into $machine_id and reboot." >&2
    fi
  fi
elif [[ $current_id =~ ^[0-9a-f]{32}$ ]]; then
  if mkdir -p "$(dirname "$kept_machine_id")" && replace "$kept_machine_id" "$current_id"; then
    echo "Kept the device's machine id $current_id in $kept_machine_id for the root slots to come"
  else
    echo "warning: could not keep the machine id in $kept_machine_id (is the data partition mounted?)" >&2
  fi
fi

# read_identity FILE: SITE_ID, INGOT_PARAMS and AWS_REGION from FILE's KEY=VALUE lines (one pair of quotes allowed, as in
# systemd's EnvironmentFile=); never sourced, so the file cannot run anything. Sets them only where still unset.
read_identity() {
  local line key value
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    case $line in '' | '#'* | ';'*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    case $value in \"*\" | \'*\') value=${value:1:${#value}-2} ;; esac
    case $key in
      SITE_ID) [ -n "${SITE_ID:-}" ] || { SITE_ID=$value && site_from=$1; } ;;
      INGOT_PARAMS) [ -n "${INGOT_PARAMS:-}" ] || INGOT_PARAMS=$value ;;
      AWS_REGION) [ -n "${AWS_REGION:-}" ] || AWS_REGION=$value ;;
    esac
  done <"$1"
}

site_from=environment
IFS=: read -r -a files <<<"$identity_files"
for file in "${files[@]}"; do
  if [ -n "$file" ] && [ -f "$file" ]; then
    read_identity "$file"
  fi
done

if [ -z "${SITE_ID:-}" ]; then
  echo "error: Tried to provision this device at first boot but failed because no site identity was found" \
    "(looked in: ${identity_files//:/, })." \
    "Hint: flash it with ingot flash|rollback --site SITE-2847, or write SITE_ID=SITE-2847 into /etc/edge/provision.env," \
    "then systemctl start ingot-provision-first-boot.service." >&2
  exit 2
fi
# The same rule as the SiteId type: it becomes a path in the parameter store (/edge/SITE/).
if ! [[ $SITE_ID =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$ ]]; then
  echo "error: Tried to provision this device at first boot but failed because the site id '$SITE_ID' from $site_from" \
    "is not 1 to 63 letters, digits, '-' and '_'. Hint: write it like SITE_ID=SITE-2847." >&2
  exit 2
fi
export SITE_ID
if [ -n "${INGOT_PARAMS:-}" ]; then export INGOT_PARAMS; fi
if [ -n "${AWS_REGION:-}" ]; then export AWS_REGION; fi

attempt=1
while :; do
  echo "Provisioning site $SITE_ID (identity from $site_from), attempt $attempt"
  status=0
  timeout "$attempt_timeout" bash "$script" "$@" || status=$?
  case $status in
    0)
      echo "Provisioned site $SITE_ID at attempt $attempt"
      exit 0
      ;;
    2)
      echo "error: provisioning site $SITE_ID failed on bad input (exit 2): not retried. Hint: fix what it names," \
        "then systemctl start ingot-provision-first-boot.service." >&2
      exit 2
      ;;
    3 | 124)
      echo "Provisioning site $SITE_ID could not finish (exit $status: network, parameter store or root not ready);" \
        "trying again in ${delay} s" >&2
      ;;
    *)
      exit "$status"
      ;;
  esac
  sleep "$delay"
  delay=$((delay * 2 > max_delay ? max_delay : delay * 2))
  attempt=$((attempt + 1))
done
