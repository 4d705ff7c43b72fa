#!/usr/bin/env bash
# Packs a build's executables with every shared library they need that a bare GPU machine lacks,
# so that they run there without OpenMPI, HDF5, Kokkos or OpenBLAS installed.
#   scripts/gpu/bundle.sh [build-dir] [out-dir]      (defaults: build-cuda, .gpu-carry)
# Relative paths are taken from the current directory; the defaults from the repository root.
#
# Why: the GPU machines we are lent have CUDA 13, cuBLAS, NCCL, the NVIDIA driver and a newer
# glibc/libstdc++ than this Debian 12 build host, but no MPI, HDF5 or network. Our binaries link
# OpenMPI 4.1 and parallel HDF5 (and through HDF5 libcurl, gnutls, krb5, ...), so those travel.
#
# What goes in <out>:
#   bin/   <build>/bin/* executables, plus OpenMPI's orted, orterun (copied as mpirun and mpiexec
#          too) and ompi_info
#   lib/   every library `ldd` resolves for them, for the OpenMPI plugins and the PMIx plugins,
#          except glibc's own, libstdc++/libgcc_s (the target's are newer), the NVIDIA driver
#          (libcuda, libnvidia-*) and CUDA toolkit libraries (cuBLAS, cudart, NCCL, ...: the target
#          has its own CUDA 13). A "not found" is an error unless it is one of those.
#   lib/openmpi3/  OpenMPI's MCA plugins: MPI_Init loads them even in a singleton (a process
#          started without mpirun): opal_init fails with "opal_shmem_base_select failed" without
#          them. Left out: those for network fabrics (UCX, libfabric, verbs, PSM) and OpenSHMEM.
#   lib/pmix/, share/pmix/   PMIx plugins and help text (used by mpirun/orted, not by a singleton)
#   share/openmpi/  OpenMPI's help text (readable error messages);  etc/  its mca-params.conf
#   env.sh  to source there: PATH, LD_LIBRARY_PATH and OPAL_*/PMIX_* relative to its own location
#           (OpenMPI's relocation mechanism, OPAL_PREFIX and friends), and MCA settings for one
#           node with no network or ssh: the singleton does not fork `orted`
#           (ess_singleton_isolated; Debian's OpenMPI 4.1 otherwise execs <bindir>/orted --hnp
#           from MPI_Init), shared memory and self transports only, and mpirun (or a forked
#           orted) launches locally without looking for ssh/rsh (plm isolated; without it:
#           "plm_rsh_agent ... could not be found").
#   run     `run CMD ARGS...` runs one command with env.sh's environment, leaving the shell alone.
#   MANIFEST  where each carried file came from.
# The build's executables are copied with strip --strip-unneeded (their static symbol tables are
# a sixth of their size). With LB_BUNDLE_TAR=1 it also writes <out>.tar.xz, a quarter the size.
# The bundle can be rebuilt over itself (it is replaced whole); it never holds symlinks.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build-cuda}
out=${2:-$root/.gpu-carry}
[ -d "$build/bin" ] || { echo "bundle: $build/bin: no such directory (build first)" >&2; exit 1; }
build=$(cd "$build" && pwd)

# Never carried: glibc, the C++/GCC runtime, the NVIDIA driver, CUDA toolkit libraries.
excluded_name='^(linux-vdso\.so|linux-gate\.so|ld-linux[^/]*|libc\.so|libm\.so|libmvec\.so|libpthread\.so|libdl\.so|librt\.so|libresolv\.so|libutil\.so|libanl\.so|libnsl\.so|libnss_[a-z]+\.so|libthread_db\.so|libBrokenLocale\.so|libstdc\+\+\.so|libgcc_s\.so|libcuda\.so|libnvidia-|libcublas|libcublasLt|libcudart|libnccl|libcufft|libcurand|libcusparse|libcusolver|libnvrtc|libnvJitLink|libnvToolsExt|libcupti)'
excluded_path='^(/usr/local/cuda|/opt/nvidia|/usr/lib/x86_64-linux-gnu/nvidia/)'
# OpenMPI plugins that need these are left out (interconnects the target lacks; OpenSHMEM).
fabric_libs='^(libucp|libucs|libuct|libucm|libfabric|libibverbs|librdmacm|libefa|libpsm[_0-9a-z]*|libinfinipath|liboshmem|libmca_common_(ucx|ofi|verbs))\.so'

