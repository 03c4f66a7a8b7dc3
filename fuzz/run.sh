#!/usr/bin/env bash
# Builds and runs the fuzz targets, each for SECONDS (default 60), on one core.
#
#   fuzz/run.sh [SECONDS] [TARGET...]      TARGET: signature, webhook_parse (default: both)
#
# Works on the stable toolchain: cargo-fuzz needs nightly flags (-Zsanitizer, ...), which
# RUSTC_BOOTSTRAP=1 unlocks. Builds go to fuzz/target (override with CARGO_TARGET_DIR), so
# the main workspace's target dir is left alone. Set FUZZ_BUILD_JOBS to bound the build.
# Crashes land in fuzz/artifacts/<target>/; the generated corpus in fuzz/corpus/<target>/
# (both ignored by git); the hand-written seeds in fuzz/seeds/<target>/ are read only.
# Exits non-zero when a target finds a crash.
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$fuzz_dir"

seconds="${1:-60}"
shift || true
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=(signature webhook_parse)
fi

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$fuzz_dir/target}"
if [ -n "${FUZZ_BUILD_JOBS:-}" ]; then
    export CARGO_BUILD_JOBS="$FUZZ_BUILD_JOBS"
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi

for target in "${targets[@]}"; do
    corpus=("corpus/$target")
    extra=()
    if [ -d "seeds/$target" ]; then
        corpus+=("seeds/$target")
    fi
    if [ "$target" = webhook_parse ]; then
        extra+=("-dict=json.dict")
    fi
    mkdir -p "corpus/$target"
    echo "== fuzzing $target for ${seconds}s =="
    # The first corpus dir is where new inputs are written; the seeds are only read.
    cargo fuzz run --fuzz-dir "$fuzz_dir" "$target" "${corpus[@]}" -- \
        -max_total_time="$seconds" -jobs=1 -workers=1 -print_final_stats=1 "${extra[@]}"
done
