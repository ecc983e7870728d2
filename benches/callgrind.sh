#!/usr/bin/env bash
# Instructions per token request, counted by valgrind's callgrind: a figure
# that stays steady on a shared, noisy machine where wall-clock load tests
# swing by 30 %. Each contender runs under callgrind (one worker), serves
# WARMUP requests, has its counters zeroed, serves N more over one keep-alive
# connection, and is dumped; the figure is the dump's total Ir / N. It counts
# every instruction of the contender's process (all threads, kernel excluded)
# and none of the client's or the upstream's.
#
# Usage:
#   benches/callgrind.sh                       # target/release/quirkgate vs nginx+njs vs nginx+Lua vs plain nginx
#   benches/callgrind.sh OLD_BIN NEW_BIN ...   # several quirkgate builds side by side (e.g. before/after a change)
#   TLS=1 benches/callgrind.sh [BIN ...]       # TLS on both legs: edge certificate and a verified HTTPS provider
#                                              # (quirkgate only; a CA made for the run)
#
# Environment knobs: N [2000], WARMUP [200], BASE_PORT [27300], WITH_NGINX [1] (0 skips both nginx contenders),
# ROUNDS [1]: run every contender this many times, alternating, and print the medians (the count
# swings by several per cent between runs of one binary: epoll wake-ups depend on timing),
# KEEP [unset]: a directory to keep each dump in, for `callgrind_annotate KEEP/<n>.callgrind`
# (where the instructions go; build with debug symbols, as the release profile does).
# Requires: valgrind, nginx with the njs module, python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${N:-2000}"
WARMUP="${WARMUP:-200}"
BASE_PORT="${BASE_PORT:-27300}"
WITH_NGINX="${WITH_NGINX:-1}"
TLS="${TLS:-0}"
ROUNDS="${ROUNDS:-1}"
[ "$TLS" = 1 ] && WITH_NGINX=0
NJS_MODULE=/usr/lib/nginx/modules/ngx_http_js_module.so
# lua_modules and LUA_REWRITE: the nginx+Lua contender of load.sh and production.sh.
source "$ROOT/benches/lib.sh"
BINS=("$@")
[ ${#BINS[@]} -gt 0 ] || BINS=("$ROOT/target/release/quirkgate")
for tool in valgrind callgrind_control python3; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool (apt-get install valgrind)" >&2; exit 1; }
done
if [ "$WITH_NGINX" = 1 ]; then
  command -v nginx >/dev/null && [ -f "$NJS_MODULE" ] ||
    { echo "missing nginx/njs (./scripts/setup.sh --bench), or run with WITH_NGINX=0" >&2; exit 1; }
fi

P_UP=$BASE_PORT
WORK="$(mktemp -d /tmp/quirkgate-callgrind.XXXXXX)"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# BODY: the token request of benches/lib.sh.

if [ "$TLS" = 1 ]; then
  command -v openssl >/dev/null || { echo "missing tool: openssl" >&2; exit 1; }
  (
    cd "$WORK"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -keyout ca.key -out ca.pem -subj "/CN=quirkgate callgrind CA" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout leaf.key -out leaf.csr -subj "/CN=localhost" 2>/dev/null
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
      "extendedKeyUsage=serverAuth" >leaf.ext
    openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile leaf.ext -out leaf.pem 2>/dev/null
  )
fi

# Sends COUNT token requests over one keep-alive connection; every answer must be 200.
drive() { # port count
  python3 - "$1" "$2" "$BODY" "$TLS" "$WORK/ca.pem" <<'EOF'
import http.client, ssl, sys, time
port, count, body, tls, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1", sys.argv[5]
headers = {"Content-Type": "application/x-www-form-urlencoded"}
deadline = time.time() + 120
while True:
    try:
        if tls:
            context = ssl.create_default_context(cafile=ca)
            conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=60, context=context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/token/proxy", body, headers)
        answer = conn.getresponse()
        answer.read()
        break
    except OSError:
        if time.time() > deadline:
            sys.exit(f"nothing answers on 127.0.0.1:{port}")
        time.sleep(0.5)
for _ in range(count - 1):
    conn.request("POST", "/token/proxy", body, headers)
    answer = conn.getresponse()
    answer.read()
    if answer.status != 200:
        sys.exit(f"status {answer.status} from 127.0.0.1:{port}")
EOF
}

nginx_conf() { # port location-extra module(0 none|1 njs|2 lua)
  cat <<EOF
$([ "$3" = 1 ] && echo "load_module $NJS_MODULE;")
$([ "$3" = 2 ] && lua_modules)
worker_processes 1;
master_process off;
daemon off;
pid WORKDIR/nginx.pid;
error_log WORKDIR/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path WORKDIR/body;
  proxy_temp_path WORKDIR/proxy;
  keepalive_requests 10000000;
  $([ "$3" = 1 ] && printf '%s\n  %s' "js_import main from WORKDIR/main.js;" "js_set \$rewritten main.rewrite;")
  upstream fast { server 127.0.0.1:$P_UP; keepalive 16; }
  client_body_buffer_size 16k;
  client_body_in_single_buffer on;
  server {
    listen 127.0.0.1:$1;
    location / {
      $2
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://fast/v2/oauth/token/;
    }
  }
}
EOF
}

# The same njs rewrite as benches/load.sh.
cat >"$WORK/main.js" <<'EOF'
function rewrite(r) {
    var parts = (r.requestText || '').split('&');
    for (var i = 0; i < parts.length; i++) {
        if (parts[i].startsWith('client_id=')) {
            parts[i] = 'client_key=' + parts[i].substring(10);
        }
    }
    return parts.join('&');
}
export default { rewrite };
EOF

# Fixed-answer upstream, natively (not under callgrind).
mkdir -p "$WORK/up"
cat >"$WORK/up/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/up/nginx.pid;
error_log $WORK/up/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/up/body;
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:$P_UP;
    $([ "$TLS" = 1 ] && printf 'listen 127.0.0.1:%s ssl;\n    ssl_certificate %s;\n    ssl_certificate_key %s;\n    ssl_protocols TLSv1.2 TLSv1.3;' "$((P_UP + 100))" "$WORK/leaf.pem" "$WORK/leaf.key")
    location / {
      default_type application/json;
      return 200 '{"access_token":"act.x","token_type":"Bearer","expires_in":86400,"open_id":"o.1","refresh_token":"rft.x","refresh_expires_in":31536000,"scope":"user.info.basic"}';
    }
  }
}
EOF
nginx -p "$WORK/up" -c "$WORK/up/nginx.conf" -e "$WORK/up/error.log" -g 'daemon off;' &
PIDS+=($!)

