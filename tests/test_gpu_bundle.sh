#!/usr/bin/env bash
# scripts/gpu/bundle.sh makes binaries that run where OpenMPI, HDF5 and the other carried libraries
# are not installed (the GPU machines). Proven with the CPU build as stand-in (the CUDA binary needs
# libcuda): bundle <build>/bin (the directory holding the given ladder-bench), then in a private
# mount namespace (and, where `ip` can bring up loopback, a network namespace with nothing but lo)
# hide every library the bundle carries plus OpenMPI's and PMIx's plugin, help and config
# directories, its executables and ssh (overlays with whiteouts: the files are gone, not empty),
# check that ldd of the unbundled binary now reports them "not found", source env.sh and run
# ladder-bench as a singleton (no mpirun; also one that forks the bundled orted) and under the
# bundled mpirun -np 2, each with no warning. Needs root (unshare, overlay) and the system's
# OpenMPI/HDF5 to bundle; SKIP (exit 77) where that is not possible, and for a CUDA build.
# Usage: test_gpu_bundle.sh <build>/bin/ladder-bench <source dir>
set -uo pipefail

if [ "${1:-}" = --inside ]; then
  # Runs inside the namespaces: $2 = work dir (hide lists, bundle), $3 = build dir, $4 = source dir.
  set -e
  tmp=$2 build=$3 src=$4
  carry=$tmp/carry
  if [ -n "${LB_NET_NS:-}" ]; then ip link set lo up; fi
  mkdir -p "$tmp/ovl"
  mount -t tmpfs lb-gpu-bundle "$tmp/ovl"
  n=0
  while IFS= read -r dir; do   # hide-<n>.list: first line the directory, then the names in it
    n=$((n + 1))
    mkdir -p "$tmp/ovl/$n/up" "$tmp/ovl/$n/work"
    while IFS= read -r name; do mknod "$tmp/ovl/$n/up/$name" c 0 0; done < <(tail -n +2 "$tmp/hide-$n.list")
    mount -t overlay lb-hide -o "lowerdir=$dir,upperdir=$tmp/ovl/$n/up,workdir=$tmp/ovl/$n/work" "$dir"
  done < "$tmp/hide-dirs"
  set +e
  fail=0
  for p in /usr/lib/x86_64-linux-gnu/openmpi /usr/share/openmpi /etc/openmpi /usr/bin/orted /usr/bin/mpirun \
           /lib/x86_64-linux-gnu/libmpi.so.40 /lib/x86_64-linux-gnu/libhdf5_openmpi.so.103 \
           /lib/x86_64-linux-gnu/libopenblas.so.0; do
    if [ -e "$p" ]; then echo "FAIL: $p is still visible in the namespace"; fail=1; fi
  done
  # The unbundled binary: every library the bundle carries must now be missing.
  ldd "$build/bin/ladder-bench" >"$tmp/ldd-plain" 2>&1
  echo "ldd of the unbundled binary, with the system's copies hidden:"
  grep 'not found' "$tmp/ldd-plain" | sed 's/^\s*/    /'
  for must in libmpi.so.40 libhdf5_openmpi.so.103 libopenblas.so.0; do
    grep -q "$must => not found" "$tmp/ldd-plain" || { echo "FAIL: ldd does not report $must not found"; fail=1; }
  done
  while read -r name _ path _; do
    if [ -e "$carry/lib/$name" ] && [ "$path" != not ]; then
      echo "FAIL: $name still resolves to $path"; fail=1
    fi
  done < <(grep '=>' "$tmp/ldd-plain")
  # shellcheck source=/dev/null
  source "$carry/env.sh"
  ldd "$carry/bin/ladder-bench" >"$tmp/ldd-bundled" 2>&1
  if grep 'not found' "$tmp/ldd-bundled"; then echo "FAIL: the bundled binary misses libraries"; fail=1; fi
  echo "ompi_info --path pkglibdir: $(ompi_info --path pkglibdir --parsable 2>&1)"
  cd "$src" || exit 1
  run() {  # NAME CMD...: must exit 0 within 20 s, write its --out file and warn about nothing
    local name=$1; shift
    local start=$SECONDS
    timeout 20 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    local rc=$?
    if [ "$rc" -ne 0 ]; then
      echo "FAIL $name: exit $rc"; sed 's/^/    /' "$tmp/$name.out" "$tmp/$name.err" | tail -40; fail=1; return
    fi
    if grep -Eiq 'warning|unable to open|Sorry! You were supposed|PMIX_INSTALL_PREFIX|not found' "$tmp/$name.err"; then
      echo "FAIL $name: warnings on stderr:"; sed 's/^/    /' "$tmp/$name.err" | head -40; fail=1; return
    fi
    echo "ok   $name ($((SECONDS - start)) s): $(grep -F '# wrote' "$tmp/$name.out")"
  }
  fast=(--model tiny --variant "standard,ladder" --batch 1 --prompt-len 4 --gen-len 2 --warmup 0 --reps 1)
  run singleton ladder-bench "${fast[@]}" --out "$tmp/x.h5"
  [ "$(command -v ladder-bench)" = "$carry/bin/ladder-bench" ] || { echo "FAIL: PATH does not find the bundled ladder-bench"; fail=1; }
  # A singleton that forks the bundled orted (OpenMPI's default), PMIx server included.
  OMPI_MCA_ess_singleton_isolated=0 run singleton_orted ladder-bench "${fast[@]}" --out "$tmp/z.h5"
  run mpirun_np2 mpirun --oversubscribe -np 2 ladder-bench "${fast[@]}" --out "$tmp/y.h5"
  exit "$fail"
