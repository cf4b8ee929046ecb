#!/usr/bin/env bash
# One torchrun launch of a tool, what tools/dist_train.sh and tools/dist_test.sh share:
#   tools/dist_run.sh NGPUS TOOL.py [args ...]        (TOOL.py relative to tools/; --launcher pytorch is added)
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR (and MASTER_PORT, default 29500) on every node; PYTHON picks
# the interpreter (default .venv/bin/python, else python).
set -euo pipefail
NGPUS=$1
TOOL=$2
shift 2
PYTHON=${PYTHON:-$(dirname "$0")/../.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python
exec "$PYTHON" -m torch.distributed.run --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
  --master_addr="${MASTER_ADDR:-127.0.0.1}" --nproc_per_node="$NGPUS" --master_port="${MASTER_PORT:-29500}" \
  "$(dirname "$0")/$TOOL" "$@" --launcher pytorch