# Runs one contender under callgrind and prints its instructions per request.
measure() { # label port command...
  local label="$1" port="$2"
  shift 2
  local out="$WORK/cg-$port"
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out" "$@" >"$WORK/cg-$port.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  drive "$port" "$WARMUP"
  callgrind_control -z "$pid" >/dev/null 2>&1
  drive "$port" "$N"
  callgrind_control -d "$pid" >/dev/null 2>&1
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # One dump per thread (--separate-threads), each after zeroing, so it holds
  # exactly the N requests. The total counts every thread; the busiest
  # thread (the worker, or nginx's single one) is the steadier figure: idle
  # threads' timers tick with wall time, which valgrind stretches.
  local dumps
  dumps="$(ls "$out".* 2>/dev/null | sort -V)"
  [ -n "$dumps" ] || { echo "$label: no callgrind dump (see $WORK/cg-$port.log)" >&2; exit 1; }
  local total=0 busiest=0 dump ir
  for dump in $dumps; do
    ir="$(awk '/^(summary|totals):/ {print $2; exit}' "$dump")"
    ir=${ir:-0}
    total=$((total + ir))
    if [ "$ir" -gt "$busiest" ]; then busiest=$ir; fi
    if [ -n "${KEEP:-}" ]; then
      mkdir -p "$KEEP"
      cp "$dump" "$KEEP/$port.$(basename "$dump").callgrind"
    fi
  done
  [ -n "${KEEP:-}" ] && echo "$port: $label" >>"$KEEP/index.txt"
  printf '%-50s %10s Ir/request (busiest thread %s)\n' "$label" "$((total / N))" "$((busiest / N))"
  printf '%s\t%s\n' "$label" "$((total / N))" >>"$WORK/figures.tsv"
}

shape="plain HTTP"
[ "$TLS" = 1 ] && shape="TLS on both legs"
echo "== instructions per token request, $shape (N=$N after WARMUP=$WARMUP; lower is better)"
port=$((BASE_PORT + 1))
for round in $(seq "$ROUNDS"); do
[ "$ROUNDS" -gt 1 ] && echo "-- round $round of $ROUNDS"
for bin in "${BINS[@]}"; do
  {
    echo "threads: 1"
    echo "work_stealing: false"
    echo "listen: \"127.0.0.1:$port\""
    echo "metrics_listen: \"127.0.0.1:$((port + 50))\""
    [ "$TLS" = 1 ] && printf 'tls:\n  cert_file: %s\n  key_file: %s\n' "$WORK/leaf.pem" "$WORK/leaf.key"
    echo "routes:"
    echo "  - path: /token/proxy"
    echo "    preset: tiktok"
    if [ "$TLS" = 1 ]; then
      echo "    upstream: \"https://127.0.0.1:$((P_UP + 100))/v2/oauth/token/\""
      echo "    ca_file: $WORK/ca.pem"
    else
      echo "    upstream: \"http://127.0.0.1:$P_UP/v2/oauth/token/\""
    fi
  } >"$WORK/qg-$port.yaml"
  label="quirkgate"
  [ ${#BINS[@]} -gt 1 ] && label="quirkgate ($bin)"
  RUST_LOG=error measure "$label" "$port" "$bin" --config "$WORK/qg-$port.yaml"
  port=$((port + 1))
done
if [ "$WITH_NGINX" = 1 ]; then
  for contender in nginx_njs nginx_lua nginx_plain; do
    dir="$WORK/$contender"
    mkdir -p "$dir"
    njs=0 extra=''
    [ "$contender" = nginx_njs ] && njs=1 extra='proxy_set_body $rewritten;'
    [ "$contender" = nginx_lua ] && njs=2 extra="$LUA_REWRITE"
    nginx_conf "$port" "$extra" "$njs" | sed "s#WORKDIR#$dir#g" >"$dir/nginx.conf"
    cp "$WORK/main.js" "$dir/main.js"
    measure "$contender" "$port" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
    port=$((port + 1))
  done
fi
done
if [ "$ROUNDS" -gt 1 ]; then
  echo "== medians over $ROUNDS alternating rounds"
  python3 - "$WORK/figures.tsv" <<'EOF'
import statistics, sys
figures = {}
for line in open(sys.argv[1]):
    label, value = line.rstrip("\n").split("\t")
    figures.setdefault(label, []).append(int(value))
for label, values in figures.items():
    print(f"{label:<50} {int(statistics.median(values)):>10} Ir/request (rounds: {', '.join(map(str, values))})")
EOF
fi
