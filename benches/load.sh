#!/usr/bin/env bash
# Load benchmark: quirkgate vs nginx+njs and nginx+Lua (same client_id ->
# client_key rewrite) vs plain nginx proxy_pass vs direct-to-upstream.
# Everything runs on 127.0.0.1. Every table gives, next to req/s and the
# percentiles, the contender's CPU per request (user + system of its process
# and children, from /proc/PID/stat around each round) and its context
# switches per 1,000 requests (voluntary / involuntary, all threads).
#
# Usage:
#   benches/load.sh                 # main comparison + correctness + 5,000-idle-connection memory check
#   benches/load.sh --variants      # also quirkgate threads 1/2 x work_stealing false/true
#   benches/load.sh --pinned        # each contender on core 0, the upstream, the mock and wrk on core 1
#                                   # (taskset -a; with WORKERS=1 the contender has a core to itself)
#   benches/load.sh --low-rate      # instead of saturating: PACED_RATE req/s over PACED_CONNS connections
#                                   # (wrk paced by its delay() hook), then one unpaced connection (-c1)
#   benches/load.sh --build         # force `cargo build --release` first (else only if the binary is missing)
#   benches/load.sh --production [tls latency scaling idle]
#                                   # the production shape (TLS on both legs, fixed-rate latency,
#                                   # 32-2,048 connections, idle TLS memory): runs benches/production.sh
#
# Environment knobs (defaults in brackets):
#   WORKERS [1]      quirkgate `threads` and nginx `worker_processes` for the contenders
#   ROUNDS [3]       alternating rounds; each round drives every contender once
#   DURATION [10]    seconds per wrk run
#   CONNS [32]       wrk connections;  WRK_THREADS [1] wrk threads
#   IDLE_CONNS [5000] idle keep-alive connections for the memory check (IDLE_CONNS=0 skips it)
#   PACED_RATE [500] PACED_CONNS [8]   the --low-rate shape
#   BASE_PORT [27100] ports BASE..BASE+99 on 127.0.0.1 are used
#   QUIRKGATE_BIN [target/release/quirkgate]
#
# Upstream: a fixed-answer nginx (`return 200 '{"access_token":...}'`, 1 worker,
# keep-alive) so the upstream is never the bottleneck. The quirkgate
# quirkgate-mocks provider (which rejects a body without client_key) is used only for the
# one-off correctness check of quirkgate and nginx+njs.
#
# Requires: cargo, nginx with /usr/lib/nginx/modules/ngx_http_js_module.so, wrk,
# curl, python3. Every process the script starts is killed on exit by its PID.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORKERS="${WORKERS:-1}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-32}"
WRK_THREADS="${WRK_THREADS:-1}"
IDLE_CONNS="${IDLE_CONNS:-5000}"
BASE_PORT="${BASE_PORT:-27100}"
QG="${QUIRKGATE_BIN:-$ROOT/target/release/quirkgate}"
MOCKS="${QUIRKGATE_MOCKS_BIN:-$ROOT/target/release/quirkgate-mocks}"
if [ "${1:-}" = --production ]; then
  shift
  exec "$ROOT/benches/production.sh" "$@"
fi
VARIANTS=0
BUILD=0
PINNED=0
LOW_RATE=0
PACED_RATE="${PACED_RATE:-500}"
PACED_CONNS="${PACED_CONNS:-8}"
for arg in "$@"; do
  case "$arg" in
    --variants) VARIANTS=1 ;;
    --build) BUILD=1 ;;
    --pinned) PINNED=1 ;;
    --low-rate) LOW_RATE=1 ;;
    -h|--help) sed -n '2,38p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

P_UP=$BASE_PORT             # fixed-answer upstream nginx
P_MOCK=$((BASE_PORT + 1))   # quirkgate-mocks provider (correctness only)
P_NJS=$((BASE_PORT + 10))   # nginx + njs rewrite
P_PLAIN=$((BASE_PORT + 11)) # nginx plain proxy_pass
P_LUA=$((BASE_PORT + 12))   # nginx + Lua rewrite
P_QG=$((BASE_PORT + 20))    # quirkgate, threads=WORKERS, work_stealing=false
P_MEM=$((BASE_PORT + 30))   # quirkgate for the idle-connection memory check
# variants: BASE+40.. (listen) and BASE+60.. (metrics)

