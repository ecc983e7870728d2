#!/usr/bin/env bash
# Soak under change: quirkgate carries a steady load over TLS on both legs
# while its configuration is reloaded every RELOAD_EVERY seconds (SIGHUP),
# its edge certificate is replaced every SEGMENT seconds (new key and
# certificate written over the files, then SIGHUP) and, half-way through, the
# running binary hands its sockets to a new one (`--upgrade`, then SIGQUIT to
# the old one). Bounded in time, loopback only, nothing from the internet.
#
# Usage:
#   benches/soak.sh                      # 10 minutes at 80 % of the rate measured first
#   SOAK_SECONDS=60 benches/soak.sh      # the short version .ci/run runs
#   RATE=8000 SOAK_MINUTES=30 benches/soak.sh
#
# Reports, per segment (a minute; a third of the run when it is shorter than
# three minutes): achieved req/s, p50/p99/p99.9, failed requests (HTTP status
# >= 400 or a connect/read/write error or a timeout: a reset connection is a
# read error), quirkgate's RSS, and whether the certificate it serves is the
# one just written. Then open file descriptors before and after, and the
# reloads counted by quirkgate against the SIGHUPs sent.
# Exit status: 1 when any request failed, a reload was refused, or a new
# certificate was not served; 0 otherwise. RSS flatness (within 5 % after the
# first segment, per process) is reported, not enforced.
#
# Environment knobs (defaults in brackets):
#   SOAK_SECONDS [SOAK_MINUTES x 60]  SOAK_MINUTES [10]
#   RATE [80 % of a MAX_PROBE-second unpaced run]  RATE_SHARE [80]  MAX_PROBE [5]
#   PACE_MS [10]      each wrk connection waits this long after an answer;
#                     connections = RATE x PACE_MS / 1000 (wrk cannot hold a rate)
#   RELOAD_EVERY [2]  UPGRADE [1] (0: no upgrade)  TIMEOUT [5] wrk's per-request timeout, s
#   WORKERS [1]       quirkgate `threads`
#   BASE_PORT [27700] QUIRKGATE_BIN [target/release/quirkgate]
# Requires: nginx with libnginx-mod-http-lua (the provider), wrk, openssl,
# curl, python3 (./scripts/setup.sh --soak installs them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOAK_MINUTES="${SOAK_MINUTES:-10}"
SOAK_SECONDS="${SOAK_SECONDS:-$((SOAK_MINUTES * 60))}"
RATE_SHARE="${RATE_SHARE:-80}"
MAX_PROBE="${MAX_PROBE:-5}"
PACE_MS="${PACE_MS:-10}"
RELOAD_EVERY="${RELOAD_EVERY:-2}"
UPGRADE="${UPGRADE:-1}"
TIMEOUT="${TIMEOUT:-5}"
WORKERS="${WORKERS:-1}"
BASE_PORT="${BASE_PORT:-27700}"
QG="${QUIRKGATE_BIN:-$ROOT/target/release/quirkgate}"
case "${1:-}" in -h|--help) sed -n '2,35p' "$0"; exit 0 ;; esac
SEGMENT=60
[ "$SOAK_SECONDS" -ge 180 ] || SEGMENT=$((SOAK_SECONDS / 3))
[ "$SEGMENT" -ge 5 ] || { echo "SOAK_SECONDS must be at least 15" >&2; exit 2; }
SEGMENTS=$((SOAK_SECONDS / SEGMENT))

