#!/usr/bin/env bash
# shellcheck disable=SC2016  # backticks in case labels are Markdown code spans
# bench/compare.sh: benchmark rlog against the usual line loggers and copy
# tools, check that every tool wrote every line, and write PERFORMANCE.md.
#
#   bench/compare.sh                       # 512 MiB input, 3 runs a case
#   bench/compare.sh --size 64MiB          # quick run: 5 runs a case, < 2 min
#   bench/compare.sh --help
#
# Progress goes to stderr. The exit status is non-zero when an output check
# fails or a benchmarked command fails. A missed target is reported in the
# table but does not change the exit status, except with --strict.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
GEN="$SCRIPT_DIR/gen-input.py"
REPORT="$SCRIPT_DIR/report.py"
ORIG_ARGS=("$@")

# rlog reads defaults from RLOG_* variables (RLOG_FORMAT, RLOG_PATH, ...):
# none of the caller's may change what is measured.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^RLOG_' || true)

MIB=$((1024 * 1024))
RSS_SIZES=(64 512)   # MiB; peak RSS of every rlog case is taken on both
ONESHOT_MSG='deploy finished version=1.4.2 took=38s'
TS_FORMAT='%Y-%m-%dT%H:%M:%.S'

size_arg=512MiB
workdir="${TMPDIR:-/tmp}/rlog-bench"
rlog=""
runs=""
oneshot_runs=200
out="$REPO_ROOT/PERFORMANCE.md"
with_ts=0
do_install=1
do_rss=1
strict=0

usage() {
  cat <<EOF
usage: bench/compare.sh [options]

  --size SIZE         input size (default 512MiB); suffixes K/KiB, M/MiB,
                      G/GiB (all binary), or plain bytes
  --workdir DIR       inputs (cached by size), outputs and results
                      (default \${TMPDIR:-/tmp}/rlog-bench)
  --rlog PATH         rlog binary (default: target/release/rlog in the repo,
                      built with 'cargo build --release' if missing)
  --runs N            timed runs per streaming case (default 5 up to 128MiB,
                      3 above); warm-up is always 1
  --oneshot-runs N    timed runs per one-shot case (default 200)
  --with-ts           also run moreutils ts above 64MiB (very slow)
  --no-install        do not apt-get install missing peers; skip them
  --no-rss            skip the peak-RSS runs (they need 64MiB and 512MiB inputs)
  --strict            exit non-zero when a target is missed too
  --out FILE          report path (default: PERFORMANCE.md at the repo root)
  -h, --help          this text
EOF
}

log() { printf '[compare %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[compare] ERROR: %s\n' "$*" >&2; exit 2; }

while (($#)); do
  case $1 in
    --size) size_arg=${2:?--size needs a value}; shift 2 ;;
    --size=*) size_arg=${1#*=}; shift ;;
    --workdir) workdir=${2:?--workdir needs a value}; shift 2 ;;
    --workdir=*) workdir=${1#*=}; shift ;;
    --rlog) rlog=${2:?--rlog needs a value}; shift 2 ;;
    --rlog=*) rlog=${1#*=}; shift ;;
    --runs) runs=${2:?--runs needs a value}; shift 2 ;;
    --runs=*) runs=${1#*=}; shift ;;
    --oneshot-runs) oneshot_runs=${2:?--oneshot-runs needs a value}; shift 2 ;;
    --oneshot-runs=*) oneshot_runs=${1#*=}; shift ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --out=*) out=${1#*=}; shift ;;
    --with-ts) with_ts=1; shift ;;
    --no-install) do_install=0; shift ;;
    --no-rss) do_rss=0; shift ;;
    --strict) strict=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

# parse_size 64MiB -> bytes
parse_size() {
  local s=$1 n unit
  if [[ ! $s =~ ^([0-9]+)([A-Za-z]*)$ ]]; then
    die "bad size '$s' (examples: 64MiB, 512M, 1GiB)"
  fi
  n=${BASH_REMATCH[1]}
  unit=${BASH_REMATCH[2],,}
  case $unit in
    ''|b) echo "$n" ;;
    k|kb|kib) echo $((n * 1024)) ;;
    m|mb|mib) echo $((n * MIB)) ;;
    g|gb|gib) echo $((n * 1024 * MIB)) ;;
    *) die "bad size unit in '$s' (use K/KiB, M/MiB, G/GiB)" ;;
  esac
}

