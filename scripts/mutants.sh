#!/usr/bin/env bash
# Mutation testing with cargo-mutants: change the code one small way at a
# time and check that some test fails. A mutant that survives is either a
# missing test or a change that makes no difference (say which in review).
#
#   scripts/mutants.sh                  the pure core with its unit tests (--lib)
#   scripts/mutants.sh src/core/form.rs one file (any of them, or several)
#   scripts/mutants.sh --list           count the mutants first (no build)
#   scripts/mutants.sh --black-box      gateway, front ends and provider leg with
#                                       the black-box tests (slow: each mutant runs
#                                       the whole `it` binary; narrow with FILES)
#
# Environment: CARGO_TARGET_DIR is honoured (every mutant builds there; use a
# directory of its own if other builds run at the same time), JOBS (default 1)
# parallel builds, OUT (default target/mutants) where mutants.out goes.
# Results: $OUT/mutants.out/{caught,missed,unviable,timeout}.txt
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-mutants >/dev/null || cargo install --locked cargo-mutants

PURE=(src/core/form.rs src/core/json_object.rs src/core/byte_scan.rs src/core/rules/request.rs src/core/rules/response.rs
      src/plan/rule_specs.rs src/core/rewrite.rs src/core/oauth_error.rs
      src/core/access.rs src/core/client_address.rs src/http1/*.rs
      src/core/oidc/*.rs src/plan/oidc.rs)
BLACK_BOX=(src/gateway.rs src/front/front_door.rs src/front/pingora_front_end.rs
           src/upstream/exchange.rs src/server.rs src/telemetry/logging.rs)

files=() list=() tests=(--lib) extra=()
for arg in "$@"; do
    case "$arg" in
        --list) list=(--list) ;;
        --black-box)
            files=("${BLACK_BOX[@]}")
            tests=(--release --test it)
            extra=(--profile release --timeout 600)
            ;;
        *) files+=("$arg") ;;
    esac
done
[ ${#files[@]} -gt 0 ] || files=("${PURE[@]}")

args=()
for file in "${files[@]}"; do args+=(--file "$file"); done
exec cargo mutants "${args[@]}" "${list[@]}" \
    --jobs "${JOBS:-1}" --timeout 120 --build-timeout 1200 \
    --output "${OUT:-target/mutants}" "${extra[@]}" -- "${tests[@]}"
