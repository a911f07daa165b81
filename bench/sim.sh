#!/usr/bin/env bash
# A simulated fleet against one control plane on this machine: `ingot server` (the real jar, SQLite) and
# `ingot sim --devices N` (the real agent over simulated hosts, one JVM) polling it at the server's interval.
# Reports what the fleet saw (polls/s, poll round trip p50/p99, failures), what the server stored
# (ingot_device_polls_total), the CPU time and memory of both processes (and the sim's live heap per
# device after a full GC), and the load average beside them; rewrites the generated sim section of
# bench/RESULTS.md. See bench/README.md.
set -euo pipefail
bench_dir=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
root=$(dirname "$bench_dir")

devices=10000 duration=300 ramp_up=120 interval=60s
server_opts="-XX:+UseParallelGC -Xmx320m -Xmn200m"
sim_opts="-XX:+UseParallelGC -Xmx1g"
work=$bench_dir/work/sim keep=0 write_results=1
usage() {
  cat <<USAGE
usage: bench/sim.sh [--devices N] [--duration SECONDS] [--ramp-up SECONDS] [--poll-interval DURATION]
                    [--server-opts "JVM OPTIONS"] [--sim-opts "JVM OPTIONS"] [--work DIR] [--keep] [--no-results]
Defaults: --devices $devices --duration $duration --ramp-up $ramp_up --poll-interval $interval
          --server-opts "$server_opts" --sim-opts "$sim_opts". Needs curl and python3.
The steady state is measured for --duration seconds after every device enrolled (the ramp-up and the
enrollments are timed apart).
USAGE
}
while [ $# -gt 0 ]; do
  case $1 in
    --devices) devices=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --ramp-up) ramp_up=$2; shift 2 ;;
    --poll-interval) interval=$2; shift 2 ;;
    --server-opts) server_opts=$2; shift 2 ;;
    --sim-opts) sim_opts=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-results) write_results=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "error: Tried to run the sim benchmark but failed because $tool is missing. Hint: apt-get install curl python3" >&2; exit 2; }
done

. "$root/.mvn/find-jdk.sh"
ingot_find_jdk
jar=${INGOT_JAR:-$root/ingot-cli/target/ingot.jar}
if [ -z "${INGOT_JAR-}" ]; then
  (cd "$root" && ./mvnw -q -B -DskipTests -pl ingot-cli -am package)
fi

rm -rf "$work"
mkdir -p "$work/store"
token="ingot_op_bench-admin-token-0123456789abcdefghijklmnopqrstu"
port=18690
server_pid="" sim_pid=""
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

# ticks PID: user + system CPU time of the process, in clock ticks (proc(5), fields 14 and 15).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
metric_polls() { curl -fsS "http://127.0.0.1:$port/metrics" | awk '/^ingot_device_polls_total\{outcome="ok"\}/ {printf "%d", $2}'; }
kib() { awk -v key="$2" '$1 == key":" {print $2}' "/proc/$1/status"; }
# The last status line the sim printed (JSON Lines), and one field of it.
last_status() { grep '"type":"status"' "$work/sim.out" | tail -1; }
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); [d := d[k] for k in sys.argv[2].split(".")]; print(d)' "$1" "$2"; }

# shellcheck disable=SC2086 # the JVM options are words
INGOT_ADMIN_TOKEN=$token "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED $server_opts \
  -jar "$jar" server --port "$port" --db "sqlite:$work/bench.db" --store "$work/store" --poll-interval "$interval" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$work/server.log" >&2; exit 3; }

echo "== $devices devices, ramp-up ${ramp_up}s, then ${duration}s measured" >&2
load_start=$(cut -d' ' -f1 /proc/loadavg)
started=$(date +%s)
# shellcheck disable=SC2086
INGOT_SERVER=http://127.0.0.1:$port INGOT_TOKEN=$token "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED $sim_opts \
  -jar "$jar" sim --devices "$devices" --ramp-up "${ramp_up}s" --every 10s --json >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!

# Until every device has enrolled (sites and tokens through the operator API, then the enrollment itself).
enrolled=0
while [ "$enrolled" -lt "$devices" ]; do
  sleep 5
  kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.err" >&2; exit 3; }
  line=$(last_status || true)
  [ -n "$line" ] && enrolled=$(field "$line" enrolled)
  [ $(($(date +%s) - started)) -gt $((ramp_up * 4 + 600)) ] && { echo "error: only $enrolled of $devices devices enrolled" >&2; exit 3; }