human_size() {
  local b=$1
  if ((b % (1024 * MIB) == 0)); then echo "$((b / 1024 / MIB))GiB"
  elif ((b % MIB == 0)); then echo "$((b / MIB))MiB"
  else echo "${b}B"; fi
}

size=$(parse_size "$size_arg")
((size >= 4096)) || die "--size must be at least 4KiB"
size_h=$(human_size "$size")
[[ $runs =~ ^[0-9]*$ && $oneshot_runs =~ ^[0-9]+$ ]] || die "--runs/--oneshot-runs take a number"
if [[ -z $runs ]]; then
  if ((size <= 128 * MIB)); then runs=5; else runs=3; fi
fi
((runs >= 1 && oneshot_runs >= 1)) || die "--runs and --oneshot-runs must be at least 1"

# Every path goes into hyperfine command strings unquoted: keep them plain.
mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)
[[ $workdir =~ ^[A-Za-z0-9_./+-]+$ ]] ||
  die "workdir path '$workdir' has characters this script does not quote; pick a plain path"
case $out in /*) ;; *) out="$PWD/$out" ;; esac

# ---------------------------------------------------------------- peers --
# command -> Debian package that ships it
declare -A PKG_OF=(
  [hyperfine]=hyperfine [s6-log]=s6 [multilog]=daemontools [svlogd]=runit
  [ts]=moreutils [rotatelogs]=apache2-utils [cronolog]=cronolog
)
declare -A SKIP_REASON=()   # command -> why it is not run

have() { command -v "$1" >/dev/null 2>&1; }

install_peers() {
  local missing=() c
  for c in "${!PKG_OF[@]}"; do have "$c" || missing+=("${PKG_OF[$c]}"); done
  [[ -x /usr/bin/time ]] || missing+=(time)
  ((${#missing[@]})) || return 0
  if ((!do_install)); then
    log "not installing (--no-install): ${missing[*]}"
    return 0
  fi
  if [[ $(id -u) != 0 ]] || ! have apt-get; then
    log "cannot install ${missing[*]}: needs root and apt-get"
    return 0
  fi
  log "installing missing packages: ${missing[*]}"
  local aptlog="$workdir/apt.log"
  # --no-install-recommends: runit recommends runit-init, which replaces the init system.
  if ! apt-get update -q >"$aptlog" 2>&1; then
    log "apt-get update failed (see $aptlog); trying to install anyway"
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      "${missing[@]}" >>"$aptlog" 2>&1; then
    local p
    for p in "${missing[@]}"; do   # one bad name must not keep the others out
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "$p" >>"$aptlog" 2>&1 || log "could not install package $p (see $aptlog)"
    done
  fi
}

install_peers
have hyperfine || die "hyperfine is required (apt-get install hyperfine)"
for c in "${!PKG_OF[@]}"; do
  have "$c" || SKIP_REASON[$c]="\`$c\` not installed (Debian package ${PKG_OF[$c]} could not be installed)"
done
have_time=1
if [[ ! -x /usr/bin/time ]]; then
  have_time=0
  log "SKIP: /usr/bin/time missing (package time): no peak-RSS figures"
fi
for c in "${!SKIP_REASON[@]}"; do log "SKIP peer $c: ${SKIP_REASON[$c]}"; done

# ---------------------------------------------------------------- rlog --
if [[ -z $rlog ]]; then
  rlog="$REPO_ROOT/target/release/rlog"
  if [[ ! -x $rlog ]]; then
    log "building rlog: cargo build --release in $REPO_ROOT"
    (cd "$REPO_ROOT" && cargo build --release >&2)
  fi
fi
[[ -x $rlog ]] || die "rlog binary not found or not executable: $rlog"
rlog=$(cd "$(dirname "$rlog")" && pwd)/$(basename "$rlog")
[[ $rlog =~ ^[A-Za-z0-9_./+-]+$ ]] || die "rlog path '$rlog' has characters this script does not quote"

probe="$workdir/probe"
rm -rf "$probe" && mkdir -p "$probe"
printf 'probe line\n' | "$rlog" --path "$probe/plain.log" >"$probe/out" 2>&1 ||
  die "rlog failed on a one-line input: $(cat "$probe/out")"
[[ $(wc -l <"$probe/plain.log") == 1 ]] || die "rlog wrote $(wc -l <"$probe/plain.log") lines for 1 line of input"
have_json=0
if printf 'probe line\n' | "$rlog" --path "$probe/json.log" --json >"$probe/out" 2>&1; then
  have_json=1
else
  log "SKIP rlog --json: the binary rejects it ($(head -c 200 "$probe/out"))"
fi
rlog_version=$("$rlog" --version 2>/dev/null | head -n1 || true)
rlog_commit=""
if git -C "$(dirname "$rlog")" rev-parse --short HEAD >/dev/null 2>&1; then
  rlog_commit=$(git -C "$(dirname "$rlog")" rev-parse --short HEAD)
  git -C "$(dirname "$rlog")" diff --quiet HEAD 2>/dev/null || rlog_commit+=" (+ uncommitted changes)"
fi

# ---------------------------------------------------------------- input --
gen_id=$(sha1sum "$GEN" | cut -c1-8)
input_dir="$workdir/input"
mkdir -p "$input_dir"

input_path() { echo "$input_dir/input-$gen_id-$1.log"; }

# make_input BYTES: generated once per generator version and size; a smaller
# size is cut from the biggest cached one (same bytes as generating it).
make_input() {
  local bytes=$1 p big big_bytes f b
  p=$(input_path "$bytes")
  [[ -s $p ]] && return 0
  big="" big_bytes=0
  for f in "$input_dir"/input-"$gen_id"-*.log; do
    [[ -e $f ]] || continue
    b=${f##*-}; b=${b%.log}
    if ((b > bytes)) && { [[ -z $big ]] || ((b < big_bytes)); }; then big=$f big_bytes=$b; fi
  done
  if [[ -n $big ]]; then
    log "input $(human_size "$bytes"): cut from $(basename "$big")"
    python3 "$GEN" "$bytes" "$p" --from "$big"
  else
    log "input $(human_size "$bytes"): generating (fixed seed) ..."
    python3 "$GEN" "$bytes" "$p"
  fi
}

# Generate the biggest first so the others are cut from it.
need_sizes=("$size")
if ((do_rss && have_time)); then
  for m in "${RSS_SIZES[@]}"; do need_sizes+=($((m * MIB))); done
fi
mapfile -t need_sizes < <(printf '%s\n' "${need_sizes[@]}" | sort -rnu)
for b in "${need_sizes[@]}"; do make_input "$b"; done
# drop stale inputs of older generator versions
for f in "$input_dir"/input-*.log; do
  if [[ -e $f && $f != "$input_dir/input-$gen_id-"* ]]; then rm -f "$f"; fi
done

INPUT=$(input_path "$size")
input_lines=$(wc -l <"$INPUT")
input_bytes=$(stat -c %s "$INPUT")
input_first=$(head -n1 "$INPUT")
input_last=$(tail -n1 "$INPUT")
log "input: $INPUT ($input_bytes bytes, $input_lines lines)"

# ------------------------------------------------------------- results --
results="$workdir/results"
rm -rf "$results" "$workdir/out"
mkdir -p "$results" "$workdir/out"
CASES_TSV="$results/cases.tsv"   # id kind label command json check-status note
RSS_TSV="$results/rss.tsv"       # id size_mib kib check-status
: >"$CASES_TSV"
: >"$RSS_TSV"
failures=()

# ----------------------------------------------------------- checks --
count_lines() { cat "$@" | wc -l; }

# check SPEC...: verify outputs against the input; prints a one-line verdict
# to stdout and returns non-zero on failure. Specs:
#   cmp:FILE          byte-identical to the input
#   lines:FILE        same number of lines as the input
#   stamped:FILE      same line count; first/last line end with the input's
#   logdir:DIR        lines of DIR/current + DIR/@* (rotated) add up
#   alldir:DIR        lines of all files in DIR add up
#   json:FILE         same line count, sampled lines are JSON objects holding
#                     the input line as a value
#   count:FILE:N      exactly N lines
check() {
  local spec kind arg n f l first last verdict=() bad=0
  for spec in "$@"; do
    kind=${spec%%:*}; arg=${spec#*:}
    case $kind in
      cmp)
        if cmp -s "$INPUT" "$arg"; then verdict+=("$(basename "$arg") identical")
        else verdict+=("$(basename "$arg") DIFFERS from input ($(cmp "$INPUT" "$arg" 2>&1 | head -n1))"); bad=1; fi ;;
      lines|stamped|json)
        [[ -f $arg ]] || { verdict+=("$(basename "$arg") MISSING"); bad=1; continue; }
        n=$(wc -l <"$arg")
        if [[ $n != "$input_lines" ]]; then
          verdict+=("$(basename "$arg") has $n lines, input $input_lines"); bad=1; continue
        fi
        if [[ $kind == stamped ]]; then
          first=$(head -n1 "$arg"); last=$(tail -n1 "$arg")
          if [[ $first != *" $input_first" || $last != *" $input_last" ]]; then
            verdict+=("$(basename "$arg") first/last line do not end with the input's"); bad=1; continue
          fi
        elif [[ $kind == json ]]; then
          if ! { head -n 1000 "$arg"; tail -n 1000 "$arg"; } | python3 -c '
import json, sys
last = sys.argv[1]
ok = 0
for raw in sys.stdin:
    o = json.loads(raw)
    assert isinstance(o, dict), "not an object"
    ok += last in [v for v in o.values() if isinstance(v, str)]
assert ok, "last input line not found as a JSON string value"
' "$input_last" 2>"$results/json-check.err"; then
            verdict+=("$(basename "$arg") not valid JSON lines: $(tail -n1 "$results/json-check.err")"); bad=1; continue
          fi
        fi
        verdict+=("$(basename "$arg") $n lines") ;;
      logdir|alldir)
        local files=()
        if [[ $kind == logdir ]]; then
          [[ -f $arg/current ]] && files+=("$arg/current")
          for f in "$arg"/@*; do [[ -f $f ]] && files+=("$f"); done
        else
          for f in "$arg"/*; do [[ -f $f ]] && files+=("$f"); done
        fi
        if ((${#files[@]} == 0)); then verdict+=("$(basename "$arg")/ has no log files"); bad=1; continue; fi
        n=$(count_lines "${files[@]}")
        if [[ $n != "$input_lines" ]]; then
          verdict+=("$(basename "$arg")/ ${#files[@]} files hold $n lines, input $input_lines"); bad=1
        else verdict+=("$(basename "$arg")/ $n lines in ${#files[@]} files"); fi ;;
      count)
        f=${arg%:*}; n=${arg##*:}
        l=$(wc -l <"$f" 2>/dev/null || echo 0)
        if [[ $l != "$n" ]]; then verdict+=("$(basename "$f") has $l lines, expected $n"); bad=1
        else verdict+=("$(basename "$f") $l lines"); fi ;;
      *) die "bad check spec $spec" ;;
    esac
  done
  local IFS=';'
  echo "${verdict[*]}"
  return "$bad"
}

fail_loudly() {
  printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
  printf '!!! CHECK FAILED: %s\n' "$*" >&2
  printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n' >&2
  failures+=("$*")
}

record() { # id kind label command json status note
  local IFS=$'\t'
  printf '%s\n' "$*" >>"$CASES_TSV"
}

# ------------------------------------------------------------ stream --
# stream_case ID KIND LABEL CMD CHECKSPEC... [-- PREPARE-EXTRA]
# CMD may use @D@ (this case's output dir) and @IN@ (the input file).
# Each timed run starts from an empty output dir, so every run writes the
# same amount; `sync` in the prepare step keeps earlier cases' dirty pages
# out of this case's timing.
stream_case() {
  local id=$1 kind=$2 label=$3 cmd=$4; shift 4
  local specs=() extra="" warm=1 n=$runs
  while (($#)); do
    if [[ $1 == -- ]]; then extra=$2; shift 2; continue; fi
    specs+=("$1"); shift
  done
  local d="$workdir/out/$id"
  cmd=${cmd//@D@/$d}; cmd=${cmd//@IN@/$INPUT}
  extra=${extra//@D@/$d}
  local i; for i in "${!specs[@]}"; do specs[i]=${specs[i]//@D@/$d}; done
  if [[ $id == ts ]]; then   # ~0.15 s/MiB: keep the quick run quick
    warm=0; n=$((runs < 2 ? runs : 2))
  fi
  local prep="rm -rf $d && mkdir -p $d${extra:+ && $extra} && sync"
  local json="$results/$id.json"
  log "case $id: $cmd  (warm-up $warm, $n runs)"
  if ! hyperfine --style basic --warmup "$warm" --runs "$n" --prepare "$prep" \
      --command-name "$id" --export-json "$json" "$cmd" >&2; then
    fail_loudly "$id: command failed under hyperfine: $cmd"
    record "$id" "$kind" "$label" "$cmd" "" "FAIL" "command failed"
    return 0
  fi
  local verdict
  if verdict=$(check "${specs[@]}"); then
    log "check $id: OK ($verdict)"
    record "$id" "$kind" "$label" "$cmd" "$json" "ok" "$verdict"
  else
    fail_loudly "$id: $verdict"
    record "$id" "$kind" "$label" "$cmd" "$json" "FAIL" "$verdict"
  fi
}

skip_case() { # id kind label reason
  log "SKIP case $1: $4"
  record "$1" "$2" "$3" "" "" "skip" "$4"
}

peer_or_skip() { # tool id kind label cmd specs...
  local tool=$1; shift
  if [[ -n ${SKIP_REASON[$tool]:-} ]]; then skip_case "$1" "$2" "$3" "${SKIP_REASON[$tool]}"
  else stream_case "$@"; fi
}

# ----------------------------------------------------------- one-shot --
oneshot_case() { # id kind label cmd
  local id=$1 kind=$2 label=$3 cmd=$4 warm=3
  local d="$workdir/out/$id"
  cmd=${cmd//@D@/$d}
  local json="$results/$id.json"
  log "case $id: $cmd  (warm-up $warm, $oneshot_runs runs, no shell)"
  # The file is created once and appended to by every run, as a log is.
  if ! hyperfine -N --style basic --warmup "$warm" --runs "$oneshot_runs" \
      --setup "sh -c 'rm -rf $d && mkdir -p $d && sync'" \
      --command-name "$id" --export-json "$json" "$cmd" >&2; then
    fail_loudly "$id: command failed under hyperfine: $cmd"
    record "$id" "$kind" "$label" "$cmd" "" "FAIL" "command failed"
    return 0
  fi
  local verdict
  if verdict=$(check "count:$d/f.log:$((warm + oneshot_runs))") &&
     [[ $(tail -n1 "$d/f.log") == *"$ONESHOT_MSG" ]]; then
    log "check $id: OK ($verdict)"
    record "$id" "$kind" "$label" "$cmd" "$json" "ok" "$verdict"
  else
    fail_loudly "$id: $verdict (or last line is not the message)"
    record "$id" "$kind" "$label" "$cmd" "$json" "FAIL" "$verdict"
  fi
}

# ---------------------------------------------------------------- run --
t_start=$(date +%s)
log "streaming cases: $size_h input, $runs runs each (warm-up 1)"
IN=@IN@

stream_case tee peer '`tee -a f`' "tee -a @D@/f.log >/dev/null < $IN" "cmp:@D@/f.log"
stream_case cat peer '`cat >> f`' "cat >> @D@/f.log < $IN" "cmp:@D@/f.log"
stream_case durable peer 'durable copy: `tee -a f && sync f`' \
  "tee -a @D@/f.log >/dev/null < $IN && sync @D@/f.log" "cmp:@D@/f.log"
# s6-log and multilog rotate at a size; both top out near 16 MiB for multilog,
# so both get s16777215, and n1000 so that no rotated file is deleted.
peer_or_skip s6-log s6log peer '`s6-log T` (s16777215)' \
  "s6-log n1000 s16777215 T @D@/log < $IN" "logdir:@D@/log"
peer_or_skip multilog multilog peer '`multilog t` (s16777215)' \
  "multilog t s16777215 n1000 @D@/log < $IN" "logdir:@D@/log"
# svlogd takes size/count from DIR/config; n0 = never delete old files.
peer_or_skip svlogd svlogd peer '`svlogd -tt` (s16777215)' \
  "svlogd -tt @D@/log < $IN" "logdir:@D@/log" -- \
  "mkdir -p @D@/log && printf 's16777215\\nn0\\n' > @D@/log/config"
if ((size <= 64 * MIB || with_ts)); then
  peer_or_skip ts ts peer "\`ts '$TS_FORMAT'\`" \
    "ts '$TS_FORMAT' >> @D@/f.log < $IN" "lines:@D@/f.log"
else
  skip_case ts peer "\`ts '$TS_FORMAT'\`" "ts is very slow: only run at 64MiB or less, or with --with-ts"
fi
# rotatelogs with a daily rotation time writes DIR/f.<epoch of the day>.
peer_or_skip rotatelogs rotatelogs peer '`rotatelogs f 86400`' \
  "rotatelogs -f @D@/f 86400 < $IN" "alldir:@D@"
# cronolog exits 3 at end of input; that is its normal end.
peer_or_skip cronolog cronolog peer '`cronolog %Y-%m-%d.log`' \
  "cronolog @D@/%Y-%m-%d.log < $IN; test \$? -eq 3" "alldir:@D@"

R=$rlog
stream_case rlog_default rlog 'rlog, default pattern' \
  "$R --path @D@/f.log < $IN" "stamped:@D@/f.log"
stream_case rlog_message rlog "rlog --format '%{message}'" \
  "$R --path @D@/f.log --format '%{message}' < $IN" "cmp:@D@/f.log"
stream_case rlog_nosync rlog 'rlog --no-sync' \
  "$R --path @D@/f.log --no-sync < $IN" "stamped:@D@/f.log"
stream_case rlog_four rlog 'rlog, four --path' \
  "$R -p @D@/a.log -p @D@/b.log -p @D@/c.log -p @D@/d.log < $IN" \
  "stamped:@D@/a.log" "stamped:@D@/b.log" "stamped:@D@/c.log" "stamped:@D@/d.log"
if ((have_json)); then
  stream_case rlog_json rlog 'rlog --json' "$R --path @D@/f.log --json < $IN" "json:@D@/f.log"
else
  skip_case rlog_json rlog 'rlog --json' "this rlog binary rejects --json"
fi

log "one-shot cases: $oneshot_runs runs each"
oneshot_case write_nosync rlog 'rlog write --no-sync' \
  "$R write --no-sync --path @D@/f.log '$ONESHOT_MSG'"
oneshot_case printf_append peer '`sh -c printf >> f`' \
  "sh -c 'printf \"%s\\n\" \"$ONESHOT_MSG\" >> @D@/f.log'"
oneshot_case write_sync rlog 'rlog write' \
  "$R write --path @D@/f.log '$ONESHOT_MSG'"
oneshot_case printf_sync peer '`sh -c printf >> f && sync f`' \
  "sh -c 'printf \"%s\\n\" \"$ONESHOT_MSG\" >> @D@/f.log && sync @D@/f.log'"

# --------------------------------------------------------------- RSS --
# rss_case ID SIZE_MIB ARGS...: one run under /usr/bin/time, outputs checked.
rss_case() {
  local id=$1 mib=$2; shift 2
  local in d="$workdir/out/rss-$id-$mib" kib verdict="" args=() a
  in=$(input_path $((mib * MIB)))
  for a in "$@"; do args+=("${a//@D@/$d}"); done
  rm -rf "$d" && mkdir -p "$d" && sync
  if ! /usr/bin/time -f %M -o "$results/rss-$id-$mib.txt" "$rlog" "${args[@]}" <"$in" 2>"$results/rss-$id-$mib.err"; then
    fail_loudly "rss $id ${mib}MiB: rlog failed: $(tail -n3 "$results/rss-$id-$mib.err")"
    printf '%s\t%s\t\tFAIL\n' "$id" "$mib" >>"$RSS_TSV"
    return 0
  fi
  kib=$(tail -n1 "$results/rss-$id-$mib.txt")
  # line counts only: a full cmp of 512 MiB per file adds little here
  local f bad=0 n want
  want=$(wc -l <"$in")
  for f in "$d"/*.log; do
    if [[ ! -f $f ]]; then bad=1; verdict="no output file in $d"; continue; fi
    n=$(wc -l <"$f")
    [[ $n == "$want" ]] || { bad=1; verdict="$(basename "$f") has $n lines, input $want"; }
  done
  if ((bad)); then
    fail_loudly "rss $id ${mib}MiB: $verdict"
    printf '%s\t%s\t%s\tFAIL\n' "$id" "$mib" "$kib" >>"$RSS_TSV"
  else
    log "rss $id ${mib}MiB: $((kib / 1024)).$(((kib % 1024) * 10 / 1024)) MiB"
    printf '%s\t%s\t%s\tok\n' "$id" "$mib" "$kib" >>"$RSS_TSV"
  fi
  rm -rf "$d"
}

if ((do_rss && have_time)); then
  log "peak RSS of each rlog case on ${RSS_SIZES[*]} MiB inputs"
  for m in "${RSS_SIZES[@]}"; do
    rss_case rlog_default "$m" --path @D@/f.log
    rss_case rlog_message "$m" --path @D@/f.log --format '%{message}'
    rss_case rlog_nosync "$m" --path @D@/f.log --no-sync
    rss_case rlog_four "$m" -p @D@/a.log -p @D@/b.log -p @D@/c.log -p @D@/d.log
    if ((have_json)); then rss_case rlog_json "$m" --path @D@/f.log --json; fi
  done
fi

rm -rf "$workdir/out"   # up to ~5 GiB at 512MiB; the checks are done
elapsed=$(($(date +%s) - t_start))

# ------------------------------------------------------------ report --
fs_type=$(df -T "$workdir" | awk 'NR == 2 { print $2 }')
fs_dev=$(df -T "$workdir" | awk 'NR == 2 { print $1 " mounted on " $7 }')
fs_stat=$(stat -f -c %T "$workdir")
mount_opts=$(findmnt -n -o OPTIONS --target "$workdir" 2>/dev/null || true)
cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)
mem_total=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
versions=$(dpkg-query -W -f '${Package} ${Version}\n' hyperfine s6 daemontools runit moreutils \
  apache2-utils cronolog coreutils 2>/dev/null | paste -sd ';' - || true)
repro="bench/compare.sh"
if ((${#ORIG_ARGS[@]})); then repro+=$(printf ' %q' "${ORIG_ARGS[@]}"); fi

META="$results/meta.env"
{
  printf 'date=%s\n' "$(date '+%Y-%m-%d %H:%M:%S %z')"
  printf 'nproc=%s\n' "$(nproc)"
  printf 'cpu=%s\n' "$cpu_model"
  printf 'mem=%s\n' "$mem_total"
  printf 'kernel=%s\n' "$(uname -r)"
  printf 'fs=%s (stat -f: %s) on %s, options %s\n' "$fs_type" "$fs_stat" "$fs_dev" "$mount_opts"
  printf 'workdir=%s\n' "$workdir"
  printf 'input=%s\n' "$INPUT"
  printf 'input_bytes=%s\n' "$input_bytes"
  printf 'input_lines=%s\n' "$input_lines"
  printf 'size_h=%s\n' "$size_h"
  printf 'runs=%s\n' "$runs"
  printf 'oneshot_runs=%s\n' "$oneshot_runs"
  printf 'rlog=%s\n' "$rlog"
  printf 'rlog_version=%s\n' "$rlog_version"
  printf 'rlog_commit=%s\n' "$rlog_commit"
  printf 'versions=%s\n' "$versions"
  printf 'hyperfine=%s\n' "$(hyperfine --version)"
  printf 'repro=%s\n' "$repro"
  printf 'elapsed=%s\n' "$elapsed"
  printf 'rss_sizes=%s\n' "${RSS_SIZES[*]}"
} >"$META"

mkdir -p "$(dirname "$out")"
status=0
python3 "$REPORT" --results "$results" --out "$out" || status=$?
log "report written to $out (${elapsed}s of benchmarking)"
# report.py prints the summary table to stdout and exits 3 when a target is missed
if ((${#failures[@]})); then
  printf '\n!!! %d CHECK(S) FAILED:\n' "${#failures[@]}" >&2
  printf '!!!   %s\n' "${failures[@]}" >&2
  exit 1
fi
if ((status == 3)); then
  ((strict)) && exit 3
  exit 0
fi
exit "$status"
