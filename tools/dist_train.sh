#!/usr/bin/env bash
# Distributed training with torchrun: tools/dist_train.sh CONFIG NGPUS [train.py args ...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR (and MASTER_PORT) on every node (see tools/dist_run.sh).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG NGPUS [train.py args ...]" >&2
  exit 2
fi
CONFIG=$1
NGPUS=$2
shift 2
exec "$(dirname "$0")/dist_run.sh" "$NGPUS" train.py "$CONFIG" "$@"