source "$ROOT/benches/lib.sh"
for tool in nginx wrk openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool (./scripts/setup.sh --soak)" >&2; exit 1; }
done
[ -f "$LUA_MODULE" ] || { echo "missing $LUA_MODULE (./scripts/setup.sh --soak)" >&2; exit 1; }
[ -x "$QG" ] || (cd "$ROOT" && cargo build --release -p quirkgate)
bench_init soak
# The upgrade starts a quirkgate from a background loop: its PID is kept in a
# file, so that this shell kills it on exit too.
soak_cleanup() {
  local pid
  for pid in $(cat "$WORK/quirkgate.pids" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  bench_cleanup
}
trap soak_cleanup EXIT INT TERM

P_PROVIDER=$BASE_PORT
P_QG=$((BASE_PORT + 10))
P_METRICS=$((BASE_PORT + 11))

# ------------------------------------------------------------- the run's PKI
cd "$WORK"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -keyout ca.key -out ca.pem -subj "/CN=quirkgate soak CA" 2>/dev/null
printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
  "extendedKeyUsage=serverAuth" >leaf.ext
# A fresh key and certificate under a name; prints the certificate's SHA-256 fingerprint.
new_leaf() { # name
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1.key.tmp" -out "$1.csr" -subj "/CN=localhost" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile leaf.ext -out "$1.pem.tmp" 2>/dev/null
  mv "$1.key.tmp" "$1.key"
  mv "$1.pem.tmp" "$1.pem"
  openssl x509 -in "$1.pem" -noout -fingerprint -sha256 | cut -d= -f2
}
new_leaf provider >/dev/null
EDGE_FINGERPRINT=$(new_leaf edge)
# The fingerprint of the certificate quirkgate's edge serves now.
served_fingerprint() {
  timeout 5 openssl s_client -connect "127.0.0.1:$P_QG" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2
}

# --------------------------------------------------------------- processes
# The provider: nginx over TLS 1.3, answering TikTok's success shape only to
# TikTok's token request (POST, form body, client_key and client_secret in
# it, no client_id), and an RFC 6749 error to anything else.
start_nginx provider "$(lua_modules)
$(nginx_common 1)
  client_body_buffer_size 16k;
  client_body_in_single_buffer on;
  server {
    listen 127.0.0.1:$P_PROVIDER ssl backlog=4096;
    ssl_certificate $WORK/provider.pem;
    ssl_certificate_key $WORK/provider.key;
    ssl_protocols TLSv1.3;
    location = /v2/oauth/token/ {
      default_type application/json;
      content_by_lua_block {
        local function refuse(status, what)
          ngx.status = status
          ngx.print('{\"error\":\"invalid_request\",\"error_description\":\"' .. what .. '\"}')
        end
        if ngx.req.get_method() ~= 'POST' then return refuse(405, 'method') end
        local content_type = ngx.var.content_type or ''
        if content_type:sub(1, 33) ~= 'application/x-www-form-urlencoded' then
          return refuse(415, 'content type')
        end
        ngx.req.read_body()
        local args = ngx.req.get_post_args(64)
        if args.client_id ~= nil then return refuse(400, 'client_id') end
        if args.client_key ~= 'aw123' or args.client_secret ~= 's3cr+t' then
          return refuse(401, 'client credentials')
        end
        if args.grant_type ~= 'authorization_code' or args.code ~= 'C*1!x' then
          return refuse(400, 'grant')
        end
        ngx.print('$FIXED_ANSWER')
      }
    }
  }
}"

cat >"$WORK/pingora.yaml" <<EOF
---
version: 1
upgrade_sock: $WORK/upgrade.sock
pid_file: $WORK/quirkgate.pid
EOF
cat >"$WORK/quirkgate.yaml" <<EOF
threads: $WORKERS
work_stealing: false
grace_period: 5s
listen: "127.0.0.1:$P_QG"
metrics_listen: "127.0.0.1:$P_METRICS"
tls:
  cert_file: $WORK/edge.pem
  key_file: $WORK/edge.key
routes:
  - path: /token/proxy
    preset: tiktok
    upstream: "https://localhost:$P_PROVIDER/v2/oauth/token/"
    ca_file: $WORK/ca.pem
EOF
# Info from the server module only (the reload lines); no access log.
QG_LOG_LEVEL='warn,quirkgate::server=info'
start_quirkgate() { # log-name extra-args...
  local log="$WORK/$1.log"
  shift
  RUST_LOG="$QG_LOG_LEVEL" "$QG" --config "$WORK/quirkgate.yaml" --conf "$WORK/pingora.yaml" "$@" >"$log" 2>&1 &
  track_pid $!
  QG_PID=$!
  echo "$QG_PID" >>"$WORK/quirkgate.pids"
}
# Waits for the line that says SIGHUP reloads (a HUP before it ends the process).
wait_reload_ready() { # log-name
  local i
  for i in $(seq 1 200); do
    grep -q 'SIGHUP reloads' "$WORK/$1.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "quirkgate never said it reloads on SIGHUP:" >&2
  cat "$WORK/$1.log" >&2
  exit 1
}
reloads() { # result
  curl -s "http://127.0.0.1:$P_METRICS/metrics" |
    awk -v want="result=\"$1\"" '/^quirkgate_config_reloads_total/ && index($0, want) {print $2}' | head -1
}
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

start_quirkgate first
FIRST_PID=$QG_PID
wait_port "$P_PROVIDER"
wait_port "$P_QG"
wait_reload_ready first
URL="https://127.0.0.1:$P_QG/token/proxy"
code=$(curl -s --cacert ca.pem -o /dev/null -w '%{http_code}' -m 5 \
  -H 'Content-Type: application/x-www-form-urlencoded' --data "$BODY" "$URL")
