#!/usr/bin/env bash
# Load test of the control plane's device API on this machine: `ingot server` (the real jar, SQLite or
# PostgreSQL with fsync on) and wrk on loopback playing N enrolled devices that poll with full health reports.
# Reports sustained polls/s, p50/p99 latency, errors and the server's peak memory (VmHWM), and rewrites the
# generated server section of bench/RESULTS.md. See bench/README.md.
set -euo pipefail
bench_dir=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
root=$(dirname "$bench_dir")

devices=2000 connections=256 threads=2 duration=30 warmup=30 databases="sqlite postgresql"
java_opts="-XX:+UseParallelGC -Xmx320m -Xmn200m"
work=$bench_dir/work/server keep=0 write_results=1 jfr=""
usage() {
  cat <<USAGE
usage: bench/server.sh [--devices N] [--connections N] [--threads N] [--duration SECONDS] [--warmup SECONDS]
                       [--db sqlite|postgresql|"sqlite postgresql"] [--java-opts "OPTIONS"] [--work DIR] [--keep] [--no-results]
                       [--jfr DIR]   (a JDK Flight Recording of the measured run per database, kept in DIR)
Defaults: --devices $devices --connections $connections --threads $threads --duration $duration --warmup $warmup
          --db "$databases" --java-opts "$java_opts". Needs wrk, python3, curl; PostgreSQL's server binaries for --db postgresql.
USAGE
}
while [ $# -gt 0 ]; do
  case $1 in
    --devices) devices=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --db) databases=$2; shift 2 ;;
    --java-opts) java_opts=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-results) write_results=0; shift ;;
    --jfr) jfr=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
for tool in wrk python3 curl; do
  command -v "$tool" >/dev/null || { echo "error: Tried to run the server benchmark but failed because $tool is missing. Hint: apt-get install wrk python3 curl" >&2; exit 2; }
done

. "$root/.mvn/find-jdk.sh"
ingot_find_jdk
jar=${INGOT_JAR:-$root/ingot-cli/target/ingot.jar}
if [ -z "${INGOT_JAR-}" ]; then
  (cd "$root" && ./mvnw -q -B -DskipTests -pl ingot-cli -am package)
fi

# The machine's load before anything of this script runs: the load columns below include the benchmark's own server,
# database and wrk (about 3-4 busy processes), so this one says what else the machine was doing.
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
rm -rf "$work"
mkdir -p "$work"
token="ingot_op_bench-admin-token-0123456789abcdefghijklmnopqrstu"
port=18680
server_pid="" pg_dir=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  stop_postgres
  [ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] || { echo "error: Tried to start PostgreSQL but failed because its server binaries are missing. Hint: apt-get install postgresql" >&2; exit 2; }
  echo "$dir"
}
start_postgres() {
  local bin
  bin=$(pg_bin)
  pg_dir=$work/pg
  mkdir -p "$pg_dir"
  [ "$(id -u)" = 0 ] && chown postgres "$pg_dir"
  as_postgres "$bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust >/dev/null
  # fsync and synchronous_commit on (PostgreSQL's defaults, said explicitly): a poll is answered after its commit is on disk.
  as_postgres "$bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -o "-p 55432 -k $pg_dir -c fsync=on -c synchronous_commit=on -c max_connections=100 -c shared_buffers=128MB" start >/dev/null
  as_postgres "$bin/createdb" -h "$pg_dir" -p 55432 -U postgres ingot
}
stop_postgres() {
  if [ -n "$pg_dir" ] && [ -d "$pg_dir/data" ]; then
    as_postgres "$(pg_bin)/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true
    pg_dir=""
  fi
}

