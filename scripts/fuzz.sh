#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 60), one process each,
# on the stable toolchain (RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its
# nightly-only flags). Seeds are in fuzz/corpus/<target>/seed-*; what a run
# adds to the corpus stays local (fuzz/.gitignore). A crash stops the script
# with libFuzzer's report and the input under fuzz/artifacts/<target>/:
# turn it into a unit test next to the code it broke.
#
#   scripts/fuzz.sh            # 60 s per target
#   scripts/fuzz.sh 600        # 10 minutes per target
#   TARGETS="provider_answer" scripts/fuzz.sh 30
# Note: build.rs asks cargo to rerun when .git/HEAD changes, and in a git
# worktree .git is a file, so quirkgate is rebuilt (about 2 min) per target.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
targets="${TARGETS:-form_and_rules caller_head provider_answer oidc_inputs json_object signed_and_wrapped two_step edge_tls_records}"
if ! command -v cargo-fuzz >/dev/null; then
  echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2
  exit 1
fi
export RUSTC_BOOTSTRAP=1
for target in $targets; do
  echo "== $target: ${seconds}s"
  (cd fuzz && cargo fuzz run "$target" -- -max_total_time="$seconds" -print_final_stats=1)
done
