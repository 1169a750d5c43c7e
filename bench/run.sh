#!/usr/bin/env bash
# bench/run.sh: lossd's benchmarks, every comparison measured side by side in one run.
#   bench/run.sh [--quick] [--kernel-targets] [--only LIST] [--http-servers LIST]
#                [--before OLD_BUILD] [--out DIR] [--no-publish] [--no-pin] BUILD_DIR
# --only takes a comma-separated subset of: kernels,torch,json,http,large,memory,clients
# (default all; a subset is never published; `--only http` is the small-request section
# alone, about 3 minutes). --http-servers limits that section to some of
# lossd,nginx,nginx_same,fastapi,fastapi_plain. --before also measures OLD_BUILD/lossd in the
# memory section, in the same run (rows "json_before", "v2_before").
# --kernel-targets: the kernel and torch sections at the kernel targets' points only (float32,
# N=1e6 and 1e7, 1 thread, every case; a few minutes): bench/run.sh --kernel-targets build
# Results are TSV files in DIR (default bench/out), then bench/report.py writes
# DIR/PERFORMANCE.md and the PNG plots; a full run (not --quick, every section) also publishes
# them as bench/PERFORMANCE.md and bench/plots/. --quick takes under 3 minutes, a full run
# under 15.
# Load tests only ever target 127.0.0.1, are bounded in time, and every server started here is
# stopped on exit. With 2+ CPUs, servers are pinned to CPU 0 and the load generator to CPU 1
# (--no-pin leaves placement to the scheduler).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
QUICK=0
ALL=kernels,torch,json,http,large,memory,clients
ONLY=$ALL
HTTP_SERVERS=lossd,nginx,nginx_same,fastapi,fastapi_plain
TARGETS=0
BEFORE=
OUT=$HERE/out
PUBLISH=1
PIN=1
BUILD=

usage() { sed -n '2,16p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --kernel-targets) TARGETS=1; ONLY=kernels,torch; PUBLISH=0 ;;
    --only) ONLY=$2; shift ;;
    --http-servers) HTTP_SERVERS=$2; shift ;;
    --before) BEFORE=$(cd "$2" && pwd); shift ;;
    --out) OUT=$2; shift ;;
    --no-publish) PUBLISH=0 ;;
    --no-pin) PIN=0 ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) BUILD=$1 ;;
  esac
  shift
done
[ -n "$BUILD" ] || usage
BUILD=$(cd "$BUILD" && pwd)
[ "$QUICK" = 1 ] && PUBLISH=0
[ "$ONLY" = "$ALL" ] || PUBLISH=0 # a partial run never replaces the published full one
wants() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

PKGS=(curl python3-matplotlib python3-numpy)
if wants kernels || wants torch || wants json || wants http || wants large || wants clients; then
  PKGS+=(wrk nginx python3-torch python3-fastapi python3-uvicorn python3-uvloop
    python3-httptools)
fi
"$ROOT/scripts/ensure-packages.sh" "${PKGS[@]}"

mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/lossd-bench.XXXXXX)
chmod 755 "$TMP" # nginx workers drop to nobody and must reach their temp paths
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then
  SERVER_CPU=(taskset -c 0)
  CLIENT_CPU=(taskset -c 1)
else
  SERVER_CPU=()
  CLIENT_CPU=()
fi

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_http URL: polls until the server answers (any status), at most 10 s.
wait_http() {
  for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  log "no answer from $1"
  return 1
}

# start NAME CMD...: starts a server in the background (pinned when possible), records its
# pid in PIDS and in the variable SERVER_PID. Its output goes to $TMP/NAME.log.
start() {
  local name=$1; shift
  "${SERVER_CPU[@]}" "$@" >"$TMP/$name.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
}

stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# sched_ns PID: "run_ns wait_ns" summed over the threads of PID and of its child processes
# (nginx's worker): CPU time spent running, and time spent runnable but waiting for a CPU
# (/proc/*/schedstat). On a shared machine the second says how much other work got in the way.
sched_ns() {
  local pid t a b r=0 w=0
  for pid in "$1" $(pgrep -P "$1" || true); do
    for t in /proc/"$pid"/task/*/schedstat; do
      read -r a b _ <"$t" 2>/dev/null || continue
      r=$((r + a)) w=$((w + b))
    done
  done
  echo "$r $w"
}

# wrk_server PID URL CONNS SECONDS BODY CTYPE [HDRLEN]: wrk_run, with the server's CPU and
# run-queue wait over the run appended to the WRK line (nanoseconds).
wrk_server() {
  local pid=$1 before after line r0 w0 r1 w1
  shift
  before=$(sched_ns "$pid")
  line=$(wrk_run "$@")
  after=$(sched_ns "$pid")
  read -r r0 w0 <<<"$before"
  read -r r1 w1 <<<"$after"
  [ -n "$line" ] && echo "$line $((r1 - r0)) $((w1 - w0))"
}

# wrk_run URL CONNS SECONDS BODY CTYPE [HDRLEN]: one bounded wrk run; prints the WRK line.
wrk_run() {
  local url=$1 conns=$2 secs=$3 body=$4 ctype=$5 hdr=${6:-}
  timeout $((secs + 90)) "${CLIENT_CPU[@]}" wrk -t1 -c"$conns" -d"${secs}s" --timeout 60s \
    --latency -s "$HERE/post.lua" "$url" -- "$body" "$ctype" "$hdr" | grep '^WRK ' || true
}

write_meta() {
  local f=$OUT/meta.tsv cpu
  cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) (family $(
    sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo | head -1), model $(
    sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo | head -1))"
  {
    printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf 'mode\t%s\n' "$([ "$QUICK" = 1 ] && echo quick || echo full)"
    printf 'cpu\t%s\n' "$cpu"
    printf 'cpus\t%s\n' "$(nproc)"
    printf 'cache\t%s\n' "$(lscpu | sed -n 's/^L[23] cache:[[:space:]]*//p' | paste -sd/ -)"
    printf 'isa_flags\t%s\n' "$(grep -o -w -E 'avx512f|avx2|fma' /proc/cpuinfo | sort -u | paste -sd' ' -)"
    printf 'kernel\t%s\n' "$(uname -r)"
    printf 'memory\t%s\n' "$(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
    printf 'commit\t%s\n' "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
    printf 'gcc\t%s\n' "$(gcc -dumpfullversion)"
    printf 'torch\t%s\n' "$("$PY" -c 'import torch; print(torch.__version__)')"
    printf 'nginx\t%s\n' "$(nginx -v 2>&1 | sed 's/.*nginx\///')"
    printf 'fastapi\t%s\n' "$("$PY" -c 'import fastapi, uvicorn; print("fastapi", fastapi.__version__, "uvicorn", uvicorn.__version__)')"
    printf 'pinned\t%s\n' "$([ ${#SERVER_CPU[@]} -gt 0 ] && echo yes || echo no)"
    printf 'load_start\t%s\n' "$(loadavg)"
  } >"$f"
}

section_load() { printf 'load_%s\t%s\n' "$1" "$(loadavg)" >>"$OUT/meta.tsv"; }

# ---- 1. kernels: bench_core (with its paired probe) and PyTorch, same sizes and threads ----
# The largest sizes run a representative subset: every loss there would take minutes.
BIG_CASES=mse,mae,huber,hinge,bce_with_logits,sigmoid_focal,cross_entropy_C10,triplet_margin_D128

# bench_core and bench_json run with OpenBLAS single-threaded from the start: with 2 CPUs its
# server thread otherwise spun in sched_yield through whole bench_core runs, competing with the
# pool's second thread (openblas_set_num_threads(1) in main does not stop it there).
core_bench() {
  local tool=$1
  shift
  OPENBLAS_NUM_THREADS=1 "$BUILD/$tool" "$@"
}

