#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ (clang, ASan + UBSan) and fuzzes each for a bounded
# time from a scratch copy of its seed corpus (the repo is never modified). Exits non-zero on any
# finding, printing the saved input and the command that reproduces it.
#   tests/fuzz/run_fuzz.sh [build_dir] [seconds_per_target]   (defaults: build/fuzz, 20)
#   tests/fuzz/run_fuzz.sh 120                                 (just the time)
# Environment: FUZZ_CXX (clang++), FUZZ_ARGS (extra libFuzzer flags, e.g. -use_value_profile=1),
# FUZZ_SRC (the library sources, default src/: point it at a patched copy to check a fix),
# KOKKOS_INCLUDE_DIR / KOKKOS_LIBRARY (for rope_inv_freq; found in the Debian paths by default).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ $# -eq 1 ] && [[ $1 =~ ^[0-9]+$ ]]; then set -- "$root/build/fuzz" "$1"; fi
build=${1:-$root/build/fuzz}
secs=${2:-20}
cxx=${FUZZ_CXX:-clang++}
src=${FUZZ_SRC:-$root/src}
mkdir -p "$build"
build=$(cd "$build" && pwd)

# clang and libFuzzer are dependencies (scripts/setup.sh: clang, libclang-rt-dev): fail loudly.
if ! command -v "$cxx" >/dev/null; then
  echo "run_fuzz: $cxx not found; run scripts/setup.sh (Debian packages clang libclang-rt-dev)" >&2; exit 1
fi
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
     "$cxx" -x c++ -fsanitize=fuzzer,address,undefined - -o "$build/.probe" 2>"$build/.probe.log"; then
  cat "$build/.probe.log" >&2
  echo "run_fuzz: $cxx cannot link libFuzzer; run scripts/setup.sh (Debian package libclang-rt-dev)" >&2; exit 1
fi

# rope.cpp includes Kokkos (types.hpp); fuzz rope_inv_freq too when Kokkos is where setup.sh puts it.
kinc=${KOKKOS_INCLUDE_DIR:-/usr/include/trilinos}
klib=${KOKKOS_LIBRARY:-/usr/lib/x86_64-linux-gnu/libtrilinos_kokkoscore.so}
rope=()
if [ -f "$kinc/Kokkos_Core.hpp" ] && [ -f "$klib" ]; then
  rope=(WITH_ROPE=1 "EXTRA_INCLUDES=-isystem $kinc" "ROPE_LIBS=$klib -ldl")
else
  echo "run_fuzz: note: no Kokkos at $kinc / $klib; fuzz_model_config built without rope_inv_freq"
fi

echo "run_fuzz: building in $build"
make -s -j"$(nproc)" -f "$here/Makefile" -C "$root" SRC="$src" FUZZ="$here" BUILD="$build" \
  CXX="$cxx" "${rope[@]}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
# target:corpus folder
for pair in fuzz_safetensors_header:safetensors fuzz_model_config:config; do
  target=${pair%%:*} corpus=${pair##*:}
  art="$build/artifacts/$target"
  mkdir -p "$art" "$scratch/$corpus"
  cp "$here/corpus/$corpus"/* "$scratch/$corpus/"
  log="$build/$target.log"
  echo "run_fuzz: $target for ${secs}s (log $log)"
  # -timeout: one input slower than 10 s is a finding (a hang); -rss_limit_mb: so is > 2 GiB.
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
  if "$build/$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
       -dict="$here/json.dict" -artifact_prefix="$art/" -print_final_stats=1 ${FUZZ_ARGS:-} \
       "$scratch/$corpus" >"$log" 2>&1; then
    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units)' "$log" | tail -n 2 || true
  else
    failed=1
    echo "run_fuzz: FINDING in $target; end of its log:" >&2
    tail -n 40 "$log" >&2
    input=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -n 1 | cut -d' ' -f5- || true)
    echo "run_fuzz: input saved as: ${input:-(see $art)}" >&2
    echo "run_fuzz: reproduce with: $build/$target ${input:-$art/<file>}" >&2
    echo "run_fuzz: once fixed, keep the input as a seed in tests/fuzz/corpus/$corpus/regress_<what>" >&2
  fi
done
[ $failed -eq 0 ] && echo "run_fuzz: no findings"
exit $failed
