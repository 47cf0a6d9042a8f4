#!/usr/bin/env bash
# earshot benchmarks: speed, memory and the upstream budget. One command:
#
#   scripts/bench.sh                 # everything (~20–25 min), rewrites BENCHMARKS.md
#   scripts/bench.sh budget memory   # a subset; other sections keep their last results
#   scripts/bench.sh report          # only reassemble BENCHMARKS.md from the kept results
#
# Sections: throughput latency render memory weight coalescing budget coldstart abuse cluster
# defaults browser history
#
# Loopback only. Installs what it needs (apt: wrk nginx redis-server; cargo install: oha), builds
# the release binary and the load tool (examples/loadgen.rs) itself, and stops every
# process it started. Results of each section are kept under $RESULTS (in the cargo
# target dir) and BENCHMARKS.md is assembled from them.
#
# Knobs (environment): BENCH_WRK_SECS (10), BENCH_WRK_CONN (32), BENCH_WRK_THREADS (1),
# BENCH_WRK_ROUNDS (3: alternating runs per server and route),
# BENCH_OHA_SECS (5) and BENCH_OHA_RUNS (5): the latency section's oha runs and rounds,
# BENCH_BUDGET_SECS (120: the issue's two minutes),
# BENCH_SCALE (32: demo world copies for the budget, ~18 live Spaces each),
# BENCH_ABUSE_SECS (30: each random-id flood), BENCH_ABUSE_RSS_SECS (60: the memory flood),
# BENCH_ABUSE_LORIS (1000: slowloris connections), BENCH_ABUSE_OHA_SECS (10) and
# BENCH_ABUSE_RATE (200 req/s): the cached page's latency with and without the loris,
# BENCH_CLUSTER_SECS (120: each economy window), BENCH_CLUSTER_BROWSERS (1000),
# BENCH_CLUSTER_SPACES (150) and BENCH_CLUSTER_COLD (30: cold pages per case): the
# cluster section (1 replica, then 3 behind nginx with Redis; scripts/cluster.sh),
# BENCH_OUTAGE_AT (45) and BENCH_OUTAGE_SECS (30): when Redis is killed and for how long.
# BENCH_HISTORY_SPACES (10000), BENCH_HISTORY_SAMPLES (480: two hours at a 15 s live
# TTL) and BENCH_HISTORY_SCALE (556: demo copies, ~10,000 live Spaces): the history section.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
export CARGO_TARGET_DIR=$TARGET
BIN=$TARGET/release/earshot
LOADGEN=$TARGET/release/examples/loadgen
OPENLOOP=$TARGET/release/examples/openloop
RESULTS=$TARGET/bench-results
WORK=$(mktemp -d /tmp/earshot-bench.XXXXXX)
chmod 755 "$WORK" # nginx workers (user nobody when started as root) read files under it
KEY=bench-key
WRK_SECS=${BENCH_WRK_SECS:-10}
WRK_CONN=${BENCH_WRK_CONN:-32}
WRK_THREADS=${BENCH_WRK_THREADS:-1}
WRK_ROUNDS=${BENCH_WRK_ROUNDS:-3}
OHA_SECS=${BENCH_OHA_SECS:-5}
OHA_RUNS=${BENCH_OHA_RUNS:-5}
BUDGET_SECS=${BENCH_BUDGET_SECS:-120}
SCALE=${BENCH_SCALE:-32}
ABUSE_SECS=${BENCH_ABUSE_SECS:-30}
ABUSE_RSS_SECS=${BENCH_ABUSE_RSS_SECS:-60}
ABUSE_LORIS=${BENCH_ABUSE_LORIS:-1000}
ABUSE_OHA_SECS=${BENCH_ABUSE_OHA_SECS:-10}
ABUSE_RATE=${BENCH_ABUSE_RATE:-200}
CLUSTER_SECS=${BENCH_CLUSTER_SECS:-120}
CLUSTER_BROWSERS=${BENCH_CLUSTER_BROWSERS:-1000}
CLUSTER_SPACES=${BENCH_CLUSTER_SPACES:-150}
CLUSTER_COLD=${BENCH_CLUSTER_COLD:-30}
OUTAGE_AT=${BENCH_OUTAGE_AT:-45}
OUTAGE_SECS=${BENCH_OUTAGE_SECS:-30}
FLOOD=$TARGET/release/examples/flood
ALL_SECTIONS="throughput latency render memory weight coalescing budget coldstart abuse cluster defaults browser history"
mkdir -p "$RESULTS"

PIDS=()
CLUSTERS=() # run directories of scripts/cluster.sh topologies still up
cleanup() {
    local dir
    for dir in "${CLUSTERS[@]}"; do
        CLUSTER_DIR=$dir "$ROOT/scripts/cluster.sh" stop 2>/dev/null || true
    done
    CLUSTERS=()
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '\n== %s\n' "$*" >&2; }

# ------------------------------------------------------------------ tools

need_tools() {
    command -v python3 >/dev/null || { echo "python3 is needed to parse results" >&2; exit 1; }
    command -v curl >/dev/null || apt-get install -y curl
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]} (apt)"
        if [ "$(id -u)" = 0 ]; then apt-get install -y "${missing[@]}"; else sudo apt-get install -y "${missing[@]}"; fi
    fi
    if ! command -v oha >/dev/null; then
        log "installing oha (cargo install oha --locked; a few minutes)"
        cargo install oha --locked
    fi
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

build() {
    log "building release binary and load tool"
    cargo build --release --bin earshot --example loadgen --example openloop --example flood
}

# ------------------------------------------------------------------ processes

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() { # url [header]
    local url=$1 i
    for i in $(seq 1 400); do
        if curl -fsS -o /dev/null ${2:+-H "$2"} "$url" 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "timed out waiting for $url" >&2
    return 1
}

# start_demo SCALE [X_RATE_LIMIT] -> sets DEMO_PORT, DEMO_PID
start_demo() {
    DEMO_PORT=$(free_port)
    "$BIN" demo-upstream --bind "127.0.0.1:$DEMO_PORT" --api-key "$KEY" \
        --demo-scale "${1:-1}" --x-rate-limit "${2:-0}" >"$WORK/demo.$DEMO_PORT.log" 2>&1 &
    DEMO_PID=$!
    PIDS+=("$DEMO_PID")
    wait_http "http://127.0.0.1:$DEMO_PORT/__demo/stats" "X-API-KEY: $KEY"
}

# pinned CPUS -> sets PIN, the words to put before a command to pin it to CPUS
# (taskset's list; none when CPUS is empty). Words rather than a wrapper function, so a
# server started in the background is $! itself (taskset execs it), which stop() ends.
pinned() {
    PIN=()
    if [ -n "${1:-}" ]; then PIN=(taskset -c "$1"); fi
}

# start_earshot DIALECT [CPUS] -> sets SITE_PORT, SITE_PID, SITE (needs DEMO_PORT)
# One load generator stands for many visitors from one address: no per-client rate
# limit and no cap on cold lookups (`--upstream-budget 0`), whose per-client share
# would otherwise count a thousand simulated browsers as one (the abuse section runs
# earshot's defaults instead).
start_earshot() {
    SITE_PORT=$(free_port)
    pinned "${2:-}"
    EARSHOT_LOG=warn "${PIN[@]}" "$BIN" --bind "127.0.0.1:$SITE_PORT" --upstream "$1" \
        --upstream-url "http://127.0.0.1:$DEMO_PORT/" --api-key "$KEY" \
        --rate-limit 0 --upstream-budget 0 --live-ttl 15 --cache-ttl 180 >"$WORK/earshot.$SITE_PORT.log" 2>&1 &
    SITE_PID=$!
    PIDS+=("$SITE_PID")
    SITE=http://127.0.0.1:$SITE_PORT
    wait_http "$SITE/healthz"
}

stop() { # pid…
    local pid
    for pid in "$@"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    local keep=() p
    for p in "${PIDS[@]}"; do
        case " $* " in *" $p "*) ;; *) keep+=("$p") ;; esac
    done
    PIDS=("${keep[@]}")
}