fi

[ -x "$1" ] || { echo "FAIL: $1: not built"; exit 1; }
build=$(cd "$(dirname "$1")/.." && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! unshare --mount true 2>/dev/null; then
  echo "SKIP: unshare --mount is not usable here (needs root or CAP_SYS_ADMIN)"; exit 77
fi
if ! unshare --mount sh -c "mkdir -p '$tmp/p' && mount -t tmpfs t '$tmp/p' &&
       mkdir '$tmp/p/l' '$tmp/p/u' '$tmp/p/w' && mknod '$tmp/p/u/x' c 0 0 &&
       mount -t overlay o -o lowerdir='$tmp/p/l',upperdir='$tmp/p/u',workdir='$tmp/p/w' '$tmp/p/l'" 2>/dev/null; then
  echo "SKIP: no overlay mounts with whiteouts in a mount namespace here"; exit 77
fi
if grep -q 'libcuda\.so' <<<"$(ldd "$build/bin/ladder-bench" 2>&1)"; then
  echo "SKIP: $build is a CUDA build: its binary needs libcuda; the CPU build is the stand-in"; exit 77
fi
for tool in ldd h5ls timeout mknod ompi_info; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

start=$SECONDS
"$src/scripts/gpu/bundle.sh" "$build" "$tmp/carry" || { echo "FAIL: bundle.sh failed"; exit 1; }
echo "bundle: $(du -sh "$tmp/carry" | cut -f1) in $((SECONDS - start)) s"

# What to hide, per directory (the files, their real files and the directories they live in).
lib=/usr/lib/x86_64-linux-gnu
{
  echo "$lib"
  for f in "$tmp"/carry/lib/*; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    for p in "$lib/$name" "$(readlink -f "$lib/$name" 2>/dev/null)"; do
      case $p in
        "$lib"/*/*) rel=${p#"$lib"/}; echo "${rel%%/*}" ;;
        "$lib"/*) echo "${p#"$lib"/}" ;;
      esac
    done
  done
  echo openmpi; echo pmix2; echo hdf5; echo openblas-pthread
} | awk 'NR == 1 || !seen[$0]++' | while IFS= read -r name; do
  # Only names that exist (the first line is the directory itself).
  if [ "$name" = "$lib" ] || [ -e "$lib/$name" ] || [ -L "$lib/$name" ]; then echo "$name"; fi
done >"$tmp/hide-1.list"
{ echo /usr/bin; (cd /usr/bin && ls -d mpi* orte* ompi* opal* oshmem* shmem* ssh rsh 2>/dev/null); } >"$tmp/hide-2.list"
{ echo /usr/share; (cd /usr/share && ls -d openmpi pmix 2>/dev/null); } >"$tmp/hide-3.list"
{ echo /etc; (cd /etc && ls -d openmpi 2>/dev/null); } >"$tmp/hide-4.list"
for i in 1 2 3 4; do head -1 "$tmp/hide-$i.list"; done >"$tmp/hide-dirs"
echo "hiding $(($(wc -l <"$tmp/hide-1.list") - 1)) entries of $lib, $(($(wc -l <"$tmp/hide-2.list") - 1)) of /usr/bin, /usr/share/openmpi, /etc/openmpi"

ns=(unshare --mount)
if command -v ip >/dev/null && unshare --mount --net ip link set lo up 2>/dev/null; then
  ns=(env LB_NET_NS=1 unshare --mount --net)
  echo "namespaces: mount and network (loopback only)"
else
  echo "namespaces: mount only (no network namespace here)"
fi
timeout 60 "${ns[@]}" bash "$0" --inside "$tmp" "$build" "$src"
rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: inside the namespace (exit $rc)"; exit 1; }

# The results files, read with the system's HDF5 outside the namespace: one run group per variant.
for f in x y z; do
  groups=$(h5ls "$tmp/$f.h5/runs" 2>&1 | grep -c 'Group')
  if [ "$groups" -ne 2 ]; then
    echo "FAIL: $f.h5 has $groups run groups, expected 2:"; h5ls -r "$tmp/$f.h5" 2>&1 | head; exit 1
  fi
done
echo "ok   both results files hold 2 run groups; total $((SECONDS - start)) s"
