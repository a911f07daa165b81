#!/usr/bin/env bash
# Publish benchmark: `ingot image publish` (one pass: SHA-256 + block map + zstd -3 on all cores)
# against `sha256sum`, `bmaptool create` and `zstd -T0 -3` run one after another on the same
# generated sparse image. Prints a table and replaces the generated section of bench/RESULTS.md.
# Usage: bench/publish.sh [--size 4G] [--mapped 25] [--reps 3] [--work DIR] [--keep] [--no-results]
# See bench/README.md.
set -euo pipefail

bench_dir=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)

size_spec=${BENCH_SIZE:-4G}           # apparent image size (suffixes K M G T, powers of 1024)
mapped_pct=${BENCH_MAPPED:-25}        # percent of the image that holds data (the rest are holes)
reps=${BENCH_REPS:-3}                 # timed repetitions; the median is reported
work=${BENCH_WORK:-$bench_dir/work}   # git-ignored scratch folder
keep=${BENCH_KEEP:-0}                 # 1: keep the image and outputs (a later run with the same size reuses the image)
write_results=${BENCH_RESULTS:-1}     # 0: do not touch bench/RESULTS.md
seed=${BENCH_SEED:-1}                 # changes the image layout and content
ingot=${INGOT:-$repo/ingot}           # INGOT_JAR, when set, is passed through to the launcher

usage() {
  cat <<EOF
Usage: bench/publish.sh [options]
  --size SIZE     apparent size of the generated sparse image (default $size_spec; K/M/G/T = 1024^n)
  --mapped PCT    percent of the image that is data, the rest holes (default $mapped_pct)
  --reps N        timed repetitions, median reported (default $reps)
  --work DIR      scratch folder (default bench/work, git-ignored)
  --seed N        layout/content seed (default $seed)
  --keep          keep the image and outputs in the work folder (a rerun with the same
                  size/mapped/seed reuses the image); default: delete them at the end
  --clean         delete them at the end (the default)
  --no-results    print the table only; do not rewrite bench/RESULTS.md
Environment: INGOT (ingot launcher, default <repo>/ingot), INGOT_JAR (run that jar, no rebuild),
BENCH_SIZE, BENCH_MAPPED, BENCH_REPS, BENCH_WORK, BENCH_SEED, BENCH_KEEP=1, BENCH_RESULTS=0.
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --size) size_spec=$2; shift 2 ;;
    --mapped) mapped_pct=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
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

