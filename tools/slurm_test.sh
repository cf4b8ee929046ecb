#!/usr/bin/env bash
# Testing on a SLURM cluster, one task per GPU (mmdet's convention; each test image is evaluated once):
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args ...]
# (see tools/slurm_run.sh)
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: [GPUS=8] [GPUS_PER_NODE=8] $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args ...]" >&2
  exit 2
fi
exec "$(dirname "$0")/slurm_run.sh" "$1" "$2" test.py "$3" "$4" "${@:5}"
