# Shared by benches/load.sh and benches/production.sh (sourced, not run).
# Everything here runs on 127.0.0.1; every process started through
# `track_pid` is killed on exit.

NJS_MODULE=/usr/lib/nginx/modules/ngx_http_js_module.so
# lua-nginx-module (Debian's libnginx-mod-http-lua) needs the NDK module loaded first.
NDK_MODULE=/usr/lib/nginx/modules/ndk_http_module.so
LUA_MODULE=/usr/lib/nginx/modules/ngx_http_lua_module.so
# The token request every contender is driven with: Auth0's shape, client_id in the body.
BODY='grant_type=authorization_code&code=C%2A1%21x&redirect_uri=https%3A%2F%2Ftenant.auth0.com%2Flogin%2Fcallback&client_id=aw123&client_secret=s3cr%2Bt'
# The fixed answer of the benchmark upstream: TikTok's success shape.
FIXED_ANSWER='{"access_token":"act.x","token_type":"Bearer","expires_in":86400,"open_id":"o.1","refresh_token":"rft.x","refresh_expires_in":31536000,"scope":"user.info.basic"}'

require_tools() { # tool...
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool (./scripts/setup.sh --bench)" >&2; exit 1; }
  done
  [ -f "$NJS_MODULE" ] || { echo "missing $NJS_MODULE (apt-get install libnginx-mod-http-js)" >&2; exit 1; }
  [ -f "$LUA_MODULE" ] || { echo "missing $LUA_MODULE (apt-get install libnginx-mod-http-lua)" >&2; exit 1; }
}

# Creates $WORK and kills every tracked process on exit.
bench_init() { # name
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  WORK="$(mktemp -d "/tmp/quirkgate-$1.XXXXXX")"
  PIDS=()
  trap bench_cleanup EXIT INT TERM
}

bench_cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}

track_pid() { PIDS+=("$1"); }

wait_port() { # port
  local i
  for i in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

# The top of an nginx.conf: workers, limits, no logs, long keep-alive.
nginx_common() { # workers
  cat <<EOF
worker_processes $1;
worker_rlimit_nofile 20000;
pid WORKDIR/nginx.pid;
error_log WORKDIR/error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path WORKDIR/body;
  proxy_temp_path WORKDIR/proxy;
  fastcgi_temp_path WORKDIR/fastcgi;
  uwsgi_temp_path WORKDIR/uwsgi;
  scgi_temp_path WORKDIR/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
EOF
}

# Starts nginx from a config text (WORKDIR replaced); sets PID_<name>.
start_nginx() { # name conf-text
  local dir="$WORK/$1"
  mkdir -p "$dir"
  printf '%s\n' "$2" | sed "s#WORKDIR#$dir#g" >"$dir/nginx.conf"
  [ -f "$WORK/main.js" ] && cp "$WORK/main.js" "$dir/main.js"
  nginx -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' &
  track_pid $!
  eval "PID_$1=$!"
}

# The njs module: client_id -> client_key on the raw form body; every other byte verbatim.
write_njs_module() {
  cat >"$WORK/main.js" <<'EOF'
function rewrite(r) {
    var body = r.requestText;
    if (!body) {
        return '';
    }
    var parts = body.split('&');
    for (var i = 0; i < parts.length; i++) {
        if (parts[i].startsWith('client_id=')) {
            parts[i] = 'client_key=' + parts[i].substring(10);
        }
    }
    return parts.join('&');
}
export default { rewrite };
EOF
}

# The nginx+Lua contender (the engine Kong and OpenResty run on): the same
# client_id -> client_key rewrite, through the form API. The modules go at the
# top of the config; the block goes inside a location.
lua_modules() { printf 'load_module %s;\nload_module %s;\n' "$NDK_MODULE" "$LUA_MODULE"; }
LUA_REWRITE='rewrite_by_lua_block {
        ngx.req.read_body()
        local args, err = ngx.req.get_post_args(64)
        if not args then return ngx.exit(400) end
        if args.client_id then
          args.client_key = args.client_id
          args.client_id = nil
        end
        ngx.req.set_body_data(ngx.encode_args(args))
      }'

# CPU a process and its children (nginx: the workers) have used so far, in
# clock ticks: "user system". The comm field may hold spaces: cut after ")".
cpu_split() { # pid
  local p u=0 s=0 pu ps
  for p in "$1" $(pgrep -P "$1" 2>/dev/null); do
    read -r pu ps < <(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12, $13}') || continue
    u=$((u + ${pu:-0})); s=$((s + ${ps:-0}))
  done
  echo "$u $s"
}
cpu_ticks() { local u s; read -r u s < <(cpu_split "$1"); echo $((u + s)); }
# µs per request from two cpu_split samples: "user system total".
cpu_per_request() { # "before" "after" requests
  python3 -c '
import sys
a, b, n, hz = sys.argv[1].split(), sys.argv[2].split(), float(sys.argv[3]), float(sys.argv[4])
u, s = ((int(b[i]) - int(a[i])) / hz / max(n, 1) * 1e6 for i in (0, 1))
print(f"{u:.1f} {s:.1f} {u + s:.1f}")' "$1" "$2" "$3" "$(getconf CLK_TCK)"
}