run_kernels() {
  local sizes f64sizes big
  if [ "$TARGETS" = 1 ]; then
    log "kernels: float32 1e6,1e7, 1 thread, every case"
    core_bench bench_core --dtype float32 --sizes 1e6,1e7 --threads 1 >"$OUT/kernels.tsv"
    section_load kernels
    return
  fi
  if [ "$QUICK" = 1 ]; then sizes=1e3,1e5,1e6; big=1e7; f64sizes=1e6; else
    sizes=1e3,1e4,1e5,1e6,1e7; big=5e7; f64sizes=1e5,1e6; fi
  log "kernels: float32 $sizes (+ $big for a subset), float64 $f64sizes, 1 and 2 threads"
  {
    core_bench bench_core --dtype float32 --sizes "$sizes" --threads both
    core_bench bench_core --dtype float32 --sizes "$big" --threads both --loss "$BIG_CASES" |
      grep -v '^#'
    core_bench bench_core --dtype float64 --sizes "$f64sizes" --threads both | grep -v '^#'
  } >"$OUT/kernels.tsv"
  section_load kernels
}

# PyTorch on the same cases, sizes and thread counts (its largest size and float64 on fewer
# cases: PyTorch is the slow side, and a full run must stay within 15 minutes).
# PyTorch at its fastest: glibc's allocator keeps freed tensors instead of unmapping them (by
# default, tensors above its mmap threshold are mapped and faulted in again every iteration,
# and which state a process lands in varied PyTorch's speed up to 10x from run to run).
torch_bench() {
  MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=4294967296 \
    MALLOC_TOP_PAD_=268435456 "$PY" "$HERE/torch_bench.py" "$@"
}

run_torch() {
  local sizes=1e3,1e5,1e6,1e7 huge=mse,bce_with_logits,cross_entropy_C10
  [ "$QUICK" = 1 ] && sizes=1e3,1e6
  if [ "$TARGETS" = 1 ]; then
    log "torch: float32 1e6,1e7, 1 thread, every case"
    torch_bench --sizes 1e6,1e7 --threads 1 --dtype float32 >"$OUT/torch.tsv"
    section_load torch
    return
  fi
  log "torch: float32 $sizes (+ 1e7 or 5e7 for a subset), float64 on a subset"
  {
    torch_bench --sizes "$sizes" --threads both --dtype float32
    if [ "$QUICK" = 1 ]; then
      torch_bench --sizes 1e7 --threads 1 --reps 3 --case "$BIG_CASES" |
        grep -v '^#'
      torch_bench --sizes 1e6 --threads 1 --dtype float64 --case "$huge" |
        grep -v '^#'
    else
      torch_bench --sizes 5e7 --threads 1 --reps 3 --case "$huge" |
        grep -v '^#'
      torch_bench --sizes 1e5,1e6 --threads both --dtype float64 \
        --case "$BIG_CASES" | grep -v '^#'
    fi
  } >"$OUT/torch.tsv"
  section_load torch
}

# ---- JSON decode micro-benchmark (needs the api layer) ----
run_json() {
  if [ ! -x "$BUILD/bench_json" ]; then log "json: $BUILD/bench_json not built, skipped"; return; fi
  local n=1e6
  [ "$QUICK" = 1 ] && n=2e5
  log "json: api decode vs cJSON vs strtod, 2 x $n numbers"
  core_bench bench_json --n "$n" >"$OUT/json.tsv"
  section_load json
}

# lossd sized to the one CPU it is given, as nginx and uvicorn get one worker: one compute
# worker and one HTTP thread (the defaults size both to the CPUs there are).
lossd_cmd() {
  LOSSD_CMD=("$BUILD/lossd" --bind 127.0.0.1 --port "$1" --workers 1 --http-threads 1
    --max-body 1G)
}

