#!/usr/bin/env bash
# earshot in cluster mode on one machine: Redis, three replicas sharing it, one demo
# upstream they all ask, and nginx in front as the load balancer. All on 127.0.0.1.
#
#   scripts/cluster.sh start    # builds the release binary if needed, starts what is not running, prints the URL
#   scripts/cluster.sh status   # what runs, and whether each replica reaches Redis
#   scripts/cluster.sh stop     # stops everything it started; nothing is left running
#
# Every process is recorded in a pid file under the run directory (logs next to them),
# so `stop` ends exactly those. To change a setting, `stop` first: `start` keeps what
# already runs.
#
# Knobs (environment):
#   CLUSTER_PORT (8080)            the load balancer, the URL to open
#   CLUSTER_REPLICAS (3)           how many earshot replicas
#   CLUSTER_REPLICA_PORT (8081)    the first replica's port; the others follow (8082, 8083)
#   CLUSTER_REDIS_PORT (6380)      redis-server (not 6379, so a system Redis is left alone)
#   CLUSTER_REDIS (1)              0: no Redis, every replica on its own (for comparisons)
#   CLUSTER_DEMO_PORT (9090)       the demo upstream (`earshot demo-upstream`), one for all
#   CLUSTER_DEMO_URL               an upstream already running instead: no demo is started
#   CLUSTER_DEMO_ARGS              more demo-upstream flags, e.g. "--demo-scale 32 --x-rate-limit 300"
#   CLUSTER_UPSTREAM (x)           the dialect the replicas speak: x (X API v2) or gateway
#   CLUSTER_API_KEY (cluster-demo-key)  the demo upstream's key (it is local and made up)
#   CLUSTER_EARSHOT_ARGS           more flags for every replica, e.g. "--rate-limit 0"
#   CLUSTER_SHUTDOWN_GRACE (1)     each replica's --shutdown-grace: nginx stops first, so
#                                  no balancer waits for /readyz
#   CLUSTER_BIN                    the earshot binary (default: cargo build --release)
#   CLUSTER_DIR                    run directory (default: $CARGO_TARGET_DIR/cluster)
#   EARSHOT_LOG                    the replicas' log level (info)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
RUN=${CLUSTER_DIR:-$TARGET/cluster}
PORT=${CLUSTER_PORT:-8080}
REPLICAS=${CLUSTER_REPLICAS:-3}
REPLICA_PORT=${CLUSTER_REPLICA_PORT:-8081}
REDIS_PORT=${CLUSTER_REDIS_PORT:-6380}
WITH_REDIS=${CLUSTER_REDIS:-1}
DEMO_PORT=${CLUSTER_DEMO_PORT:-9090}
DEMO_URL=${CLUSTER_DEMO_URL:-}
UPSTREAM=${CLUSTER_UPSTREAM:-x}
KEY=${CLUSTER_API_KEY:-cluster-demo-key}
GRACE=${CLUSTER_SHUTDOWN_GRACE:-1}
PUBLIC_URL=http://127.0.0.1:$PORT

say() { printf '%s\n' "$*" >&2; }
die() {
    say "cluster.sh: $*"
    exit 1
}

# ------------------------------------------------------------------ pid files

# Each pid file holds the pid and a marker its command line must contain (its port or
# config path), so a recycled pid is never taken for ours.
pidfile() { echo "$RUN/$1.pid"; }

alive() { # name -> 0 when its recorded process runs
    local f pid marker
    f=$(pidfile "$1")
    [ -f "$f" ] || return 1
    { read -r pid && read -r marker; } <"$f" || return 1
    [ -n "$pid" ] && running "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"
}

pid_of() { head -1 "$(pidfile "$1")"; }

# launch NAME MARKER cmd… : in a session of its own (setsid), so it outlives this
# script and the terminal; stdout and stderr to $RUN/logs/NAME.log.
launch() {
    local name=$1 marker=$2
    shift 2
    setsid "$@" >>"$RUN/logs/$name.log" 2>&1 </dev/null &
    printf '%s\n%s\n' "$!" "$marker" >"$(pidfile "$name")"
}