[ "$code" = 200 ] || { echo "quirkgate answered $code before the soak" >&2; exit 1; }
# Negative control: the provider refuses the request unrewritten.
code=$(curl -s --cacert ca.pem -o /dev/null -w '%{http_code}' -m 5 \
  -H 'Content-Type: application/x-www-form-urlencoded' --data "$BODY" \
  "https://localhost:$P_PROVIDER/v2/oauth/token/")
[ "$code" = 400 ] || { echo "the provider answered $code to client_id (expected 400)" >&2; exit 1; }

write_wrk_script
if [ -z "${RATE:-}" ]; then
  max=$(wrk -t1 -c32 -d"${MAX_PROBE}s" -s post.lua "$URL" | awk '/^RESULT/ {print int($2)}')
  RATE=$((max * RATE_SHARE / 100))
  echo "== measured maximum $max req/s (32 connections, ${MAX_PROBE} s); soak rate $RATE_SHARE %: $RATE req/s"
fi
# Each connection's cycle is the pause plus the answer's latency: 15 % more
# connections than the pause alone asks for come closer to the rate.
CONNS=$(( (RATE * PACE_MS * 115 / 100 + 999) / 1000 ))
[ "$CONNS" -ge 1 ] || CONNS=1
sleep 1
FDS_BEFORE=$(fds "$FIRST_PID")
echo "== soak: $SOAK_SECONDS s in $SEGMENTS segments of $SEGMENT s, $RATE req/s ($CONNS connections, $PACE_MS ms pause),"
echo "   TLS 1.3 on both legs, SIGHUP every $RELOAD_EVERY s, new edge certificate every segment, upgrade: $UPGRADE"
echo "   quirkgate pid $FIRST_PID: $FDS_BEFORE open fds, RSS $(( $(rss_kb "$FIRST_PID") / 1024 )) MiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# The changes, in the background: a HUP every RELOAD_EVERY s; at each segment
# start after the first, a new certificate (then its HUP, then a check that it
# is served); half-way, the upgrade. Each event is one line in events.txt.
HUPS=0
OLD_OK=0
change_loop() {
  local started now next_hup=0 segment=1 upgraded=0 fingerprint served pid=$FIRST_PID
  started=$(date +%s.%N)
  while :; do
    now=$(python3 -c "import sys; print(f'{float(sys.argv[1]) - float(sys.argv[2]):.2f}')" "$(date +%s.%N)" "$started")
    # Past the end: stop.
    python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$now" "$SOAK_SECONDS" || break
    if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= $segment * $SEGMENT else 1)" "$now"; then
      segment=$((segment + 1))
      fingerprint=$(new_leaf edge)
      kill -HUP "$pid" || echo "$now hup FAILED (pid $pid)"
      HUPS=$((HUPS + 1))
      # Right after an upgrade the old process still accepts for a few
      # seconds (Pingora's close timeout) with the certificate it had: a
      # new connection may land there, so the check tries for up to 10 s.
      local tries
      for tries in $(seq 1 10); do
        sleep 0.5
        served=$(served_fingerprint)
        [ "$served" = "$fingerprint" ] && break
        sleep 0.5
      done
      if [ "$served" = "$fingerprint" ]; then echo "$now cert ok (try $tries)"; else echo "$now cert STALE served=$served written=$fingerprint"; fi
    fi
    # The upgrade: half-way, a quarter of a segment away from a certificate change.
    if [ "$UPGRADE" = 1 ] && [ "$upgraded" = 0 ] &&
      python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= $SOAK_SECONDS / 2 + $SEGMENT / 4 else 1)" "$now"; then
      upgraded=1
      OLD_OK=$(reloads ok)
      start_quirkgate second --upgrade
      local i
      for i in $(seq 1 100); do [ -S "$WORK/upgrade.sock" ] && break; sleep 0.05; done
      kill -QUIT "$pid"
      wait_reload_ready second
      echo "$now upgrade old=$pid new=$QG_PID old_reloads_ok=${OLD_OK:-0} new_fds=$(fds "$QG_PID")"
      pid=$QG_PID
    fi
    kill -HUP "$pid" || echo "$now hup FAILED (pid $pid)"
    HUPS=$((HUPS + 1))
    echo "$now hup $HUPS $pid"
    sleep "$RELOAD_EVERY"
  done
  echo "end hups=$HUPS pid=$pid old_reloads_ok=${OLD_OK:-0}"
}
change_loop >"$WORK/events.txt" 2>&1 &
CHANGES=$!
track_pid $CHANGES