# nginx_conf DIR PORT BODY_FILE: writes DIR/nginx.conf from nginx-bench.conf, answering every
# request with 200 and the bytes of BODY_FILE (escaped for an nginx single-quoted string).
nginx_conf() {
  "$PY" - "$HERE/nginx-bench.conf" "$1" "$2" "$3" <<'PYEOF'
import sys
tmpl, prefix, port, body_file = sys.argv[1:]
body = open(body_file).read()
if "$" in body:
    sys.exit("nginx would read $ in the reply as a variable")
body = body.replace("\\", "\\\\").replace("'", "\\'")
conf = open(tmpl).read().replace("@PREFIX@", prefix).replace("@PORT@", port)
open(prefix + "/nginx.conf", "w").write(conf.replace("@BODY@", body))
PYEOF
}

# serve NAME PORT: starts one of the compared servers on PORT and waits until it answers.
# nginx answers '{"status":"ok"}' (15 bytes); nginx_same answers lossd's own reply to the
# benchmark request ($TMP/lossd_reply, which lossd must have written first).
serve() {
  local name=$1 port=$2
  case "$name" in
    lossd) lossd_cmd "$port"; start lossd "${LOSSD_CMD[@]}" ;;
    nginx | nginx_same)
      mkdir -p "$TMP/$name"
      if [ "$name" = nginx ]; then printf '{"status":"ok"}' >"$TMP/nginx.body"; else
        cp "$TMP/lossd_reply" "$TMP/nginx_same.body" || return 1; fi
      nginx_conf "$TMP/$name" "$port" "$TMP/$name.body" || return 1
      start "$name" nginx -p "$TMP/$name" -c "$TMP/$name/nginx.conf" -e "$TMP/$name/error.log" ;;
    fastapi) start fastapi "$PY" "$HERE/fastapi_app.py" --port "$port" ;;
    fastapi_plain) start fastapi_plain "$PY" "$HERE/fastapi_app.py" --port "$port" --plain ;;
  esac
  wait_http "http://127.0.0.1:$port/healthz"
}

# check_reply URL BODY CTYPE [HDRLEN]: one request; fails unless the status is 200.
check_reply() {
  local code
  code=$(curl -s -o "$TMP/reply" -w '%{http_code}' --max-time 60 -X POST \
    -H "Content-Type: $3" ${4:+-H "Inference-Header-Content-Length: $4"} \
    --data-binary "@$2" "$1")
  [ "$code" = 200 ] || { log "$1 answered $code: $(head -c 300 "$TMP/reply")"; return 1; }
}