port_free() { # port -> 0 when nothing listens on 127.0.0.1:port
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_until() { # what command… : up to 20 s
    local what=$1
    shift
    for _ in $(seq 1 400); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.05
    done
    die "$what did not come up; see $RUN/logs/"
}

# stop_one NAME : SIGTERM, then wait_gone.
stop_one() {
    alive "$1" || {
        rm -f "$(pidfile "$1")"
        return 0
    }
    local pid
    pid=$(pid_of "$1")
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$1" "$pid"
}

# running PID : it exists and is not a zombie (whose reaping is up to whoever adopted it).
running() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# wait_gone NAME PID : up to 20 s (earshot's grace plus its drain), then SIGKILL.
wait_gone() {
    local name=$1 pid=$2 started=$SECONDS
    for _ in $(seq 1 200); do
        running "$pid" || break
        sleep 0.1
    done
    if running "$pid"; then
        say "$name ($pid) ignored SIGTERM for 20 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$(pidfile "$name")"
    say "stopped $name ($pid, $((SECONDS - started)) s)"
}

# ------------------------------------------------------------------ components

replica_port() { echo $((REPLICA_PORT + $1 - 1)); }

binary() {
    if [ -n "${CLUSTER_BIN:-}" ]; then
        BIN=$CLUSTER_BIN
    else
        say "building the release binary (cargo build --release --bin earshot)"
        (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET cargo build --release --bin earshot) >&2
        BIN=$TARGET/release/earshot
    fi
    [ -x "$BIN" ] || die "no earshot binary at $BIN"
}

start_redis() {
    alive redis && return 0
    command -v redis-server >/dev/null || die "redis-server is missing (apt-get install redis-server)"
    port_free "$REDIS_PORT" || die "127.0.0.1:$REDIS_PORT is taken (CLUSTER_REDIS_PORT)"
    mkdir -p "$RUN/redis"
    # A cache and budgets, nothing to keep: no snapshots, no append-only file.
    launch redis "127.0.0.1:$REDIS_PORT" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
        --save '' --appendonly no --dir "$RUN/redis" --daemonize no --protected-mode yes
    wait_until "redis-server on $REDIS_PORT" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping
    say "redis-server on 127.0.0.1:$REDIS_PORT (pid $(pid_of redis))"
}

start_demo() {
    [ -z "$DEMO_URL" ] || return 0
    alive demo && return 0
    port_free "$DEMO_PORT" || die "127.0.0.1:$DEMO_PORT is taken (CLUSTER_DEMO_PORT)"
    # shellcheck disable=SC2086 # CLUSTER_DEMO_ARGS is a list of flags
    launch demo "127.0.0.1:$DEMO_PORT" "$BIN" demo-upstream --bind "127.0.0.1:$DEMO_PORT" \
        --api-key "$KEY" ${CLUSTER_DEMO_ARGS:-}
    wait_until "the demo upstream on $DEMO_PORT" \
        curl -fsS -H "X-API-KEY: $KEY" "http://127.0.0.1:$DEMO_PORT/__demo/stats"
    say "demo upstream on 127.0.0.1:$DEMO_PORT (pid $(pid_of demo))"
}

start_replica() { # n
    local n=$1 port
    port=$(replica_port "$n")
    alive "earshot$n" && return 0
    port_free "$port" || die "127.0.0.1:$port is taken (CLUSTER_REPLICA_PORT)"
    local upstream_url=${DEMO_URL:-http://127.0.0.1:$DEMO_PORT/}
    local -a env=(EARSHOT_LOG="${EARSHOT_LOG:-info}")
    # The balancer's address is trusted, so per-client limits and logs see the visitor
    # it names in X-Forwarded-For (an environment variable: a binary without the flag
    # ignores it, where an unknown flag would stop it).
    env+=(EARSHOT_TRUSTED_PROXIES=127.0.0.1/32)
    if [ "$WITH_REDIS" != 0 ]; then
        env+=(EARSHOT_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0")
    fi
    # shellcheck disable=SC2086 # CLUSTER_EARSHOT_ARGS is a list of flags
    launch "earshot$n" "127.0.0.1:$port" env "${env[@]}" "$BIN" --bind "127.0.0.1:$port" \
        --public-url "$PUBLIC_URL" --upstream "$UPSTREAM" --upstream-url "$upstream_url" \
        --api-key "$KEY" --shutdown-grace "$GRACE" ${CLUSTER_EARSHOT_ARGS:-}
}

nginx_bin() { command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || die "nginx is missing (apt-get install nginx)"; }

write_nginx_conf() {
    local n servers=""
    for n in $(seq 1 "$REPLICAS"); do
        # Passive health: three failures in 10 s rest a replica for 10 s; a request
        # that could not reach one is retried on the next (proxy_next_upstream).
        servers+="        server 127.0.0.1:$(replica_port "$n") max_fails=3 fail_timeout=10s;"$'\n'
    done
    mkdir -p "$RUN/nginx/tmp"
    cat >"$RUN/nginx/nginx.conf" <<EOF
# Written by scripts/cluster.sh; deploy/nginx.conf is the same for containers.
worker_processes auto;
pid $RUN/nginx/nginx.pid;
error_log $RUN/logs/nginx.error.log warn;
daemon off;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $RUN/nginx/tmp;
    proxy_temp_path $RUN/nginx/tmp;
    fastcgi_temp_path $RUN/nginx/tmp;
    uwsgi_temp_path $RUN/nginx/tmp;
    scgi_temp_path $RUN/nginx/tmp;
    upstream earshot {
$servers        keepalive 64;
    }
    server {
        listen 127.0.0.1:$PORT;
        location / {
            proxy_pass http://earshot;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_connect_timeout 2s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;
        }
        # Each replica's /metrics is for its own scraper, not for visitors.
        location = /metrics { return 404; }
    }
}
EOF
}

start_nginx() {
    alive nginx && return 0
    port_free "$PORT" || die "127.0.0.1:$PORT is taken (CLUSTER_PORT)"
    local nginx
    nginx=$(nginx_bin)
    write_nginx_conf
    "$nginx" -t -q -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" 2>>"$RUN/logs/nginx.error.log" ||
        die "nginx rejects $RUN/nginx/nginx.conf; see $RUN/logs/nginx.error.log"
    launch nginx "$RUN/nginx/nginx.conf" "$nginx" -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf"
    wait_until "nginx on $PORT" curl -fsS "$PUBLIC_URL/healthz"
    say "nginx on 127.0.0.1:$PORT (pid $(pid_of nginx))"
}

# ------------------------------------------------------------------ commands

cmd_start() {
    case "$UPSTREAM" in x | gateway) ;; *) die "CLUSTER_UPSTREAM must be x or gateway, not $UPSTREAM" ;; esac
    mkdir -p "$RUN/logs"
    binary
    [ "$WITH_REDIS" = 0 ] || start_redis
    start_demo
    local n
    for n in $(seq 1 "$REPLICAS"); do start_replica "$n"; done
    for n in $(seq 1 "$REPLICAS"); do
        wait_until "replica $n on $(replica_port "$n")" curl -fsS "http://127.0.0.1:$(replica_port "$n")/readyz"
        say "earshot replica $n on 127.0.0.1:$(replica_port "$n") (pid $(pid_of "earshot$n"))"
    done
    start_nginx
    say "logs and pid files: $RUN"
    echo "$PUBLIC_URL/"
}

