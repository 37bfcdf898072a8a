#!/usr/bin/env bash
# Train with several processes per machine (GPUs, or CPU with gloo), on one
# machine or several; MMPretrain's tools/dist_train.sh arguments:
#   bash tools/dist_train.sh CONFIG NUM_PROCS [tools/train.py arguments...]
# Several machines: run it on every machine with the same MASTER_ADDR (the
# address of the machine with NODE_RANK=0) and PORT, e.g. on 2 machines:
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 bash tools/dist_train.sh CFG 8
#   NNODES=2 NODE_RANK=1 MASTER_ADDR=10.0.0.1 bash tools/dist_train.sh CFG 8
# PYTHON picks the interpreter (default: python3).
set -euo pipefail
CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python3}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    "$ROOT/tools/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