# ---- 2. small requests: lossd vs nginx vs FastAPI, wrk -c16 and -c64 ----
# All the servers run at once (idle ones cost nothing) and the wrk runs alternate between
# them, round after round: a burst of load from elsewhere on the machine then hits every
# server alike. report.py takes medians over the rounds, and for lossd against nginx_same
# (nginx sending lossd's own reply, byte for byte) the median of each round's ratio of server
# CPU per request: the two runs of a round are seconds apart, under the same load.
run_http() {
  local secs=2 rounds=7 body=$TMP/small.json server conns port line round
  local -A url=() pid=()
  local servers=()
  [ "$QUICK" = 1 ] && { secs=2; rounds=3; }
  "$PY" "$HERE/gen_body.py" json 100 "$body"
  [ -x "$BUILD/lossd" ] || log "http: $BUILD/lossd not built: lossd rows skipped"
  : >"$OUT/http.tsv"
  for server in lossd nginx_same nginx fastapi fastapi_plain; do
    case ",$HTTP_SERVERS," in *",$server,"*) ;; *) continue ;; esac
    case "$server" in lossd*) [ -x "$BUILD/lossd" ] || continue ;; esac
    port=$(free_port)
    serve "$server" "$port" || { stop "$SERVER_PID"; continue; }
    url[$server]=http://127.0.0.1:$port/v1/loss/mse
    pid[$server]=$SERVER_PID
    servers+=("$server")
    case "$server" in
      lossd) check_reply "${url[$server]}" "$body" application/json &&
        cp "$TMP/reply" "$TMP/lossd_reply" || true ;;
      fastapi*) check_reply "${url[$server]}" "$body" application/json || true ;;
    esac
    wrk_run "${url[$server]}" 16 2 "$body" application/json >/dev/null # warm-up
  done
  for round in $(seq "$rounds"); do
    # lossd and nginx_same run back to back, in turn first (ABBA): drift in the machine's
    # load then favours neither.
    local order=("${servers[@]}")
    if [ $((round % 2)) = 0 ]; then
      order=()
      for server in "${servers[@]}"; do order=("$server" "${order[@]}"); done
    fi
    for conns in 16 64; do
      for server in "${order[@]}"; do
        log "http: round $round/$rounds, $server -c$conns ${secs}s"
        line=$(wrk_server "${pid[$server]}" "${url[$server]}" "$conns" "$secs" "$body" \
          application/json)
        [ -n "$line" ] && printf 'http\t%s\t%s\t%s\t%s\n' "$server" "$conns" "$round" \
          "$(echo "$line" | cut -d' ' -f2- | tr ' ' '\t')" >>"$OUT/http.tsv"
      done
    done
  done
  for server in "${!pid[@]}"; do stop "${pid[$server]}"; done
  printf 'body_bytes\t%s\n' "$(stat -c %s "$body")" >>"$OUT/meta.tsv"
  [ -f "$TMP/lossd_reply" ] &&
    printf 'reply_bytes\t%s\n' "$(stat -c %s "$TMP/lossd_reply")" >>"$OUT/meta.tsv"
  printf 'http_rounds\t%s rounds of %s s\n' "$rounds" "$secs" >>"$OUT/meta.tsv"
  section_load http
}

# ---- 3. large requests: 1e6 + 1e6 floats with the gradient back, one connection ----
large_case() { # LABEL SERVER PATH BODY CTYPE HDRLEN SECS
  local label=$1 server=$2 path=$3 body=$4 ctype=$5 hdr=$6 secs=$7 port line
  port=$(free_port)
  serve "$server" "$port" || { stop "$SERVER_PID"; return; }
  if check_reply "http://127.0.0.1:$port$path" "$body" "$ctype" "$hdr"; then
    log "large: $label ${secs}s"
    line=$(wrk_server "$SERVER_PID" "http://127.0.0.1:$port$path" 1 "$secs" "$body" "$ctype" \
      "$hdr")
    [ -n "$line" ] && printf 'large\t%s\t%s\t%s\n' "$label" "$(stat -c %s "$body")" \
      "$(echo "$line" | cut -d' ' -f2- | tr ' ' '\t')" >>"$OUT/large.tsv"
  fi
  stop "$SERVER_PID"
}

run_large() {
  local n=1e6 secs=10 hdr32 hdr64
  [ "$QUICK" = 1 ] && { n=2e5; secs=4; }
  "$PY" "$HERE/gen_body.py" json "$n" "$TMP/large.json"
  hdr32=$("$PY" "$HERE/gen_body.py" v2 "$n" FP32 "$TMP/large32.bin")
  hdr64=$("$PY" "$HERE/gen_body.py" v2 "$n" FP64 "$TMP/large64.bin")
  printf 'large_n\t%s\n' "$n" >>"$OUT/meta.tsv"
  : >"$OUT/large.tsv"
  if [ -x "$BUILD/lossd" ]; then
    large_case lossd_v1_json lossd /v1/loss/mse "$TMP/large.json" application/json "" "$secs"
    large_case lossd_v2_fp32 lossd /v2/models/mse/infer "$TMP/large32.bin" \
      application/octet-stream "$hdr32" "$secs"
    large_case lossd_v2_fp64 lossd /v2/models/mse/infer "$TMP/large64.bin" \
      application/octet-stream "$hdr64" "$secs"
  fi
  large_case fastapi_json fastapi /v1/loss/mse "$TMP/large.json" application/json "" \
    $((secs * 2))
  section_load large
}

