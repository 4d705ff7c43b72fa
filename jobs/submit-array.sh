#!/usr/bin/env bash
# submit-array.sh — submit a sweep as a Slurm job array (one array task per (model, TP, P2P) cell)
# plus a dependent aggregation job (`python3 -m analysis report`, --dependency=afterok).
#
#   jobs/submit-array.sh [options] [-- extra sbatch options for every job]
#     --profile gpu|cpu   resources and defaults (gpu: one exclusive 8-GPU node per cell, the paper's
#                         sweep; cpu: the demo-cpu model on CPU tasks, used by CI)        [gpu]
#     --name NAME         sweep name: results go to results/NAME/<cell>.h5                 [array-<profile>-<models>]
#     --models "M ..."    models (configs/models/NAME or config.json paths)  [gpu: llama-3-8b, cpu: demo-cpu]
#     --tps "T ..."       TP degrees                                     [gpu: 1 2 4 8, cpu: 1 2 4]
#     --p2p "P ..."       NCCL_P2P_DISABLE values                        [gpu: 0 1,     cpu: 0]
#     --parallel K        at most K array tasks at once (%K)             [gpu: unlimited, cpu: 1]
#     --all               submit every cell, even complete ones (the array tasks then skip them)
#     --wait              block until the aggregation job ends; exit non-zero if anything failed
# App settings (batches, lengths, reps, ...) come from the LB_* variables listed in jobs/lib.sh.
#
# Resuming: submit the same command again. Cells whose results/NAME/<cell>.h5 is complete are not
# submitted (and an array task re-checks before measuring), so nothing is measured twice. The
# settings are pinned in results/NAME/sweep.conf; a resubmission with other settings is refused.
#
# Adapt to your cluster: pass --account/--partition after `--` (or export SBATCH_ACCOUNT /
# SBATCH_PARTITION), edit the resource lines of the profiles below, and give the aggregation job a
# cheap CPU partition with LB_REPORT_SBATCH_ARGS="--partition=cpu".
set -euo pipefail

LB_ROOT=${LB_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=jobs/lib.sh
. "$LB_ROOT/jobs/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

profile=gpu name='' model_str='' tps='' p2p='' parallel='' all=0 wait=0 extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --profile) profile=${2:?}; shift 2 ;;
    --name) name=${2:?}; shift 2 ;;
    --models) model_str=${2:?}; shift 2 ;;
    --tps) tps=${2:?}; shift 2 ;;
    --p2p) p2p=${2:?}; shift 2 ;;
    --parallel) parallel=${2:?}; shift 2 ;;
    --all) all=1; shift ;;
    --wait) wait=1; shift ;;
    -h | --help) usage 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "submit-array: unknown option $1" >&2; usage 2 ;;
  esac
done

command -v sbatch >/dev/null 2>&1 || lb_die "sbatch not found (no Slurm client here; locally: scripts/slurm-local.sh start)"

case $profile in
  gpu)
    : "${model_str:=${LB_MODELS:-llama-3-8b}}" "${tps:=${LB_TPS:-1 2 4 8}}" "${p2p:=${LB_P2P:-0 1}}"
    : "${LB_DTYPE:=bf16}"
    export LB_BIN=${LB_BIN:-$LB_ROOT/build-cuda/bin/ladder-bench} # the cuda preset's app, in every array task
    # One whole node per cell, whatever its TP: neighbours on the same NVLink/PCIe distort timings.
    resources=(--nodes=1 --ntasks-per-node=8 --gpus-per-node=8 --cpus-per-task=8 --exclusive
      "--time=${LB_ARRAY_TIME:-01:00:00}")
    ;;
  cpu)
    : "${model_str:=${LB_MODELS:-demo-cpu}}" "${tps:=${LB_TPS:-1 2 4}}" "${p2p:=${LB_P2P:-0}}"
    : "${parallel:=1}" # the CPU demo shares cores: one cell at a time
    : "${LB_DTYPE:=fp32}" "${LB_PROMPT_LEN:=32}" "${LB_GEN_LEN:=16}" "${LB_WARMUP:=1}" "${LB_REPS:=3}"
    maxtp=0
    for t in $tps; do [ "$t" -le "$maxtp" ] || maxtp=$t; done
    resources=(--nodes=1 "--ntasks=$maxtp" "--time=${LB_ARRAY_TIME:-00:30:00}")
    ;;
  *) lb_die "unknown --profile '$profile' (gpu or cpu)" ;;
