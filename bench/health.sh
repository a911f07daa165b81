#!/usr/bin/env bash
# Health benchmark: wall time of `ingot health --json` (JVM start included) on this host as it is, on a
# simulated healthy device (a device root in the work folder, fake tools serving the written fixtures),
# and with a hung nvidia-smi (the probe timeout bounds it), against the peer: the same tools and files
# run one after another from a shell script, each under `timeout`. Prints a table and replaces the
# generated health section of bench/RESULTS.md.
# Usage: bench/health.sh [--reps 10] [--work DIR] [--no-results]      See bench/README.md.
set -euo pipefail

bench_dir=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
reps=${BENCH_REPS:-10}
work=${BENCH_WORK:-$bench_dir/work/health}
write_results=${BENCH_RESULTS:-1}
ingot=${INGOT:-$repo/ingot}
fixtures=$repo/ingot-testing/src/main/resources/dev/ingot/testing/fixtures/written

while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --no-results) write_results=0; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "error: unknown option $1" >&2; exit 2 ;;
  esac
done
log() { echo "== $*" >&2; }

rm -rf "$work"
mkdir -p "$work/bin" "$work/hung" "$work/root"
"$ingot" --version >/dev/null  # builds the jar when sources changed, outside the timings

# A healthy device root and fake tools that serve the documented outputs (as the tests do).
root=$work/root
mkdir -p "$root/etc/edge" "$root/proc/sys/kernel" "$root/var/lib/docker" "$root/var/lib/update-notifier" "$root/media/usb/ingot"
echo SITE-2847 >"$root/etc/edge/site-id"
echo 3d1219c7c4c5404aaa1f6d2a48adfda4 >"$root/etc/machine-id"
echo edge-site-2847 >"$root/proc/sys/kernel/hostname"
printf 'IMAGE_NAME=edge-golden\nIMAGE_VERSION=v1.4\nBUILD_DATE=2026-11-20T09:30:00Z\n' >"$root/etc/edge/image-version"
cp /proc/cmdline /proc/uptime /proc/meminfo "$root/proc/"
printf '\n0 updates can be applied immediately.\n\n' >"$root/var/lib/update-notifier/updates-available"
python3 -c 'import socket,time,sys; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(64); print(s.getsockname()[1]); sys.stdout.flush(); time.sleep(3600)' >"$work/camera.port" &
camera_pid=$!
trap 'kill $camera_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$work/camera.port" ] && break; sleep 0.1; done
printf 'CAMERA_IPS=127.0.0.1,127.0.0.1,127.0.0.1,127.0.0.1\nCAMERA_RTSP_PORT=%s\n' "$(cat "$work/camera.port")" >"$root/etc/edge/video-ingest.env"
fake() { printf '#!/bin/sh\ncase "$1" in\n%s\nesac\nexit 64\n' "$2" >"$work/bin/$1"; chmod +x "$work/bin/$1"; }
fake nvidia-smi "  --query-gpu=*) cat '$fixtures/nvidia-smi-t4.stdout'; exit 0 ;;"
fake docker "  info) cat '$fixtures/docker-info.stdout'; exit 0 ;;
  inspect) cat '$fixtures/docker-inspect-running.stdout'; exit 0 ;;"
fake systemctl "  show) cat '$fixtures/systemctl-show-active.stdout'; exit 0 ;;"
fake chronyc "  -c) cat '$fixtures/chronyc-tracking-synchronised.stdout'; exit 0 ;;"
for tool in nvidia-smi docker; do printf '#!/bin/sh\nexec sleep 3600\n' >"$work/hung/$tool"; chmod +x "$work/hung/$tool"; done
mkdir -p "$work/hung-gpu"; cp "$work/hung/nvidia-smi" "$work/hung-gpu/"
# One known-good image in the USB cache, as `ingot image pull` leaves it (untimed).
log "publishing a small image into the simulated USB cache"
"$ingot" keys generate --name "Bench <bench@example.com>" --out "$work/keys" >/dev/null
truncate -s 1M "$work/edge.img"; printf 'golden' | dd of="$work/edge.img" conv=notrunc status=none
"$ingot" image publish "$work/edge.img" --version v1.4 --key "$work/keys/signing-key.asc" --store "$work/store" >/dev/null
"$ingot" image pull v1.4 --to "$root/media/usb/ingot" --store "$work/store" --keyring "$work/keys/signing-key.pub.asc" >/dev/null

# The peer: what a cron script would run, in sequence, each tool bounded by the same 1.5 s.
cat >"$work/peer.sh" <<'EOF'
#!/bin/sh
t() { timeout 1.5 "$@" >/dev/null 2>&1; }
t nvidia-smi --query-gpu=index,uuid,name,driver_version,pci.bus_id,temperature.gpu,utilization.gpu,utilization.memory,memory.total,memory.used,memory.free,power.draw,power.limit,ecc.mode.current,ecc.errors.corrected.volatile.total,ecc.errors.uncorrected.volatile.total,clocks.sm,clocks.mem,pstate,fan.speed,vbios_version --format=csv,noheader,nounits
t docker info --format '{{json .}}'
t docker inspect --type container video-ingest
t systemctl show video-ingest.service --property=LoadState,ActiveState,SubState,Result,NRestarts
t chronyc -c tracking
t df -P / /var/lib/docker
cat /proc/uptime /proc/meminfo /etc/machine-id >/dev/null 2>&1 || true
EOF
chmod +x "$work/peer.sh"