source "$ROOT/benches/lib.sh"
require_tools nginx wrk curl python3
[ "$PINNED" = 0 ] || require_tools taskset

if [ "$BUILD" = 1 ] || [ ! -x "$QG" ] || [ ! -x "$MOCKS" ]; then
  echo "== building release binaries"
  (cd "$ROOT" && cargo build --release --workspace)
fi

bench_init load

# ---------------------------------------------------------------- nginx configs
write_njs_module

UP_CONF="$(nginx_common 1)
  server {
    listen 127.0.0.1:$P_UP backlog=4096;
    location / {
      default_type application/json;
      return 200 '$FIXED_ANSWER';
    }
  }
}"

proxy_block() { # port location-extra
  cat <<EOF
  upstream fast { server 127.0.0.1:$P_UP; keepalive 128; keepalive_requests 10000000; keepalive_timeout 300s; }
  upstream mock { server 127.0.0.1:$P_MOCK; keepalive 16; }
  client_body_buffer_size 16k;
  client_body_in_single_buffer on;
  server {
    listen 127.0.0.1:$1 backlog=4096;
    location = /token/proxy {
      $2
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://fast/v2/oauth/token/;
    }
    location = /token/check {
      $2
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://mock/v2/oauth/token/;
    }
  }
}
EOF
}

NJS_CONF="load_module $NJS_MODULE;
$(nginx_common "$WORKERS")
  js_import main from WORKDIR/main.js;
  js_set \$rewritten main.rewrite;
$(proxy_block "$P_NJS" 'proxy_set_body $rewritten;')"

LUA_CONF="$(lua_modules)
$(nginx_common "$WORKERS")
$(proxy_block "$P_LUA" "$LUA_REWRITE")"

PLAIN_CONF="$(nginx_common "$WORKERS")
$(proxy_block "$P_PLAIN" '')"

start_quirkgate() { # name port metrics-port threads work_stealing
  cat >"$WORK/$1.yaml" <<EOF
threads: $4
work_stealing: $5
listen: "127.0.0.1:$2"
metrics_listen: "127.0.0.1:$3"
routes:
  - path: /token/proxy
    preset: tiktok
    upstream: "http://127.0.0.1:$P_UP/v2/oauth/token/"
  - path: /token/check
    preset: tiktok
    upstream: "http://127.0.0.1:$P_MOCK/v2/oauth/token/"
EOF
  RUST_LOG=error "$QG" --config "$WORK/$1.yaml" >"$WORK/$1.log" 2>&1 &
  track_pid $!
  eval "PID_$1=$!"
}

echo "== starting processes (work dir $WORK)"
start_nginx up "$UP_CONF"
"$MOCKS" provider --provider tiktok --listen "127.0.0.1:$P_MOCK" >"$WORK/mock.log" 2>&1 &
track_pid $!
PID_mock=$!
start_nginx njs "$NJS_CONF"
start_nginx lua "$LUA_CONF"
start_nginx plain "$PLAIN_CONF"
start_quirkgate qg "$P_QG" $((BASE_PORT + 21)) "$WORKERS" false

# contender name -> port
declare -A PORT=([direct]=$P_UP [quirkgate]=$P_QG [nginx_njs]=$P_NJS [nginx_lua]=$P_LUA [nginx_plain]=$P_PLAIN)
ORDER=(direct quirkgate nginx_njs nginx_lua nginx_plain)
declare -A MAINPID=([direct]=$PID_up [quirkgate]=$PID_qg [nginx_njs]=$PID_njs [nginx_lua]=$PID_lua [nginx_plain]=$PID_plain)

if [ "$VARIANTS" = 1 ]; then
  i=0
  for t in 1 2; do
    for ws in false true; do
      name="qg_t${t}_ws_${ws}"
      start_quirkgate "$name" $((BASE_PORT + 40 + i)) $((BASE_PORT + 60 + i)) "$t" "$ws"
      PORT[$name]=$((BASE_PORT + 40 + i))
      MAINPID[$name]=$(eval echo "\$PID_$name")
      ORDER+=("$name")
      i=$((i + 1))
    done
  done
fi

for name in "${ORDER[@]}"; do wait_port "${PORT[$name]}"; done
wait_port "$P_MOCK"

