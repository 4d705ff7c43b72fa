# shellcheck shell=bash
# jobs/lib.sh — shared pieces of the ladderbench Slurm job scripts. Sourced, never run.
#
# A sweep is a set of *cells*; a cell is one (model, TP, NCCL_P2P_DISABLE) combination and is one
# `ladder-bench` launch with TP ranks that measures every variant x batch of the sweep and writes
# one HDF5 file, <results dir>/<model>_tp<TP>_p2p<P2P>.h5. The app writes <out>.partial and renames
# it to <out> only when the cell is complete, so "the final file exists" means "cell done": cells
# that are done are skipped, and re-running a sweep into the same results dir resumes it.
#
# Settings (environment; each job script sets its own defaults before sourcing the rest):
#   LB_ROOT            repository checkout (default: found from the submit directory)
#   LB_BIN             the app                              [$LB_ROOT/build/bin/ladder-bench]
#   LB_MODEL(S)        model name or config.json path(s)    (a bare NAME is looked up as
#                      configs/models/NAME/config.json, otherwise passed to the app unchanged)
#   LB_VARIANTS        --variant list                       [standard,ladder,upper-bound]
#   LB_BATCHES         --batch list                         [1,4,16,64]
#   LB_TPS             TP degrees, space separated          [1 2 4 8]
#   LB_P2P             NCCL_P2P_DISABLE values              [0 1]
#   LB_NVLS            NCCL_NVLS_ENABLE for every cell      [0]
#   LB_PROMPT_LEN LB_GEN_LEN LB_WARMUP LB_REPS LB_SEED LB_DTYPE LB_WEIGHTS   app options
#   LB_EXTRA_ARGS      more app options, e.g. "--link-latency-us 5 --link-bandwidth-gbps 10"
#   LB_THREADS         OPENBLAS/OMP threads per rank        [1]
#   LB_RESULTS_DIR     where the cell files go              [$LB_ROOT/results/<job id>]
#   LB_SRUN_MPI        srun --mpi= plugin                   [pmix]
#   LB_SRUN_ARGS       extra srun options per cell (e.g. "--cpu-bind=cores")
#   LB_CELL_TIME       per-cell srun --time limit (minutes, Slurm syntax), empty = job limit
#   LB_MODULES         environment modules to `module load` first (space separated)
#   LB_REPORT          run `python3 -m analysis report` at the end of a sweep: auto|1|0 [auto]
#   LB_PYTHON          python for the analysis step         [python3]
#   LB_CHECK_GPUS      0: skip the GPU scripts' nvidia-smi check, for a CPU build of the app
#                      (CI runs two-node-405b.sbatch that way on CPU "nodes")        [1]
#
# GPU ranks: every rank of a step sees all GPUs of its node; the app picks its device from its
# node-local rank (MPI_Comm_split_type SHARED), under srun and mpirun alike. Nothing to do here.

lb_log() { echo "lb[$(date +%H:%M:%S)]: $*"; }
lb_die() { echo "lb: error: $*" >&2; exit 1; }

# The job scripts locate the checkout before sourcing this file (sbatch runs a spooled copy of
# the script, so its own path says nothing); normalise it here.
if [ -z "${LB_ROOT:-}" ] || [ ! -f "$LB_ROOT/jobs/lib.sh" ]; then lb_die "LB_ROOT must name the ladderbench checkout"; fi
LB_ROOT=$(cd "$LB_ROOT" && pwd)
export LB_ROOT