cmd_stop() {
    [ -d "$RUN" ] || return 0
    # The balancer first, so no request is sent to a replica that is going away; the
    # replicas together (each drains on its own); the upstream and Redis last.
    stop_one nginx
    local f name pid signalled=()
    for f in "$RUN"/earshot*.pid; do
        [ -e "$f" ] || continue
        name=$(basename "$f" .pid)
        if alive "$name"; then
            pid=$(pid_of "$name")
            kill -TERM "$pid" 2>/dev/null || true
            signalled+=("$name:$pid")
        else
            rm -f "$f"
        fi
    done
    for name in "${signalled[@]}"; do wait_gone "${name%%:*}" "${name#*:}"; done
    stop_one demo
    stop_one redis
}

metric_of() { # port name
    curl -fsS --max-time 2 "http://127.0.0.1:$1/metrics" 2>/dev/null | awk -v m="$2" '$1 == m {print $2}'
}

cmd_status() {
    local any=0 name f port
    for f in "$RUN"/*.pid; do
        [ -e "$f" ] || continue
        name=$(basename "$f" .pid)
        if alive "$name"; then
            any=1
            case "$name" in
            earshot*)
                port=$(sed -n 2p "$f")
                port=${port##*:}
                echo "$name pid $(pid_of "$name") 127.0.0.1:$port ready=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/readyz")" \
                    "cluster_connected=$(metric_of "$port" earshot_cluster_connected || true) lease_held=$(metric_of "$port" earshot_cluster_lease_held || true)"
                ;;
            *) echo "$name pid $(pid_of "$name") running" ;;
            esac
        else
            echo "$name not running (stale pid file)"
        fi
    done
    if [ "$any" = 1 ]; then
        echo "open $PUBLIC_URL/"
    else
        echo "nothing running (run dir $RUN)"
        return 3
    fi
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
    say "usage: $0 start|stop|status (knobs: see the top of this file)"
    exit 2
    ;;
esac
