#!/usr/bin/env bash
# Flash benchmark: `ingot flash` (signature, payload and per-range SHA-256 checked, only mapped blocks
# written, holes punched, fsync, read back from disk) against `dd bs=4M conv=fsync` of the raw image
# and `bmaptool copy` of the .img.zst, onto the same file target, plus the floor: `dd conv=fsync` of
# just the mapped bytes. Prints a table and replaces the generated flash section of bench/RESULTS.md.
# Usage: bench/flash.sh [--size 8G] [--mapped 20] [--reps 3] [--work DIR] [--target FILE] [--keep] [--no-results]
# See bench/README.md.
set -euo pipefail

bench_dir=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)

size_spec=${BENCH_SIZE:-8G}           # apparent image size (suffixes K M G T, powers of 1024)
mapped_pct=${BENCH_MAPPED:-20}        # percent of the image that holds data (the rest are holes)
reps=${BENCH_REPS:-3}                 # timed repetitions; the median is reported
work=${BENCH_WORK:-$bench_dir/work}   # git-ignored scratch folder
target=${BENCH_TARGET:-}              # the file every tool writes (default WORK/flash-target.img); deleted before each run
keep=${BENCH_KEEP:-0}                 # 1: keep the image, store and floor file (a later run with the same parameters reuses them)
write_results=${BENCH_RESULTS:-1}     # 0: do not touch bench/RESULTS.md
seed=${BENCH_SEED:-1}                 # changes the image layout and content
ingot=${INGOT:-$repo/ingot}           # INGOT_JAR, when set, is passed through to the launcher

usage() {
  cat <<EOF
Usage: bench/flash.sh [options]
  --size SIZE     apparent size of the generated sparse image (default $size_spec; K/M/G/T = 1024^n)
  --mapped PCT    percent of the image that is data, the rest holes (default $mapped_pct)
  --reps N        timed repetitions, median reported (default $reps)
  --work DIR      scratch folder (default bench/work, git-ignored)
  --target FILE   the file target every tool writes (default WORK/flash-target.img); it is deleted
                  before each run, so it must be a regular file or not exist (never a device)
  --seed N        layout/content seed (default $seed)
  --keep          keep the image, the published store and the floor file in the work folder (a rerun
                  with the same size/mapped/seed reuses them); default: delete them at the end
  --clean         delete them at the end (the default)
  --no-results    print the table only; do not rewrite bench/RESULTS.md
Environment: INGOT (ingot launcher, default <repo>/ingot), INGOT_JAR (run that jar, no rebuild),
BENCH_SIZE, BENCH_MAPPED, BENCH_REPS, BENCH_WORK, BENCH_TARGET, BENCH_SEED, BENCH_KEEP=1, BENCH_RESULTS=0.
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --size) size_spec=$2; shift 2 ;;
    --mapped) mapped_pct=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --clean) keep=0; shift ;;
    --no-results) write_results=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

die() { echo "error: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

to_bytes() { # 8G -> 8589934592
  local n=${1%[KkMmGgTt]} unit=${1#"${1%[KkMmGgTt]}"}
  [[ $n =~ ^[0-9]+$ ]] || die "bad size: $1"
  case $unit in
    K|k) echo $((n << 10)) ;; M|m) echo $((n << 20)) ;; G|g) echo $((n << 30)) ;;
    T|t) echo $((n << 40)) ;; *) echo "$n" ;;
  esac
}
human() { awk -v b="$1" 'BEGIN { split("B KiB MiB GiB TiB", u, " "); i = 1; while (b >= 1024 && i < 5) { b /= 1024; i++ } printf "%.2f %s", b, u[i] }'; }

size=$(to_bytes "$size_spec")
mib=$((1 << 20))
(( size >= 64 * mib )) || die "--size must be at least 64M"
if ! [[ $mapped_pct =~ ^[0-9]+$ ]] || (( mapped_pct < 1 || mapped_pct > 100 )); then die "--mapped must be 1..100"; fi
if ! [[ $reps =~ ^[0-9]+$ ]] || (( reps < 1 )); then die "--reps must be >= 1"; fi
for tool in bmaptool zstd openssl od awk dd cmp truncate du df stat; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[ -x "$ingot" ] || die "ingot launcher not found at $ingot (set INGOT)"