# lb_defaults: generic defaults for everything a job script did not set.
lb_defaults() {
  : "${LB_BIN:=$LB_ROOT/build/bin/ladder-bench}"
  : "${LB_VARIANTS:=standard,ladder,upper-bound}"
  : "${LB_BATCHES:=1,4,16,64}"
  : "${LB_TPS:=1 2 4 8}"
  : "${LB_P2P:=0 1}"
  : "${LB_NVLS:=0}"
  : "${LB_PROMPT_LEN:=1024}"
  : "${LB_GEN_LEN:=512}"
  : "${LB_WARMUP:=5}"
  : "${LB_REPS:=10}"
  : "${LB_SEED:=1}"
  : "${LB_DTYPE:=bf16}"
  : "${LB_WEIGHTS:=random}"
  : "${LB_EXTRA_ARGS:=}"
  : "${LB_THREADS:=1}"
  : "${LB_SRUN_MPI:=pmix}"
  : "${LB_SRUN_ARGS:=}"
  : "${LB_CELL_TIME:=}"
  : "${LB_REPORT:=auto}"
  : "${LB_PYTHON:=python3}"
  : "${LB_RESULTS_DIR:=$LB_ROOT/results/${SLURM_JOB_ID:-local-$(date +%Y%m%d-%H%M%S)}}"
  export OPENBLAS_NUM_THREADS=$LB_THREADS OMP_NUM_THREADS=$LB_THREADS
}

lb_load_modules() {
  [ -n "${LB_MODULES:-}" ] || return 0
  command -v module >/dev/null 2>&1 || type module >/dev/null 2>&1 \
    || lb_die "LB_MODULES='$LB_MODULES' is set but the 'module' command is not available in this job"
  local m
  for m in $LB_MODULES; do module load "$m" || lb_die "module load $m failed"; done
}

