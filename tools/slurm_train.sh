#!/usr/bin/env bash
# Training on a SLURM cluster, one task per GPU (mmdet's convention):
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args ...]
# (see tools/slurm_run.sh; the job spans GPUS / GPUS_PER_NODE nodes)
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: [GPUS=8] [GPUS_PER_NODE=8] $0 PARTITION JOB_NAME CONFIG WORK_DIR [train.py args ...]" >&2
  exit 2
fi
exec "$(dirname "$0")/slurm_run.sh" "$1" "$2" train.py "$3" --work-dir="$4" "${@:5}"
