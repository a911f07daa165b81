#!/usr/bin/env bash
# Flash benchmark: `ingot flash` (signature checked, one pass over the payload: hashed, every range checked before it is
# written, read back from the disk while later ranges are written, payload digest confirmed) against `dd bs=4M
# conv=fsync` of the raw image and `bmaptool copy` of the same .img.zst, onto a file target and a loop device; the floor
# is `dd conv=fsync` of just the mapped bytes. Plus streaming from S3 (S3Proxy) against `ingot image pull` + flash and
# `bmaptool copy URL`, once through a throttled link, and a slot payload written into root-b of a partitioned loop disk
# against `bmaptool copy` of the slot files. CPU seconds (user + system) for every run. Prints a table and replaces
# the generated flash section of bench/RESULTS.md.
# Usage: bench/flash.sh [--size 4G] [--mapped 20] [--reps 3] [--work DIR] [--no-loop] [--no-s3] [--no-link] [--keep] [--no-results]
# See bench/README.md.
set -euo pipefail

bench_dir=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)

size_spec=${BENCH_SIZE:-4G}           # apparent image size (suffixes K M G T, powers of 1024)
mapped_pct=${BENCH_MAPPED:-20}        # percent of the image that holds data (the rest are holes)
reps=${BENCH_REPS:-3}                 # timed repetitions; the median is reported
work=${BENCH_WORK:-$bench_dir/work}   # git-ignored scratch folder
keep=${BENCH_KEEP:-0}                 # 1: keep the image, store and floor files (a later run with the same parameters reuses them)
write_results=${BENCH_RESULTS:-1}     # 0: do not touch bench/RESULTS.md
seed=${BENCH_SEED:-1}                 # changes the image layout and content
loop_rows=${BENCH_LOOP:-1}            # 0: no loop-device rows (they need root and loop devices)
s3_rows=${BENCH_S3:-1}                # 0: no streaming rows (they need the ingot-testing classpath: S3Proxy)
link_rows=${BENCH_LINK:-1}            # 0: no throttled-link rows (about a minute at 4 GiB)
link_rate=${BENCH_LINK_RATE:-12500000} # bytes/s of the throttled link: 100 Mbit/s
ingot=${INGOT:-$repo/ingot}           # INGOT_JAR, when set, is passed through to the launcher

usage() {
  cat <<EOF
Usage: bench/flash.sh [options]
  --size SIZE     apparent size of the generated GPT disk image (default $size_spec; K/M/G/T = 1024^n)
  --mapped PCT    percent of the image that is data, the rest holes (default $mapped_pct); 80% of it in root-a
  --reps N        timed repetitions, median reported (default $reps)
  --work DIR      scratch folder (default bench/work, git-ignored); the file target lives there too
  --seed N        layout/content seed (default $seed)
  --no-loop       skip the loop-device rows (need root and losetup --direct-io)
  --no-s3         skip the streaming rows (S3Proxy from ingot-testing)
  --no-link       skip the throttled-link rows (100 Mbit/s, run once)
  --keep          keep the image, the published store and the floor files (a rerun with the same parameters reuses them)
  --no-results    print the table only; do not rewrite bench/RESULTS.md
Environment: INGOT (ingot launcher), INGOT_JAR (run that jar, no rebuild), BENCH_SIZE, BENCH_MAPPED, BENCH_REPS,
BENCH_WORK, BENCH_SEED, BENCH_KEEP=1, BENCH_RESULTS=0, BENCH_LOOP=0, BENCH_S3=0, BENCH_LINK=0, BENCH_LINK_RATE.
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --size) size_spec=$2; shift 2 ;;
    --mapped) mapped_pct=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --no-loop) loop_rows=0; shift ;;
    --no-s3) s3_rows=0; shift ;;
    --no-link) link_rows=0; shift ;;
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
(( size >= 512 * mib )) || die "--size must be at least 512M (a GPT layout of esp, root-a, root-b and data)"
if ! [[ $mapped_pct =~ ^[0-9]+$ ]] || (( mapped_pct < 1 || mapped_pct > 35 )); then die "--mapped must be 1..35 (80% of it goes into root-a, 40% of the disk)"; fi
if ! [[ $reps =~ ^[0-9]+$ ]] || (( reps < 1 )); then die "--reps must be >= 1"; fi
export PATH=$PATH:/usr/sbin:/sbin
for tool in bmaptool zstd openssl od awk dd cmp truncate du df stat sfdisk python3; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (apt-get install time): it measures CPU seconds"
[ -x "$ingot" ] || die "ingot launcher not found at $ingot (set INGOT)"

