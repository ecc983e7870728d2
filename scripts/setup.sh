#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test quirkgate:
# cmake (Pingora's zlib-ng needs it), Prometheus (promtool and a server for
# the observability tests), redis-server and redis-cli (the store tests start
# real standalone, Cluster and TLS servers), systemd-analyze (checks deploy/systemd) and
# kubernetes-validate from PyPI (checks deploy/kubernetes offline). Safe to run
# again: it installs only what is missing.
#   --soak   also what benches/soak.sh needs (.ci/run runs it): nginx with
#            lua-nginx-module (the TLS provider), wrk (the load), openssl, curl;
#            all Debian packages, nothing else from the internet
#   --bench  the soak's tools and the benchmarks' (nginx+njs, valgrind, oha)
set -euo pipefail

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
{ command -v redis-server && command -v redis-cli; } >/dev/null 2>&1 || missing+=(redis-server)
has_kubernetes_validate() { python3 -c 'import kubernetes_validate' >/dev/null 2>&1; }
if ! has_kubernetes_validate; then
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
fi
if [ "${1:-}" = "--bench" ] || [ "${1:-}" = "--soak" ]; then
  command -v nginx >/dev/null 2>&1 || missing+=(nginx)
  [ -e /usr/lib/nginx/modules/ngx_http_lua_module.so ] || missing+=(libnginx-mod-http-lua)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
fi
if [ "${1:-}" = "--bench" ]; then
  [ -e /usr/lib/nginx/modules/ngx_http_js_module.so ] || missing+=(libnginx-mod-http-js)
  command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
fi

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! has_kubernetes_validate; then
  echo "installing: kubernetes-validate (PyPI)"
  # Debian marks its Python "externally managed"; this tool has no Debian package.
  python3 -m pip install --quiet kubernetes-validate 2>/dev/null \
    || ${sudo:-} python3 -m pip install --quiet --break-system-packages kubernetes-validate
  has_kubernetes_validate \
    || { echo "python3 cannot import kubernetes_validate after pip install" >&2; exit 1; }
fi
# oha (fixed-rate load with coordinated-omission correction) comes from crates.io.
if [ "${1:-}" = "--bench" ] && ! command -v oha >/dev/null 2>&1; then
  echo "installing: oha (cargo install; several minutes)"
  cargo install --locked oha
fi
# Debian's prometheus package starts a server on :9090; the tests start their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  ${sudo:-} systemctl stop prometheus || true
fi
command -v cargo >/dev/null 2>&1 || { echo "cargo (Rust stable) is required: https://rustup.rs" >&2; exit 1; }
