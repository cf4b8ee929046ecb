#!/usr/bin/env bash
# Distributed testing with torchrun: tools/dist_test.sh CONFIG CHECKPOINT NGPUS [test.py args ...]
# (each test image is evaluated once across the processes). Multi-node: set NNODES, NODE_RANK, MASTER_ADDR
# (and MASTER_PORT) on every node (see tools/dist_run.sh).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 CONFIG CHECKPOINT NGPUS [test.py args ...]" >&2
  exit 2
fi
CONFIG=$1
CHECKPOINT=$2
NGPUS=$3
shift 3
exec "$(dirname "$0")/dist_run.sh" "$NGPUS" test.py "$CONFIG" "$CHECKPOINT" "$@"