esac
LB_TPS=$tps LB_P2P=$p2p LB_MODELS=$model_str
read -ra model_list <<<"$model_str"
[ -n "$name" ] || name=array-$profile-$(for m in "${model_list[@]}"; do lb_model_name "$m"; done | paste -sd+ -)
LB_RESULTS_DIR=${LB_RESULTS_ROOT:-$LB_ROOT/results}/$name
lb_defaults

lb_check_bin
lb_check_models "${model_list[@]}"
lb_check_results_dir "$LB_RESULTS_DIR"
lb_check_results_dir "$LB_RESULTS_DIR/logs"
LB_RESULTS_DIR=$(cd "$LB_RESULTS_DIR" && pwd)
lb_pin_settings "$LB_RESULTS_DIR"

cells=$LB_RESULTS_DIR/logs/cells-$(date +%Y%m%d-%H%M%S)-$$.txt
: >"$cells"
total=0 todo=0
for m in "${model_list[@]}"; do
  for t in $tps; do
    for p in $p2p; do
      total=$((total + 1))
      if [ "$all" = 0 ] && lb_complete "$LB_RESULTS_DIR/$(lb_cell_name "$m" "$t" "$p").h5"; then
        lb_log "skip $(lb_cell_name "$m" "$t" "$p"): complete"
        continue
      fi
      echo "$m $t $p" >>"$cells"
      todo=$((todo + 1))
    done
  done
done

# shellcheck disable=SC2206 # lists of sbatch options on purpose
report_args=(${LB_REPORT_SBATCH_ARGS:-})
dep=()
if [ "$todo" -gt 0 ]; then
  array=0-$((todo - 1))
  [ -z "$parallel" ] || array+=%$parallel
  jid=$(sbatch --parsable --array="$array" --job-name="lb-$name" \
    --output="$LB_RESULTS_DIR/logs/%A_%a.out" "${resources[@]}" "${extra[@]}" \
    "$LB_ROOT/jobs/array-sweep.sbatch" "$cells" "$profile") || lb_die "sbatch of the array failed"
  jid=${jid%%;*}
  lb_log "submitted array job $jid: $todo of $total cell(s) ($cells), logs $LB_RESULTS_DIR/logs/${jid}_<i>.out"
  dep=(--dependency="afterok:$jid" --kill-on-invalid-dep=yes)
else
  rm -f "$cells"
  cells=/dev/null
  lb_log "all $total cell(s) complete in $LB_RESULTS_DIR: nothing to measure"
fi

report=(sbatch --job-name="lb-report-$name" --output="$LB_RESULTS_DIR/logs/report-%j.out"
  --nodes=1 --ntasks=1 --time=00:30:00 "${dep[@]}" "${extra[@]}" "${report_args[@]}")
if [ "$wait" = 1 ]; then
  lb_log "waiting for the aggregation job (after the array) ..."
  # sbatch --wait returns 0 for a job cancelled by a failed dependency, so check the outcome too.
  rc=0
  rid=$("${report[@]}" --parsable --wait "$LB_ROOT/jobs/aggregate.sbatch" "$LB_RESULTS_DIR") || rc=$?
  rid=${rid%%;*}
  lb_log "aggregation job $rid ended"
  failed=()
  while read -r m t p; do
    [ -n "$m" ] || continue
    lb_complete "$LB_RESULTS_DIR/$(lb_cell_name "$m" "$t" "$p").h5" || failed+=("$(lb_cell_name "$m" "$t" "$p")")
  done <"$cells"
  [ ${#failed[@]} -eq 0 ] || lb_die "cell(s) not complete: ${failed[*]}; see $LB_RESULTS_DIR/logs/ (resubmit the same command to resume)"
  state=$(scontrol show job "$rid" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 || true)
  if [ "$rc" -ne 0 ] || { [ -n "$state" ] && [ "$state" != COMPLETED ]; }; then
    lb_die "aggregation job $rid ended ${state:-with exit $rc}: see $LB_RESULTS_DIR/logs/report-$rid.out"
  fi
  lb_log "done: $LB_RESULTS_DIR"
else
  rid=$("${report[@]}" --parsable "$LB_ROOT/jobs/aggregate.sbatch" "$LB_RESULTS_DIR") \
    || lb_die "sbatch of the aggregation job failed"
  lb_log "submitted aggregation job ${rid%%;*} (runs after the array succeeds): $LB_RESULTS_DIR"
fi