# ------------------------------------------------------------ correctness check
echo "== correctness check (upstream: quirkgate-mocks provider, which needs client_key)"
check() { # label url
  local out
  out="$(curl -s -m 5 -H 'Content-Type: application/x-www-form-urlencoded' --data "$BODY" "$2")"
  if [[ "$out" == *'"access_token":"act.C*1!x"'* ]]; then
    echo "  $1: OK  ($out)" | cut -c1-160
  else
    echo "  $1: FAILED ($out)"
    return 1
  fi
}
# Negative control: the mock must refuse the unrewritten body.
neg="$(curl -s -m 5 -H 'Content-Type: application/x-www-form-urlencoded' --data "$BODY" "http://127.0.0.1:$P_MOCK/v2/oauth/token/")"
if [[ "$neg" == *access_token* ]]; then
  echo "  negative control FAILED: mock accepted client_id ($neg)"; exit 1
fi
echo "  mock without rewrite refuses: $neg" | cut -c1-160
check quirkgate "http://127.0.0.1:$P_QG/token/check"
check nginx_njs "http://127.0.0.1:$P_NJS/token/check"
check nginx_lua "http://127.0.0.1:$P_LUA/token/check"
plain_out="$(curl -s -m 5 -H 'Content-Type: application/x-www-form-urlencoded' --data "$BODY" "http://127.0.0.1:$P_PLAIN/token/check")"
echo "  nginx_plain (no rewrite, expected to be refused): $plain_out" | cut -c1-160
for name in "${ORDER[@]}"; do
  code="$(curl -s -o /dev/null -w '%{http_code}' -m 5 -H 'Content-Type: application/x-www-form-urlencoded' --data "$BODY" "http://127.0.0.1:${PORT[$name]}/token/proxy")"
  [ "$code" = 200 ] || { echo "  $name /token/proxy answered $code" >&2; exit 1; }
done

# ----------------------------------------------------------------- load rounds
write_wrk_script

url_of() { echo "http://127.0.0.1:${PORT[$1]}/token/proxy"; }

WRAP=""
if [ "$PINNED" = 1 ]; then
  # nginx's workers exist by now (every contender answered above).
  for name in "${ORDER[@]}"; do
    [ "$name" = direct ] || pin_tree 0 "${MAINPID[$name]}"
  done
  pin_tree 1 "$PID_up"
  pin_tree 1 "$PID_mock"
  WRAP="taskset -c 1"
  echo "== pinned: contenders on core 0; upstream, mock and wrk on core 1"
fi
# The shapes a round drives: name -> wrk arguments (and PACE_MS for the paced one).
declare -A SHAPE_ARGS PACE
if [ "$LOW_RATE" = 1 ]; then
  SHAPES=(paced c1)
  SHAPE_ARGS[paced]="-t1 -c$PACED_CONNS -d${DURATION}s -s $WORK/paced.lua"
  PACE[paced]=$((PACED_CONNS * 1000 / PACED_RATE))
  SHAPE_ARGS[c1]="-t1 -c1 -d${DURATION}s -s $WORK/post.lua"
  PACE[c1]=0
else
  SHAPES=(saturated)
  SHAPE_ARGS[saturated]="-t$WRK_THREADS -c$CONNS -d${DURATION}s -s $WORK/post.lua"
  PACE[saturated]=0
fi

echo "== load average before: $(cut -d" " -f1-3 /proc/loadavg) (other work on this machine skews the numbers)"
echo "== warm-up (2 s each)"
for name in "${ORDER[@]}"; do
  ${WRAP:-} wrk -t"$WRK_THREADS" -c"$CONNS" -d2s -s "$WORK/post.lua" "$(url_of "$name")" >/dev/null
done

# quirkgate's upstream connections, new and reused, from its own metrics.
upstream_connections() { # reused=true|false
  curl -s "http://127.0.0.1:$((BASE_PORT + 21))/metrics" |
    awk -v want="reused=\"$1\"" '/^quirkgate_upstream_connections_total/ && /route="\/token\/proxy"/ && index($0, want) {print $2}'
}
NEW_BEFORE=$(upstream_connections false); REUSED_BEFORE=$(upstream_connections true)

