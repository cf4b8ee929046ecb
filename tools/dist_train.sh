#!/usr/bin/env bash
# Distributed training with torchrun: tools/dist_train.sh CONFIG NGPUS [train.py args ...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR (and MASTER_PORT) on every node.
set -euo pipefail
CONFIG=$1
NGPUS=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
MASTER_PORT=${MASTER_PORT:-29500}
PYTHON=${PYTHON:-$(dirname "$0")/../.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python
exec "$PYTHON" -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
  --nproc_per_node="$NGPUS" --master_port="$MASTER_PORT" "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "$@"