mkdir -p "$work"
work=$(cd "$work" && pwd)
img=$work/flash.img
pattern=$work/flash-pattern.bin
floor_src=$work/flash-floor.bin       # the image's mapped bytes, back to back: what the floor writes
slot_floor_src=$work/flash-slot-floor.bin
slot_img=$work/flash-root-a.img       # root-a's window of the image, to compare the slot rows with
store=$work/flash-store
release=$store/golden-images
keys=$work/keys
stamp=$work/flash.img.params
out=$work/flash-out
target=$work/flash-target.img
loop_backing=$work/flash-loop.img
slot_backing=$work/flash-slot-disk.img
pulled=$work/flash-pulled
version=v1.0
build_date=2026-01-01T00:00:00Z
loop_dev="" slot_dev="" servers_pid=""

cleanup() {
  rm -f "$target" /tmp/ingot-bench-servers.$$ 2>/dev/null || true
  [ -z "$loop_dev" ] || losetup -d "$loop_dev" 2>/dev/null || true
  [ -z "$slot_dev" ] || losetup -d "$slot_dev" 2>/dev/null || true
  [ -z "$servers_pid" ] || kill "$servers_pid" 2>/dev/null || true
  rm -rf "$loop_backing" "$slot_backing" "$pulled"
  if [ "$keep" != 1 ]; then
    rm -rf "$img" "$stamp" "$pattern" "$floor_src" "$slot_floor_src" "$slot_img" "$work"/flash-pattern-*.part "$store" "$out" "$keys"
  fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- the image
# The same content generator as bench/publish.sh (kept in step by hand): a pattern file of 4 MiB segments in a fixed
# cycle (random, log, hex, log, conf; ~2-3x at zstd -3). Layout: a GPT disk as packer/ builds it, esp 64 MiB at 1 MiB,
# root-a and root-b 40% each, data the rest; 80% of the data extents (2-32 MiB, MiB-aligned, random holes between)
# inside root-a, the rest inside data. Deterministic for a given seed.
seg=4
pattern_mib=160
kinds=(random log hex log conf)
total_mib=$((size / mib))
root_mib=$((total_mib * 40 / 100))
esp_start=1 esp_mib=64
root_a_start=$((esp_start + esp_mib))
root_b_start=$((root_a_start + root_mib))
data_start=$((root_b_start + root_mib))
data_end=$((total_mib - 1))         # the last MiB holds the backup GPT

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

extents() { # prints "IMAGE_OFFSET_MIB LENGTH_MIB PATTERN_OFFSET_MIB" lines: 80% of the data in root-a, the rest in data
  awk -v seed="$seed" -v total_mib="$total_mib" -v pct="$mapped_pct" -v pat="$pattern_mib" \
      -v a0="$root_a_start" -v a1="$root_b_start" -v d0="$data_start" -v d1="$data_end" '
    function place(start, end, data,    n, sum, len, L, w, wsum, holes, i, g, off, src) {
      n = 0; sum = 0
      while (sum < data) { len = 2 + int(rand() * 31); if (sum + len > data) len = data - sum; n++; L[n] = len; sum += len }
      holes = (end - start) - data; wsum = 0
      for (i = 0; i <= n; i++) { w[i] = rand() + 0.05; wsum += w[i] }
      off = start
      for (i = 1; i <= n; i++) {
        g = int(holes * w[i - 1] / wsum); off += g
        src = int(rand() * (pat - L[i] + 1))
        print off, L[i], src
        off += L[i]
      }
    }
    BEGIN {
      srand(seed + 1000)
      data = int(total_mib * pct / 100 + 0.5); if (data < 2) data = 2
      inA = int(data * 0.8)
      place(a0, a1, inA)
      place(d0, d1, data - inA)
    }'
}

bmap_ranges() { # bmap_ranges BMAP: "FIRST LAST" block lines
  sed -n 's:.*<Range[^>]*> *\([0-9][0-9]*\)\(-\([0-9][0-9]*\)\)\{0,1\} *</Range>.*:\1 \3:p' "$1" | awk '{ print $1, ($2 == "" ? $1 : $2) }'
}

extract_mapped() { # extract_mapped IMAGE BMAP OUT: the mapped blocks of IMAGE back to back
  : >"$3"
  local first last
  while read -r first last; do
    dd if="$1" bs=4096 skip="$first" count=$((last - first + 1)) status=none >>"$3"
  done < <(bmap_ranges "$2")
}

avail=$(( $(df -B1 --output=avail "$work" | tail -n 1) ))
need=$((3 * size + (2 << 30)))
(( avail >= need )) || log "warning: $(human "$avail") free in $work, a run may need up to $(human "$need")"

params="size=$size mapped=$mapped_pct seed=$seed pattern=$pattern_mib version=$version build=$build_date layout=gpt80"
if [ -f "$img" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$params" ] && [ -f "$floor_src" ] && [ -f "$slot_floor_src" ] &&
   [ -f "$release/edge-golden-$version.manifest.json" ] && [ -f "$keys/signing-key.pub.asc" ]; then
  log "reusing $img, its floor files and its published release ($params)"
else
  rm -rf "$img" "$stamp" "$floor_src" "$slot_floor_src" "$slot_img" "$store"
  log "generating pattern ($pattern_mib MiB) and a $(human "$size") GPT disk image with ${mapped_pct}% data"
  gen_start=$(date +%s.%N)
  make_pattern
  truncate -s "$size" "$img"
  while read -r off len src; do
    dd if="$pattern" of="$img" bs=1M skip="$src" seek="$off" count="$len" conv=notrunc status=none
  done < <(extents)
  printf 'label: gpt\nstart=%dMiB, size=%dMiB, name=esp, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nsize=%dMiB, name=root-a\nsize=%dMiB, name=root-b\nname=data\n' \
    "$esp_start" "$esp_mib" "$root_mib" "$root_mib" | sfdisk -q "$img"
  sync
  rm -f "$pattern"
  log "generated $(extents | wc -l) extents in $(awk -v a="$gen_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s"
  if [ ! -f "$keys/signing-key.asc" ]; then
    rm -rf "$keys"
    "$ingot" keys generate --name "Bench" --out "$keys" >/dev/null
  fi
  log "publishing it once with ingot (untimed): .img.zst, .img.bmap, the root-a slot payload, signed manifest"
  "$ingot" image publish "$img" --version "$version" --store "$store" --key "$keys/signing-key.asc" --build-date "$build_date" >/dev/null
  extract_mapped "$img" "$release/edge-golden-$version.img.bmap" "$floor_src"
  dd if="$img" of="$slot_img" bs=1M skip="$root_a_start" count="$root_mib" status=none
  extract_mapped "$slot_img" "$release/edge-golden-$version.root-a.img.bmap" "$slot_floor_src"
  rm -f "$slot_img"
  echo "$params" >"$stamp"
fi
zst=$release/edge-golden-$version.img.zst
bmap=$release/edge-golden-$version.img.bmap
slot_zst=$release/edge-golden-$version.root-a.img.zst
slot_bmap=$release/edge-golden-$version.root-a.img.bmap
manifest=$release/edge-golden-$version.manifest.json
pubkey=$keys/signing-key.pub.asc
for f in "$zst" "$bmap" "$slot_zst" "$slot_bmap" "$manifest" "$manifest.asc"; do [ -f "$f" ] || die "the published release lacks $f"; done
mapped_bytes=$(stat -c %s "$floor_src")
slot_mapped=$(stat -c %s "$slot_floor_src")
apparent=$(stat -c %s "$img")
allocated=$(( $(du -B1 "$img" | cut -f1) ))
(( allocated < apparent )) || die "$img is not sparse"
zst_size=$(stat -c %s "$zst")
slot_zst_size=$(stat -c %s "$slot_zst")
slot_bytes=$((root_mib * mib))
slot_offset=$((root_a_start * mib))
log "image: $(human "$apparent"), mapped $(human "$mapped_bytes"); .img.zst $(human "$zst_size"); root-a $(human "$slot_bytes"), mapped $(human "$slot_mapped"), .root-a.img.zst $(human "$slot_zst_size")"

# ---------------------------------------------------------------- targets and servers
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

loop_note="skipped (--no-loop)"
if [ "$loop_rows" = 1 ]; then
  truncate -s 0 "$loop_backing"; truncate -s "$size" "$loop_backing"
  if loop_dev=$(losetup --find --show --direct-io=on "$loop_backing" 2>/dev/null); then
    dio=$(cat "/sys/block/$(basename "$loop_dev")/loop/dio" 2>/dev/null || echo 0)
    if [ "$dio" != 1 ]; then
      log "loop rows skipped: $loop_dev does not do direct I/O to its backing file (reads would hit the host's page cache)"
      losetup -d "$loop_dev"; loop_dev=""; loop_rows=0; loop_note="skipped: no direct I/O loop device"
    else
      loop_note="$loop_dev, losetup --direct-io=on over a file on the same file system (loop/dio = 1)"
    fi
  else
    loop_rows=0; loop_note="skipped: no loop device could be attached (not root?)"
  fi
fi
slot_note="skipped (needs a loop device)"
if [ "$loop_rows" = 1 ]; then
  truncate -s 0 "$slot_backing"; truncate -s "$size" "$slot_backing"
  printf 'label: gpt\nstart=%dMiB, size=%dMiB, name=esp, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nsize=%dMiB, name=root-a\nsize=%dMiB, name=root-b\nname=data\n' \
    "$esp_start" "$esp_mib" "$root_mib" "$root_mib" | sfdisk -q "$slot_backing"
  slot_dev=$(losetup --find --show --direct-io=on "$slot_backing")
  partx -u "$slot_dev" 2>/dev/null || partx -a "$slot_dev" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b "${slot_dev}p3" ] && break; sleep 0.2; done
  if [ -b "${slot_dev}p3" ]; then
    slot_note="root-b (${slot_dev}p3) of a loop disk with the image's GPT, losetup --direct-io=on"
  else
    losetup -d "$slot_dev"; slot_dev=""; slot_note="skipped: the kernel made no partition devices"
  fi
fi

s3_note="skipped (--no-s3)"
s3_url="" link_url=""
if [ "$s3_rows" = 1 ]; then
  log "building the ingot-testing classpath for S3Proxy (untimed)"
  cp_file=$work/testing.classpath
  if (cd "$repo" && ./mvnw -q -B -DskipTests -pl ingot-testing -am package >/dev/null 2>&1 &&
      ./mvnw -q -B -pl ingot-testing dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null 2>&1); then
    . "$repo/.mvn/find-jdk.sh"; ingot_find_jdk
    fifo=/tmp/ingot-bench-servers.$$
    mkfifo "$fifo"
    rate_args=()
    [ "$link_rows" != 1 ] || rate_args=(--rate "$link_rate")
    "$JAVA_HOME/bin/java" -cp "$repo/ingot-testing/target/classes:$(cat "$cp_file")" dev.ingot.testing.BenchServers --root "$work" \
      "${rate_args[@]}" <"$fifo" >"$work/servers.out" 2>"$work/servers.err" &
    servers_pid=$!
    exec 9>"$fifo"   # the servers run until this descriptor closes
    for _ in $(seq 1 100); do grep -q '^s3 ' "$work/servers.out" 2>/dev/null && break; sleep 0.2; done
    s3_url=$(awk '/^s3 /{ print $2 }' "$work/servers.out")
    link_url=$(awk '/^throttled /{ print $2 }' "$work/servers.out")
    if [ -n "$s3_url" ]; then
      s3_note="S3Proxy $(ls "$HOME"/.m2/repository/org/gaul/s3proxy 2>/dev/null | tail -n 1) over the store folder (filesystem blob store), loopback, anonymous"
    else
      s3_rows=0; s3_note="skipped: S3Proxy did not start (see $work/servers.err)"
    fi
  else
    s3_rows=0; s3_note="skipped: the ingot-testing classpath could not be built"
  fi
fi
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1

# ---------------------------------------------------------------- timing
declare -A times=() cpus=() checks=()
warm_file=""   # when set, read into the page cache after the drop and before the timed run (the floor's source)
fresh=""       # what to empty before each run: "file", "loop", "slot"
prepare() {
  case $fresh in
    file) rm -f "$target" ;;
    loop) blkdiscard "$loop_dev" 2>/dev/null || true ;;
    slot) blkdiscard "${slot_dev}p3" 2>/dev/null || true ;;
  esac
  rm -rf "$pulled"
}
timed() { # timed NAME CMD...: fresh target, cold cache; wall time to exit and CPU seconds (user + system)
  local name=$1 t0 t1 s cpu
  shift
  prepare
  drop_caches
  [ -z "$warm_file" ] || cat "$warm_file" >/dev/null
  t0=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$out/time" "$@" >"${stdout_to:-/dev/null}"
  t1=$(date +%s.%N)
  s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$out/time" | tail -n 1)
  times[$name]="${times[$name]:-} $s"
  cpus[$name]="${cpus[$name]:-} $cpu"
  printf '   %-16s %8.3f s  %6.2f CPU-s' "$name" "$s" "$cpu" >&2
}
compare() { # compare NAME TARGET EXPECTED [LENGTH]: the first LENGTH bytes of TARGET must equal EXPECTED (untimed)
  local result=ok length=${4:-$(stat -c %s "$3")}
  cmp -s -n "$length" "$2" "$3" || result=MISMATCH
  checks[$1]="${checks[$1]:-} $result"
  echo "  cmp: $result" >&2
}
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A jsons=()
flash() { # flash NAME ARGS...: a timed `ingot flash VERSION --keyring KEY --json ARGS`, its report kept as OUT/NAME-N.json
  local name=$1
  shift
  local n=$(( ${jsons[$name]:-0} + 1 ))
  jsons[$name]=$n
  stdout_to=$out/$name-$n.json timed "$name" "$ingot" flash "$version" --keyring "$pubkey" --json "$@"
}