to_bytes() { # 4G -> 4294967296
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
for tool in sha256sum bmaptool zstd openssl od awk dd truncate du stat; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[ -x "$ingot" ] || die "ingot launcher not found at $ingot (set INGOT)"

mkdir -p "$work"
work=$(cd "$work" && pwd)
img=$work/bench.img
pattern=$work/pattern.bin
keys=$work/keys
stamp=$work/bench.img.params

cleanup() {
  if [ "$keep" != 1 ]; then
    rm -rf "$img" "$stamp" "$pattern" "$work"/pattern-*.part "$work/out" "$work"/store-*
  fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- the image
# Content: a pattern file of 4 MiB segments in a fixed cycle, each kind compressing differently
# under zstd -3 (measured): pseudo-random bytes (1x), hex dump text (~2.1x), syslog-like text
# (~2.8x, twice per cycle) and repetitive config text (>100x); the mix gives ~2-3x overall.
# Layout: data extents of 2-32 MiB (MiB-aligned) totalling mapped% of the size, with random
# holes between them, each extent copied from a random place in the pattern. All from awk's
# srand(seed) and AES-CTR keyed by the seed, so a given seed always yields the same image.
seg=4
pattern_mib=160
kinds=(random log hex log conf)

# The generators below run until `head` has enough and closes the pipe; with pipefail their
# SIGPIPE exit would fail the script, hence the `|| true` inside each producer.
prand() { # prand NAME BYTES: deterministic pseudo-random bytes
  { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:ingot-bench-$seed-$1" -in /dev/zero 2>/dev/null || true; } | head -c "$2"
}

make_part() { # make_part KIND MIB -> file with that many MiB of the kind
  local kind=$1 n=$(($2 * mib)) out=$work/pattern-$1.part
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
      dd if="$work/pattern-$kind.part" bs=1M skip="${used[$kind]:-0}" count="$seg" status=none >>"$pattern"
      used[$kind]=$((${used[$kind]:-0} + seg))
    done
  done
  rm -f "$work"/pattern-*.part
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

params="size=$size mapped=$mapped_pct seed=$seed pattern=$pattern_mib"
if [ -f "$img" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$params" ]; then
  log "reusing $img ($params)"
else
  rm -f "$img" "$stamp"
  log "generating pattern ($pattern_mib MiB) and a $(human "$size") sparse image with ${mapped_pct}% data"
  gen_start=$(date +%s.%N)
  make_pattern
  truncate -s "$size" "$img"
  extent_count=0
  while read -r off len src; do
    dd if="$pattern" of="$img" bs=1M skip="$src" seek="$off" count="$len" conv=notrunc status=none
    extent_count=$((extent_count + 1))
  done < <(extents)
  sync
  [ "$keep" = 1 ] || rm -f "$pattern"
  echo "$params" >"$stamp"
  gen_s=$(awk -v a="$gen_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  log "generated $extent_count extents in ${gen_s}s"
fi
extent_count=$(extents | wc -l)
apparent=$(stat -c %s "$img")
allocated=$(( $(du -B1 "$img" | cut -f1) ))
(( allocated < apparent )) || die "$img is not sparse (allocated $allocated >= apparent $apparent): does $(df -T "$work" | awk 'NR == 2 { print $2 }') support holes?"
log "image: apparent $(human "$apparent"), allocated $(human "$allocated") ($(awk -v a="$allocated" -v b="$apparent" 'BEGIN { printf "%.1f", 100 * a / b }')%), $extent_count data extents"

# ---------------------------------------------------------------- keys
if [ ! -f "$keys/signing-key.asc" ]; then
  rm -rf "$keys"
  "$ingot" keys generate --name "Bench" --out "$keys" >/dev/null
fi

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

declare -A times=() synced=()
last_s=0 last_sync_s=0
timed() { # timed NAME CMD...: run with a cold cache; record wall time to exit and including a following sync
  local name=$1 t0 t1 t2
  shift
  drop_caches
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  sync
  t2=$(date +%s.%N)
  last_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  last_sync_s=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')
  times[$name]="${times[$name]:-} $last_s"
  synced[$name]="${synced[$name]:-} $last_sync_s"
  printf '   %-14s %8.3f s  (%8.3f s with sync)\n' "$name" "$last_s" "$last_sync_s" >&2
}
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
json_num() { # json_num KEY FILE: first numeric value of "KEY" in pretty JSON
  sed -n "s/.*\"$1\" *: *\([0-9][0-9]*\).*/\1/p" "$2" | head -n 1
}
json_str() { sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p" "$2" | head -n 1; }

out=$work/out
rm -rf "$out" "$work"/store-*
mkdir -p "$out"
version=v1.0
build_date=2026-01-01T00:00:00Z

# JVM + launcher start alone, for reference (warm: the jar is in the cache after the first run).
"$ingot" --version >/dev/null
java_version=$("$ingot" --version 2>&1 | grep -m1 -i java || true)
for ((r = 1; r <= 3; r++)); do
  t0=$(date +%s.%N); "$ingot" --version >/dev/null; t1=$(date +%s.%N)
  times[startup]="${times[startup]:-} $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
done

run_sha256sum() { sha256sum "$img" >"$out/sha256sum.txt"; }
declare -a scans=() uploads=()
for ((r = 1; r <= reps; r++)); do
  log "repetition $r/$reps (page cache: $cache_mode)"
  timed sha256sum run_sha256sum
  timed bmaptool bmaptool create -o "$out/bench.bmap" "$img"
  timed zstd zstd -T0 -3 -q -f "$img" -o "$out/bench.img.zst"
  seq_s=$(awk -v a="${times[sha256sum]##* }" -v b="${times[bmaptool]##* }" -v c="${times[zstd]##* }" 'BEGIN { printf "%.3f", a + b + c }')
  seq_sync_s=$(awk -v a="${synced[sha256sum]##* }" -v b="${synced[bmaptool]##* }" -v c="${synced[zstd]##* }" 'BEGIN { printf "%.3f", a + b + c }')
  times[sequence]="${times[sequence]:-} $seq_s"
  synced[sequence]="${synced[sequence]:-} $seq_sync_s"
  printf '   %-14s %8.3f s  (%8.3f s with sync)\n' "sequence a+b+c" "$seq_s" "$seq_sync_s" >&2
  rm -rf "$work"/store-*   # keep one store at a time on disk
  store=$work/store-$r
  timed ingot "$ingot" image publish "$img" --version "$version" --store "$store" \
    --key "$keys/signing-key.asc" --build-date "$build_date" --json >"$out/publish.json"
  scans+=("$(json_num scan "$out/publish.json")")
  uploads+=("$(json_num upload "$out/publish.json")")
  log "   ingot reports scan ${scans[-1]} ms, store ${uploads[-1]} ms"
done

# Verify once, for information (reads and checks the stored release; cold cache).
timed verify "$ingot" image verify "$version" --store "$store" --keyring "$keys/signing-key.pub.asc" >"$out/verify.txt"

# ---------------------------------------------------------------- sanity checks
sums_hash=$(cut -d' ' -f1 "$out/sha256sum.txt")
manifest_hash=$(sed -n '/"image"/,/}/p' "$out/publish.json" | json_str sha256 /dev/stdin)
payload=$store/golden-images/edge-golden-$version.img.zst
log "decompressing Ingot's payload to check it is the image"
payload_hash=$(zstd -d -q -c "$payload" | sha256sum | cut -d' ' -f1)
ingot_mapped=$(json_num mapped_blocks_count "$out/publish.json")
bmap_mapped=$(sed -n 's/.*<MappedBlocksCount> *\([0-9]*\) *<.*/\1/p' "$out/bench.bmap" | head -n 1)
check() { if [ "$1" = "$2" ]; then echo ok; else echo "MISMATCH ($1 vs $2)"; fi; }
check_manifest=$(check "$manifest_hash" "$sums_hash")
check_payload=$(check "$payload_hash" "$sums_hash")
check_bmap=$(check "$ingot_mapped" "$bmap_mapped")
zstd_size=$(stat -c %s "$out/bench.img.zst")
ingot_size=$(stat -c %s "$payload")

# ---------------------------------------------------------------- report
med() { median "${times[$1]}"; }
meds() { median "${synced[$1]}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rate() { awk -v s="$1" -v t="$2" 'BEGIN { printf "%.0f", s / 1048576 / t }'; }
commas() { local s=${1# }; echo "${s// /, }"; }
runs() { commas "${times[$1]}"; }
m_sha=$(med sha256sum) m_bmap=$(med bmaptool) m_zstd=$(med zstd) m_seq=$(med sequence) m_ingot=$(med ingot)
s_sha=$(meds sha256sum) s_bmap=$(meds bmaptool) s_zstd=$(meds zstd) s_seq=$(meds sequence) s_ingot=$(meds ingot)
m_verify=$(med verify) m_start=$(med startup)
m_scan=$(median "${scans[*]}") m_upload=$(median "${uploads[*]}")
vs_seq=$(ratio "$m_seq" "$m_ingot") vs_zstd=$(ratio "$m_zstd" "$m_ingot")
vs_seq_sync=$(ratio "$s_seq" "$s_ingot") vs_zstd_sync=$(ratio "$s_zstd" "$s_ingot")
verdict() { awk -v r="$1" 'BEGIN { if (r >= 1) printf "met (%.2fx)", r; else printf "missed: Ingot takes %.0f%% longer", (1 / r - 1) * 100 }'; }

cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
fs=$(df -T "$work" | awk 'NR == 2 { print $2 " on " $1 }')
cmd="bench/publish.sh --size $size_spec --mapped $mapped_pct --reps $reps"
[ "$seed" = 1 ] || cmd="$cmd --seed $seed"

report=$(cat <<EOF
Run $(date -u +%Y-%m-%dT%H:%M:%SZ), reproduce with \`$cmd\`${INGOT_JAR:+ (with \`INGOT_JAR=$INGOT_JAR\`)}.

| machine | |
| --- | --- |
| CPU | $cpu, $(nproc) cores online |
| memory | $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |
| kernel | $(uname -sr) |
| work dir | $fs |
| page cache | $cache_mode (dropped with \`sync; echo 3 > /proc/sys/vm/drop_caches\` before each timed run) |
| tools | $(sha256sum --version | head -n 1); $(bmaptool --version 2>&1 | head -n 1); $(zstd --version | sed 's/^\*\** *//; s/ *\*\**$//; s/, by .*//'); ingot on $java_version |

| image | |
| --- | --- |
| apparent size | $(human "$apparent") ($apparent bytes) |
| data (mapped) | ${mapped_pct}% in $extent_count extents of 2-32 MiB; bmap: $bmap_mapped blocks of 4 KiB = $(human $((bmap_mapped * 4096))) |
| allocated (du) | $(human "$allocated") |
| zstd -3 output | zstd -T0: $(human "$zstd_size") ($zstd_size bytes); Ingot: $(human "$ingot_size") ($ingot_size bytes); data ratio $(awk -v d=$((bmap_mapped * 4096)) -v z="$zstd_size" 'BEGIN { printf "%.2fx", d / z }') |

Median of $reps repetitions, wall clock; "with sync" adds a \`sync\` after the tool, so tools that do not
fsync their output (zstd, bmaptool) pay for writing it like Ingot, which fsyncs before it renames.

| run | median s | with sync s | MiB/s (apparent) | all runs s |
| --- | ---: | ---: | ---: | --- |
| (a) \`sha256sum IMG\` | $m_sha | $s_sha | $(rate "$apparent" "$m_sha") | $(runs sha256sum) |
| (b) \`bmaptool create -o OUT IMG\` | $m_bmap | $s_bmap | $(rate "$apparent" "$m_bmap") | $(runs bmaptool) |
| (c) \`zstd -T0 -3 -q -f IMG -o OUT.zst\` | $m_zstd | $s_zstd | $(rate "$apparent" "$m_zstd") | $(runs zstd) |
| (d) sequence a+b+c | $m_seq | $s_seq | $(rate "$apparent" "$m_seq") | $(runs sequence) |
| (e) \`ingot image publish\` (JVM start included) | $m_ingot | $s_ingot | $(rate "$apparent" "$m_ingot") | $(runs ingot) |
| &nbsp;&nbsp;of which scan (Ingot's \`timings_ms.scan\`) | $(awk -v m="$m_scan" 'BEGIN { printf "%.3f", m / 1000 }') | | $(rate "$apparent" "$(awk -v m="$m_scan" 'BEGIN { print m / 1000 }')") | $(commas "${scans[*]}") ms |
| &nbsp;&nbsp;of which store (\`timings_ms.upload\`: fsync + rename) | $(awk -v m="$m_upload" 'BEGIN { printf "%.3f", m / 1000 }') | | | $(commas "${uploads[*]}") ms |
| &nbsp;&nbsp;launcher + JVM start alone (\`ingot --version\`, warm) | $m_start | | | $(runs startup) |
| (f) \`ingot image verify\` (once, for information) | $m_verify | | $(rate "$apparent" "$m_verify") | |

| ratio | to exit | with sync |
| --- | ---: | ---: |
| sequence / ingot (>1: Ingot faster) | **$vs_seq** | $vs_seq_sync |
| zstd -T0 alone / ingot (>1: Ingot faster) | **$vs_zstd** | $vs_zstd_sync |

- Target (beat the three tools in sequence): $(verdict "$vs_seq").
- Aim (no slower than \`zstd -T0\` alone): $(verdict "$vs_zstd").
- Checks: manifest image SHA-256 = sha256sum: $check_manifest; Ingot's .img.zst decompresses to the image: $check_payload; mapped blocks Ingot = bmaptool: $check_bmap.
EOF
)

echo
echo "$report"

if [ "$write_results" = 1 ]; then
  results=$bench_dir/RESULTS.md
  begin='<!-- bench/publish.sh results: begin (generated, replaced on each run) -->'
  end='<!-- bench/publish.sh results: end -->'
  [ -f "$results" ] || printf '# Benchmark results\n\n' >"$results"
  tmp=$(mktemp "$bench_dir/.RESULTS.XXXXXX")
  printf '%s\n' "$report" >"$tmp.section"
  if grep -qF "$begin" "$results"; then
    awk -v b="$begin" -v e="$end" -v f="$tmp.section" '
      $0 == b { print; while ((getline line < f) > 0) print line; skip = 1; next }
      $0 == e { skip = 0 }
      !skip { print }' "$results" >"$tmp"
  else
    { cat "$results"; printf '\n## bench/publish.sh, latest run\n\n%s\n' "$begin"; cat "$tmp.section"; echo "$end"; } >"$tmp"
  fi
  mv "$tmp" "$results"
  rm -f "$tmp.section"
  log "wrote $results"
fi

if [ "$check_manifest" != ok ] || [ "$check_payload" != ok ]; then die "sanity check failed (see above)"; fi