# deps FILE: "name<TAB>path" for each library ldd lists ("not found" as the path when unresolved).
declare -A deps_cache=()
deps() {
  if [ -z "${deps_cache[$1]+set}" ]; then
    deps_cache[$1]=$( { ldd "$1" 2>/dev/null || true; } | awk '
      $2 == "=>" && $3 == "not" { print $1 "\tnot found"; next }
      $2 == "=>" && $3 ~ /^\// { print $1 "\t" $3; next }
      $1 ~ /^\// { n = split($1, p, "/"); print p[n] "\t" $1 }')
  fi
  printf '%s\n' "${deps_cache[$1]}"
}
is_excluded() {  # NAME PATH
  [[ $1 =~ $excluded_name ]] || [[ $2 =~ $excluded_path ]]
}

# Start clean, but only over an earlier bundle or an empty directory.
if [ -e "$out" ]; then
  if [ ! -f "$out/.lb-gpu-bundle" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
    echo "bundle: $out exists and is not a bundle: refusing to replace it" >&2; exit 1
  fi
  rm -rf "$out"
fi
mkdir -p "$out/bin" "$out/lib"
out=$(cd "$out" && pwd)
touch "$out/.lb-gpu-bundle"
manifest=$out/MANIFEST
: >"$manifest"

declare -A libs=()    # name -> resolved path of every library to carry
elves=()              # every ELF file whose dependencies must travel

for f in "$build"/bin/*; do
  if [ ! -f "$f" ] || [ ! -x "$f" ]; then continue; fi
  cp "$f" "$out/bin/"
  # The static symbol table only (the dynamic symbols, CUDA fat binaries and all code stay).
  if command -v strip >/dev/null; then strip --strip-unneeded "$out/bin/$(basename "$f")" 2>/dev/null || true; fi
  echo "bin/$(basename "$f") <- $f (strip --strip-unneeded)" >>"$manifest"
  elves+=("$f")
done
[ "${#elves[@]}" -gt 0 ] || { echo "bundle: no executables in $build/bin" >&2; exit 1; }

uses_mpi=0
for f in "${elves[@]}"; do
  deps "$f" >/dev/null
  if grep -q '^libmpi\.so' <<<"${deps_cache[$f]}"; then uses_mpi=1; fi
done

if [ "$uses_mpi" = 1 ]; then
  command -v ompi_info >/dev/null || { echo "bundle: the binaries link libmpi but ompi_info is not on PATH" >&2; exit 1; }
  ompi_path() { ompi_info --path "$1" --parsable | awk -F: -v k="$1" '$2 == k { print $3; exit }'; }
  ompi_bindir=$(ompi_path bindir)
  ompi_pkglibdir=$(ompi_path pkglibdir)
  ompi_pkgdatadir=$(ompi_path pkgdatadir)
  ompi_sysconfdir=$(ompi_path sysconfdir)
  for tool in orted orterun ompi_info; do
    cp -L "$ompi_bindir/$tool" "$out/bin/$tool"
    echo "bin/$tool <- $ompi_bindir/$tool" >>"$manifest"
    elves+=("$ompi_bindir/$tool")
  done
  for alias in mpirun mpiexec; do
    cp "$out/bin/orterun" "$out/bin/$alias"
    echo "bin/$alias <- $ompi_bindir/orterun" >>"$manifest"
  done

  mkdir -p "$out/lib/openmpi3"
  for p in "$ompi_pkglibdir"/*.so; do
    deps "$p" >/dev/null
    d=${deps_cache[$p]}
    if grep -Eq "$fabric_libs" <<<"$d"; then continue; fi
    if grep -q $'\tnot found$' <<<"$d"; then
      echo "bundle: note: left out $(basename "$p"): $(grep $'\tnot found$' <<<"$d" | cut -f1 | tr '\n' ' ')not found" >&2
      continue
    fi
    cp -L "$p" "$out/lib/openmpi3/"
    echo "lib/openmpi3/$(basename "$p") <- $p" >>"$manifest"
    elves+=("$p")
  done
  mkdir -p "$out/share" "$out/etc"
  cp -rL "$ompi_pkgdatadir" "$out/share/openmpi"
  echo "share/openmpi/ <- $ompi_pkgdatadir/" >>"$manifest"
  for c in "$ompi_sysconfdir"/openmpi-mca-params.conf "$ompi_sysconfdir"/openmpi-default-hostfile; do
    [ -f "$c" ] || continue
    cp -L "$c" "$out/etc/"
    echo "etc/$(basename "$c") <- $c" >>"$manifest"
  done
fi

# The libraries: ldd lists the whole closure of each ELF file.
for f in "${elves[@]}"; do
  while IFS=$'\t' read -r name path; do
    [ -n "$name" ] || continue
    if is_excluded "$name" "$path"; then continue; fi
    if [ "$path" = "not found" ]; then
      echo "bundle: $f needs $name, which is not found (and is not one the target provides)" >&2; exit 1
    fi
    libs[$name]=$path
  done < <(deps "$f")
done

# PMIx (OpenMPI's ext3x plugin links libpmix): its own plugins and help text, next to it.
if [ -n "${libs[libpmix.so.2]:-}" ]; then
  pmix_libdir=$(dirname "$(readlink -f "${libs[libpmix.so.2]}")")
  if [ -d "$pmix_libdir/pmix" ]; then
    mkdir -p "$out/lib/pmix"
    for p in "$pmix_libdir"/pmix/*.so; do
      [ -f "$p" ] || continue
      cp -L "$p" "$out/lib/pmix/"
      echo "lib/pmix/$(basename "$p") <- $p" >>"$manifest"
      while IFS=$'\t' read -r name path; do
        is_excluded "$name" "$path" || [ "$path" = "not found" ] || libs[$name]=$path
      done < <(deps "$p")
    done
  fi
  if [ -d "$pmix_libdir/../share/pmix" ]; then
    mkdir -p "$out/share"
    cp -rL "$pmix_libdir/../share/pmix" "$out/share/pmix"
    echo "share/pmix/ <- $(readlink -f "$pmix_libdir/../share/pmix")/" >>"$manifest"
  fi
fi

for name in "${!libs[@]}"; do
  cp -L "${libs[$name]}" "$out/lib/$name"
  echo "lib/$name <- ${libs[$name]}" >>"$manifest"
done
sort -o "$manifest" "$manifest"

cat >"$out/env.sh" <<'EOF'
# Source this (bash) to run the bundled binaries on a machine without MPI/HDF5: written by
# scripts/gpu/bundle.sh. Everything is relative to this file's directory.
lb_carry=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export LB_GPU_CARRY=$lb_carry
case ":${PATH:-}:" in *":$lb_carry/bin:"*) ;; *) export PATH="$lb_carry/bin${PATH:+:$PATH}" ;; esac
case ":${LD_LIBRARY_PATH:-}:" in
  *":$lb_carry/lib:"*) ;;
  *) export LD_LIBRARY_PATH="$lb_carry/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;;
esac
# The target's CUDA libraries (cuBLAS, cudart, NCCL) if they are not on the loader's path already.
for lb_d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
  if [ -d "$lb_d" ]; then
    case ":$LD_LIBRARY_PATH:" in *":$lb_d:"*) ;; *) LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$lb_d" ;; esac
  fi
done
unset lb_d
# OpenMPI 4.1 relocated here (its compiled-in directories are Debian's /usr/..., /etc/openmpi).
export OPAL_PREFIX=$lb_carry OPAL_EXEC_PREFIX=$lb_carry OPAL_BINDIR=$lb_carry/bin \
  OPAL_LIBDIR=$lb_carry/lib OPAL_PKGLIBDIR=$lb_carry/lib/openmpi3 \
  OPAL_DATAROOTDIR=$lb_carry/share OPAL_DATADIR=$lb_carry/share \
  OPAL_PKGDATADIR=$lb_carry/share/openmpi OPAL_SYSCONFDIR=$lb_carry/etc
export OMPI_MCA_mca_base_component_path=$lb_carry/lib/openmpi3
export PMIX_INSTALL_PREFIX=$lb_carry PMIX_PREFIX=$lb_carry PMIX_LIBDIR=$lb_carry/lib \
  PMIX_PKGLIBDIR=$lb_carry/lib/pmix PMIX_DATADIR=$lb_carry/share PMIX_PKGDATADIR=$lb_carry/share/pmix \
  PMIX_MCA_mca_base_component_path=$lb_carry/lib/pmix
# One node, no network, no ssh, maybe root:
#  - a singleton (no mpirun) must not fork orted: it would need the PMIx server and TCP
#  - only the self and shared-memory transports; no CMA single copy (often blocked in containers)
#  - mpirun launches locally without an rsh/ssh agent
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_ess_singleton_isolated=1
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_plm=isolated OMPI_MCA_oob_tcp_if_include=lo
unset lb_carry
EOF

cat >"$out/run" <<'EOF'
#!/usr/bin/env bash
# run CMD ARGS...: CMD with the environment of env.sh next to this file (scripts/gpu/bundle.sh).
set -euo pipefail
# shellcheck source=/dev/null
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec "$@"
EOF
chmod +x "$out/run"

if [ "${LB_BUNDLE_TAR:-0}" = 1 ]; then
  # One compressed file to carry instead (about a quarter of the size); unpack it there with
  # `tar -xJf <out>.tar.xz` (or python3 -m tarfile -e <out>.tar.xz .) next to where <out> was.
  tar -C "$(dirname "$out")" -cf - "$(basename "$out")" | xz -T0 -3 >"$out.tar.xz.tmp"
  mv "$out.tar.xz.tmp" "$out.tar.xz"
  echo "bundle: $out.tar.xz: $(du -sh "$out.tar.xz" | cut -f1)"
fi
echo "bundle: $out: $(find "$out/bin" -type f | wc -l) executables, $(find "$out/lib" -maxdepth 1 -type f | wc -l) libraries, $(find "$out/lib" -mindepth 2 -type f | wc -l) plugins, $(du -sh "$out" | cut -f1)"