rm -rf "$out"
mkdir -p "$out"
"$ingot" --version >/dev/null
java_version=$("$ingot" --version 2>&1 | grep -m1 -i java || true)
for ((r = 1; r <= 3; r++)); do
  t0=$(date +%s.%N); "$ingot" --version >/dev/null; t1=$(date +%s.%N)
  times[startup]="${times[startup]:-} $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
done

loads=()
bench_start=$(date +%s)
for ((r = 1; r <= reps; r++)); do
  loads+=("$(cut -d' ' -f1 /proc/loadavg)")
  log "repetition $r/$reps (page cache: $cache_mode, load average ${loads[-1]})"
  fresh=file
  timed dd dd if="$img" of="$target" bs=4M conv=fsync status=none; compare dd "$target" "$img"
  timed bmaptool bmaptool -q copy --bmap "$bmap" "$zst" "$target"; compare bmaptool "$target" "$img"
  timed bmaptool-raw bmaptool -q copy --bmap "$bmap" "$img" "$target"; compare bmaptool-raw "$target" "$img"
  flash ingot --cache "$release" --target "$target"; compare ingot "$target" "$img"
  flash ingot-nv --cache "$release" --target "$target" --no-verify; compare ingot-nv "$target" "$img"
  flash ingot-buf --cache "$release" --target "$target" --direct off; compare ingot-buf "$target" "$img"
  flash ingot-buf-nv --cache "$release" --target "$target" --direct off --no-verify; compare ingot-buf-nv "$target" "$img"
  warm_file=$floor_src
  timed floor dd if="$floor_src" of="$target" bs=4M conv=fsync status=none; compare floor "$target" "$floor_src"
  timed floor-direct dd if="$floor_src" of="$target" bs=4M oflag=direct conv=fsync status=none; compare floor-direct "$target" "$floor_src"
  warm_file=""
  timed floor-cold dd if="$floor_src" of="$target" bs=4M conv=fsync status=none; compare floor-cold "$target" "$floor_src"
  if [ "$loop_rows" = 1 ]; then
    fresh=loop
    timed L-bmaptool bmaptool -q copy --bmap "$bmap" "$zst" "$loop_dev"; compare L-bmaptool "$loop_dev" "$img" "$size"
    flash L-ingot --cache "$release" --target "$loop_dev" --yes; compare L-ingot "$loop_dev" "$img" "$size"
    flash L-ingot-nv --cache "$release" --target "$loop_dev" --yes --no-verify; compare L-ingot-nv "$loop_dev" "$img" "$size"
    flash L-ingot-buf --cache "$release" --target "$loop_dev" --yes --direct off; compare L-ingot-buf "$loop_dev" "$img" "$size"
    warm_file=$floor_src
    timed L-floor dd if="$floor_src" of="$loop_dev" bs=4M conv=fsync status=none; compare L-floor "$loop_dev" "$floor_src"
    timed L-floor-direct dd if="$floor_src" of="$loop_dev" bs=4M oflag=direct conv=fsync status=none; compare L-floor-direct "$loop_dev" "$floor_src"
    warm_file=""
  fi
  if [ -n "$slot_dev" ]; then
    fresh=slot
    part=${slot_dev}p3
    flash S-ingot --cache "$release" --target "$slot_dev" --partition root-b
    compare S-ingot "$part" <(dd if="$img" bs=1M skip="$root_a_start" count="$root_mib" status=none) "$slot_bytes"
    flash S-ingot-nv --cache "$release" --target "$slot_dev" --partition root-b --no-verify
    compare S-ingot-nv "$part" <(dd if="$img" bs=1M skip="$root_a_start" count="$root_mib" status=none) "$slot_bytes"
    timed S-bmaptool bmaptool -q copy --bmap "$slot_bmap" "$slot_zst" "$part"
    compare S-bmaptool "$part" <(dd if="$img" bs=1M skip="$root_a_start" count="$root_mib" status=none) "$slot_bytes"
    warm_file=$slot_floor_src
    timed S-floor dd if="$slot_floor_src" of="$part" bs=4M conv=fsync status=none; compare S-floor "$part" "$slot_floor_src"
    timed S-floor-direct dd if="$slot_floor_src" of="$part" bs=4M oflag=direct conv=fsync status=none; compare S-floor-direct "$part" "$slot_floor_src"
    warm_file=""
  fi
  if [ "$s3_rows" = 1 ]; then
    fresh=file
    flash e-ingot --store s3://flash-store --endpoint-url "$s3_url" --target "$target"; compare e-ingot "$target" "$img"
    timed e-pull bash -c '"$1" image pull "$2" --to "$3" --keyring "$4" --store s3://flash-store --endpoint-url "$5" >/dev/null &&
      "$1" flash "$2" --cache "$3" --keyring "$4" --target "$6" >/dev/null' _ "$ingot" "$version" "$pulled" "$pubkey" "$s3_url" "$target"
    compare e-pull "$target" "$img"
    timed e-bmaptool bmaptool -q copy --bmap "$bmap" "$s3_url/flash-store/golden-images/edge-golden-$version.img.zst" "$target"
    compare e-bmaptool "$target" "$img"
  fi