# ---- 4. memory: lossd's peak RSS after requests of growing size, a fresh daemon per size ----
vm_hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

memory_case() { # N KIND(json|v2) [BUILD label-suffix]
  local n=$1 kind=$2 build=${3:-$BUILD} suffix=${4:-} port body hdr="" ctype=application/json
  local path=/v1/loss/mse base peak
  port=$(free_port)
  body=$TMP/mem.$kind
  if [ "$kind" = json ]; then "$PY" "$HERE/gen_body.py" json "$n" "$body"; else
    hdr=$("$PY" "$HERE/gen_body.py" v2 "$n" FP32 "$body")
    ctype=application/octet-stream path=/v2/models/mse/infer; fi
  lossd_cmd "$port"
  LOSSD_CMD[0]=$build/lossd
  start lossd "${LOSSD_CMD[@]}"
  wait_http "http://127.0.0.1:$port/healthz" || { stop "$SERVER_PID"; return; }
  base=$(vm_hwm_kb "$SERVER_PID")
  local ok=1
  for _ in 1 2 3; do
    check_reply "http://127.0.0.1:$port$path" "$body" "$ctype" "$hdr" || { ok=0; break; }
  done
  peak=$(vm_hwm_kb "$SERVER_PID")
  [ "$ok" = 1 ] && printf 'memory\t%s\t%s\t%s\t%s\t%s\n' "$kind$suffix" "$n" \
    "$(stat -c %s "$body")" "$base" "$peak" >>"$OUT/memory.tsv"
  stop "$SERVER_PID"
}

run_memory() {
  [ -x "$BUILD/lossd" ] || { log "memory: $BUILD/lossd not built, skipped"; return; }
  local sizes="1e3 1e4 1e5 1e6 3e6" n kind
  [ "$QUICK" = 1 ] && sizes="1e3 1e5 1e6"
  : >"$OUT/memory.tsv"
  for kind in json v2; do
    for n in $sizes; do
      log "memory: $kind n=$n"
      memory_case "$n" "$kind"
      if [ -n "$BEFORE" ] && [ -x "$BEFORE/lossd" ]; then
        log "memory: $kind n=$n (before: $BEFORE)"
        memory_case "$n" "$kind" "$BEFORE" _before
      fi
    done
  done
  section_load memory
}

# The client packages against a raw socket, raw fetch and in-process PyTorch
# (bench/bench_clients.py; unpinned: the client, the server and PyTorch share both CPUs).
run_clients() {
  log "clients: 1e6 float32 mse + gradient, Python/Node clients vs raw socket/fetch vs torch"
  local rounds=9
  [ "$QUICK" = 1 ] && rounds=3
  "$PY" "$HERE/bench_clients.py" --lossd "$BUILD/lossd" --rounds "$rounds" --reps 10 \
    --tsv "$OUT/clients.tsv" --md "$OUT/clients.md" >&2
  [ "$PUBLISH" = 1 ] && cp "$OUT/clients.md" "$HERE/CLIENTS.md"
  section_load clients
}

# The whole run is one function, read in full before it starts: editing this file during a
# run cannot change what the run does.
main() {
  write_meta
  if wants kernels; then run_kernels; fi
  if wants torch; then run_torch; fi
  if wants json; then run_json; fi
  if wants http; then run_http; fi
  if wants large; then run_large; fi
  if wants memory; then run_memory; fi
  if wants clients; then run_clients; fi
  log "report"
  local publish=()
  [ "$PUBLISH" = 1 ] && publish=(--publish)
  "$PY" "$HERE/report.py" "$OUT" "${publish[@]}"
  log "done: $OUT/PERFORMANCE.md"
}
main
exit