# lb_model_arg NAME_OR_PATH: what to pass to --model.
lb_model_arg() {
  local m=$1
  if [ -f "$m" ] || [ -d "$m" ]; then echo "$m"; return; fi
  if [ -f "$LB_ROOT/$m" ] || [ -d "$LB_ROOT/$m" ]; then echo "$LB_ROOT/$m"; return; fi
  if [ -f "$LB_ROOT/configs/models/$m/config.json" ]; then echo "$LB_ROOT/configs/models/$m/config.json"; return; fi
  case $m in
    */* | *.json) lb_die "model config '$m' not found" ;;
  esac
  echo "$m" # a bare name the app resolves itself
}

lb_check_models() { # MODEL...: fail fast on a config path that does not exist
  local m
  [ $# -gt 0 ] || lb_die "no model given (set LB_MODEL)"
  for m in "$@"; do lb_model_arg "$m" >/dev/null || exit 1; done
}

# lb_model_name NAME_OR_PATH: short name for file names (configs/models/X/config.json -> X).
lb_model_name() {
  local m=${1%/}
  case $m in
    *.json) m=$(dirname "$m") ;;
  esac
  basename "$m"
}

lb_cell_name() { echo "$(lb_model_name "$1")_tp$2_p2p$3"; } # MODEL TP P2P

# lb_complete FILE: the cell's final file exists (and, where h5dump is around, says complete=1).
lb_complete() {
  [ -f "$1" ] || return 1
  command -v h5dump >/dev/null 2>&1 || return 0
  h5dump -a /complete "$1" 2>/dev/null | grep -Eq '\(0\): *1\b'
}

lb_check_bin() {
  [ -x "$LB_BIN" ] || lb_die "app not built: $LB_BIN is missing or not executable
  (build it: cmake --preset cpu && cmake --build build   — or the GPU preset on GPU nodes; or set LB_BIN)"
}

lb_check_results_dir() { # DIR
  mkdir -p "$1" 2>/dev/null || lb_die "cannot create results dir $1"
  local probe
  probe=$(mktemp "$1/.write-test.XXXXXX" 2>/dev/null) || lb_die "results dir $1 is not writable"
  rm -f "$probe"
}

lb_check_tps() { # every TP fits in this allocation
  local tp n=${SLURM_NTASKS:-}
  [ -n "$n" ] || return 0
  for tp in $LB_TPS; do
    [ "$tp" -le "$n" ] || lb_die "TP=$tp needs $tp tasks but the job has SLURM_NTASKS=$n (fix LB_TPS or --ntasks)"
  done
}

lb_check_gpus() { # fail fast on a node without (enough) GPUs
  [ "${LB_CHECK_GPUS:-1}" != 0 ] || return 0
  command -v nvidia-smi >/dev/null 2>&1 || lb_die "nvidia-smi not found: not a GPU node (or the CUDA module is not loaded; see LB_MODULES)"
  local have want=${SLURM_NTASKS_PER_NODE:-8}
  want=${want%%(*}
  have=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
  [ "$have" -ge "$want" ] || lb_die "node $(hostname -s) shows $have GPU(s), the job wants $want per node"
}

# lb_settings: the sweep's settings as shell assignments (written to <dir>/sweep.conf).
lb_settings() {
  local v
  for v in LB_VARIANTS LB_BATCHES LB_NVLS LB_PROMPT_LEN LB_GEN_LEN LB_WARMUP LB_REPS LB_SEED \
    LB_DTYPE LB_WEIGHTS LB_EXTRA_ARGS; do
    printf '%s=%q\n' "$v" "${!v}"
  done
}

# lb_pin_settings DIR: record the settings in DIR/sweep.conf; refuse to resume a sweep whose
# settings differ (its complete cells would be skipped and the results mixed).
lb_pin_settings() {
  local dir=$1 now
  now=$(lb_settings)
  if [ -f "$dir/sweep.conf" ]; then
    if [ "$now" != "$(cat "$dir/sweep.conf")" ]; then
      lb_die "results dir $dir holds a sweep with other settings:
$(diff <(cat "$dir/sweep.conf") <(echo "$now") || true)
  use another results dir (LB_RESULTS_DIR / --name) or the same settings"
    fi
  else
    echo "$now" >"$dir/sweep.conf"
  fi
}

# lb_launch TP CMD...: start CMD with TP ranks: srun inside a Slurm allocation, mpirun outside.
lb_launch() {
  local tp=$1
  shift
  if [ -n "${SLURM_JOB_ID:-}" ]; then
    local tpn=${SLURM_NTASKS_PER_NODE:-} nodes
    tpn=${tpn%%(*}
    [ -n "$tpn" ] || tpn=$(((SLURM_NTASKS + ${SLURM_NNODES:-1} - 1) / ${SLURM_NNODES:-1}))
    nodes=$(((tp + tpn - 1) / tpn))
    local extra=()
    [ "$nodes" -le 1 ] || extra+=("--ntasks-per-node=$(((tp + nodes - 1) / nodes))")
    # Slurm 22.05's srun does not inherit the job's --cpus-per-task: pass it on.
    [ -z "${SLURM_CPUS_PER_TASK:-}" ] || extra+=("--cpus-per-task=$SLURM_CPUS_PER_TASK")
    [ -z "$LB_CELL_TIME" ] || extra+=("--time=$LB_CELL_TIME")
    # shellcheck disable=SC2206 # LB_SRUN_ARGS is a list of options on purpose
    extra+=($LB_SRUN_ARGS)
    srun --mpi="$LB_SRUN_MPI" --kill-on-bad-exit=1 --nodes="$nodes" --ntasks="$tp" \
      "${extra[@]}" "$@"
  else
    local extra=(--oversubscribe)
    [ "$(id -u)" -ne 0 ] || extra+=(--allow-run-as-root)
    mpirun -np "$tp" "${extra[@]}" -x OPENBLAS_NUM_THREADS -x OMP_NUM_THREADS \
      -x NCCL_P2P_DISABLE -x NCCL_NVLS_ENABLE "$@"
  fi
}

# lb_run_cell MODEL TP P2P: measure one cell into $LB_RESULTS_DIR unless it is complete.
# Prints "skip" or "measured" lines that the tests grep for.
lb_run_cell() {
  local model=$1 tp=$2 p2p=$3 cell out t0
  cell=$(lb_cell_name "$model" "$tp" "$p2p")
  out=$LB_RESULTS_DIR/$cell.h5
  if lb_complete "$out"; then
    lb_log "skip $cell: complete ($out)"
    return 0
  fi
  if [ -e "$out" ]; then mv -f "$out" "$out.incomplete.$(date +%s)"; fi
  if [ -e "$out.partial" ]; then # left by a killed run: keep it (readable) but out of the way
    lb_log "$cell: moving stale $out.partial aside"
    mv -f "$out.partial" "$out.partial.stale.$(date +%s)"
  fi
  local marg
  marg=$(lb_model_arg "$model") || exit 1
  local args=(--model "$marg" --weights "$LB_WEIGHTS" --variant "$LB_VARIANTS"
    --batch "$LB_BATCHES" --prompt-len "$LB_PROMPT_LEN" --gen-len "$LB_GEN_LEN"
    --warmup "$LB_WARMUP" --reps "$LB_REPS" --seed "$LB_SEED" --dtype "$LB_DTYPE" --out "$out")
  # shellcheck disable=SC2206 # LB_EXTRA_ARGS is a list of options on purpose
  args+=($LB_EXTRA_ARGS)
  # The NCCL knobs are set explicitly for every cell (never inherited) so the provenance is exact.
  export NCCL_P2P_DISABLE=$p2p NCCL_NVLS_ENABLE=$LB_NVLS
  # More ranks than cores (CPU demo): let idle MPI ranks yield instead of spinning (this cell only).
  local yield=${OMPI_MCA_mpi_yield_when_idle:-0}
  if [ "$tp" -gt "$(nproc)" ]; then yield=1; fi
  lb_log "run $cell: TP=$tp NCCL_P2P_DISABLE=$p2p NCCL_NVLS_ENABLE=$LB_NVLS -> $out"
  t0=$(date +%s)
  OMPI_MCA_mpi_yield_when_idle=$yield lb_launch "$tp" "$LB_BIN" "${args[@]}" \
    || lb_die "cell $cell failed (exit $?)"
  lb_complete "$out" || lb_die "cell $cell: the app exited 0 but $out is not complete"
  lb_log "measured $cell in $(($(date +%s) - t0)) s"
}

# lb_report DIR: aggregate a results dir (best effort unless LB_REPORT=1).
lb_report() {
  local dir=$1
  [ "$LB_REPORT" != 0 ] || return 0
  if ! (cd "$LB_ROOT" && "$LB_PYTHON" -c 'import analysis' 2>/dev/null); then
    [ "$LB_REPORT" = 1 ] && lb_die "the analysis package is not importable with $LB_PYTHON from $LB_ROOT (pip install -r analysis/requirements.txt)"
    lb_log "no analysis package here; aggregate later with: python3 -m analysis report $dir"
    return 0
  fi
  lb_log "aggregating: $LB_PYTHON -m analysis report $dir"
  if ! (cd "$LB_ROOT" && "$LB_PYTHON" -m analysis report "$dir"); then
    [ "$LB_REPORT" = 1 ] && lb_die "analysis report $dir failed"
    lb_log "warning: analysis report failed; the HDF5 files are intact, rerun it by hand"
  fi
}

# lb_sweep: the whole sweep (models x TPs x P2P) in this one job, then the report.
lb_sweep() {
  lb_load_modules
  lb_check_bin
  lb_check_tps
  local models model tp p2p n=0
  read -ra models <<<"${LB_MODELS:-$LB_MODEL}"
  lb_check_models "${models[@]}"
  lb_check_results_dir "$LB_RESULTS_DIR"
  lb_pin_settings "$LB_RESULTS_DIR"
  lb_log "sweep job=${SLURM_JOB_ID:-none} nodes=${SLURM_JOB_NODELIST:-$(hostname -s)} results=$LB_RESULTS_DIR"
  lb_log "models='${LB_MODELS:-$LB_MODEL}' TP='$LB_TPS' P2P='$LB_P2P' variants=$LB_VARIANTS batches=$LB_BATCHES"
  for model in "${models[@]}"; do
    for tp in $LB_TPS; do
      for p2p in $LB_P2P; do
        lb_run_cell "$model" "$tp" "$p2p"
        n=$((n + 1))
      done
    done
  done
  lb_log "sweep done: $n cell(s) in $LB_RESULTS_DIR"
  lb_report "$LB_RESULTS_DIR"
}