mkdir -p "$work"
work=$(cd "$work" && pwd)
img=$work/flash.img
pattern=$work/flash-pattern.bin
floor_src=$work/flash-floor.bin       # the image's mapped bytes, back to back: what the floor writes
store=$work/flash-store
release=$store/golden-images          # the published release files, flat: flashed from here as a cache
keys=$work/keys
stamp=$work/flash.img.params
out=$work/flash-out
version=v1.0
build_date=2026-01-01T00:00:00Z
target=${target:-$work/flash-target.img}
case $target in /*) ;; *) target=$PWD/$target ;; esac
if [ -e "$target" ] && [ ! -f "$target" ]; then die "--target $target exists and is not a regular file: this benchmark deletes its target before every run"; fi
mkdir -p "$(dirname "$target")"

cleanup() {
  rm -f "$target"
  if [ "$keep" != 1 ]; then
    rm -rf "$img" "$stamp" "$pattern" "$floor_src" "$work"/flash-pattern-*.part "$store" "$out"
  fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- the image
# The same generator as bench/publish.sh (kept in step by hand; the scripts share no code): a
# pattern file of 4 MiB segments in a fixed cycle, each kind compressing differently under zstd -3:
# pseudo-random bytes (1x), hex dump text (~2.1x), syslog-like text (~2.8x, twice per cycle) and
# repetitive config text (>100x); the mix gives ~2-3x overall. Layout: data extents of 2-32 MiB
# (MiB-aligned) totalling mapped% of the size, with random holes between them, each extent copied
# from a random place in the pattern. Deterministic for a given seed.
seg=4
pattern_mib=160
kinds=(random log hex log conf)

# The generators below run until `head` has enough and closes the pipe; with pipefail their
# SIGPIPE exit would fail the script, hence the `|| true` inside each producer.
prand() { # prand NAME BYTES: deterministic pseudo-random bytes
  { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:ingot-bench-$seed-$1" -in /dev/zero 2>/dev/null || true; } | head -c "$2"
}

make_part() { # make_part KIND MIB -> file with that many MiB of the kind
  local kind=$1 n=$(($2 * mib)) out=$work/flash-pattern-$1.part
  case $kind in
    random) prand random "$n" >"$out" ;;
    hex) { prand hex $((n / 3 + mib)) | od -An -tx1 -v || true; } | head -c "$n" >"$out" ;;
    log)
      { awk -v seed="$seed" 'BEGIN {
        srand(seed)
        split("kernel systemd sshd containerd kubelet dockerd nvidia-persistenced cron rsyslogd NetworkManager", p, " ")
        split("INFO WARN ERROR DEBUG", lv, " ")
        split("started unit|connection from|failed to pull image|reconciled pod|link up|GPU temperature|session opened for user|watchdog ping|mounted filesystem|retrying in", m, "|")
        while (1) printf "2026-%02d-%02dT%02d:%02d:%02d.%06dZ %s[%d]: %s %s %d.%d.%d.%d port %d id=%08x\n",
          1 + int(rand() * 12), 1 + int(rand() * 28), int(rand() * 24), int(rand() * 60), int(rand() * 60),
          int(rand() * 1e6), p[1 + int(rand() * 10)], int(rand() * 65536), lv[1 + int(rand() * 4)],
          m[1 + int(rand() * 10)], int(rand() * 256), int(rand() * 256), int(rand() * 256), int(rand() * 256),
          int(rand() * 65536), int(rand() * 4294967296)
      }' || true; } | head -c "$n" >"$out" ;;
    conf)
      { awk 'BEGIN { for (i = 0; ; i++) printf "[unit-%d]\nExecStart=/usr/bin/agent --config /etc/agent/agent.yaml --log-level=info\nRestart=always\nRestartSec=5\n\n", i % 64 }' || true; } |
        head -c "$n" >"$out" ;;
  esac
}

make_pattern() {
  local cycles=$((pattern_mib / (seg * ${#kinds[@]}))) c i kind
  local -A used=()
  for kind in random hex log conf; do
    local count=0
    for i in "${kinds[@]}"; do [ "$i" = "$kind" ] && count=$((count + 1)); done
    make_part "$kind" $((cycles * count * seg))
  done
  : >"$pattern"
  for ((c = 0; c < cycles; c++)); do
    for kind in "${kinds[@]}"; do
      dd if="$work/flash-pattern-$kind.part" bs=1M skip="${used[$kind]:-0}" count="$seg" status=none >>"$pattern"
      used[$kind]=$((${used[$kind]:-0} + seg))
    done
  done
  rm -f "$work"/flash-pattern-*.part
}

extents() { # prints "IMAGE_OFFSET_MIB LENGTH_MIB PATTERN_OFFSET_MIB" lines
  awk -v seed="$seed" -v total_mib=$((size / mib)) -v pct="$mapped_pct" -v pat="$pattern_mib" 'BEGIN {
    srand(seed + 1000)
    data = int(total_mib * pct / 100 + 0.5); if (data < 1) data = 1
    n = 0; sum = 0
    while (sum < data) { len = 2 + int(rand() * 31); if (sum + len > data) len = data - sum; n++; L[n] = len; sum += len }
    holes = total_mib - data; wsum = 0
    for (i = 0; i <= n; i++) { w[i] = rand() + 0.05; wsum += w[i] }
    off = 0; given = 0
    for (i = 1; i <= n; i++) {
      g = int(holes * w[i - 1] / wsum); given += g; off += g
      src = int(rand() * (pat - L[i] + 1))
      print off, L[i], src
      off += L[i]
    }
  }'
}

data_bytes=$(( $(extents | awk '{ s += $2 } END { print s }') * mib ))
avail=$(( $(df -B1 --output=avail "$work" | tail -n 1) ))
# Worst case on disk at once: image data, store, floor file, and a fully written target (dd).
need=$((size + 3 * data_bytes + (1 << 30)))
(( avail >= need )) || log "warning: $(human "$avail") free in $work, a run may need up to $(human "$need")"

params="size=$size mapped=$mapped_pct seed=$seed pattern=$pattern_mib version=$version build=$build_date"
if [ -f "$img" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$params" ] && [ -f "$floor_src" ] &&
   [ -f "$release/edge-golden-$version.manifest.json" ] && [ -f "$keys/signing-key.pub.asc" ]; then
  log "reusing $img, its floor file and its published release ($params)"
else
  rm -rf "$img" "$stamp" "$floor_src" "$store"
  log "generating pattern ($pattern_mib MiB) and a $(human "$size") sparse image with ${mapped_pct}% data"
  gen_start=$(date +%s.%N)
  make_pattern
  truncate -s "$size" "$img"
  : >"$floor_src"
  extent_count=0
  while read -r off len src; do
    dd if="$pattern" of="$img" bs=1M skip="$src" seek="$off" count="$len" conv=notrunc status=none
    dd if="$pattern" bs=1M skip="$src" count="$len" status=none >>"$floor_src"
    extent_count=$((extent_count + 1))
  done < <(extents)
  sync
  rm -f "$pattern"
  gen_s=$(awk -v a="$gen_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  log "generated $extent_count extents in ${gen_s}s"

  if [ ! -f "$keys/signing-key.asc" ]; then
    rm -rf "$keys"
    "$ingot" keys generate --name "Bench" --out "$keys" >/dev/null
  fi
  log "publishing it once with ingot (untimed): .img.zst, .img.bmap, signed manifest"
  "$ingot" image publish "$img" --version "$version" --store "$store" --key "$keys/signing-key.asc" \
    --build-date "$build_date" >/dev/null
  echo "$params" >"$stamp"
fi
extent_count=$(extents | wc -l)
apparent=$(stat -c %s "$img")
allocated=$(( $(du -B1 "$img" | cut -f1) ))
(( allocated < apparent )) || die "$img is not sparse (allocated $allocated >= apparent $apparent): does $(df -T "$work" | awk 'NR == 2 { print $2 }') support holes?"
zst=$release/edge-golden-$version.img.zst
bmap=$release/edge-golden-$version.img.bmap
manifest=$release/edge-golden-$version.manifest.json
pubkey=$keys/signing-key.pub.asc
for f in "$zst" "$bmap" "$manifest" "$manifest.asc"; do [ -f "$f" ] || die "the published release lacks $f"; done
mapped_bytes=$(sed -n '/"image"/,/}/p' "$manifest" | sed -n 's/.*"mapped_bytes" *: *\([0-9][0-9]*\).*/\1/p' | head -n 1)
[ "$mapped_bytes" = "$data_bytes" ] || die "the manifest maps $mapped_bytes bytes, the generator wrote $data_bytes"
[ "$(stat -c %s "$floor_src")" = "$mapped_bytes" ] || die "$floor_src is not $mapped_bytes bytes"
zst_size=$(stat -c %s "$zst")
log "image: apparent $(human "$apparent"), allocated $(human "$allocated"), mapped $(human "$mapped_bytes") in $extent_count extents; .img.zst $(human "$zst_size")"