done
if [ "$s3_rows" = 1 ] && [ -n "$link_url" ]; then
  log "once through a throttled link ($((link_rate * 8 / 1000000)) Mbit/s)"
  fresh=file
  flash t-ingot --store s3://flash-store --endpoint-url "$link_url" --target "$target"; compare t-ingot "$target" "$img"
  timed t-pull bash -c '"$1" image pull "$2" --to "$3" --keyring "$4" --store s3://flash-store --endpoint-url "$5" >/dev/null &&
    "$1" flash "$2" --cache "$3" --keyring "$4" --target "$6" >/dev/null' _ "$ingot" "$version" "$pulled" "$pubkey" "$link_url" "$target"
  compare t-pull "$target" "$img"
  timed t-bmaptool bmaptool -q copy --bmap "$bmap" "$link_url/flash-store/golden-images/edge-golden-$version.img.zst" "$target"
  compare t-bmaptool "$target" "$img"
fi
loads+=("$(cut -d' ' -f1 /proc/loadavg)")
bench_s=$(($(date +%s) - bench_start))

# ---------------------------------------------------------------- report
med() { median "${times[$1]:-}"; }
cpu() { median "${cpus[$1]:-}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
rate() { awk -v s="$1" -v t="$2" 'BEGIN { if (t == "-" || t == 0) print "-"; else printf "%.0f", s / 1048576 / t }'; }
commas() { local s=${1# }; echo "${s// /, }"; }
ok_all() { if [ -z "${checks[$1]:-}" ]; then echo "-"; elif [[ ${checks[$1]} == *MISMATCH* ]]; then echo "**MISMATCH**"; else echo "ok"; fi; }
row() { # row LABEL NAME BYTES
  [ -n "${times[$2]:-}" ] || return 0
  echo "| $1 | $(med "$2") | $(cpu "$2") | $(rate "$3" "$(med "$2")") | $(commas "${times[$2]}") | $(ok_all "$2") |"
}
faster() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "-" || a + 0 <= b + 0) print a; else print b }'; }
json_field() { sed -n "s/.*\"$1\" *: *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$2" | head -n 1; }
json_median() { # json_median RUN EXPR: median over the run's --json reports of a Python expression on the report `d`
  python3 - "$out" "$1" "$2" <<'PY'
import glob, json, statistics, sys
out, run, expr = sys.argv[1:4]
values = []
for name in sorted(glob.glob(f"{out}/{run}-[0-9]*.json")):
    try:
        value = eval(expr, {"d": json.load(open(name))})
    except (OSError, ValueError, KeyError, StopIteration, TypeError):
        continue
    if value is not None:
        values.append(value)
print(statistics.median(values) if values else "-")
PY
}
stage_ms() { json_median "$1" "next((s['cpu_ms'] for s in d['stages'] if s['name'] == '$2'), None)"; }
phase_ms() { # "trust" is trust_ms; the others are phases
  if [ "$2" = trust ]; then json_median "$1" "d['trust_ms']"; else json_median "$1" "next((p['ms'] for p in d['phases'] if p['name'] == '$2'), None)"; fi
}
s_of() { awk -v m="$1" 'BEGIN { if (m == "-") print "-"; else printf "%.3f", m / 1000 }'; }
jvm_ms() { json_median "$1" "d['jvm']['$2']"; }
outside_ms() { json_median "$1" "d['jvm']['process_cpu_ms'] - sum(s['cpu_ms'] for s in d['stages'])"; }

floor=$(faster "$(med floor)" "$(med floor-direct)")
m_ingot=$(med ingot) m_nv=$(med ingot-nv) m_bmap=$(med bmaptool)
stage_rows=""
for st in "payload hash" "read source and cut frames" "decompress" "range hash" "write" "read back" "read-back compare or hash"; do
  stage_rows+="| \`$st\` | $(s_of "$(stage_ms ingot "$st")") | $(s_of "$(stage_ms ingot-nv "$st")") | $(s_of "$(stage_ms L-ingot "$st")") | $(s_of "$(stage_ms e-ingot "$st")") | $(s_of "$(stage_ms S-ingot "$st")") |"$'\n'
done
phase_rows=""
for ph in trust "zero unmapped" write sync "read back"; do
  phase_rows+="| \`$ph\` (wall) | $(s_of "$(phase_ms ingot "$ph")") | $(s_of "$(phase_ms ingot-nv "$ph")") | $(s_of "$(phase_ms L-ingot "$ph")") | $(s_of "$(phase_ms e-ingot "$ph")") | $(s_of "$(phase_ms S-ingot "$ph")") |"$'\n'
done
jvm_rows=""
for field in process_cpu_ms jit_ms gc_ms; do
  case $field in
    process_cpu_ms) label="CPU of the whole process (JVM's own count)" ;;
    jit_ms) label="of which JIT compilation (compiler threads)" ;;
    gc_ms) label="of which garbage collection" ;;
  esac
  jvm_rows+="| $label | $(s_of "$(jvm_ms ingot "$field")") | $(s_of "$(jvm_ms ingot-nv "$field")") | $(s_of "$(jvm_ms L-ingot "$field")") | $(s_of "$(jvm_ms e-ingot "$field")") | $(s_of "$(jvm_ms S-ingot "$field")") |"$'\n'
