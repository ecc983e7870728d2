#!/usr/bin/env bash
# Mutation testing with cargo-mutants: change the code one small way at a
# time and check that some test fails. A mutant that survives is either a
# missing test or a change that makes no difference (say which in review).
#
#   scripts/mutants.sh                  the pure core with its unit tests (--lib)
#   scripts/mutants.sh crates/quirkgate-core/src/form.rs   one file (any, or several)
#   scripts/mutants.sh --list           count the mutants first (no build)
#   scripts/mutants.sh --black-box      gateway, front ends and provider leg with
#                                       the black-box tests (slow: each mutant runs
#                                       the whole `it` binary; narrow with FILES)
#   scripts/mutants.sh --bridge         the gateway side of the OpenID Connect bridge
#                                       (src/bridge) with the bridge's black-box tests
#
# Environment: CARGO_TARGET_DIR is honoured (every mutant builds there; use a
# directory of its own if other builds run at the same time), JOBS (default 1)
# parallel builds, OUT (default target/mutants) where mutants.out goes.
# Results: $OUT/mutants.out/{caught,missed,unviable,timeout}.txt
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-mutants >/dev/null || cargo install --locked cargo-mutants

# cargo-mutants tests each mutant with the package it is in (quirkgate-core's
# unit tests run in seconds).
CORE=crates/quirkgate-core/src
PURE=($CORE/form/mod.rs $CORE/credentials.rs $CORE/json_object.rs $CORE/byte_scan.rs $CORE/rules/*/*.rs
      $CORE/rewrite.rs $CORE/oauth_error.rs $CORE/access.rs $CORE/client_address.rs
      $CORE/http1/*.rs $CORE/oidc/*.rs
      src/plan/rule_specs/*.rs src/plan/error.rs src/plan/oidc.rs src/rate_limit.rs)
BRIDGE=(src/bridge/*.rs src/bridge/token/*.rs)
BLACK_BOX=(src/gateway.rs src/front/front_door.rs src/front/pingora_front_end.rs
           src/upstream/exchange.rs src/server.rs src/telemetry/logging.rs)

files=() list=() tests=(--lib) extra=() timeout=120
for arg in "$@"; do
    case "$arg" in
        --list) list=(--list) ;;
        --black-box)
            files=("${BLACK_BOX[@]}")
            tests=(--test it)
            extra=(--profile mutants) timeout=600
            ;;
        --bridge)
            files=("${BRIDGE[@]}")
            # The bridge's logins and refusals, the store's shared logins, WeCom's.
            tests=(--test it -- oidc_bridge store wecom::bridge)
            extra=(--profile mutants) timeout=600
            ;;
        *) files+=("$arg") ;;
    esac
done
[ ${#files[@]} -gt 0 ] || files=("${PURE[@]}")

args=()
for file in "${files[@]}"; do args+=(--file "$file"); done
exec cargo mutants "${args[@]}" "${list[@]}" \
    --jobs "${JOBS:-1}" --timeout "$timeout" --build-timeout 1200 \
    --output "${OUT:-target/mutants}" "${extra[@]}" -- "${tests[@]}"