# The load, one wrk run per segment, and the serving process's RSS after each.
current_pid() { awk '/ upgrade / {split($4, a, "="); p = a[2]} END {print p}' "$WORK/events.txt"; }
for s in $(seq 1 "$SEGMENTS"); do
  line=$(PACE_MS=$PACE_MS wrk -t1 -c"$CONNS" -d"${SEGMENT}s" --timeout "${TIMEOUT}s" -s paced.lua "$URL" | grep '^RESULT' || echo "RESULT 0 0 0 0 1 0 0")
  pid=$(current_pid); pid=${pid:-$FIRST_PID}
  echo "$s $line $(rss_kb "$pid") $pid" >>"$WORK/segments.txt"
  read -r _ _ rps p50 p99 status_errors socket_errors requests p999 _ < <(tail -1 "$WORK/segments.txt")
  printf '  segment %2d: %8.0f req/s  p50 %6s p99 %6s p99.9 %6s µs  failed %s (status %s, socket %s) of %s  RSS %s MiB (pid %s)\n' \
    "$s" "$rps" "$p50" "$p99" "$p999" "$((status_errors + socket_errors))" "$status_errors" "$socket_errors" \
    "$requests" "$(( $(rss_kb "$pid") / 1024 ))" "$pid"
done
wait "$CHANGES" || true
sleep 1
LAST_PID=$(current_pid); LAST_PID=${LAST_PID:-$FIRST_PID}
FDS_AFTER=$(fds "$LAST_PID")
NEW_OK=$(reloads ok); ERRORS=$(reloads error)

echo "== events: $(grep -c ' hup ' "$WORK/events.txt") periodic HUPs, $(grep -c ' cert ' "$WORK/events.txt") certificate changes, $(grep -c ' upgrade ' "$WORK/events.txt") upgrade(s)"
grep -E ' (cert|upgrade) ' "$WORK/events.txt" | sed 's/^/   /'
# SIGHUPs sent: the periodic ones and one per certificate change.
hups=$(grep -cE ' (hup [0-9]|cert )' "$WORK/events.txt" || true)
old_ok=$(awk '/ upgrade / {split($5, a, "="); print a[2]}' "$WORK/events.txt")
python3 - "$WORK/segments.txt" "$FDS_BEFORE" "$FDS_AFTER" "$FIRST_PID" "$LAST_PID" "$hups" "${old_ok:-0}" "${NEW_OK:-0}" "${ERRORS:-0}" "$WORK/events.txt" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
fds_before, fds_after, first, last = sys.argv[2:6]
hups, old_ok, new_ok, reload_errors = int(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8]), float(sys.argv[9])
events = open(sys.argv[10]).read()
failed = sum(int(r[5]) + int(r[6]) for r in rows)
requests = sum(int(r[7]) for r in rows)
print(f"== failed or reset requests: {failed} of {requests}")
print("== p99.9 per segment (µs): " + " ".join(r[8] for r in rows))
by_pid = {}
for r in rows:
    by_pid.setdefault(r[10], []).append(int(r[9]))
for pid, rss in by_pid.items():
    later = rss[1:]
    if later:
        spread = max(later) / min(later) - 1
        verdict = "flat" if spread <= 0.05 else "NOT flat"
        print(f"== RSS of pid {pid} per segment (MiB): {' '.join(f'{x / 1024:.1f}' for x in rss)}; "
              f"after its first segment {spread * 100:.1f} % apart: {verdict} (target 5 %)")
    else:
        print(f"== RSS of pid {pid}: {rss[0] / 1024:.1f} MiB (one segment only)")
print(f"== open fds: {fds_before} before (pid {first}), {fds_after} after (pid {last})")
ok = old_ok + new_ok if first != last else new_ok
print(f"== reloads: {hups} SIGHUPs sent, {ok:.0f} counted ok, {reload_errors:.0f} refused")
problems = []
if failed:
    problems.append(f"{failed} failed requests")
if reload_errors:
    problems.append(f"{reload_errors:.0f} refused reloads")
if ok < hups:
    problems.append(f"{hups - ok:.0f} SIGHUPs not counted as reloads")
if "STALE" in events:
    problems.append("a new certificate was not served")
if "FAILED" in events or "end hups=" not in events:
    problems.append("the change loop did not run to its end (see the events above)")
if problems:
    print("== SOAK FAILED: " + "; ".join(problems))
    sys.exit(1)
print("== soak passed")
EOF