# ---------------------------------------------------------------- timing
cache_mode=cold
drop_caches() {
  sync
  if [ "$cache_mode" = cold ]; then
    if ! { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
      cache_mode=warm
      log "cannot drop the page cache (not root?): timing with a warm cache instead"
    fi
  fi
}

declare -A times=() synced=() checks=()
warm_file=""   # when set, read into the page cache after the drop and before the timed run (the floor's source)
timed() { # timed NAME CMD...: fresh target, cold cache; record wall time to exit and including a following sync
  local name=$1 t0 t1 t2 s s_sync
  shift
  rm -f "$target"
  drop_caches
  [ -z "$warm_file" ] || cat "$warm_file" >/dev/null
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  sync
  t2=$(date +%s.%N)
  s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  s_sync=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')
  times[$name]="${times[$name]:-} $s"
  synced[$name]="${synced[$name]:-} $s_sync"
  printf '   %-16s %8.3f s  (%8.3f s with sync)' "$name" "$s" "$s_sync" >&2
}
check() { # check NAME EXPECTED_FILE: the target must equal the file, byte for byte (untimed)
  local result=ok
  cmp -s "$target" "$2" || result=MISMATCH
  [ "$(stat -c %s "$target")" = "$(stat -c %s "$2")" ] || result=MISMATCH
  checks[$1]="${checks[$1]:-} $result"
  echo "  cmp: $result" >&2
}
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
json_num() { sed -n "s/.*\"$1\" *: *\([0-9][0-9]*\).*/\1/p" "$2" | head -n 1; }
phase_ms() { # phase_ms FILE: "NAME MS" lines from ingot flash --json (pretty JSON: bytes, ms, name per phase)
  awk '/"ms" *:/ { gsub(/[^0-9]/, ""); ms = $0 } /"name" *:/ { sub(/.*"name" *: *"/, ""); sub(/".*/, ""); gsub(/ /, "_"); print $0, ms }' "$1"
}

rm -rf "$out"
mkdir -p "$out"

# JVM + launcher start alone, for reference (warm: the jar is in the cache after the first run).
"$ingot" --version >/dev/null
java_version=$("$ingot" --version 2>&1 | grep -m1 -i java || true)
for ((r = 1; r <= 3; r++)); do
  t0=$(date +%s.%N); "$ingot" --version >/dev/null; t1=$(date +%s.%N)
  times[startup]="${times[startup]:-} $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
done

declare -A phases=() totals=()
run_ingot() { # run_ingot NAME [OPTIONS...]: flash the published version straight from the release folder
  local name=$1
  shift
  "$ingot" flash "$version" --cache "$release" --keyring "$pubkey" --target "$target" --json "$@" >"$out/$name.json"
}
record_ingot() { # record_ingot NAME: keep Ingot's own total and phase times of the last run
  local name=$1 phase ms
  totals[$name]="${totals[$name]:-} $(json_num total_ms "$out/$name.json")"
  while read -r phase ms; do phases[$name.$phase]="${phases[$name.$phase]:-} $ms"; done < <(phase_ms "$out/$name.json")
}

loads=()
bench_start=$(date +%s)
for ((r = 1; r <= reps; r++)); do
  loads+=("$(cut -d' ' -f1 /proc/loadavg)")
  log "repetition $r/$reps (page cache: $cache_mode, load average ${loads[-1]})"
  timed dd dd if="$img" of="$target" bs=4M conv=fsync status=none
  check dd "$img"
  timed bmaptool bmaptool -q copy --bmap "$bmap" "$zst" "$target"
  check bmaptool "$img"
  timed bmaptool-raw bmaptool -q copy --bmap "$bmap" "$img" "$target"
  check bmaptool-raw "$img"
  timed ingot run_ingot ingot
  check ingot "$img"
  record_ingot ingot
  timed ingot-noverify run_ingot ingot-noverify --no-verify
  check ingot-noverify "$img"
  record_ingot ingot-noverify
  warm_file=$floor_src
  timed floor dd if="$floor_src" of="$target" bs=4M conv=fsync status=none
  warm_file=""
  check floor "$floor_src"
  timed floor-cold dd if="$floor_src" of="$target" bs=4M conv=fsync status=none
  check floor-cold "$floor_src"
done
loads+=("$(cut -d' ' -f1 /proc/loadavg)")
bench_s=$(($(date +%s) - bench_start))

# ---------------------------------------------------------------- report
med() { median "${times[$1]}"; }
meds() { median "${synced[$1]}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rate() { awk -v s="$1" -v t="$2" 'BEGIN { printf "%.0f", s / 1048576 / t }'; }
commas() { local s=${1# }; echo "${s// /, }"; }
runs() { commas "${times[$1]}"; }
ok_all() { if [[ ${checks[$1]} == *MISMATCH* ]]; then echo "**MISMATCH** ($(commas "${checks[$1]}"))"; else echo "ok"; fi; }
ms_s() { awk -v m="$(median "$1")" 'BEGIN { printf "%.3f", m / 1000 }'; }
phase_cell() { # phase_cell RUN PHASE: median seconds of one phase, or "-"
  local v=${phases[$1.$2]:-}
  if [ -n "$v" ]; then ms_s "$v"; else echo "-"; fi
}

m_dd=$(med dd) m_bmap=$(med bmaptool) m_bmap_raw=$(med bmaptool-raw) m_ingot=$(med ingot)
m_nv=$(med ingot-noverify) m_floor=$(med floor) m_floor_cold=$(med floor-cold) m_start=$(med startup)
s_dd=$(meds dd) s_bmap=$(meds bmaptool) s_bmap_raw=$(meds bmaptool-raw) s_ingot=$(meds ingot)
s_nv=$(meds ingot-noverify) s_floor=$(meds floor) s_floor_cold=$(meds floor-cold)

dd_x=$(ratio "$m_dd" "$m_ingot") bmap_x=$(ratio "$m_bmap" "$m_ingot") floor_x=$(ratio "$m_ingot" "$m_floor")
dd_x_nv=$(ratio "$m_dd" "$m_nv") bmap_x_nv=$(ratio "$m_bmap" "$m_nv") floor_x_nv=$(ratio "$m_nv" "$m_floor")
dd_xs=$(ratio "$s_dd" "$s_ingot") bmap_xs=$(ratio "$s_bmap" "$s_ingot") floor_xs=$(ratio "$s_ingot" "$s_floor")
floor_cold_x=$(ratio "$m_ingot" "$m_floor_cold")
at_least() { awk -v r="$1" -v t="$2" 'BEGIN { if (r >= t) printf "met (%.2fx)", r; else printf "missed (%.2fx)", r }'; }
above() { awk -v r="$1" 'BEGIN { if (r > 1) printf "met (%.2fx)", r; else printf "missed: Ingot takes %.0f%% longer", (1 / r - 1) * 100 }'; }
within() { awk -v r="$1" -v t="$2" 'BEGIN { if (r <= t) printf "met (%.2fx)", r; else printf "missed (%.2fx: %.0f%% over the floor)", r, (r - 1) * 100 }'; }

cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
fs=$(df -T "$work" | awk 'NR == 2 { print $2 " on " $1 }')
target_fs=$(df -T "$(dirname "$target")" | awk 'NR == 2 { print $2 " on " $1 }')
target_shown=$target
[ "$target" != "$work/flash-target.img" ] || target_shown="WORK/flash-target.img"
cmd="bench/flash.sh --size $size_spec --mapped $mapped_pct --reps $reps"
[ "$seed" = 1 ] || cmd="$cmd --seed $seed"
[ "$target_shown" = "WORK/flash-target.img" ] || cmd="$cmd --target $target"
bmap_zstd=$(zstd --version | sed 's/^\*\** *//; s/ *\*\**$//; s/, by .*//')
phase_rows=""
for p in verify_payload zero_unmapped write sync read_back; do
  phase_rows+="| &nbsp;&nbsp;of which \`${p//_/ }\` | $(phase_cell ingot "$p") | $(phase_cell ingot-noverify "$p") | $(commas "${phases[ingot.$p]:-}") ms |"$'\n'
done
phase_rows+="| &nbsp;&nbsp;Ingot's \`total_ms\` (all phases; no JVM start, no key/manifest checks) | $(ms_s "${totals[ingot]}") | $(ms_s "${totals[ingot-noverify]}") | $(commas "${totals[ingot]}") ms |"$'\n'
phase_rows+="| &nbsp;&nbsp;launcher + JVM start alone (\`ingot --version\`, warm) | $m_start | | $(runs startup) |"

report=$(cat <<EOF
Run $(date -u +%Y-%m-%dT%H:%M:%SZ), reproduce with \`$cmd\`${INGOT_JAR:+ (with \`INGOT_JAR=$INGOT_JAR\`)}; the timed part took ${bench_s}s.

| machine | |
| --- | --- |
| CPU | $cpu, $(nproc) cores online |
| memory | $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |
| kernel | $(uname -sr) |
| work dir, target | $fs; target \`$target_shown\` on $target_fs, deleted before every run |
| page cache | $cache_mode (dropped with \`sync; echo 3 > /proc/sys/vm/drop_caches\` before each timed run) |
| load average (1 min) | $(commas " ${loads[*]}") at the start of each repetition and at the end |
| tools | $(dd --version | head -n 1); $(bmaptool --version 2>&1 | head -n 1) on $(/usr/bin/python3 --version 2>&1 || echo python3) with $bmap_zstd; ingot on $java_version |

| image | |
| --- | --- |
| apparent size | $(human "$apparent") ($apparent bytes) |
| data (mapped) | ${mapped_pct}% in $extent_count extents of 2-32 MiB: $(human "$mapped_bytes") ($mapped_bytes bytes, $((mapped_bytes / 4096)) blocks of 4 KiB) |
| allocated (du) | $(human "$allocated") |
| published | \`ingot image publish\` once, untimed: .img.zst $(human "$zst_size") ($(awk -v d="$mapped_bytes" -v z="$zst_size" 'BEGIN { printf "%.2fx", d / z }') on the data), .img.bmap, signed manifest |

Median of $reps repetitions, wall clock to exit (JVM start included for Ingot); before each run the
target is deleted and the page cache dropped. Every tool fsyncs before it exits (dd \`conv=fsync\`,
bmaptool's final \`fsync\`, Ingot's \`force\`); "with sync" adds a \`sync\` after it all the same.
After every run the target is compared with the image (\`cmp\`, all $(human "$apparent"), untimed).

| run | median s | with sync s | MiB/s (mapped) | all runs s | target = image |
| --- | ---: | ---: | ---: | --- | --- |
| (a) \`dd if=IMG of=T bs=4M conv=fsync\` (raw image, holes written as zeros) | $m_dd | $s_dd | $(rate "$mapped_bytes" "$m_dd") | $(runs dd) | $(ok_all dd) |
| (b) \`bmaptool copy --bmap IMG.bmap IMG.zst T\` | $m_bmap | $s_bmap | $(rate "$mapped_bytes" "$m_bmap") | $(runs bmaptool) | $(ok_all bmaptool) |
| (b2) \`bmaptool copy --bmap IMG.bmap IMG T\` (raw image, for information) | $m_bmap_raw | $s_bmap_raw | $(rate "$mapped_bytes" "$m_bmap_raw") | $(runs bmaptool-raw) | $(ok_all bmaptool-raw) |
| (c) \`ingot flash $version --cache STORE --keyring KEY --target T\` | $m_ingot | $s_ingot | $(rate "$mapped_bytes" "$m_ingot") | $(runs ingot) | $(ok_all ingot) |
| (c2) the same with \`--no-verify\` (no read-back) | $m_nv | $s_nv | $(rate "$mapped_bytes" "$m_nv") | $(runs ingot-noverify) | $(ok_all ingot-noverify) |
| (d) floor: \`dd if=MAPPED of=T bs=4M conv=fsync\`, the $(human "$mapped_bytes") of data, source cached | $m_floor | $s_floor | $(rate "$mapped_bytes" "$m_floor") | $(runs floor) | $(ok_all floor) |
| (d2) the same, source read from disk (for information) | $m_floor_cold | $s_floor_cold | $(rate "$mapped_bytes" "$m_floor_cold") | $(runs floor-cold) | $(ok_all floor-cold) |

| Ingot's \`--json\` phases, median s | (c) default | (c2) \`--no-verify\` | (c) all runs |
| --- | ---: | ---: | --- |
$phase_rows

| ratio | (c) default | (c2) \`--no-verify\` | (c) with sync |
| --- | ---: | ---: | ---: |
| dd / ingot (target >= 3) | **$dd_x** | $dd_x_nv | $dd_xs |
| bmaptool (.zst) / ingot (target > 1) | **$bmap_x** | $bmap_x_nv | $bmap_xs |
| ingot / floor (aim <= 1.15) | **$floor_x** | $floor_x_nv | $floor_xs |
| ingot / floor with its source read from disk (d2) | $floor_cold_x | $(ratio "$m_nv" "$m_floor_cold") | |

What each run checks: dd nothing; bmaptool the SHA-256 of every mapped range against the bmap (and
the bmap's own checksum; the bmap is not signed unless \`--bmap-sig\` is given); Ingot the OpenPGP
signature of the manifest, the SHA-256 of the whole .img.zst and of the bmap against it, every
range's SHA-256 before the range is written and, by default, every range again read back from the
disk after fsync and dropping the target's cached pages.

- Target (at least 3x faster than dd): $(at_least "$dd_x" 3).
- Target (faster than bmaptool): $(above "$bmap_x").
- Aim (within 1.15x of writing the mapped bytes): $(within "$floor_x" 1.15); with \`--no-verify\`: $(within "$floor_x_nv" 1.15).
EOF
)

echo
echo "$report"

if [ "$write_results" = 1 ]; then
  results=$bench_dir/RESULTS.md
  begin='<!-- bench/flash.sh results: begin (generated, replaced on each run) -->'
  end='<!-- bench/flash.sh results: end -->'
  [ -f "$results" ] || printf '# Benchmark results\n\n' >"$results"
  tmp=$(mktemp "$bench_dir/.RESULTS.XXXXXX")
  printf '%s\n' "$report" >"$tmp.section"
  if grep -qF "$begin" "$results"; then
    awk -v b="$begin" -v e="$end" -v f="$tmp.section" '
      $0 == b { print; while ((getline line < f) > 0) print line; skip = 1; next }
      $0 == e { skip = 0 }
      !skip { print }' "$results" >"$tmp"
  else
    heading="## Flash: \`ingot flash\` against \`dd bs=4M conv=fsync\` and \`bmaptool copy\`"
    { cat "$results"; printf '\n%s\n\n### bench/flash.sh, latest run\n\n%s\n' "$heading" "$begin"; cat "$tmp.section"; echo "$end"; } >"$tmp"
  fi
  mv "$tmp" "$results"
  rm -f "$tmp.section"
  log "wrote $results"
fi

for name in dd bmaptool bmaptool-raw ingot ingot-noverify floor floor-cold; do
  [[ ${checks[$name]} != *MISMATCH* ]] || die "$name: the target differed from the image in some run (see above)"
done