# CPU ticks of the PostgreSQL server (the postmaster and every backend): on these two cores it competes with the Ingot
# server for the same CPU, so its cost per poll is reported beside the server's.
postgres_ticks() {
  local postmaster total=0 pid
  postmaster=$(head -1 "$pg_dir/data/postmaster.pid")
  for pid in "$postmaster" $(ps -o pid= --ppid "$postmaster"); do
    [ -r "/proc/$pid/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

results=()
for database in $databases; do
  case $database in
    sqlite) url="sqlite:$work/bench.db" ;;
    postgresql) start_postgres; url="jdbc:postgresql://127.0.0.1:55432/ingot?user=postgres" ;;
    *) echo "error: --db is sqlite or postgresql" >&2; exit 2 ;;
  esac
  mkdir -p "$work/store"
  # shellcheck disable=SC2086 # the JVM options are words
  INGOT_ADMIN_TOKEN=$token "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED $java_opts \
    -jar "$jar" server --port "$port" --db "$url" --store "$work/store" --db-pool 16 >"$work/server-$database.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$work/server-$database.log" >&2; exit 3; }
  echo "== $database: enrolling $devices devices" >&2
  python3 "$bench_dir/server-setup.py" "http://127.0.0.1:$port" "$token" "$devices" \
    "$root/ingot-testing/src/main/resources/dev/ingot/testing/fixtures/health/healthy-report.json" "$work/devices.txt" "$work/template.json"
  report_bytes=$(python3 -c "import json,sys; print(len(json.dumps(json.load(open(sys.argv[1]))['report'], separators=(',', ':'))))" "$work/template.json")
  echo "== $database: warm-up ${warmup}s" >&2
  wrk -t"$threads" -c"$connections" -d"${warmup}s" -s "$bench_dir/server-poll.lua" "http://127.0.0.1:$port" -- "$work/template.json" "$work/devices.txt" >/dev/null
  echo "== $database: ${duration}s at $connections connections" >&2
  polls_before=$(curl -fsS "http://127.0.0.1:$port/metrics" | awk '/^ingot_device_polls_total\{outcome="ok"\}/ {printf "%d", $2}')
  ticks_before=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
  db_before=0; [ "$database" = postgresql ] && db_before=$(postgres_ticks)
  [ -n "$jfr" ] && "$JAVA_HOME/bin/jcmd" "$server_pid" JFR.start name=bench settings=profile >/dev/null
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$bench_dir/server-poll.lua" "http://127.0.0.1:$port" \
    -- "$work/template.json" "$work/devices.txt" | tee "$work/wrk-$database.txt" >&2
  ticks_after=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
  db_after=0; [ "$database" = postgresql ] && db_after=$(postgres_ticks)
  [ -n "$jfr" ] && "$JAVA_HOME/bin/jcmd" "$server_pid" JFR.stop name=bench filename="$jfr/server-$database.jfr" >/dev/null
  load_after=$(cut -d' ' -f1 /proc/loadavg)
  hwm=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$server_pid/status")
  rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$server_pid/status")
  rps=$(awk '/Requests\/sec/ {printf "%d", $2}' "$work/wrk-$database.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$work/wrk-$database.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk-$database.txt")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk-$database.txt"); non2xx=${non2xx:-0}
  socket=$(awk -F'[ ,]+' '/Socket errors/ {print $4+$6+$8+$10}' "$work/wrk-$database.txt"); socket=${socket:-0}
  polls_after=$(curl -fsS "http://127.0.0.1:$port/metrics" | awk '/^ingot_device_polls_total\{outcome="ok"\}/ {printf "%d", $2}')
  # Server CPU per stored poll: what a poll costs whatever else runs on the machine (the polls/s column is what was left for us).
  cpu_us=$(awk -v ticks=$((ticks_after - ticks_before)) -v hz="$(getconf CLK_TCK)" -v polls=$((polls_after - polls_before)) \
    'BEGIN { if (polls > 0) printf "%d", ticks * 1000000 / hz / polls; else print "-" }')
  db_us=$(awk -v ticks=$((db_after - db_before)) -v hz="$(getconf CLK_TCK)" -v polls=$((polls_after - polls_before)) \
    'BEGIN { if (ticks > 0 && polls > 0) printf "%d µs", ticks * 1000000 / hz / polls; else print "(in the server)" }')
  results+=("| $database | $devices | $connections | $rps | $p50 | $p99 | $non2xx / $socket | $cpu_us µs | $db_us | $hwm MiB | $load_before → $load_after |")
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  [ "$database" = postgresql ] && stop_postgres
  rm -f "$work"/bench.db*
done

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
table="Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores ($cpu), wrk $threads threads on the same cores, ${duration}s after a ${warmup}s warm-up;
load average (1, 5, 15 min) when the script started: $load_start (the table's load columns include the benchmark's own processes);
server: \`java $java_opts -jar ingot.jar server --db-pool 16\`, every poll a full health report ($report_bytes bytes compact), schema-checked, stored and committed (SQLite WAL with synchronous=FULL; PostgreSQL $(ls -d /usr/lib/postgresql/*/ 2>/dev/null | sort -V | tail -1 | xargs basename 2>/dev/null || echo '?') with fsync and synchronous_commit on) before the answer.

| database | devices | connections | polls/s | p50 | p99 | non-2xx / socket errors | server CPU per poll | database server CPU per poll | server memory, peak (VmHWM) | load average before → after |
|---|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${results[@]}")"
echo "$table"
if [ "$write_results" = 1 ]; then
  file=$bench_dir/RESULTS.md
  begin='<!-- bench/server.sh results: begin (generated, replaced on each run) -->'
  end='<!-- bench/server.sh results: end -->'
  grep -qF "$begin" "$file" || printf '\n%s\n%s\n' "$begin" "$end" >>"$file"
  tmp=$(mktemp "$bench_dir/.RESULTS.XXXXXX")
  awk -v begin="$begin" -v end="$end" -v table="$table" '
    $0 == begin { print; print table; skip = 1; next }
    $0 == end { skip = 0 }
    !skip { print }' "$file" >"$tmp"
  mv "$tmp" "$file"
fi