echo "== $ROUNDS alternating rounds x ${DURATION}s of ${SHAPES[*]}, $WORKERS gateway/nginx worker(s), $(nproc) CPUs"
echo "   columns: req/s p50 p99 status-errors socket-errors requests p99.9 | CPU µs/request user system total | context switches per 1,000 requests voluntary involuntary"
thread_stats "$PID_qg" >"$WORK/threads-before.txt"
for r in $(seq 1 "$ROUNDS"); do
  for shape in "${SHAPES[@]}"; do
    for name in "${ORDER[@]}"; do
      # shellcheck disable=SC2086 # SHAPE_ARGS holds several wrk arguments
      line="$(PACE_MS=${PACE[$shape]} wrk_measured "${MAINPID[$name]}" ${SHAPE_ARGS[$shape]} "$(url_of "$name")")"
      echo "$shape $name $line" >>"$WORK/results.txt"
      printf '  round %d %-9s %-20s %s\n' "$r" "$shape" "$name" "${line#RESULT }"
    done
  done
done

thread_stats "$PID_qg" >"$WORK/threads-after.txt"
echo "== quirkgate's threads over its rounds (the worker, Pingora's and tokio's background threads, the timer)"
thread_report "$WORK/threads-before.txt" "$WORK/threads-after.txt" \
  "$(awk '$2 == "quirkgate" {n += $9} END {print n + 0}' "$WORK/results.txt")"

NEW_AFTER=$(upstream_connections false); REUSED_AFTER=$(upstream_connections true)
NEW_DURING=$(( ${NEW_AFTER%.*} - ${NEW_BEFORE%.*} ))
REUSED_DURING=$(( ${REUSED_AFTER%.*} - ${REUSED_BEFORE%.*} ))

# Peak RSS (VmHWM): quirkgate is one process; for nginx the sum over worker processes.
peak_rss_kb() { # name
  local pid=${MAINPID[$1]} total=0 child
  if [ "$1" = direct ] || [[ "$1" == nginx_* ]]; then
    for child in $(pgrep -P "$pid"); do
      total=$((total + $(hwm_kb "$child")))
    done
    echo "$total"
  else
    hwm_kb "$pid"
  fi
}
for name in "${ORDER[@]}"; do
  echo "$name $(peak_rss_kb "$name")" >>"$WORK/rss.txt"
done

echo
echo "== summary (medians over $ROUNDS rounds; latency in microseconds; errors = HTTP status >= 400 + socket errors, summed)"
echo "   upstream: fixed-answer nginx (1 worker, keep-alive); direct = wrk straight to it"
python3 - "$WORK/results.txt" "$WORK/rss.txt" "$PINNED" "${ORDER[@]}" <<'EOF'
import statistics, sys
results, rss_file, pinned, order = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4:]
runs = {}
shapes = []
for line in open(results):
    f = line.split()
    if f[0] not in shapes:
        shapes.append(f[0])
    runs.setdefault((f[0], f[1]), []).append([float(x) for x in f[3:]])
rss = dict((l.split()[0], int(l.split()[1])) for l in open(rss_file))
COLUMNS = ["rps", "p50", "p99", "status_errors", "socket_errors", "requests", "p999",
           "cpu_user", "cpu_system", "cpu", "cs_voluntary", "cs_involuntary"]
for shape in shapes:
    print(f"-- {shape}{' (pinned: contender on core 0)' if pinned else ''}")
    med = {}
    print(f"{'contender':<22}{'req/s':>10}{'p50 us':>9}{'p99 us':>9}{'p99.9':>9}{'CPU us/req':>12}{'(user+sys)':>13}"
          f"{'cs/1k v/i':>13}{'errors':>8}{'requests':>10}{'peak RSS MiB':>14}")
    for name in order:
        r = runs[(shape, name)]
        m = {k: statistics.median(x[i] for x in r) for i, k in enumerate(COLUMNS)}
        errors = int(sum(x[3] + x[4] for x in r))
        reqs = int(sum(x[5] for x in r))
        med[name] = m
        split = f"{m['cpu_user']:.1f}+{m['cpu_system']:.1f}"
        switches = f"{m['cs_voluntary']:.0f}/{m['cs_involuntary']:.0f}"
        print(f"{name:<22}{m['rps']:>10.0f}{m['p50']:>9.0f}{m['p99']:>9.0f}{m['p999']:>9.0f}{m['cpu']:>12.1f}{split:>13}"
              f"{switches:>13}{errors:>8}{reqs:>10}{rss[name]/1024:>14.1f}")
    print()
    q = med["quirkgate"]
    for other in ["nginx_njs", "nginx_lua", "nginx_plain", "direct"]:
        o = med[other]
        per_round = statistics.median(a[0] / b[0] for a, b in zip(runs[(shape, "quirkgate")], runs[(shape, other)]))
        print(f"quirkgate/{other:<12} req/s {q['rps']/o['rps']:.2f}x (median per round {per_round:.2f}x)   "
              f"p50 {q['p50']/o['p50']:.2f}x   p99 {q['p99']/o['p99']:.2f}x   CPU/request {q['cpu']/o['cpu']:.2f}x")
    print()