done
jvm_rows+="| CPU outside the stages (JVM start, class loading, JIT, GC, trust checks) | $(s_of "$(outside_ms ingot)") | $(s_of "$(outside_ms ingot-nv)") | $(s_of "$(outside_ms L-ingot)") | $(s_of "$(outside_ms e-ingot)") | $(s_of "$(outside_ms S-ingot)") |"$'\n'
direct_of() { local f; f=$(ls "$out/$1"-1.json 2>/dev/null) && json_field direct_io "$f" || echo "-"; }
at_most() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "-") print "not measured"; else if (r <= t) printf "met (%.2fx)", r; else printf "missed (%.2fx)", r }'; }
at_least() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "-") print "not measured"; else if (r >= t) printf "met (%.2fx)", r; else printf "missed (%.2fx)", r }'; }

cpu_name=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
fs=$(df -T "$work" | awk 'NR == 2 { print $2 " on " $1 }')
cmd="bench/flash.sh --size $size_spec --mapped $mapped_pct --reps $reps"
[ "$seed" = 1 ] || cmd="$cmd --seed $seed"
l_floor=$(faster "$(med L-floor)" "$(med L-floor-direct)")
s_floor=$(faster "$(med S-floor)" "$(med S-floor-direct)")

report=$(cat <<EOF
Run $(date -u +%Y-%m-%dT%H:%M:%SZ), reproduce with \`$cmd\`${INGOT_JAR:+ (with \`INGOT_JAR=$INGOT_JAR\`)}; the timed part took ${bench_s}s.

| machine | |
| --- | --- |
| CPU | $cpu_name, $(nproc) cores online |
| memory | $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |
| kernel | $(uname -sr) |
| work dir, file target | $fs; target \`WORK/flash-target.img\`, deleted before every run |
| loop target | $loop_note; \`blkdiscard\` before every run |
| slot target | $slot_note |
| S3 | $s3_note; throttled link: $((link_rate * 8 / 1000000)) Mbit/s token bucket (a TCP relay in ingot-testing) |
| page cache | $cache_mode (dropped with \`sync; echo 3 > /proc/sys/vm/drop_caches\` before each timed run) |
| load average (1 min) | $(commas " ${loads[*]}") at the start of each repetition and at the end (other work shares these 2 cores) |
| tools | $(dd --version | head -n 1); $(bmaptool --version 2>&1 | head -n 1); $(zstd --version | sed 's/^\*\** *//; s/ *\*\**$//; s/, by .*//'); ingot on $java_version |

| image | |
| --- | --- |
| apparent size | $(human "$apparent"), GPT: esp 64 MiB, root-a and root-b $(human "$slot_bytes") each, data the rest |
| data (mapped) | ${mapped_pct}%, 80% of it in root-a: $(human "$mapped_bytes") ($mapped_bytes bytes); root-a: $(human "$slot_mapped") |
| published | \`ingot image publish\` once, untimed: .img.zst $(human "$zst_size") ($(awk -v d="$mapped_bytes" -v z="$zst_size" 'BEGIN { printf "%.2fx", d / z }')), .root-a.img.zst $(human "$slot_zst_size") |

Median of $reps repetitions, wall clock to exit (JVM start included for Ingot), and CPU seconds (user + system,
\`/usr/bin/time\`); before each run the target is emptied and the page cache dropped. Every tool fsyncs before it exits.
After every run the target is compared with the image (\`cmp\`, untimed).

| run | median s | CPU s | MiB/s (mapped) | all runs s | target = image |
| --- | ---: | ---: | ---: | --- | --- |
$(row "(a) \`dd if=IMG of=T bs=4M conv=fsync\` (raw image, holes written as zeros)" dd "$mapped_bytes")
$(row "(b) \`bmaptool copy --bmap IMG.bmap IMG.zst T\`" bmaptool "$mapped_bytes")
$(row "(b2) \`bmaptool copy --bmap IMG.bmap IMG T\` (raw image, for information)" bmaptool-raw "$mapped_bytes")
$(row "(c) \`ingot flash $version --cache STORE --target T\` (direct I/O $(direct_of ingot), read back)" ingot "$mapped_bytes")
$(row "(c2) the same with \`--no-verify\` (no read-back)" ingot-nv "$mapped_bytes")
$(row "(c3) \`--direct off\` (page cache), read back" ingot-buf "$mapped_bytes")
$(row "(c4) \`--direct off --no-verify\`" ingot-buf-nv "$mapped_bytes")
$(row "(d) floor: \`dd if=MAPPED of=T bs=4M conv=fsync\`, source cached" floor "$mapped_bytes")
$(row "(d3) floor: the same with \`oflag=direct\`" floor-direct "$mapped_bytes")
$(row "(d2) the same, source read from disk (for information)" floor-cold "$mapped_bytes")
$(row "(L-b) loop device: \`bmaptool copy\` of the .img.zst" L-bmaptool "$mapped_bytes")
$(row "(L-c) loop device: \`ingot flash\` (direct I/O $(direct_of L-ingot), read back)" L-ingot "$mapped_bytes")
$(row "(L-c2) loop device: \`--no-verify\`" L-ingot-nv "$mapped_bytes")
$(row "(L-c3) loop device: \`--direct off\`, read back" L-ingot-buf "$mapped_bytes")
$(row "(L-d) loop device floor: \`dd conv=fsync\`, source cached" L-floor "$mapped_bytes")
$(row "(L-d3) loop device floor: \`dd oflag=direct conv=fsync\`" L-floor-direct "$mapped_bytes")
$(row "(e) **streaming from S3Proxy**: \`ingot flash $version --store s3://… --endpoint-url …\`" e-ingot "$mapped_bytes")
$(row "(e-p) peer: \`ingot image pull\` then \`ingot flash --cache\` (download, then flash)" e-pull "$mapped_bytes")
$(row "(e-b) peer: \`bmaptool copy --bmap IMG.bmap http://…/IMG.zst T\`" e-bmaptool "$mapped_bytes")
$(row "(t) the same through a $((link_rate * 8 / 1000000)) Mbit/s link: \`ingot flash --store s3://…\` (once)" t-ingot "$mapped_bytes")
$(row "(t-p) peer: pull, then flash (once)" t-pull "$mapped_bytes")
$(row "(t-b) peer: \`bmaptool copy URL\` (once)" t-bmaptool "$mapped_bytes")
$(row "(f) **slot payload**: \`ingot flash $version --target LOOPDISK --partition root-b\`, read back" S-ingot "$slot_mapped")
$(row "(f2) the same with \`--no-verify\`" S-ingot-nv "$slot_mapped")
$(row "(f-b) peer: \`bmaptool copy --bmap X.root-a.img.bmap X.root-a.img.zst LOOPDISKp3\`" S-bmaptool "$slot_mapped")
$(row "(f-d) slot floor: \`dd\` of root-a's mapped bytes into root-b, \`conv=fsync\`" S-floor "$slot_mapped")
$(row "(f-d3) slot floor with \`oflag=direct\`" S-floor-direct "$slot_mapped")

| ratio (floor = the faster of d and d3) | file target | loop device | slot |
| --- | ---: | ---: | ---: |
| ingot (read back) / floor (target <= 3) | **$(ratio "$m_ingot" "$floor")** | $(ratio "$(med L-ingot)" "$l_floor") | $(ratio "$(med S-ingot)" "$s_floor") |
| bmaptool (.zst) / ingot (read back) (target >= 2) | **$(ratio "$m_bmap" "$m_ingot")** | $(ratio "$(med L-bmaptool)" "$(med L-ingot)") | $(ratio "$(med S-bmaptool)" "$(med S-ingot)") |
| ingot \`--no-verify\` / floor (target <= 2) | **$(ratio "$m_nv" "$floor")** | $(ratio "$(med L-ingot-nv)" "$l_floor") | $(ratio "$(med S-ingot-nv)" "$s_floor") |
| dd / ingot (for information) | $(ratio "$(med dd)" "$m_ingot") | | |
| streaming: pull then flash / stream (>1: streaming faster) | $(ratio "$(med e-pull)" "$(med e-ingot)") (loopback) | $(ratio "$(med t-pull)" "$(med t-ingot)") (throttled) | |
| streaming: bmaptool URL / ingot stream | $(ratio "$(med e-bmaptool)" "$(med e-ingot)") (loopback) | $(ratio "$(med t-bmaptool)" "$(med t-ingot)") (throttled) | |

Ingot's own account (\`--json\`), median seconds: wall per phase, and CPU per stage summed over its threads.

| phase or stage | (c) | (c2) | (L-c) | (e) | (f) |
| --- | ---: | ---: | ---: | ---: | ---: |
$phase_rows$stage_rows$jvm_rows| launcher + JVM start alone (\`ingot --version\`, warm), wall | $(med startup) | | | | |

- Target (read-back <= 3x the floor): $(at_most "$(ratio "$m_ingot" "$floor")" 3); loop device $(at_most "$(ratio "$(med L-ingot)" "$l_floor")" 3); slot $(at_most "$(ratio "$(med S-ingot)" "$s_floor")" 3).
- Target (>= 2x faster than bmaptool copy of the .img.zst): $(at_least "$(ratio "$m_bmap" "$m_ingot")" 2); loop device $(at_least "$(ratio "$(med L-bmaptool)" "$(med L-ingot)")" 2); slot $(at_least "$(ratio "$(med S-bmaptool)" "$(med S-ingot)")" 2).
- Target (\`--no-verify\` <= 2x the floor): $(at_most "$(ratio "$m_nv" "$floor")" 2); loop device $(at_most "$(ratio "$(med L-ingot-nv)" "$l_floor")" 2); slot $(at_most "$(ratio "$(med S-ingot-nv)" "$s_floor")" 2).
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

for name in "${!checks[@]}"; do
  [[ ${checks[$name]} != *MISMATCH* ]] || die "$name: the target differed from the image in some run (see above)"
done