done
enrolled_after=$(($(date +%s) - started))
echo "== all $devices enrolled after ${enrolled_after}s; measuring ${duration}s" >&2
sleep 20
polls_before=$(metric_polls)
server_ticks_before=$(ticks "$server_pid") sim_ticks_before=$(ticks "$sim_pid")
sim_polls_before=$(field "$(last_status)" polls)
sim_failures_before=$(field "$(last_status)" poll_failures)
load_before=$(cut -d' ' -f1 /proc/loadavg)
t0=$(date +%s.%N)
sleep "$duration"
t1=$(date +%s.%N)
polls_after=$(metric_polls)
server_ticks_after=$(ticks "$server_pid") sim_ticks_after=$(ticks "$sim_pid")
line=$(last_status)
load_after=$(cut -d' ' -f1 /proc/loadavg)
server_hwm=$(($(kib "$server_pid" VmHWM) / 1024)) sim_hwm=$(($(kib "$sim_pid" VmHWM) / 1024))
# The sim's live heap: what is left after a full collection, per device.
"$JAVA_HOME/bin/jcmd" "$sim_pid" GC.run >/dev/null
live_kib=$("$JAVA_HOME/bin/jcmd" "$sim_pid" GC.heap_info | awk '/total/ && /used/ {for (i = 1; i <= NF; i++) if ($i == "used") {v = $(i + 1); sub("K", "", v); s += v}} END {print s}')
hz=$(getconf CLK_TCK)
seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
stored=$((polls_after - polls_before))
rate=$(awk -v n="$stored" -v s="$seconds" 'BEGIN {printf "%.1f", n / s}')
sim_polls=$(($(field "$line" polls) - sim_polls_before))
server_cpu=$(awk -v t=$((server_ticks_after - server_ticks_before)) -v hz="$hz" -v s="$seconds" 'BEGIN {printf "%.1f", 100 * t / hz / s}')
sim_cpu=$(awk -v t=$((sim_ticks_after - sim_ticks_before)) -v hz="$hz" -v s="$seconds" 'BEGIN {printf "%.1f", 100 * t / hz / s}')
server_us=$(awk -v t=$((server_ticks_after - server_ticks_before)) -v hz="$hz" -v n="$stored" 'BEGIN {if (n > 0) printf "%d", t * 1000000 / hz / n; else print "-"}')
sim_us=$(awk -v t=$((sim_ticks_after - sim_ticks_before)) -v hz="$hz" -v n="$sim_polls" 'BEGIN {if (n > 0) printf "%d", t * 1000000 / hz / n; else print "-"}')
per_device=$(awk -v k="$live_kib" -v n="$devices" 'BEGIN {printf "%.1f", k / n}')
# The round trips of the measured window: each status line holds the last 10 s; the median of their p50s, and the
# worst of their p99s and maxima.
read -r p50 p99 worst < <(python3 - "$work/sim.out" "$sim_polls_before" <<'PY'
import json, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if '"type":"status"' in l]
window = [l["poll_ms"] for l in lines if l["polls"] > int(sys.argv[2]) and l["poll_ms"]["count"] > 0]
print(round(statistics.median(w["p50"] for w in window), 1), round(max(w["p99"] for w in window), 1), round(max(w["max"] for w in window), 1))
PY
)
failures=$(($(field "$line" poll_failures) - sim_failures_before))
expected=$(awk -v n="$devices" -v i="${interval%s}" 'BEGIN {printf "%.1f", n / i}')
kill "$sim_pid"; wait "$sim_pid" 2>/dev/null || true; sim_pid=""

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
table="Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($cpu), both processes on the same cores as the other work of the machine;
server: \`java $server_opts -jar ingot.jar server --poll-interval $interval\` on SQLite; fleet: \`java $sim_opts -jar ingot.jar sim --devices $devices --ramp-up ${ramp_up}s\`.
All $devices devices enrolled (sites and one-time tokens through the operator API, then the device API) ${enrolled_after}s after the start;
then ${seconds}s measured. Poll round trip: the device's HTTP call with its full health report, as the fleet timed it: the median of the
10-second windows' p50, the worst window's p99 and the longest round trip of the measured time.

| devices | polls/s stored (expected $expected) | poll p50 / p99 / max | failed polls | server CPU (per poll) | fleet CPU (per poll) | server memory peak | fleet memory peak | fleet live heap per device | load average start / before → after |
|---|---|---|---|---|---|---|---|---|---|
| $devices | $rate | $p50 / $p99 / $worst ms | $failures | $server_cpu % ($server_us µs) | $sim_cpu % ($sim_us µs) | $server_hwm MiB | $sim_hwm MiB | $per_device KiB | $load_start / $load_before → $load_after |"
echo "$table"
if [ "$write_results" = 1 ]; then
  file=$bench_dir/RESULTS.md
  begin='<!-- bench/sim.sh results: begin (generated, replaced on each run) -->'
  end='<!-- bench/sim.sh results: end -->'
  grep -qF "$begin" "$file" || printf '\n%s\n%s\n' "$begin" "$end" >>"$file"
  tmp=$(mktemp "$bench_dir/.RESULTS.XXXXXX")
  awk -v begin="$begin" -v end="$end" -v table="$table" '
    $0 == begin { print; print table; skip = 1; next }
    $0 == end { skip = 0 }
    !skip { print }' "$file" >"$tmp"
  mv "$tmp" "$file"
fi