# Targets of issue 27 that this script measures.
for shape in shapes:
    q = statistics.median(x[9] for x in runs[(shape, "quirkgate")])
    o = statistics.median(x[9] for x in runs[(shape, "nginx_plain")])
    if shape == "saturated":
        bar = 0.75
        print(f"target plain HTTP CPU/request <= {bar}x plain nginx{' (pinned)' if pinned else ''}: "
              f"{q / o:.2f}x {'met' if q / o <= bar else 'MISSED'}")
    else:
        qp = statistics.median(x[1] for x in runs[(shape, "quirkgate")])
        op = statistics.median(x[1] for x in runs[(shape, "nginx_plain")])
        ok = qp <= op and q <= o
        print(f"target {shape}: p50 {qp:.0f} vs {op:.0f} us, CPU/request {q:.1f} vs {o:.1f} us against plain nginx: "
              f"{'met' if ok else 'MISSED'}")
med = {name: {"rps": statistics.median(x[0] for x in runs[(shapes[0], name)])} for name in order}
variants = [n for n in order if n.startswith("qg_t")]
if variants:
    print()
    print("quirkgate variants (req/s relative to threads=1, work_stealing=false):")
    base = med["qg_t1_ws_false"]["rps"]
    for n in variants:
        print(f"  {n:<20} {med[n]['rps']:>9.0f} req/s  {med[n]['rps']/base:.2f}x   p99 {med[n]['p99']:.0f} us")
EOF

echo
echo "== quirkgate upstream connections during the $ROUNDS x ${DURATION}s of quirkgate load (quirkgate_upstream_connections_total)"
echo "  new: $NEW_DURING ($(python3 -c "print(f'{$NEW_DURING / ($ROUNDS * $DURATION):.2f}')") per second)   reused: $REUSED_DURING"

# ------------------------------------------------- memory with idle connections
if [ "$IDLE_CONNS" = 0 ]; then
  echo "== load average after: $(cut -d" " -f1-3 /proc/loadavg)"
  echo "== done"
  exit 0
fi
echo
echo "== memory: fresh quirkgate (threads=$WORKERS) holding $IDLE_CONNS idle keep-alive client connections"
start_quirkgate mem "$P_MEM" $((BASE_PORT + 31)) "$WORKERS" false
wait_port "$P_MEM"
curl -s -o /dev/null -H 'Content-Type: application/x-www-form-urlencoded' --data "$BODY" "http://127.0.0.1:$P_MEM/token/proxy"
sleep 0.5
before=$(rss_kb "$PID_mem")
write_idle_client
mkfifo "$WORK/hold"
python3 "$WORK/idle.py" "$P_MEM" "$IDLE_CONNS" "$BODY" <"$WORK/hold" >"$WORK/idle.out" 2>&1 &
PY=$!
track_pid $PY
exec 4>"$WORK/hold"
for _ in $(seq 1 600); do
  grep -q '^IDLE' "$WORK/idle.out" 2>/dev/null && break
  kill -0 "$PY" 2>/dev/null || break
  sleep 0.1
done
cat "$WORK/idle.out" | grep -v '^IDLE' || true
read -r _ ok alive < <(grep '^IDLE' "$WORK/idle.out" || echo "IDLE 0 0")
during=$(rss_kb "$PID_mem")
fds=$(ls "/proc/$PID_mem/fd" | wc -l)
echo done >&4
exec 4>&-
wait "$PY" 2>/dev/null || true
echo "  RSS before: $((before / 1024)) MiB ($before kB)"
echo "  RSS with $alive of $IDLE_CONNS connections open ($ok answered 200): $((during / 1024)) MiB ($during kB); quirkgate fds: $fds"
if [ "$alive" -gt 0 ]; then
  echo "  per idle connection: $(( (during - before) * 1024 / alive )) bytes"
fi
echo "  quirkgate peak RSS (VmHWM) of that process: $(( $(hwm_kb "$PID_mem") / 1024 )) MiB"
echo "== load average after: $(cut -d" " -f1-3 /proc/loadavg)"
echo "== done"