demo_json() { curl -fsS -H "X-API-KEY: $KEY" "http://127.0.0.1:$DEMO_PORT$1"; }
live_ids() { demo_json "/__demo/ids?state=live&limit=$1" | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["ids"]))'; }
calls() { # endpoint names… (all client calls when none)
    demo_json /__demo/stats | python3 -c '
import json, sys
by = json.load(sys.stdin)["by_endpoint"]
names = sys.argv[1:] or [k for k in by if k not in ("stats", "ids")]
print(sum(by.get(n, 0) for n in names))' "$@"
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
metric() { curl -fsS "$SITE/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

# Each section writes $RESULTS/<n>-<name>.md; commands it ran go in the same file.
section_file() { echo "$RESULTS/$1.md"; }
stamp() { date -u '+%Y-%m-%d %H:%M UTC'; }

# ------------------------------------------------------------------ 1. throughput

wrk_run() { # label url [extra wrk args…] -> prints "rps p50ms p99ms"
    local url=$2
    shift 2
    wrk -t"$WRK_THREADS" -c"$WRK_CONN" -d"${WRK_SECS}s" --latency "$@" "$url" >"$WORK/wrk.out" 2>&1
    python3 - "$WORK/wrk.out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    n, u = re.match(r"([\d.]+)(\w+)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errors = re.search(r"Socket errors:.*", text)
print(f"{rps:.0f} {p50:.3f} {p99:.3f} {non2xx.group(1) if non2xx else 0}")
PY
}

# wrk_alternate EARSHOT_URL NGINX_URL [extra wrk args…] -> prints
# "e_rps e_p50 e_p99 e_non2xx g_rps g_p50 g_p99 g_non2xx e_runs g_runs": WRK_ROUNDS runs
# of each, alternating so both see the same drift of the machine, and the median run of
# each (by req/s); *_runs lists every run's req/s ("/"-separated).
wrk_alternate() {
    local e_url=$1 g_url=$2 i
    shift 2
    : >"$WORK/e.runs"
    : >"$WORK/g.runs"
    for i in $(seq "$WRK_ROUNDS"); do
        wrk_run earshot "$e_url" "$@" >>"$WORK/e.runs"
        wrk_run nginx "$g_url" "$@" >>"$WORK/g.runs"
    done
    python3 - "$WORK/e.runs" "$WORK/g.runs" <<'PY'
import sys
out, lists = [], []
for path in sys.argv[1:]:
    runs = [line.split() for line in open(path) if line.strip()]
    runs.sort(key=lambda r: float(r[0]))
    out += runs[len(runs) // 2]
    lists.append("/".join(r[0] for r in sorted(runs, key=lambda r: float(r[0]))))
print(" ".join(out + lists))
PY
}

start_nginx() { # root [CPUS] -> NGINX_PORT, NGINX_PID, NGINX_DIR; one worker per CPU it may use
    NGINX_PORT=$(free_port)
    NGINX_DIR=$WORK/nginx.$NGINX_PORT
    local workers
    pinned "${2:-}"
    workers=$("${PIN[@]}" nproc)
    mkdir -p "$NGINX_DIR/logs"
    # NGINX_ACCESS_LOG=1: the access log on, to a file, as nginx ships (one write a
    # request). The brotli_static module where Debian's package is installed.
    local access="access_log off;" brotli="" module=""
    [ "${NGINX_ACCESS_LOG:-0}" = 0 ] || access="access_log $NGINX_DIR/logs/access.log;"
    if [ -f /usr/lib/nginx/modules/ngx_http_brotli_static_module.so ]; then
        module="load_module /usr/lib/nginx/modules/ngx_http_brotli_static_module.so;"
        brotli="brotli_static on;"
    fi
    cat >"$NGINX_DIR/nginx.conf" <<EOF
$module
worker_processes $workers;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/logs/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
    $access
    $brotli
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    default_type text/html;
    gzip on;
    gzip_static on;
    gzip_comp_level 6;
    gzip_types text/html text/css application/javascript;
    client_body_temp_path $NGINX_DIR/tmp;
    proxy_temp_path $NGINX_DIR/tmp;
    fastcgi_temp_path $NGINX_DIR/tmp;
    uwsgi_temp_path $NGINX_DIR/tmp;
    scgi_temp_path $NGINX_DIR/tmp;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $1;
        location / { }
    }
}
EOF
    "${PIN[@]}" "$NGINX" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" >"$NGINX_DIR/logs/stdout" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    wait_http "http://127.0.0.1:$NGINX_PORT/space.html"
}

bench_throughput() {
    log "1. throughput and latency: earshot vs nginx serving the same bytes"
    start_demo 1
    start_earshot gateway
    local id
    id=$(live_ids 1 | head -1)
    local root=$WORK/www
    mkdir -p "$root"
    local -a names=(space home live embed)
    local -A paths=([space]="/spaces/$id" [home]="/" [live]="/spaces/$id/live" [embed]="/embed/spaces/$id")
    local -A titles=([space]="cached Space page \`/spaces/{id}\`" [home]="home \`/\`" [live]="live partial \`/spaces/{id}/live\`" [embed]="embed \`/embed/spaces/{id}\`")
    local n
    for n in "${names[@]}"; do
        curl -fsS -o /dev/null "$SITE${paths[$n]}" # warm the cache
        curl -fsS -o /dev/null "$SITE${paths[$n]}"
        curl -fsS -o "$root/$n.html" "$SITE${paths[$n]}"
    done
    # earshot's own gzip bytes, for nginx to serve precompressed (gzip_static), as
    # earshot does: it compresses a rendered page once per encoding.
    curl -fsS -H 'Accept-Encoding: gzip' -o "$root/space.html.gz" "$SITE${paths[space]}"
    chmod -R a+rX "$root"
    start_nginx "$root"
    local f
    f=$(section_file 1-throughput)
    {
        echo "## 1. Throughput and latency on loopback"
        echo
        echo "_Run $(stamp)._ \`wrk -t$WRK_THREADS -c$WRK_CONN -d${WRK_SECS}s --latency\`, one route at a time:"
        echo "earshot (\`--upstream gateway\` against the demo upstream, cache warm, \`--rate-limit 0 --upstream-budget 0\`), then"
        echo "Debian's nginx serving each earshot response body, saved byte for byte, as a static file"
        echo "(\`worker_processes $(nproc)\`, \`sendfile on\`, access log off), alternating $WRK_ROUNDS times; each server's"
        echo "median run is shown (its req/s, p50 and p99), and every run's req/s in the last column, since single runs on"
        echo "this machine vary by about 5 %. Client and servers share the $(nproc) cores. Target: cached Space page ≥ 0.8× nginx."
        echo
        echo "| route | bytes | earshot req/s | p50 ms | p99 ms | nginx req/s | p50 ms | p99 ms | earshot/nginx | ≥ 0.8× | runs, earshot; nginx |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
    } >"$f"
    local r ratio bytes verdict
    for n in "${names[@]}"; do
        log "wrk $n"
        read -r -a r <<<"$(wrk_alternate "$SITE${paths[$n]}" "http://127.0.0.1:$NGINX_PORT/$n.html")"
        ratio=$(python3 -c "print(f'{${r[0]}/${r[4]}:.2f}')")
        bytes=$(stat -c %s "$root/$n.html")
        verdict=""
        if [ "$n" = space ]; then verdict=$(python3 -c "print('**met**' if $ratio >= 0.8 else '**missed**')"); fi
        echo "| ${titles[$n]} | $bytes | ${r[0]} | ${r[1]} | ${r[2]} | ${r[4]} | ${r[5]} | ${r[6]} | ${ratio}× | $verdict | ${r[8]}; ${r[9]} |" >>"$f"
        [ "${r[3]}" = 0 ] || echo "| ↳ earshot non-2xx/3xx responses: ${r[3]} | | | | | | | | | | |" >>"$f"
    done
    log "wrk space, gzip"
    read -r -a r <<<"$(wrk_alternate "$SITE${paths[space]}" "http://127.0.0.1:$NGINX_PORT/space.html" -H 'Accept-Encoding: gzip')"
    ratio=$(python3 -c "print(f'{${r[0]}/${r[4]}:.2f}')")
    echo "| Space page, \`Accept-Encoding: gzip\` (earshot compresses a rendered page once; nginx serves the same .gz, \`gzip_static\`) | $(stat -c %s "$root/space.html.gz") | ${r[0]} | ${r[1]} | ${r[2]} | ${r[4]} | ${r[5]} | ${r[6]} | ${ratio}× | | ${r[8]}; ${r[9]} |" >>"$f"
    {
        echo
        echo "Commands: \`earshot demo-upstream --bind 127.0.0.1:D --api-key K\`;"
        echo "\`earshot --bind 127.0.0.1:E --upstream gateway --upstream-url http://127.0.0.1:D/ --api-key K --rate-limit 0 --upstream-budget 0 --live-ttl 15 --cache-ttl 180\`;"
        echo "\`wrk -t$WRK_THREADS -c$WRK_CONN -d${WRK_SECS}s --latency URL\` (plus \`-H 'Accept-Encoding: gzip'\` for the last row), $WRK_ROUNDS times each."
    } >>"$f"
    stop "$NGINX_PID" "$SITE_PID" "$DEMO_PID"
}

# ------------------------------------------------------------------ 2. latency

# oha_rounds VERDICT ROUNDS SECS RATE LABEL URL [LABEL URL…] -> one table row per server:
# ROUNDS rounds in which each server in turn gets one oha run of SECS s at RATE req/s
# (from the client's CPUs, after one warming request), so all of them meet the same
# drift of the machine. Each row is that server's median run by p99, with every run's
# p99 after it. VERDICT yes: earshot's row carries the target's verdict.
oha_rounds() {
    local verdict=$1 rounds=$2 secs=$3 r=$4 i j
    shift 4
    local -a labels=() urls=()
    while [ $# -gt 0 ]; do
        labels+=("$1")
        urls+=("$2")
        shift 2
    done
    rm -f "$WORK"/oha-*-*.json
    for i in $(seq "$rounds"); do
        for j in "${!urls[@]}"; do
            curl -fsS -o /dev/null "${urls[$j]}"
            "${CLIENT[@]}" oha -z "${secs}s" -q "$r" -c "$WRK_CONN" --latency-correction \
                --disable-compression --no-tui --output-format json "${urls[$j]}" >"$WORK/oha-$j-$i.json" 2>"$WORK/oha.err"
        done
    done
    for j in "${!urls[@]}"; do
        python3 - "${labels[$j]}" "$r" "$verdict" "$WORK"/oha-"$j"-*.json <<'PY'
import json, sys
label, rate, verdict, *paths = sys.argv[1:]
runs = [json.load(open(p)) for p in paths]
p99 = lambda d: d["latencyPercentiles"]["p99"] or float("inf")
runs.sort(key=p99)
d = runs[len(runs) // 2]
s, p = d["summary"], d["latencyPercentiles"]
ms = lambda v: f"{v * 1000:.2f}" if v is not None else "n/a"
codes = ", ".join(f"{k}: {v}" for k, v in d.get("statusCodeDistribution", {}).items())
mark = "(reference)"
if verdict == "yes" and label.startswith("earshot"):
    mark = "**met**" if p99(d) < 0.005 else "**missed**"
print(f"| {label} | {rate} | {s['requestsPerSec']:.0f} | {ms(p['p50'])} | {ms(p['p90'])} | {ms(p['p99'])} | "
      f"{ms(p['p99.9'])} | {ms(s['slowest'])} | {codes} | {mark} | {' / '.join(ms(p99(r)) for r in runs)} |")
PY
    done
}

# oha_long LABEL URL RATE SECS DB -> one run kept whole (--db-url), for where its tail comes from.
oha_long() {
    curl -fsS -o /dev/null "$2"
    rm -f "$5"
    "${CLIENT[@]}" oha -z "${4}s" -q "$3" -c "$WRK_CONN" --latency-correction \
        --disable-compression --no-tui --db-url "$5" "$2" >/dev/null 2>"$WORK/oha.err"
    python3 - "$5" "$1" "$3" <<'PY'
import collections, math, sqlite3, sys
db, label, rate = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = sqlite3.connect(db).execute(
    "select coalesce(start_latency_correction, start), end from oha").fetchall()
lat = sorted(end - due for due, end in rows)
q = lambda p: lat[min(len(lat) - 1, max(0, math.ceil(p * len(lat)) - 1))] * 1000
t0 = min(r[0] for r in rows)
windows = collections.defaultdict(lambda: [0, 0.0])
for due, end in rows:
    w = windows[int((due - t0) * 20)]
    if end - due > 0.005:
        w[0] += 1
    w[1] = max(w[1], end - due)
slow = sum(w[0] for w in windows.values())
spikes = sorted(windows.items(), key=lambda kv: -kv[1][0])[:8]
spikes = [f"{k / 20:.2f} s ({n})" for k, (n, _) in sorted(spikes) if n > 50]
doublings = [f"{2 ** k / rate:.2f} s" for k in range(12, 40) if rate <= 2 ** k <= len(rows)]
print(f"- {label}: p99 {q(0.99):.2f} ms; {slow} of {len(rows)} requests over 5 ms ({100 * slow / len(rows):.2f} %). The")
print(f"  50 ms windows with the most of them: {'; '.join(spikes) or 'none'}. The queue doubles at {', '.join(doublings)}.")
PY
}

bench_latency() {
    log "2. latency under constant load (oha, latency correction)"
    # Client and server on CPUs of their own, as on two machines. Sharing two cores, a
    # server's tail is mostly the scheduler giving its core to the client for a slice,
    # which says nothing about the server.
    local client_cpus="" server_cpus=""
    if [ "$(nproc)" -ge 2 ]; then
        client_cpus=0
        server_cpus=1
        [ "$(nproc)" -eq 2 ] || server_cpus=1-$(($(nproc) - 1))
    fi
    pinned "$client_cpus"
    local -a CLIENT=("${PIN[@]}") # read by oha_rounds and oha_long too
    start_demo 1
    start_earshot gateway "$server_cpus"
    local id
    id=$(live_ids 1 | head -1)
    mkdir -p "$WORK/www"
    curl -fsS -o /dev/null "$SITE/spaces/$id"
    curl -fsS -o "$WORK/www/space.html" "$SITE/spaces/$id"
    chmod -R a+rX "$WORK/www"
    start_nginx "$WORK/www" "$server_cpus"
    local page=$SITE/spaces/$id same=http://127.0.0.1:$NGINX_PORT/space.html
    # The max: earshot's closed-loop rate on the same page, connections and CPUs, by wrk
    # and by oha; the higher of the two is the server's, the lower a client's limit.
    log "max rate with this pinning"
    local wrk_max oha_max max rate
    wrk_max=$("${CLIENT[@]}" wrk -t1 -c"$WRK_CONN" -d10s "$page" | awk '/Requests\/sec/ {printf "%d", $2}')
    oha_max=$("${CLIENT[@]}" oha -z 10s -c "$WRK_CONN" --disable-compression --no-tui --output-format json "$page" |
        python3 -c 'import json,sys; print(int(json.load(sys.stdin)["summary"]["requestsPerSec"]))')
    max=$((wrk_max > oha_max ? wrk_max : oha_max))
    rate=$((max / 2))
    local f
    f=$(section_file 2-latency)
    {
        echo "## 2. Latency under constant load"
        echo
        echo "_Run $(stamp)._ \`oha -z ${OHA_SECS}s -q RATE -c $WRK_CONN --latency-correction --disable-compression\` on the cached"
        echo "Space page (an open-loop rate: each latency counts from when its request was due, so a client or server that"
        echo "falls behind shows it), $OHA_RUNS rounds in which earshot and nginx serving the same bytes take turns, each run"
        echo "after one warming request; each server's median run by p99 is shown, and every run's p99 in the last column,"
        echo "since the machine's drift moves single runs a lot. The client runs on CPU ${client_cpus:-any}, the servers on"
        echo "CPU ${server_cpus:-any} (\`taskset\`; nginx with one worker per CPU it has), as on two machines. The max is"
        echo "earshot's closed-loop rate on the same page, connections and CPUs: $wrk_max req/s by \`wrk -t1 -c$WRK_CONN\`,"
        echo "$oha_max by \`oha -c $WRK_CONN\`; RATE is half of the higher, $rate req/s. Target: p99 under 5 ms at 50 % of the max."
        echo
        echo "| server | rate req/s | achieved req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | statuses | p99 < 5 ms | every run's p99 ms |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |"
    } >"$f"
    log "oha: $OHA_RUNS rounds of ${OHA_SECS} s at $rate req/s"
    oha_rounds yes "$OHA_RUNS" "$OHA_SECS" "$rate" "earshot (oha)" "$page" "nginx, same bytes (oha)" "$same" >>"$f"
    log "oha at 1000 req/s"
    oha_rounds no 2 "$OHA_SECS" 1000 "earshot (oha)" "$page" >>"$f"
    log "openloop at $rate req/s"
    local label url long=20 # the length of one run before this method, to show why it changed
    for label in "earshot (openloop, ${long} s)|$page" "nginx, same bytes (openloop, ${long} s)|$same"; do
        IFS='|' read -r label url <<<"$label"
        curl -fsS -o /dev/null "$url"
        "${CLIENT[@]}" "$OPENLOOP" --url "$url" --rate "$rate" --connections "$WRK_CONN" --secs "$long" >"$WORK/openloop.json"
        python3 - "$WORK/openloop.json" "$label" >>"$f" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
codes = ", ".join(f"{k}: {v}" for k, v in d["statuses"].items())
print(f"| {sys.argv[2]} | {d['rate']} | {d['achieved']:.0f} | {d['p50_ms']:.2f} | {d['p90_ms']:.2f} | {d['p99_ms']:.2f} | "
      f"{d['p99_9_ms']:.2f} | {d['max_ms']:.2f} | {codes} | (reference) | |")
PY
    done
    log "oha: one ${long} s run each, kept whole"
    {
        echo
        echo "Why runs of ${OHA_SECS} s: with \`--no-tui\`, oha holds every result in an unbounded queue (kanal's, a"
        echo "\`VecDeque\`) until the run ends, and each time it fills, the queue is copied to twice its size under its lock,"
        echo "stalling every oha worker: a few milliseconds early on, tens of milliseconds late in a long run, and latency"
        echo "correction charges the stall to the server. A ${OHA_SECS} s run holds at most $((rate * OHA_SECS)) results. One"
        echo "${long} s run each, with every request kept (\`--db-url\`):"
        echo
        oha_long "earshot" "$page" "$rate" "$long" "$WORK/oha-long-earshot.db"
        oha_long "nginx, same bytes" "$same" "$rate" "$long" "$WORK/oha-long-nginx.db"
        echo
        echo "\`examples/openloop.rs\` is a cross-check without that queue: the same schedule and correction, one thread,"
        echo "$WRK_CONN keep-alive connections, a fixed histogram."
    } >>"$f"
    stop "$NGINX_PID" "$SITE_PID" "$DEMO_PID"
}

# ------------------------------------------------------------------ 3. render

bench_render() {
    log "3. render cost (criterion)"
    local bench
    for bench in benches/*.rs; do
        bench=$(basename "$bench" .rs)
        cargo bench --bench "$bench" >"$WORK/criterion.$bench.out" 2>&1 || { cat "$WORK/criterion.$bench.out" >&2; return 1; }
    done
    local f
    f=$(section_file 3-render)
    python3 - "$TARGET/criterion" >"$f" <<'PY'
import json, os, sys, glob
root = sys.argv[1]
print("## 3. Render cost\n")
print("`cargo bench` (criterion; `benches/*.rs`): building the view and rendering the askama template of the reference "
      "Space page (its participants and tweets, and a 240-sample sparkline where named), and a feed of 100 entries. "
      "Targets: a Space page under 50 µs, a feed under 500 µs.\n")
print("| benchmark | mean µs | 95 % interval µs | median µs | target | met |")
print("| --- | ---: | ---: | ---: | ---: | --- |")
for path in sorted(glob.glob(os.path.join(root, "**", "new", "estimates.json"), recursive=True)):
    bench = json.load(open(os.path.join(os.path.dirname(path), "benchmark.json")))
    name = bench.get("full_id") or bench.get("group_id", "")
    if "report" in path.split(os.sep):
        continue
    target = 500 if "feed" in name.lower() else 50
    e = json.load(open(path))
    m = e["mean"]
    us = lambda ns: f"{ns/1000:.1f}"
    ci = m["confidence_interval"]
    print(f"| {name} | {us(m['point_estimate'])} | {us(ci['lower_bound'])}–{us(ci['upper_bound'])} | "
          f"{us(e['median']['point_estimate'])} | < {target} µs | {'**met**' if m['point_estimate'] < target * 1000 else '**missed**'} |")
PY
    echo >>"$f"
    echo "_Run $(stamp)._" >>"$f"
}

# ------------------------------------------------------------------ 4. memory

fill_cache() { # from to -> appends a table row (Spaces start..end of the ended list)
    local from=$1 to=$2 before after rss hwm entries weight
    python3 -c '
import sys
ids = open(sys.argv[1]).read().split()
for i in ids[int(sys.argv[2]):int(sys.argv[3])]: print(sys.argv[4] + "/spaces/" + i)' "$WORK/ids.txt" "$from" "$to" "$SITE" >"$WORK/urls.txt"
    before=$(calls)
    "$LOADGEN" many --file "$WORK/urls.txt" --concurrency 32 >"$WORK/many.json"
    sleep 2
    after=$(calls)
    rss=$(rss_kb "$SITE_PID")
    hwm=$(hwm_kb "$SITE_PID")
    entries=$(metric earshot_cache_entries)
    weight=$(metric earshot_cache_weight_bytes)
    python3 - "$WORK/many.json" "$to" "$rss" "$hwm" "$entries" "$weight" "$((after - before))" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
to, rss, hwm, entries, weight, calls = sys.argv[2:8]
mb = lambda kb: f"{int(kb)/1024:.1f}"
ok = "**met**" if int(hwm) <= 100 * 1024 else "**missed**"
print(f"| after {int(to):,} distinct Space pages | {mb(rss)} | {mb(hwm)} | {entries} | {int(weight)/1048576:.1f} | "
      f"{calls} | {d['requests']} in {d['elapsed_s']:.0f} s, {d['statuses']} | {ok} |")
PY
}

bench_memory() {
    log "4. memory: idle, then 10,000 (and 40,000) distinct Spaces cached"
    start_demo 1
    start_earshot gateway
    sleep 2
    local idle_rss idle_after f
    idle_rss=$(rss_kb "$SITE_PID")
    curl -fsS -o /dev/null "$SITE/"
    idle_after=$(rss_kb "$SITE_PID")
    demo_json "/__demo/ids?state=ended&limit=40000" |
        python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin)["ids"]))' >"$WORK/ids.txt"
    f=$(section_file 4-memory)
    {
        echo "## 4. Memory"
        echo
        echo "_Run $(stamp)._ earshot (\`--upstream gateway\`, demo upstream) RSS from \`/proc/PID/status\`."
        echo "The Spaces are distinct ended Spaces of the demo world (ids from the demo's \`/__demo/ids?state=ended&limit=N\`),"
        echo "each page requested once (\`examples/loadgen.rs many\`, 32 in flight), so each caches four answers: the Space, its"
        echo "participants, tweets and recording. Target: ≤ 100 MB after 10,000, the cache bounded by weight (40 MiB of the memory"
        echo "its entries take, keys included, \`CACHE_MAX_BYTES\` in \`src/catalog.rs\`). The 40,000 row checks whether that bound keeps RSS under the target."
        echo
        echo "| state | RSS MB | peak RSS (VmHWM) MB | cache entries | cache weight MB | upstream calls | load | peak ≤ 100 MB |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"
        echo "| idle, just started | $(python3 -c "print(f'{$idle_rss/1024:.1f}')") | | | | | | |"
        echo "| idle, after one home page | $(python3 -c "print(f'{$idle_after/1024:.1f}')") | | | | | | |"
        fill_cache 0 10000
        fill_cache 10000 40000
    } >"$f"
    stop "$SITE_PID" "$DEMO_PID"
}

# ------------------------------------------------------------------ 5. page weight

page_weight() { # path -> rows "url bytes" for the page and its same-origin static assets
    local path=$1
    curl -fsS -H 'Accept-Encoding: br, gzip' -o "$WORK/page.raw" -D "$WORK/page.h" \
        -w '%{size_download}\n' "$SITE$path" >"$WORK/page.size"
    echo "$path $(cat "$WORK/page.size") $(awk 'tolower($1)=="content-encoding:" {print $2}' "$WORK/page.h" | tr -d '\r')"
    curl -fsS --compressed "$SITE$path" |
        grep -oE '(href|src)="/static/[^"]+"' | sed -E 's/^(href|src)="//; s/"$//' | sort -u |
        while read -r asset; do
            curl -fsS -H 'Accept-Encoding: br, gzip' -o /dev/null -D "$WORK/asset.h" -w '%{size_download}' "$SITE$asset" >"$WORK/asset.size"
            echo "$asset $(cat "$WORK/asset.size") $(awk 'tolower($1)=="content-encoding:" {print $2}' "$WORK/asset.h" | tr -d '\r')"
        done
}

bench_weight() {
    log "5. page weight on the wire"
    start_demo 1
    start_earshot gateway
    local id f
    id=$(live_ids 1 | head -1)
    f=$(section_file 5-weight)
    {
        echo "## 5. Page weight on the wire"
        echo
        echo "_Run $(stamp)._ Bytes of each response body as sent with \`Accept-Encoding: br, gzip\` (\`curl -w %{size_download}\`,"
        echo "no decoding), for a live Space page and for the embed, each with every same-origin \`/static/\` asset it links"
        echo "(stylesheets, scripts, icons). Headers are not counted. Targets: Space page with its CSS and JS ≤ 35 KB; embed with its assets ≤ 20 KB."
    } >"$f"
    local label path limit total
    for label in "Space page:/spaces/$id:35" "embed:/embed/spaces/$id:20"; do
        IFS=: read -r label path limit <<<"$label"
        page_weight "$path" >"$WORK/weight.txt"
        total=$(awk '{s += $2} END {print s}' "$WORK/weight.txt")
        {
            echo
            echo "**$label** (\`${path/$id/\{id\}}\`): **$(python3 -c "print(f'{$total/1000:.1f}')") KB** ($total bytes), target ≤ $limit KB: $(python3 -c "print('**met**' if $total <= $limit*1000 else '**missed**')")"
            echo
            echo "| resource | bytes | encoding |"
            echo "| --- | ---: | --- |"
            awk -v id="$id" '{p=$1; gsub(id, "{id}", p); printf "| `%s` | %s | %s |\n", p, $2, ($3 == "" ? "identity" : $3)}' "$WORK/weight.txt"
        } >>"$f"
    done
    stop "$SITE_PID" "$DEMO_PID"
}

# ------------------------------------------------------------------ 6. coalescing

bench_coalescing() {
    log "6. coalescing: 100 concurrent cold requests for one Space"
    local f
    f=$(section_file 6-coalescing)
    {
        echo "## 6. Coalescing"
        echo
        echo "_Run $(stamp)._ A fresh earshot per dialect; 100 concurrent requests for one Space nobody asked for yet, released"
        echo "together (\`examples/loadgen.rs burst\`); upstream calls counted by the demo (\`/__demo/stats\`) before and after."
        echo "Target: 1 call for the Space."
        echo
        echo "| dialect | requests | Space lookups (endpoint) | all upstream calls | statuses | met |"
        echo "| --- | --- | ---: | ---: | --- | --- |"
    } >"$f"
    local dialect ep path b_ep b_all a_ep a_all ids id1 id2 out
    for dialect in gateway x; do
        if [ "$dialect" = gateway ]; then ep=space; else ep=x_space; fi
        start_demo 1
        start_earshot "$dialect"
        mapfile -t ids < <(live_ids 2)
        for path in "/spaces/${ids[0]}/live" "/spaces/${ids[1]}"; do
            b_ep=$(calls "$ep")
            b_all=$(calls)
            out=$("$LOADGEN" burst --url "$SITE$path" --n 100)
            sleep 0.5
            a_ep=$(calls "$ep")
            a_all=$(calls)
            echo "| $dialect | 100 × \`${path/${ids[0]}/\{id\}}\` | $((a_ep - b_ep)) (\`$ep\`) | $((a_all - b_all)) | $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["statuses"])' "$out") | $([ $((a_ep - b_ep)) = 1 ] && echo '**met**' || echo '**missed**') |" |
                sed "s/${ids[1]}/{id}/" >>"$f"
        done
        stop "$SITE_PID" "$DEMO_PID"
    done
    echo >>"$f"
    echo "The full page also reads participants, tweets and the recording (gateway) or nothing more (X v2 has none); each of those is coalesced too, so \"all upstream calls\" is one per distinct answer the page needs." >>"$f"
}

# ------------------------------------------------------------------ 7. budget

bench_budget() {
    log "7. upstream budget: simulated browsers polling live Spaces"
    local f
    f=$(section_file 7-budget)
    {
        echo "## 7. Upstream budget"
        echo
        echo "_Run $(stamp)._ Simulated browsers (\`examples/loadgen.rs budget\`) each poll their Space's \`/spaces/{id}/live\` every 15 s"
        echo "(\`--live-ttl 15\`) as htmx does (with \`HX-Request\` and \`If-None-Match\`, stopping on 286), their first polls spread evenly"
        echo "over the first 15 s; browser *i* watches Space *i mod N*. The Spaces are live Spaces of a demo world run at \`--demo-scale $SCALE\`"
        echo "($SCALE copies of the timeline side by side, about $((SCALE * 18)) live at once). The X v2 dialect enforces X's real budget"
        echo "(\`--x-rate-limit 300\`: 300 Space lookups per 15-minute window, single and \`ids=\` counted together, stricter than X; advertised in \`x-rate-limit-*\`, 429 past it;"
        echo "a window opens with the first request, so each case starts on a whole fresh one and no reset helps within it), which"
        echo "earshot paces its cold lookups and spaces its refresh runs by; a page that had to wait for the budget would show as a non-200 poll. The gateway has no"
        echo "limit here. A fresh demo and earshot per case (cold cache). \"First 30 s\" holds the cold lookups;"
        echo "\"steady\" is the rate from 30 s to the end. Targets: the 500-Space case on X v2 ≤ 20 calls a minute (X's 300 per 15 minutes), over the whole window, first views included; on the gateway ≤ 60 calls a minute steady (the watched refresh from the live directory)."
        echo
        echo "| dialect | browsers | Spaces | window | polls (statuses) | upstream calls | calls/min over the window | calls in first 30 s | steady calls/min | by endpoint | target: X v2 ≤ 20/min over the window, gateway ≤ 60/min steady |"
        echo "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | --- |"
    } >"$f"
    local dialect browsers spaces secs out
    for dialect in gateway x; do
        for spaces in 50 500; do
            for browsers in 1000 10000; do
                secs=$BUDGET_SECS
                log "budget $dialect $browsers browsers $spaces Spaces ${secs}s"
                # X v2 with its real budget (300 per 15-minute window per endpoint,
                # advertised in x-rate-limit-* headers), which earshot paces itself by.
                if [ "$dialect" = x ]; then start_demo "$SCALE" 300; else start_demo "$SCALE"; fi
                start_earshot "$dialect"
                out=$("$LOADGEN" budget --site "$SITE" --demo "http://127.0.0.1:$DEMO_PORT" --key "$KEY" \
                    --browsers "$browsers" --spaces "$spaces" --secs "$secs" --every 15 --warmup 30)
                echo "$out" >"$RESULTS/budget-$dialect-$browsers-$spaces.json"
                python3 - "$dialect" "$out" >>"$f" <<'PY'
import json, sys
dialect, d = sys.argv[1], json.loads(sys.argv[2])
st = ", ".join(f"{k}: {v}" for k, v in d["statuses"].items())
if d["errors"]:
    st += f", errors: {d['errors']}"
by = ", ".join(f"{k} {v}" for k, v in d["by_endpoint"].items())
steady = d["steady_calls_per_min"]
whole = d["calls_per_min"]
# X v2: X's own 300 per 15 minutes, first views included. The gateway: the watched
# refresh from its live directory (issue 2/7: 500 Spaces in at most 60 calls a minute).
if d["spaces"] != 500:
    target = ""
elif dialect == "x":
    target = "**met**" if whole <= 20 else "**missed**"
else:
    target = "**met**" if steady <= 60 else "**missed**"
print(f"| {'X v2' if dialect == 'x' else 'gateway'} | {d['browsers']} | {d['spaces']} | {d['secs']} s | {d['requests']} ({st}) | "
      f"{d['upstream_calls']} | {whole:.1f} | {d['calls_in_warmup']} | {steady:.1f} | {by} | {target} |")
PY
                stop "$SITE_PID" "$DEMO_PID"
            done
        done
    done
    {
        echo
        echo "Windows: ${BUDGET_SECS} s per case. Upstream call timelines (every 5 s) are in"
        echo "\`\$CARGO_TARGET_DIR/bench-results/budget-*.json\`."
    } >>"$f"
}

# ------------------------------------------------------------------ 8. cold start

bench_coldstart() {
    log "8. cold start"
    local f port out1 out2
    f=$(section_file 8-coldstart)
    start_demo 1
    port=$(free_port)
    out1=$("$LOADGEN" coldstart --url "http://127.0.0.1:$port/" --repeat 7 -- \
        "$BIN" --bind "127.0.0.1:$port" --upstream gateway --upstream-url "http://127.0.0.1:$DEMO_PORT/" \
        --api-key "$KEY" --rate-limit 0)
    port=$(free_port)
    out2=$("$LOADGEN" coldstart --url "http://127.0.0.1:$port/" --repeat 7 -- "$BIN" --bind "127.0.0.1:$port")
    stop "$DEMO_PID"
    {
        echo "## 8. Cold start"
        echo
        echo "_Run $(stamp)._ Time from spawning the process to the first \`200\` for \`/\` (the home page, which needs the live and"
        echo "scheduled lists from the upstream, so the first answer includes cold upstream calls), polling every millisecond"
        echo "(\`examples/loadgen.rs coldstart\`), 7 runs."
        echo
        echo "| upstream | median ms | min ms | max ms | runs ms |"
        echo "| --- | ---: | ---: | ---: | --- |"
        python3 - "$out1" "$out2" <<'PY'
import json, sys
for label, raw in (("gateway (separate demo upstream)", sys.argv[1]), ("embedded demo (default `earshot`)", sys.argv[2])):
    d = json.loads(raw)
    print(f"| {label} | {d['median_ms']:.1f} | {d['min_ms']:.1f} | {d['max_ms']:.1f} | {', '.join(f'{v:.0f}' for v in d['runs_ms'])} |")
PY
    } >"$f"
}

# ------------------------------------------------------------------ 9. under abuse

# start_earshot_defaults [ARGS…] -> SITE_PORT, SITE_PID, SITE: the gateway dialect
# against the demo upstream (needs DEMO_PORT) in earshot's default configuration, plus
# ARGS; unlike start_earshot, the per-client limits stay on.
start_earshot_defaults() {
    SITE_PORT=$(free_port)
    EARSHOT_LOG=warn "$BIN" --bind "127.0.0.1:$SITE_PORT" --upstream gateway \
        --upstream-url "http://127.0.0.1:$DEMO_PORT/" --api-key "$KEY" "$@" \
        >"$WORK/earshot.$SITE_PORT.log" 2>&1 &
    SITE_PID=$!
    PIDS+=("$SITE_PID")
    SITE=http://127.0.0.1:$SITE_PORT
    wait_http "$SITE/healthz"
}

by_endpoint() { # -> "name n, …" of every client call so far, as JSON
    demo_json /__demo/stats | python3 -c '
import json, sys
by = json.load(sys.stdin)["by_endpoint"]
print(json.dumps({k: v for k, v in by.items() if k not in ("stats", "ids")}))'
}

# abuse_flood LABEL ADDRS TARGET -> one table row: a fresh demo and earshot, a random-id
# flood of ABUSE_SECS s from ADDRS, the upstream calls it caused, a minute.
abuse_flood() {
    local label=$1 addrs=$2 target=$3 before after out
    start_demo 1
    start_earshot_defaults
    before=$(by_endpoint)
    out=$("$FLOOD" flood --site "$SITE" --kind space --secs "$ABUSE_SECS" --concurrency 128 --local-addrs "$addrs")
    sleep 1 # calls still in flight when the flood stopped
    after=$(by_endpoint)
    echo "$out" >"$RESULTS/abuse-flood-${label// /-}.json"
    python3 - "$label" "$addrs" "$target" "$out" "$before" "$after" <<'PY'
import json, sys
label, addrs, target, out, before, after = sys.argv[1:]
d, b, a = json.loads(out), json.loads(before), json.loads(after)
diff = {k: v - b.get(k, 0) for k, v in a.items() if v - b.get(k, 0) > 0}
calls = sum(diff.values())
per_min = calls * 60 / d["elapsed_s"]
st = ", ".join(f"{k}: {v}" for k, v in d["statuses"].items())
if d["errors"]:
    st += f", errors: {d['errors']}"
by = ", ".join(f"{k} {v}" for k, v in sorted(diff.items()))
# The shares are token buckets that start full with a minute's worth, so a window of
# T s allows the share once plus its refill over T: share × (1 + T/60).
allowed = int(target) * (1 + d["elapsed_s"] / 60)
verdict = "**met**" if calls <= allowed else "**missed**"
print(f"| {label} (`{addrs}`) | {d['elapsed_s']:.0f} s | {d['requests']:,} ({st}) | {calls:,} | {by or '–'} | "
      f"{per_min:,.0f} | {target} | {allowed:,.0f} | {verdict} |")
PY
    stop "$SITE_PID" "$DEMO_PID"
}

# abuse_oha LABEL URL -> one table row: the cached page at ABUSE_RATE for ABUSE_OHA_SECS.
abuse_oha() {
    local label=$1 url=$2 verdict=${3:-}
    oha -z "${ABUSE_OHA_SECS}s" -q "$ABUSE_RATE" -c 8 --latency-correction --disable-compression \
        --no-tui --output-format json "$url" >"$WORK/abuse-oha.json" 2>"$WORK/oha.err" || true
    python3 - "$WORK/abuse-oha.json" "$label" "$verdict" <<'PY'
import json, sys
path, label, verdict = sys.argv[1:]
try:
    d = json.load(open(path))
except ValueError:
    print(f"| {label} | oha failed | | | | | | |")
    sys.exit()
s, p = d["summary"], d["latencyPercentiles"]
ms = lambda v: f"{v * 1000:.2f}" if v is not None else "n/a"
codes = dict(d.get("statusCodeDistribution", {}))
# oha's own requests still in flight when -z ends are "aborted due to deadline".
errs = {k: v for k, v in d.get("errorDistribution", {}).items() if "aborted due to deadline" not in k}
errors = sum(errs.values())
st = ", ".join(f"{k}: {v}" for k, v in codes.items())
if errors:
    st += f", errors: {errors} ({'; '.join(errs)})"
mark = ""
if verdict:
    mark = "**met**" if errors == 0 and set(codes) == {"200"} else "**missed**"
print(f"| {label} | {s['requestsPerSec']:.0f} | {ms(p['p50'])} | {ms(p['p99'])} | {ms(s['slowest'])} | {st} | {mark} |")
PY
}

bench_abuse() {
    log "9. under abuse: random-id floods, a memory flood, a slowloris"
    local f
    f=$(section_file 9-abuse)
    {
        echo "## 9. Under abuse"
        echo
        echo "_Run $(stamp)._ earshot in its default configuration (\`--upstream gateway\` against \`earshot demo-upstream\`; per-client"
        echo "rate limit, concurrency and cache at their defaults) unless a row says otherwise; a fresh demo and earshot per row."
        echo "Client addresses are loopback: 127.0.0.1, or 127.0.0.2–127.0.0.201 as 200 clients (\`examples/flood.rs\`"
        echo "binds each socket to one). Upstream calls are counted by the demo upstream (\`/__demo/stats\`)."
        echo
        echo "**Random-id flood.** \`flood --kind space\`: \`/spaces/{13 random letters}\`, each id new, 128 requests in flight, for"
        echo "$ABUSE_SECS s, reported a minute. Target (\`--upstream-budget\`, default 300 calls a minute): cold lookups get at most"
        echo "half, 150 a minute in all, and one client at most a tenth of that, 15. Each share is a token bucket that starts"
        echo "full with a minute's worth, so a window of T s allows the share plus its refill, share × (1 + T/60) calls; the"
        echo "rate a minute of a short window counts that first bucketful, and approaches the share only over minutes."
        echo
        echo "| clients | time | requests (statuses) | upstream calls | by endpoint | calls/min in the window | share/min | allowed in the window | met |"
        echo "| --- | ---: | --- | ---: | --- | ---: | ---: | ---: | --- |"
    } >"$f"
    log "flood from 1 address, ${ABUSE_SECS}s"
    abuse_flood "1 client" 127.0.0.1 15 >>"$f"
    log "flood from 200 addresses, ${ABUSE_SECS}s"
    abuse_flood "200 clients" 127.0.0.2-127.0.0.201 150 >>"$f"

    log "memory flood, ${ABUSE_RSS_SECS}s"
    start_demo 1
    start_earshot_defaults
    sleep 1
    local idle out rss hwm entries weight
    idle=$(rss_kb "$SITE_PID")
    out=$("$FLOOD" flood --site "$SITE" --kind both --query-len 200 --secs "$ABUSE_RSS_SECS" --concurrency 128 \
        --local-addrs 127.0.0.2-127.0.0.201)
    sleep 2
    rss=$(rss_kb "$SITE_PID")
    hwm=$(hwm_kb "$SITE_PID")
    entries=$(metric earshot_cache_entries)
    weight=$(metric earshot_cache_weight_bytes)
    {
        echo
        echo "**Memory flood.** \`flood --kind both\` from the 200 addresses, 128 in flight, for $ABUSE_RSS_SECS s: every other request a"
        echo "made-up Space id, the others \`/search?q=\` with 200 random letters (the longest earshot takes), all distinct. RSS (\`VmRSS\`) and peak"
        echo "(\`VmHWM\`) from \`/proc/PID/status\` 2 s after; cache entries and weight from \`/metrics\`. The issue asks only for"
        echo "a bound (the README promises roughly 80 MB)."
        echo
        echo "| flood | requests (statuses) | RSS idle MB | RSS after MB | peak MB | cache entries | cache weight MB |"
        echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
        python3 - "$out" "$idle" "$rss" "$hwm" "$entries" "$weight" "$ABUSE_RSS_SECS" <<'PY'
import json, sys
out, idle, rss, hwm, entries, weight, secs = sys.argv[1:]
d = json.loads(out)
st = ", ".join(f"{k}: {v}" for k, v in d["statuses"].items())
if d["errors"]:
    st += f", errors: {d['errors']}"
mb = lambda kb: f"{int(kb) / 1024:.1f}"
w = f"{int(float(weight)) / 1048576:.1f}" if weight else "n/a"
print(f"| {secs} s, ids and long queries, 200 clients | {d['requests']:,} ({st}) | {mb(idle)} | {mb(rss)} | {mb(hwm)} | "
      f"{entries or 'n/a'} | {w} |")
PY
    } >>"$f"
    echo "$out" >"$RESULTS/abuse-memory.json"
    stop "$SITE_PID" "$DEMO_PID"

    log "cached page during a slowloris of $ABUSE_LORIS connections"
    start_demo 1
    # oha is one client sending $ABUSE_RATE req/s: past the default per-client limit.
    start_earshot_defaults --rate-limit 0
    local id page loris_pid loris_out="$WORK/loris.json" i
    id=$(live_ids 1 | head -1)
    page=$SITE/spaces/$id
    curl -fsS -o /dev/null "$page"
    curl -fsS -o /dev/null "$page"
    {
        echo
        echo "**Slowloris.** The cached Space page \`/spaces/{id}\` by \`oha -z ${ABUSE_OHA_SECS}s -q $ABUSE_RATE -c 8 --latency-correction\`"
        echo "from 127.0.0.1 (earshot with \`--rate-limit 0\` here, since oha is one client), first alone, then while"
        echo "\`flood loris\` holds $ABUSE_LORIS connections from the 200 addresses: half send nothing, half send a request line and"
        echo "then one header line every 5 s, never finishing. Descriptor limit of the shell that started earshot: $(ulimit -n)."
        echo "Target: the page is still served (every answer 200, no errors)."
        echo
        echo "| case | achieved req/s | p50 ms | p99 ms | max ms | statuses | served |"
        echo "| --- | ---: | ---: | ---: | ---: | --- | --- |"
    } >>"$f"
    abuse_oha "no loris" "$page" >>"$f"
    rm -f "$WORK/loris.ready"
    "$FLOOD" loris --addr "127.0.0.1:$SITE_PORT" --conns "$ABUSE_LORIS" --secs $((ABUSE_OHA_SECS + 5)) \
        --every 5 --local-addrs 127.0.0.2-127.0.0.201 --ready-file "$WORK/loris.ready" >"$loris_out" &
    loris_pid=$!
    PIDS+=("$loris_pid")
    for i in $(seq 1 600); do
        [ -f "$WORK/loris.ready" ] && break
        sleep 0.05
    done
    abuse_oha "during the loris ($(cat "$WORK/loris.ready" 2>/dev/null || echo '?') connections open)" "$page" yes >>"$f"
    wait "$loris_pid" || true
    stop "$loris_pid"
    python3 - "$loris_out" >>"$f" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    print("\nThe loris tool printed no result.")
    sys.exit()
med = f", median after {d['closed_median_s']:.1f} s" if d["closed_median_s"] is not None else ""
print(f"\nOf the {d['conns']} loris connections, {d['refused']} were refused, {d['closed_by_server']} closed by earshot{med}, "
      f"and {d['still_open_at_end']} still open after {d['secs']} s.")
PY
    {
        echo
        echo "Commands: \`earshot demo-upstream --bind 127.0.0.1:D --api-key K\`;"
        echo "\`earshot --bind 127.0.0.1:E --upstream gateway --upstream-url http://127.0.0.1:D/ --api-key K\` (plus \`--rate-limit 0\` for the slowloris);"
        echo "\`flood flood --site http://127.0.0.1:E --kind space --secs $ABUSE_SECS --concurrency 128 --local-addrs 127.0.0.1\` (and \`127.0.0.2-127.0.0.201\`);"
        echo "\`flood flood --site … --kind both --query-len 200 --secs $ABUSE_RSS_SECS --concurrency 128 --local-addrs 127.0.0.2-127.0.0.201\`;"
        echo "\`flood loris --addr 127.0.0.1:E --conns $ABUSE_LORIS --secs $((ABUSE_OHA_SECS + 5)) --every 5 --local-addrs 127.0.0.2-127.0.0.201\`."
    } >>"$f"
    stop "$SITE_PID" "$DEMO_PID"
}

# ------------------------------------------------------------------ 10. cluster mode

# free_ports N -> the first of N consecutive free loopback ports (scripts/cluster.sh
# numbers its replicas from one port).
free_ports() {
    python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    base = random.randint(20000, 32000 - n)  # below Linux's ephemeral ports (free_port's)
    socks = []
    try:
        for p in range(base, base + n):
            s = socket.socket()
            s.bind(("127.0.0.1", p))
            socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    break
else:
    sys.exit("no free ports")
PY
}

# cluster_up REPLICAS REDIS(0|1) DIALECT -> LB, R1, R2 (base URLs of the balancer and the
# first two replicas), CLUSTER_REDIS_AT (Redis's port), CLUSTER_RUN: the topology of scripts/cluster.sh (nginx in front,
# its config and process handling) on free ports, against the running demo (DEMO_PORT),
# configured as start_earshot configures one earshot.
cluster_up() {
    local replicas=$1 redis=$2 dialect=$3 base lb redis_port
    base=$(free_ports "$replicas")
    lb=$(free_port)
    redis_port=$(free_port)
    CLUSTER_RUN=$WORK/cluster.$lb
    CLUSTERS+=("$CLUSTER_RUN")
    CLUSTER_DIR=$CLUSTER_RUN CLUSTER_BIN=$BIN CLUSTER_PORT=$lb CLUSTER_REPLICAS=$replicas \
        CLUSTER_REPLICA_PORT=$base CLUSTER_REDIS=$redis CLUSTER_REDIS_PORT=$redis_port \
        CLUSTER_DEMO_URL="http://127.0.0.1:$DEMO_PORT/" CLUSTER_API_KEY=$KEY CLUSTER_UPSTREAM=$dialect \
        CLUSTER_EARSHOT_ARGS="--rate-limit 0 --upstream-budget 0 --live-ttl 15 --cache-ttl 180" \
        EARSHOT_LOG=warn "$ROOT/scripts/cluster.sh" start >/dev/null
    LB=http://127.0.0.1:$lb
    CLUSTER_REDIS_AT=$redis_port
    R1=http://127.0.0.1:$base
    R2=http://127.0.0.1:$((base + 1))
}

cluster_down() {
    CLUSTER_DIR=$CLUSTER_RUN "$ROOT/scripts/cluster.sh" stop 2>/dev/null
    local keep=() d
    for d in "${CLUSTERS[@]}"; do [ "$d" = "$CLUSTER_RUN" ] || keep+=("$d"); done
    CLUSTERS=("${keep[@]}")
}

cluster_gauges() { # replicas -> "connected/replicas, lease holders" from each replica's /metrics
    local n=$1 i m c l connected=0 leases=0 base=${R1##*:}
    for i in $(seq 0 $((n - 1))); do
        m=$(curl -fsS "http://127.0.0.1:$((base + i))/metrics")
        c=$(awk '$1 == "earshot_cluster_connected" {print $2}' <<<"$m")
        l=$(awk '$1 == "earshot_cluster_lease_held" {print $2}' <<<"$m")
        [ "${c:-0}" != 1 ] || connected=$((connected + 1))
        [ "${l:-0}" != 1 ] || leases=$((leases + 1))
    done
    echo "$connected/$n connected, $leases holding the lease"
}

# cold_pages LABEL FIRST SITE [WARM_SITE] -> one table row: CLUSTER_COLD Space pages
# (ids FIRST… of $WORK/cold-ids.txt, each asked once here and nowhere before), one at a
# time, by curl's time_total; with WARM_SITE, each is first fetched there (another
# replica), so SITE's L1 is cold but Redis holds it. Upstream calls counted meanwhile.
cold_pages() {
    local label=$1 first=$2 site=$3 warm=${4:-} id before after
    sed -n "$((first + 1)),$((first + CLUSTER_COLD))p" "$WORK/cold-ids.txt" >"$WORK/cold-batch.txt"
    if [ -n "$warm" ]; then
        while read -r id; do curl -fsS -o /dev/null "$warm/spaces/$id"; done <"$WORK/cold-batch.txt"
        sleep 0.5
    fi
    before=$(calls)
    while read -r id; do
        curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' "$site/spaces/$id"
    done <"$WORK/cold-batch.txt" >"$WORK/cold.txt"
    sleep 0.5
    after=$(calls)
    python3 - "$WORK/cold.txt" "$label" "$((after - before))" <<'PY'
import collections, statistics, sys
path, label, calls = sys.argv[1:]
rows = [line.split() for line in open(path) if line.strip()]
ms = sorted(float(t) * 1000 for _, t in rows)
codes = collections.Counter(c for c, _ in rows)
q = lambda p: ms[min(len(ms) - 1, round(p * (len(ms) - 1)))]
st = ", ".join(f"{k}: {v}" for k, v in sorted(codes.items()))
print(f"| {label} | {len(ms)} ({st}) | {statistics.median(ms):.2f} | {q(0.9):.2f} | {ms[-1]:.2f} | {calls} |")
PY
}

bench_cluster() {
    log "10. cluster mode: 1 replica, then 3 behind nginx with Redis"
    command -v redis-server >/dev/null || {
        log "installing redis-server (apt)"
        if [ "$(id -u)" = 0 ]; then apt-get install -y redis-server; else sudo apt-get install -y redis-server; fi
    }
    local f out1 out3 gauges
    f=$(section_file 10-cluster)

    log "economy, 1 replica without Redis behind nginx, ${CLUSTER_SECS}s"
    start_demo "$SCALE" 300
    cluster_up 1 0 x
    out1=$("$LOADGEN" budget --site "$LB" --demo "http://127.0.0.1:$DEMO_PORT" --key "$KEY" \
        --browsers "$CLUSTER_BROWSERS" --spaces "$CLUSTER_SPACES" --secs "$CLUSTER_SECS" --every 15 --warmup 30)
    echo "$out1" >"$RESULTS/cluster-economy-1.json"
    cluster_down
    stop "$DEMO_PID"

    log "economy, 3 replicas with Redis behind nginx, ${CLUSTER_SECS}s"
    start_demo "$SCALE" 300
    cluster_up 3 1 x
    out3=$("$LOADGEN" budget --site "$LB" --demo "http://127.0.0.1:$DEMO_PORT" --key "$KEY" \
        --browsers "$CLUSTER_BROWSERS" --spaces "$CLUSTER_SPACES" --secs "$CLUSTER_SECS" --every 15 --warmup 30)
    echo "$out3" >"$RESULTS/cluster-economy-3.json"
    gauges=$(cluster_gauges 3)
    cluster_down
    stop "$DEMO_PID"

    log "economy, 3 replicas with Redis killed for ${OUTAGE_SECS}s at ${OUTAGE_AT}s"
    start_demo "$SCALE" 300
    cluster_up 3 1 x
    "$LOADGEN" budget --site "$LB" --demo "http://127.0.0.1:$DEMO_PORT" --key "$KEY" \
        --browsers "$CLUSTER_BROWSERS" --spaces "$CLUSTER_SPACES" --secs "$CLUSTER_SECS" --every 15 --warmup 30 \
        >"$RESULTS/cluster-economy-outage.json" &
    local load=$! redis_pid revived gauges_outage gauges_back
    sleep "$OUTAGE_AT"
    redis_pid=$(head -1 "$CLUSTER_RUN/redis.pid")
    kill -9 "$redis_pid"
    sleep 3
    gauges_outage=$(cluster_gauges 3)
    sleep $((OUTAGE_SECS - 3))
    redis-server --bind 127.0.0.1 --port "$CLUSTER_REDIS_AT" --save '' --appendonly no \
        --dir "$CLUSTER_RUN/redis" --daemonize no --protected-mode yes >"$WORK/redis-revived.log" 2>&1 &
    revived=$!
    PIDS+=("$revived")
    wait "$load"
    gauges_back=$(cluster_gauges 3)
    cluster_down
    stop "$revived" "$DEMO_PID"

    {
        echo "## 10. Cluster mode"
        echo
        echo "_Run $(stamp)._ The economy of section 7 (\`examples/loadgen.rs budget\`: $CLUSTER_BROWSERS browsers polling"
        echo "\`/spaces/{id}/live\` every 15 s as htmx does, over $CLUSTER_SPACES live Spaces, for $CLUSTER_SECS s) on X API v2, against"
        echo "a fresh \`earshot demo-upstream --demo-scale $SCALE --x-rate-limit 300\` per case (X's real budget: 300 lookups per"
        echo "15 minutes, advertised in \`x-rate-limit-*\`, 429 past it), first with 1 replica without Redis, then with 3"
        echo "replicas sharing one \`redis-server\`, each time behind nginx (\`scripts/cluster.sh\`: round robin, keep-alive to"
        echo "the replicas, \`X-Forwarded-For\`), so the only differences are the replicas and Redis. The replicas run as in"
        echo "section 7 (\`--rate-limit 0 --upstream-budget 0 --live-ttl 15 --cache-ttl 180\`). Upstream calls are counted"
        echo "by the demo upstream. A poll is served when it is answered 200, 304 or 286 (the Space ended; that browser then"
        echo "stops, as htmx does, so the polls sent vary a little with how many of the watched Spaces end). Targets: with"
        echo "3 replicas, upstream calls a minute within 1.1× of 1 replica's once the Spaces are known (steady: from 30 s on; in the first"
        echo "seconds each replica gathers the first views it gets into batches of its own, so that part costs more with 3, shown apart), and live polls served not below: as large a"
        echo "share of the polls sent served, and at least 98 % as many polls sent (a poll kept waiting is a poll not sent on time)."
        echo
        echo "| replicas | Redis | polls (statuses) | polls served | poll p50 ms | poll p99 ms | upstream calls | calls/min over the window | calls in first 30 s | steady calls/min | by endpoint | cluster gauges at the end |"
        echo "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
        python3 - "$out1" "$out3" "$gauges" <<'PY'
import json, sys
one, three, gauges = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
def served(d):
    return sum(v for k, v in d["statuses"].items() if k in ("200", "304", "286"))
def share(d):
    return served(d) / (d["requests"] + d["errors"]) if d["requests"] + d["errors"] else 0.0
ms = lambda v: f"{v:.2f}" if isinstance(v, (int, float)) else "n/a"  # serde_json writes NaN as null
for n, redis, d, g in ((1, "no", one, "–"), (3, "yes", three, gauges)):
    st = ", ".join(f"{k}: {v}" for k, v in d["statuses"].items())
    if d["errors"]:
        st += f", errors: {d['errors']}"
    by = ", ".join(f"{k} {v}" for k, v in d["by_endpoint"].items())
    print(f"| {n} | {redis} | {d['requests']:,} ({st}) | {served(d):,} ({100 * share(d):.1f} %) | {ms(d['poll_p50_ms'])} | {ms(d['poll_p99_ms'])} | "
          f"{d['upstream_calls']} | {d['calls_per_min']:.1f} | {d['calls_in_warmup']} | {d['steady_calls_per_min']:.1f} | {by or '–'} | {g} |")
print()
print("| target | 1 replica | 3 replicas | 3 ÷ 1 | met |")
print("| --- | ---: | ---: | ---: | --- |")
c1, c3 = one["steady_calls_per_min"], three["steady_calls_per_min"]
ratio = c3 / c1 if c1 else float("inf")
print(f"| upstream calls a minute (steady, after the first 30 s), 3 replicas within 1.1× | {c1:.1f} | {c3:.1f} | {ratio:.2f}× | {'**met**' if ratio <= 1.1 else '**missed**'} |")
w1, w3 = one["calls_per_min"], three["calls_per_min"]
ratio = w3 / w1 if w1 else float("inf")
print(f"| upstream calls a minute over the whole window, first views included (reported) | {w1:.1f} | {w3:.1f} | {ratio:.2f}× | – |")
s1, s3 = served(one), served(three)
ratio = s3 / s1 if s1 else float("inf")
ok = share(three) >= share(one) and three["requests"] >= 0.98 * one["requests"]
print(f"| live polls served, 3 replicas not below | {s1:,} ({100 * share(one):.1f} %) | {s3:,} ({100 * share(three):.1f} %) | "
      f"{ratio:.2f}× | {'**met**' if ok else '**missed**'} |")
PY
        echo
        echo "**Redis killed mid-run.** The 3-replica case again, with \`redis-server\` killed (\`SIGKILL\`) ${OUTAGE_AT} s into"
        echo "the window and started again, empty, ${OUTAGE_SECS} s later. While it is down each replica answers from its own memory"
        echo "and its own share of the budget. Target: no 5xx answer; the upstream calls during the outage are reported"
        echo "against the same ${OUTAGE_SECS} s of the run without an outage."
        echo
        python3 - "$out3" "$RESULTS/cluster-economy-outage.json" "$OUTAGE_AT" "$OUTAGE_SECS" "$gauges_outage" "$gauges_back" <<'PY'
import json, sys
base, out = json.loads(sys.argv[1]), json.load(open(sys.argv[2]))
at, secs, during, after = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
def at_t(d, t):
    best = 0
    for s, n in d["timeline"]:
        if s <= t:
            best = n
    return best
def window(d):
    return at_t(d, at + secs) - at_t(d, at)
fivexx = sum(v for k, v in out["statuses"].items() if k.startswith("5"))
st = ", ".join(f"{k}: {v}" for k, v in out["statuses"].items())
if out["errors"]:
    st += f", connection errors: {out['errors']}"
print(f"| case | polls (statuses) | 5xx | upstream calls in the outage's {secs} s | same {secs} s without an outage | calls/min over the window | cluster gauges 3 s into the outage | after |")
print("| --- | --- | ---: | ---: | ---: | ---: | --- | --- |")
verdict = "**met**" if fivexx == 0 and out["errors"] == 0 else "**missed**"
print(f"| Redis down {at}–{at + secs} s | {out['requests']:,} ({st}) | {fivexx} {verdict} | {window(out)} | {window(base)} | "
      f"{out['calls_per_min']:.1f} | {during} | {after} |")
PY
    } >"$f"

    # Pages: 3 replicas with Redis and one earshot without, side by side on one demo
    # upstream (the gateway dialect, which paces nothing, so a cold page's time is
    # earshot's and the upstream's, not a wait for the budget).
    log "pages: a cached page and cold pages, with and without Redis"
    start_demo 1
    cluster_up 3 1 gateway
    start_earshot gateway
    local id page_r page_s r ratio url
    id=$(live_ids 1 | head -1)
    page_r=$R1/spaces/$id
    page_s=$SITE/spaces/$id
    for url in "$page_r" "$page_s" "$LB/spaces/$id"; do
        curl -fsS -o /dev/null "$url"
        curl -fsS -o /dev/null "$url"
    done
    local accept='Accept-Encoding: gzip, deflate, br, zstd'
    log "wrk: replica with Redis vs earshot without, $WRK_ROUNDS rounds"
    read -r -a r <<<"$(wrk_alternate "$page_r" "$page_s" -H "$accept")"
    ratio=$(python3 -c "print(f'{${r[0]}/${r[4]}:.2f}')")
    local alone=${r[4]} lb_runs lb
    log "wrk: through nginx"
    : >"$WORK/lb.runs"
    for _ in $(seq "$WRK_ROUNDS"); do wrk_run nginx "$LB/spaces/$id" -H "$accept" >>"$WORK/lb.runs"; done
    lb=$(sort -n "$WORK/lb.runs" | sed -n "$(((WRK_ROUNDS + 1) / 2))p")
    lb_runs=$(sort -n "$WORK/lb.runs" | awk '{print $1}' | paste -sd/)
    {
        echo
        echo "**A cached page.** The Space page \`/spaces/{id}\` (gateway dialect, cache warm), \`wrk -t$WRK_THREADS -c$WRK_CONN -d${WRK_SECS}s\`"
        echo "with a browser's \`$accept\`, on replica 1 of the 3 (directly: cluster mode, answered from its"
        echo "own memory, L1) and on one earshot without \`--redis-url\`, taking turns $WRK_ROUNDS times (median run shown,"
        echo "every run's req/s last); then the same page through nginx in front of the 3, for what a visitor gets. Target:"
        echo "cluster mode serves it at 0.95× or better of the same page without Redis."
        echo
        echo "| server | req/s | p50 ms | p99 ms | non-2xx | vs without Redis | met | runs req/s |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"
        echo "| replica in cluster mode (Redis) | ${r[0]} | ${r[1]} | ${r[2]} | ${r[3]} | ${ratio}× | $(python3 -c "print('**met**' if $ratio >= 0.95 else '**missed**')") | ${r[8]} |"
        echo "| earshot without Redis | ${r[4]} | ${r[5]} | ${r[6]} | ${r[7]} | 1.00× | (reference) | ${r[9]} |"
        read -r -a r <<<"$lb"
        echo "| nginx in front of the 3 replicas | ${r[0]} | ${r[1]} | ${r[2]} | ${r[3]} | $(python3 -c "print(f'{${r[0]}/$alone:.2f}')")× | (reference) | $lb_runs |"
    } >>"$f"

    log "cold pages: $CLUSTER_COLD each"
    demo_json "/__demo/ids?state=ended&limit=$((3 * CLUSTER_COLD))" |
        python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin)["ids"]))' >"$WORK/cold-ids.txt"
    {
        echo
        echo "**Cold pages.** $CLUSTER_COLD Space pages (ended Spaces of the demo world) nobody asked for before, one at a time"
        echo "(\`curl -w %{time_total}\`, a new connection each), on the same servers: each needs the Space, its participants, tweets"
        echo "and recording, 4 upstream calls on a miss. With Redis, a miss also reads Redis, takes the fill lock and stores the"
        echo "answers: the extra latency below. The last row asks replica 1 for pages replica 2 already fetched: cold in its"
        echo "memory, warm in Redis, so no upstream call is needed."
        echo
        echo "| case | pages (statuses) | median ms | p90 ms | max ms | upstream calls |"
        echo "| --- | --- | ---: | ---: | ---: | ---: |"
        cold_pages "without Redis (one earshot)" 0 "$SITE" | tee "$WORK/cold-alone.row"
        cold_pages "cluster mode, cold everywhere (replica 1)" "$CLUSTER_COLD" "$R1" | tee "$WORK/cold-redis.row"
        cold_pages "cluster mode, fetched by replica 2 first (replica 1)" $((2 * CLUSTER_COLD)) "$R1" "$R2"
        python3 - "$WORK/cold-alone.row" "$WORK/cold-redis.row" <<'PY'
import sys
alone, redis = (float(open(p).read().split("|")[3]) for p in sys.argv[1:])
print(f"\nThe extra latency of Redis on a cold page: {redis - alone:+.2f} ms at the median ({redis:.2f} vs {alone:.2f} ms).")
PY
    } >>"$f"
    {
        echo
        echo "Commands: \`earshot demo-upstream --bind 127.0.0.1:D --api-key K --demo-scale $SCALE --x-rate-limit 300\` (economy; \`--demo-scale 1\` for the pages);"
        echo "\`CLUSTER_REPLICAS=1|3 CLUSTER_REDIS=0|1 CLUSTER_DEMO_URL=http://127.0.0.1:D/ CLUSTER_UPSTREAM=x|gateway scripts/cluster.sh start\`"
        echo "(replicas: \`earshot --bind 127.0.0.1:Rn --public-url http://127.0.0.1:B --upstream x --upstream-url http://127.0.0.1:D/ --api-key K --rate-limit 0 --upstream-budget 0 --live-ttl 15 --cache-ttl 180\`,"
        echo "with \`EARSHOT_REDIS_URL=redis://127.0.0.1:P/0\` and \`EARSHOT_TRUSTED_PROXIES=127.0.0.1/32\`);"
        echo "\`loadgen budget --site http://127.0.0.1:B --browsers $CLUSTER_BROWSERS --spaces $CLUSTER_SPACES --secs $CLUSTER_SECS --every 15 --warmup 30\`;"
        echo "\`wrk -t$WRK_THREADS -c$WRK_CONN -d${WRK_SECS}s --latency -H '$accept' URL\`. Timelines: \`\$CARGO_TARGET_DIR/bench-results/cluster-economy-*.json\`."
    } >>"$f"
    stop "$SITE_PID"
    cluster_down
    stop "$DEMO_PID"
}

# ------------------------------------------------------------------ 11. the default configuration

# A browser's request headers (Chromium on Linux), as a user's browser sends them.
BROWSER_UA='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
BROWSER_ACCEPT='text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8'
BROWSER_AE='gzip, deflate, br, zstd'
BROWSER_H=(-H "User-Agent: $BROWSER_UA" -H "Accept: $BROWSER_ACCEPT" -H "Accept-Encoding: $BROWSER_AE" -H 'Accept-Language: en-US,en;q=0.9')
PLAIN_H=(-H "User-Agent: $BROWSER_UA" -H "Accept: $BROWSER_ACCEPT" -H 'Accept-Language: en-US,en;q=0.9')

# start_earshot_as_shipped -> SITE_PORT, SITE_PID, SITE: earshot as a user starts it: the
# upstream and `--rate-limit 0` (one load generator is one client), nothing else; its
# log at the default level, to a file.
start_earshot_as_shipped() {
    SITE_PORT=$(free_port)
    env -u EARSHOT_LOG "$BIN" --bind "127.0.0.1:$SITE_PORT" --upstream gateway \
        --upstream-url "http://127.0.0.1:$DEMO_PORT/" --api-key "$KEY" --rate-limit 0 \
        >"$WORK/earshot.$SITE_PORT.log" 2>&1 &
    SITE_PID=$!
    PIDS+=("$SITE_PID")
    SITE=http://127.0.0.1:$SITE_PORT
    wait_http "$SITE/healthz"
}

# snapshot ROOT NAME URL -> ROOT/NAME.html and, as earshot sends them to a browser,
# ROOT/NAME.html.br and .gz (for nginx's brotli_static and gzip_static).
snapshot() {
    curl -fsS -o /dev/null "$3"
    curl -fsS -o /dev/null "$3"
    curl -fsS -o "$1/$2.html" "$3"
    curl -fsS -H 'Accept-Encoding: br' -o "$1/$2.html.br" "$3"
    curl -fsS -H 'Accept-Encoding: gzip' -o "$1/$2.html.gz" "$3"
}

# ratio_row TITLE BYTES TARGET(0.8|-) R… -> a table row from wrk_alternate's output
ratio_row() {
    local title=$1 bytes=$2 target=$3 ratio verdict=""
    shift 3
    local r=("$@")
    ratio=$(python3 -c "print(f'{${r[0]}/${r[4]}:.2f}')")
    [ "$target" = - ] || verdict=$(python3 -c "print('**met**' if $ratio >= $target else '**missed**')")
    echo "| $title | $bytes | ${r[0]} | ${r[1]} | ${r[2]} | ${r[4]} | ${r[5]} | ${r[6]} | ${ratio}× | $verdict | ${r[8]}; ${r[9]} |"
    [ "${r[3]}" = 0 ] || echo "| ↳ earshot non-2xx/3xx responses: ${r[3]} | | | | | | | | | | |"
}

bench_defaults() {
    log "11. the default configuration: request log to a file, against nginx with its access log"
    start_demo 1
    start_earshot_as_shipped
    local id root=$WORK/www-defaults r f
    id=$(live_ids 1 | head -1)
    mkdir -p "$root"
    snapshot "$root" space "$SITE/spaces/$id"
    snapshot "$root" home "$SITE/"
    chmod -R a+rX "$root"
    NGINX_ACCESS_LOG=1 start_nginx "$root"
    local logged_nginx=$NGINX_PORT logged_pid=$NGINX_PID logged_dir=$NGINX_DIR
    f=$(section_file 11-defaults)
    {
        echo "## 11. The default configuration"
        echo
        echo "_Run $(stamp)._ earshot as a user starts it: \`earshot --upstream gateway --upstream-url … --api-key …"
        echo "--rate-limit 0\` and nothing else (\`--rate-limit 0\` because one load generator stands for many visitors),"
        echo "its request log at the default level (\`info\`, one line a request) going to a file; against Debian's nginx"
        echo "serving the same bytes as static files with its access log on (to a file, nginx's default format, one write a"
        echo "request). \`wrk -t$WRK_THREADS -c$WRK_CONN -d${WRK_SECS}s\`, $WRK_ROUNDS alternating runs each, median shown,"
        echo "no \`Accept-Encoding\` (section 12 has a browser's). Target: 0.8× or better for the cached Space page and \`/\`."
        echo
        echo "| route | bytes | earshot req/s | p50 ms | p99 ms | nginx req/s | p50 ms | p99 ms | earshot/nginx | ≥ 0.8× | runs, earshot; nginx |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
    } >"$f"
    log "wrk space (defaults vs nginx with access log)"
    read -r -a r <<<"$(wrk_alternate "$SITE/spaces/$id" "http://127.0.0.1:$logged_nginx/space.html")"
    ratio_row "cached Space page \`/spaces/{id}\`" "$(stat -c %s "$root/space.html")" 0.8 "${r[@]}" >>"$f"
    log "wrk home (defaults vs nginx with access log)"
    read -r -a r <<<"$(wrk_alternate "$SITE/" "http://127.0.0.1:$logged_nginx/home.html")"
    ratio_row "home \`/\`" "$(stat -c %s "$root/home.html")" 0.8 "${r[@]}" >>"$f"
    # For reference: what the log costs each of them.
    start_nginx "$root"
    log "wrk space (defaults vs nginx without a log)"
    read -r -a r <<<"$(wrk_alternate "$SITE/spaces/$id" "http://127.0.0.1:$NGINX_PORT/space.html")"
    ratio_row "reference: cached Space page, against nginx with no access log" "$(stat -c %s "$root/space.html")" - "${r[@]}" >>"$f"
    local lines
    lines=$(grep -c ' request ' "$WORK/earshot.$SITE_PORT.log" || true)
    {
        echo
        echo "earshot wrote $lines request lines to its log file during the runs (\`wc\` of the file), nginx"
        echo "$(wc -l <"$logged_dir/logs/access.log" 2>/dev/null || echo 0) access-log lines."
        echo
        echo "Commands: \`earshot demo-upstream --bind 127.0.0.1:D --api-key K\`;"
        echo "\`earshot --bind 127.0.0.1:E --upstream gateway --upstream-url http://127.0.0.1:D/ --api-key K --rate-limit 0 2>earshot.log\`;"
        echo "nginx as in section 1 with \`access_log logs/access.log;\`; \`wrk -t$WRK_THREADS -c$WRK_CONN -d${WRK_SECS}s --latency URL\`."
    } >>"$f"
    stop "$NGINX_PID" "$logged_pid" "$SITE_PID" "$DEMO_PID"
}

# ------------------------------------------------------------------ 12. a browser's headers

bench_browser() {
    log "12. every page with a browser's request headers"
    start_demo 1
    start_earshot_as_shipped
    local id root=$WORK/www-browser r f n ratio
    id=$(live_ids 1 | head -1)
    mkdir -p "$root"
    local -a names=(space home embed trending leaderboard live-partial live)
    local -A paths=([space]="/spaces/$id" [home]="/" [embed]="/embed/spaces/$id" [trending]="/trending"
        [leaderboard]="/leaderboard" [live-partial]="/spaces/$id/live" [live]="/live")
    local -A titles=([space]="cached Space page \`/spaces/{id}\`" [home]="home \`/\`" [embed]="embed \`/embed/spaces/{id}\`"
        [trending]="\`/trending\`" [leaderboard]="\`/leaderboard\`" [live-partial]="live partial \`/spaces/{id}/live\`" [live]="\`/live\`")
    local -A targets=([space]=0.8 [home]=0.8 [embed]=0.8 [trending]=0.8 [leaderboard]=0.8 [live-partial]=- [live]=-)
    for n in "${names[@]}"; do
        snapshot "$root" "$n" "$SITE${paths[$n]}"
    done
    chmod -R a+rX "$root"
    NGINX_ACCESS_LOG=1 start_nginx "$root"
    f=$(section_file 12-browser)
    {
        echo "## 12. A browser's request headers"
        echo
        echo "_Run $(stamp)._ The routes of section 1, and \`/live\`, \`/trending\` and \`/leaderboard\`, asked as Chromium asks:"
        echo "\`Accept-Encoding: $BROWSER_AE\`, its \`User-Agent\`, \`Accept\` and \`Accept-Language\`. earshot in the default"
        echo "configuration of section 11 (request log to a file); nginx with its access log on, serving the very bytes earshot"
        echo "sent (identity, \`.br\` and \`.gz\` files) with \`gzip_static\` and, from Debian's \`libnginx-mod-http-brotli-static\`"
        echo "$( [ -f /usr/lib/nginx/modules/ngx_http_brotli_static_module.so ] && echo "(installed here)" || echo "(**not installed here: nginx sent gzip**)"),"
        echo "\`brotli_static\`. Both therefore send brotli. \`wrk -t$WRK_THREADS -c$WRK_CONN -d${WRK_SECS}s\`, $WRK_ROUNDS alternating runs"
        echo "each, median shown. Targets: cached pages (the Space page, \`/\`, the embed, \`/trending\`, \`/leaderboard\`) 0.8× nginx"
        echo "or better; the live partial and \`/live\`, made per request, within 1.5× of their own uncompressed throughput"
        echo "(second table)."
        echo
        echo "| route | bytes sent (br) | earshot req/s | p50 ms | p99 ms | nginx req/s | p50 ms | p99 ms | earshot/nginx | ≥ 0.8× | runs, earshot; nginx |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
    } >"$f"
    for n in "${names[@]}"; do
        log "wrk $n, browser headers"
        read -r -a r <<<"$(wrk_alternate "$SITE${paths[$n]}" "http://127.0.0.1:$NGINX_PORT/$n.html" "${BROWSER_H[@]}")"
        ratio_row "${titles[$n]}" "$(stat -c %s "$root/$n.html.br")" "${targets[$n]}" "${r[@]}" >>"$f"
    done
    {
        echo
        echo "**Made per request, compressed against uncompressed.** earshot alone, the same browser headers with and"
        echo "without \`Accept-Encoding\`, alternating. Target: compressed at least 1/1.5 of uncompressed req/s."
        echo
        echo "| route | bytes identity → br | req/s with \`br\` | req/s uncompressed | compressed/uncompressed | within 1.5× | runs, br; identity |"
        echo "| --- | ---: | ---: | ---: | ---: | --- | --- |"
    } >>"$f"
    for n in live-partial live; do
        log "wrk $n, br against identity"
        read -r -a r <<<"$(wrk_alternate_args "$SITE${paths[$n]}" "${#BROWSER_H[@]}" "${BROWSER_H[@]}" "${PLAIN_H[@]}")"
        ratio=$(python3 -c "print(f'{${r[0]}/${r[4]}:.2f}')")
        echo "| ${titles[$n]} | $(stat -c %s "$root/$n.html") → $(stat -c %s "$root/$n.html.br") | ${r[0]} | ${r[4]} | ${ratio}× | $(python3 -c "print('**met**' if $ratio >= 1 / 1.5 else '**missed**')") | ${r[8]}; ${r[9]} |" >>"$f"
    done
    {
        echo
        echo "Commands: earshot and nginx as in section 11, plus \`brotli_static on; gzip_static on;\` for nginx;"
        echo "\`wrk -t$WRK_THREADS -c$WRK_CONN -d${WRK_SECS}s --latency -H 'User-Agent: …' -H 'Accept: …' -H 'Accept-Encoding: $BROWSER_AE' -H 'Accept-Language: en-US,en;q=0.9' URL\`."
    } >>"$f"
    stop "$NGINX_PID" "$SITE_PID" "$DEMO_PID"
}

# wrk_alternate_args URL N A1… B… -> as wrk_alternate, one URL asked two ways: the first
# N words of wrk arguments, then the rest; "a" takes the place of earshot, "b" of nginx.
wrk_alternate_args() {
    local url=$1 n=$2 i
    shift 2
    local -a a=("${@:1:$n}") b=("${@:$((n + 1))}")
    : >"$WORK/e.runs"
    : >"$WORK/g.runs"
    for i in $(seq "$WRK_ROUNDS"); do
        wrk_run a "$url" "${a[@]}" >>"$WORK/e.runs"
        wrk_run b "$url" "${b[@]}" >>"$WORK/g.runs"
    done
    python3 - "$WORK/e.runs" "$WORK/g.runs" <<'PY'
import sys
out, lists = [], []
for path in sys.argv[1:]:
    runs = [line.split() for line in open(path) if line.strip()]
    runs.sort(key=lambda r: float(r[0]))
    out += runs[len(runs) // 2]
    lists.append("/".join(r[0] for r in sorted(runs, key=lambda r: float(r[0]))))
print(" ".join(out + lists))
PY
}

# ------------------------------------------------------------------ report

machine() {
    local f=$RESULTS/0-machine.md
    {
        echo "## Machine"
        echo
        echo "| | |"
        echo "| --- | --- |"
        echo "| date | $(stamp) |"
        echo "| CPU | $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}'), \`nproc\` = $(nproc) |"
        echo "| memory | $(free -g | awk '/^Mem:/ {print $2 " GiB"}') |"
        echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every number) |"
        echo "| kernel | $(uname -sr) |"
        echo "| rustc | $(rustc -V) |"
        echo "| earshot | $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown) ($(git -C "$ROOT" log -1 --format=%cs 2>/dev/null)) |"
        echo "| wrk | $(wrk -v 2>&1 | head -1) |"
        echo "| nginx | $("$NGINX" -v 2>&1 | head -1) |"
        echo "| oha | $(oha --version 2>&1 | head -1) |"
        echo "| redis-server | $(redis-server --version 2>/dev/null | awk '{print $3}' || echo 'not installed') |"
    } >"$f"
}

summary() { # every row that carries a verdict, section by section
    echo "## Targets at a glance"
    echo
    echo "| section | case | verdict |"
    echo "| --- | --- | --- |"
    python3 - "$RESULTS" <<'PY'
import glob, os, re, sys
paths = glob.glob(os.path.join(sys.argv[1], "[1-9]-*.md")) + glob.glob(os.path.join(sys.argv[1], "[1-9][0-9]-*.md"))
for path in sorted(paths, key=lambda p: int(os.path.basename(p).split("-")[0])):
    lines = open(path).read().splitlines()
    title = lines[0].lstrip("# ").strip() if lines else path
    for line in lines:
        if line.startswith("|") and ("**met**" in line or "**missed**" in line):
            cells = [c.strip() for c in line.strip("|").split("|")]
            verdict = "met" if "**met**" in line else "**missed**"
            case = " / ".join(c for c in cells[:3] if c and "met**" not in c and "missed**" not in c)
            print(f"| {title} | {case} | {verdict} |")
        elif "target" in line and ("**met**" in line or "**missed**" in line):
            m = re.match(r"\*\*(.+?)\*\*.*?\*\*(.+?)\*\*", line)
            verdict = "met" if "**met**" in line else "**missed**"
            print(f"| {title} | {m.group(1) if m else ''} {m.group(2) if m else ''} | {verdict} |")
PY
}

report() {
    local out=$ROOT/BENCHMARKS.md
    {
        echo "# Benchmarks"
        echo
        echo "Produced by \`scripts/bench.sh\` (the one command; \`scripts/bench.sh SECTION…\` for a subset). Every server is"
        echo "on 127.0.0.1; the upstream is earshot's own demo upstream (\`earshot demo-upstream\`), which counts the calls it"
        echo "serves. Numbers are from one run on the machine below; rerun to compare."
        echo
        cat "$ROOT/scripts/bench/reading.md"
        echo
        summary
        echo
        for s in "$RESULTS"/0-machine.md "$RESULTS"/[1-9]-*.md "$RESULTS"/[1-9][0-9]-*.md; do
            [ -f "$s" ] || continue
            cat "$s"
            echo
        done
        # Hand-written reading of the numbers (dated; says which run it refers to).
        [ -f "$ROOT/scripts/bench/analysis.md" ] && cat "$ROOT/scripts/bench/analysis.md"
    } >"$out"
    log "wrote $out"
}

# ------------------------------------------------------------------ 13. listener history

bench_history() {
    local spaces=${BENCH_HISTORY_SPACES:-10000} samples=${BENCH_HISTORY_SAMPLES:-480}
    local scale=${BENCH_HISTORY_SCALE:-556} f
    log "13. listener history: $spaces Spaces × $samples samples in memory"
    cargo build --release --example history_memory
    f=$(section_file 13-history)
    {
        echo "## 13. Listener history memory"
        echo
        echo "_Run $(stamp)._ One process (\`examples/history_memory.rs\`): earshot started in it on the embedded demo"
        echo "at \`--demo-scale $scale\` (about 18 live Spaces per copy) on an injected clock, the home page loaded, then"
        echo "$samples samples (15 s apart on that clock: two hours at the default live TTL) recorded for each of $spaces"
        echo "Spaces with their summaries (title, host) through the sample store's own \`record_about\`, then \`/trending\` and"
        echo "\`/leaderboard?period=7d\` read over HTTP. RSS of the whole process from \`/proc/self/status\`."
        echo "Target: peak ≤ 150 MB. Caps: 10,000 Spaces × 960 samples of 8 bytes (\`SampleLimits::for_live_ttl\`)."
        echo
        echo "| case | RSS idle MB | RSS filled MB | RSS after pages MB | peak RSS (VmHWM) MB | trending / leaderboard | peak ≤ 150 MB |"
        echo "| --- | ---: | ---: | ---: | ---: | --- | --- |"
        "$TARGET/release/examples/history_memory" "$spaces" "$samples" "$scale"
    } >"$f"
}

main() {
    local sections=("$@")
    if [ "${1:-}" = report ]; then # reassemble BENCHMARKS.md from the kept results
        report
        return
    fi
    [ ${#sections[@]} -gt 0 ] || read -r -a sections <<<"$ALL_SECTIONS"
    need_tools
    build
    machine
    local s
    for s in "${sections[@]}"; do
        case " $ALL_SECTIONS " in *" $s "*) ;; *) echo "unknown section $s (have: $ALL_SECTIONS)" >&2; exit 2 ;; esac
        "bench_$s"
    done
    report
}

main "$@"