now() { date +%s%N; }
declare -A times
run() {  # name, then the command; records each wall time in ms
  local name=$1; shift
  local list=()
  for _ in $(seq "$reps"); do
    local start; start=$(now)
    "$@" >"$work/$name.out" 2>&1 || true
    list+=($(( ($(now) - start) / 1000000 )))
  done
  times[$name]="${list[*]}"
}
median() { tr ' ' '\n' <<<"$1" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
status_of() { grep -o '"status" : "[a-z]*"' "$work/$1.out" | tail -1 | cut -d'"' -f4; }
took_of() { grep -o '"took_ms" : [0-9]*' "$work/$1.out" | tail -1 | awk '{print $3 " ms of probes"}'; }

log "timing $reps runs of each"
run jvm "$ingot" --version
run host "$ingot" health --json
run peer-host "$work/peer.sh"
run healthy env PATH="$work/bin:$PATH" "$ingot" health --json --root "$root"
run peer-healthy env PATH="$work/bin:$PATH" "$work/peer.sh"
run hung-gpu env PATH="$work/hung-gpu:$work/bin:$PATH" "$ingot" health --json --root "$root"
run peer-hung-gpu env PATH="$work/hung-gpu:$work/bin:$PATH" "$work/peer.sh"
run hung env PATH="$work/hung:$work/bin:$PATH" "$ingot" health --json --root "$root"
run peer-hung env PATH="$work/hung:$work/bin:$PATH" "$work/peer.sh"

java_version=$("${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java" -version 2>&1 | head -1 || true)
row() { printf '| %s | %s | %s | %s |\n' "$1" "$(median "${times[$2]}")" "${times[$2]// /, }" "$3"; }
ratio() { awk -v a="$(median "${times[$1]}")" -v b="$(median "${times[$2]}")" 'BEGIN {printf "%.2f", a / b}'; }
report=$(cat <<EOF
Run $(date -u +%Y-%m-%dT%H:%M:%SZ), reproduce with \`bench/health.sh --reps $reps\`. Host: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')),
$(uname -sr); $java_version. Wall time from start to exit, JVM start included; median of $reps.

| run | median ms | all runs ms | report |
| --- | ---: | --- | --- |
$(row "\`ingot --version\` (launcher + JVM start alone)" jvm "")
$(row "\`ingot health --json\` on this host as it is" host "$(status_of host), $(took_of host)")
$(row "peer: the same tools in sequence from sh, this host" peer-host "")
$(row "\`ingot health --json\`, simulated healthy device (fake tools, 4 cameras)" healthy "$(status_of healthy), $(took_of healthy)")
$(row "peer: the same, in sequence" peer-healthy "")
$(row "\`ingot health --json\`, healthy device but nvidia-smi hangs" hung-gpu "$(status_of hung-gpu), $(took_of hung-gpu)")
$(row "peer: the same, in sequence (timeout 1.5 s each)" peer-hung-gpu "")
$(row "\`ingot health --json\`, healthy device but nvidia-smi and docker hang" hung "$(status_of hung), $(took_of hung)")
$(row "peer: the same, in sequence (timeout 1.5 s each)" peer-hung "")

| ratio (>1: ingot faster) | |
| --- | ---: |
| peer / ingot, this host | $(ratio peer-host host) |
| peer / ingot, healthy device | $(ratio peer-healthy healthy) |
| peer / ingot, hung nvidia-smi | $(ratio peer-hung-gpu hung-gpu) |
| peer / ingot, hung nvidia-smi and docker | $(ratio peer-hung hung) |
EOF
)
echo; echo "$report"

if [ "$write_results" = 1 ]; then
  results=$bench_dir/RESULTS.md
  begin='<!-- bench/health.sh results: begin (generated, replaced on each run) -->'
  end='<!-- bench/health.sh results: end -->'
  tmp=$(mktemp "$bench_dir/.RESULTS.XXXXXX")
  printf '%s\n' "$report" >"$tmp.section"
  if grep -qF "$begin" "$results"; then
    awk -v b="$begin" -v e="$end" -v f="$tmp.section" '
      $0 == b { print; while ((getline line < f) > 0) print line; skip = 1; next }
      $0 == e { skip = 0 }
      !skip { print }' "$results" >"$tmp"
  else
    heading="## Health: \`ingot health\` against the same probes run in sequence from a shell script"
    intro="Issue target: a full report in under 2 seconds on a healthy host, and a hung tool cannot hang it.
The section between the markers is rewritten by \`bench/health.sh\`; the note under it is written by hand."
    { cat "$results"; printf '\n%s\n\n%s\n\n### bench/health.sh, latest run\n\n%s\n' "$heading" "$intro" "$begin"; cat "$tmp.section"; echo "$end"; } >"$tmp"
  fi
  mv "$tmp" "$results"
  rm -f "$tmp.section"
  log "wrote $results"
fi
