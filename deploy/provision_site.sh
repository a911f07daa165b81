#!/usr/bin/env bash
# Provisions this device for its site. The entry point the field runbook has always called,
#   SITE_ID=SITE-2847 bash /opt/edge/provision_site.sh
# now a thin wrapper around `ingot provision` (docs/site-parameters.md). Extra arguments are passed on
# (--dry-run, --no-apply, --json). Exit codes are ingot's: 0 ok, 2 bad input, 3 store unreachable or root read-only.
#
# Environment:
#   SITE_ID        the site, e.g. SITE-2847 (required)
#   INGOT_PARAMS   where the parameters are: ssm: (default: AWS SSM, /edge/SITE_ID/) or dir:/etc/ingot/params
#   INGOT          the ingot command (default: ingot on PATH, else /opt/edge/bin/ingot)
#   AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, ...: read by the AWS SDK as usual
set -euo pipefail

if [ -z "${SITE_ID:-}" ]; then
  echo "error: Tried to provision this device but failed because SITE_ID is not set." \
    "Hint: run SITE_ID=SITE-2847 bash $0 (at first boot, write SITE_ID=SITE-2847 into /etc/edge/provision.env)." >&2
  exit 2
fi

ingot=${INGOT:-}
if [ -z "$ingot" ]; then
  ingot=$(command -v ingot || echo /opt/edge/bin/ingot)
fi
if [ ! -x "$ingot" ]; then
  echo "error: Tried to provision site $SITE_ID but failed because the ingot command ($ingot) is not installed." \
    "Hint: set INGOT to its path." >&2
  exit 3
fi

exec "$ingot" provision --site "$SITE_ID" --params "${INGOT_PARAMS:-ssm:}" "$@"