# Context switches of a process's threads and its children's: "voluntary involuntary".
ctx_switches() { # pid
  local p
  for p in "$1" $(pgrep -P "$1" 2>/dev/null); do cat /proc/"$p"/task/*/status 2>/dev/null; done |
    awk '/^voluntary_ctxt_switches/ {v += $2} /^nonvoluntary_ctxt_switches/ {n += $2} END {print v + 0, n + 0}'
}

# One line per thread of a process: "tid ticks voluntary involuntary name".
thread_stats() { # pid
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s %s %s %s\n' "${t##*/}" "$(sed 's/.*) //' "$t/stat" | awk '{print $12 + $13}')" \
      "$(awk '/^voluntary_ctxt_switches/ {v = $2} /^nonvoluntary_ctxt_switches/ {n = $2} END {print v, n}' "$t/status")" \
      "$(tr ' ' '_' <"$t/comm")"
  done 2>/dev/null
}
# What each thread did between two thread_stats snapshots (files).
thread_report() { # before-file after-file requests
  python3 - "$1" "$2" "$3" "$(getconf CLK_TCK)" <<'PY'
import sys
def load(path):
    return {f[0]: f[1:] for f in (l.split() for l in open(path)) if len(f) == 5}
a, b, n, hz = load(sys.argv[1]), load(sys.argv[2]), max(float(sys.argv[3]), 1), float(sys.argv[4])
for tid, (ticks, vol, invol, name) in sorted(b.items(), key=lambda kv: -int(kv[1][0])):
    t0, v0, i0, _ = a.get(tid, ("0", "0", "0", name))
    print(f"    {name:<20} CPU {(int(ticks) - int(t0)) / hz / n * 1e6:6.2f} µs/request  "
          f"switches voluntary {int(vol) - int(v0):>8}  involuntary {int(invol) - int(i0):>8}")
PY
}

# Pins a process, every thread of it and of its children, to one core.
pin_tree() { # core pid
  local p
  for p in "$2" $(pgrep -P "$2" 2>/dev/null); do taskset -a -p -c "$1" "$p" >/dev/null; done
}

# One wrk run against a contender, its CPU read around it: prints the RESULT
# line followed by the contender's CPU µs per request (user system total) and
# its context switches per 1,000 requests (voluntary involuntary).
# WRAP (e.g. "taskset -c 1") runs wrk on a core of its own.
wrk_measured() { # contender-pid wrk-args...
  local pid="$1" before after line
  shift
  local cs_before cs_after n
  before=$(cpu_split "$pid"); cs_before=$(ctx_switches "$pid")
  line="$(${WRAP:-} wrk "$@" | grep '^RESULT')"
  after=$(cpu_split "$pid"); cs_after=$(ctx_switches "$pid")
  n=$(echo "$line" | awk '{print $7}')
  echo "$line $(cpu_per_request "$before" "$after" "$n") $(python3 -c '
import sys
a, b, n = sys.argv[1].split(), sys.argv[2].split(), max(float(sys.argv[3]), 1)
print(" ".join(f"{(int(y) - int(x)) * 1000 / n:.1f}" for x, y in zip(a, b)))' "$cs_before" "$cs_after" "$n")"
}

# wrk script: POSTs $BODY and prints one RESULT line:
# req/s p50 p99 status-errors socket-errors requests p99.9 (latencies in µs).
write_wrk_script() {
  cat >"$WORK/post.lua" <<EOF
wrk.method = "POST"
wrk.body = "$BODY"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.1f %d %d %d %d %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout, summary.requests,
    latency:percentile(99.9)))
end
EOF
  # The same, paced: each connection waits PACE_MS after an answer before it
  # sends again (wrk cannot hold a rate; at a low rate this comes close, and
  # the achieved req/s is printed). Connections x 1000 / PACE_MS = the rate.
  sed 's/^done = /delay = function() return tonumber(os.getenv("PACE_MS") or "0") end\ndone = /' \
    "$WORK/post.lua" >"$WORK/paced.lua"
}

hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Idle keep-alive client: opens COUNT connections (TLS when a CA file is
# given), sends one token request on each and reads the answer, prints
# "IDLE <answered 200> <still open>", then holds them until stdin closes.
write_idle_client() {
  cat >"$WORK/idle.py" <<'EOF'
import socket, ssl, sys, time
port, count, body = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
ca = sys.argv[4] if len(sys.argv) > 4 else ""
tls = None
if ca:
    tls = ssl.create_default_context(cafile=ca)
req = (b"POST /token/proxy HTTP/1.1\r\nHost: 127.0.0.1\r\n"
       b"Content-Type: application/x-www-form-urlencoded\r\n"
       b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
socks, ok = [], 0
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    if tls:
        s = tls.wrap_socket(s, server_hostname="127.0.0.1")
    s.sendall(req)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, rest = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(rest) < length:
        rest += s.recv(65536)
    ok += head.startswith(b"HTTP/1.1 200")
    socks.append(s)
time.sleep(1.0)
# Still open? A closed peer makes a non-blocking read return b"" (or fail).
alive = 0
for s in socks:
    s.setblocking(False)
    try:
        alive += s.recv(1) != b""
    except (BlockingIOError, ssl.SSLWantReadError):
        alive += 1
    except OSError:
        pass
print(f"IDLE {ok} {alive}", flush=True)
sys.stdin.readline()  # hold the connections until told to stop
EOF
}
