#!/usr/bin/env bash
# One srun launch of a tool, one task per GPU, what tools/slurm_train.sh and tools/slurm_test.sh share:
#   tools/slurm_run.sh PARTITION JOB_NAME TOOL.py [args ...]     (TOOL.py relative to tools/; --launcher=slurm added)
# Environment (as mmdet's scripts): GPUS (tasks in all, default 8), GPUS_PER_NODE (default min(GPUS, 8)),
# CPUS_PER_TASK (default 5), SRUN_ARGS (extra srun options, e.g. "--quotatype=spot"), PYTHON. mmengine's slurm
# launcher reads rank and world size from SLURM's variables, and MASTER_PORT (default 29500).
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
TOOL=$3
shift 3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
PYTHON=${PYTHON:-$(dirname "$0")/../.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python
# shellcheck disable=SC2086  # SRUN_ARGS is a list of options
exec srun -p "$PARTITION" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" --ntasks="$GPUS" \
  --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="${CPUS_PER_TASK:-5}" --kill-on-bad-exit=1 ${SRUN_ARGS:-} \
  "$PYTHON" -u "$(dirname "$0")/$TOOL" "$@" --launcher=slurm
